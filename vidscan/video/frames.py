"""A batch of decoded frames with their exact identities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class FrameBatch:
    """RGB frames ``uint8 [N, H, W, 3]`` with frame indices (0-based, presentation order)
    and presentation times in seconds from the start of the video."""

    frames: np.ndarray
    indices: np.ndarray  # int64 [N]
    times: np.ndarray  # float64 [N]

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    @staticmethod
    def empty(height: int, width: int) -> "FrameBatch":
        return FrameBatch(
            np.zeros((0, height, width, 3), np.uint8), np.zeros(0, np.int64), np.zeros(0, np.float64)
        )
