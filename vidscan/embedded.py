"""The data model between decoding and detection: a video reduced to its samples' embeddings."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vidscan.video import Sampling, VideoInfo


@dataclass
class EmbeddedVideo:
    """A video reduced to the embeddings of its sampled frames."""

    info: VideoInfo
    sampling: Sampling
    embedder: str  # the embedder's identity()
    indices: np.ndarray  # int64 [N] frame index of each sample
    times: np.ndarray  # float64 [N] seconds from the start
    embeddings: np.ndarray  # float32 [N, D]
    luma: np.ndarray  # float32 [N] mean brightness (0-255) of each sample: dips to black/white
    frame_count: int  # frames actually decoded
    duration_s: float  # presentation end of the last decoded frame
    damaged: list[tuple[float, float]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    from_cache: bool = False
    #: float32 [N] pixel difference of each sample to the one before (vidscan.detect.difference):
    #: cuts between shots whose embeddings are alike. Empty when not measured.
    diffs: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    @property
    def samples_per_second(self) -> float:
        if len(self.times) >= 2 and self.times[-1] > self.times[0]:
            return (len(self.times) - 1) / float(self.times[-1] - self.times[0])
        return self.sampling.samples_per_second(self.info.fps)
