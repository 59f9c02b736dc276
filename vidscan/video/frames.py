"""A batch of decoded frames with their exact identities."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vidscan.video.sampling import Sampling


@dataclass(frozen=True)
class AlsoSize:
    """Frames also wanted at ``size`` = (width, height) during one decode: every frame
    delivered, or (``sampling``) only those it selects; rows of the others stay zero."""

    size: tuple[int, int]
    sampling: Sampling | None = None


@dataclass
class FrameBatch:
    """RGB frames ``uint8 [N, H, W, 3]`` with frame indices (0-based, presentation order)
    and presentation times in seconds from the start of the video."""

    frames: np.ndarray
    indices: np.ndarray  # int64 [N]
    times: np.ndarray  # float64 [N]
    #: The same frames at other (width, height) sizes, when the decoder was asked for them
    #: (``batches(also=...)``) and could make them from the decoded picture.
    smaller: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    @staticmethod
    def empty(height: int, width: int) -> "FrameBatch":
        return FrameBatch(
            np.zeros((0, height, width, 3), np.uint8), np.zeros(0, np.int64), np.zeros(0, np.float64)
        )
