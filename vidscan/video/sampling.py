"""Which frames to keep while streaming through a video.

Selection is decided per frame from its index and presentation time, so it works on
variable-frame-rate streams without knowing the frame count in advance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vidscan.errors import UsageError


@dataclass(frozen=True)
class Sampling:
    """A sampling rule: every frame (``mode="all"``), every k-th frame, or N frames per second.

    ``fps`` sampling keeps the first frame at or after each instant k/N (in stream time), so
    timestamps stay those of real frames even on VFR video.
    """

    mode: str = "all"
    value: float = 1.0
    #: For ``mode="indices"``: exactly these frame indices (thumbnails, exports).
    indices: tuple[int, ...] = ()

    @classmethod
    def all_frames(cls) -> "Sampling":
        return cls("all", 1.0)

    @classmethod
    def every(cls, k: int) -> "Sampling":
        if int(k) != k or k < 1:
            raise UsageError(f"frame step must be a whole number >= 1, got {k}")
        return cls("every", float(int(k)))

    @classmethod
    def per_second(cls, n: float) -> "Sampling":
        if not math.isfinite(n) or n <= 0:
            raise UsageError(f"sample rate must be a positive number of frames per second, got {n}")
        return cls("fps", float(n))

    @classmethod
    def frames(cls, indices) -> "Sampling":
        """Exactly the given frame indices (0-based, presentation order)."""
        chosen = tuple(sorted({int(i) for i in indices}))
        if chosen and chosen[0] < 0:
            raise UsageError("frame indices must be >= 0")
        return cls("indices", float(len(chosen)), chosen)

    @classmethod
    def parse(cls, text: str) -> "Sampling":
        """Parse ``"all"``, ``"every:K"`` or ``"fps:N"`` (also a bare number = fps)."""
        text = text.strip().lower()
        if text in ("all", "every:1"):
            return cls.all_frames()
        kind, _, number = text.partition(":")
        try:
            if kind == "every":
                return cls.every(int(number))
            if kind == "fps":
                return cls.per_second(float(number))
            return cls.per_second(float(text))
        except ValueError:
            raise UsageError(f"bad sampling {text!r}: use 'all', 'every:K' or 'fps:N'") from None

    def describe(self) -> str:
        """Canonical text form, used in cache keys and JSON settings."""
        if self.mode == "all":
            return "all"
        if self.mode == "every":
            return f"every:{int(self.value)}"
        if self.mode == "indices":
            return f"indices:{len(self.indices)}"
        return f"fps:{self.value:g}"

    def samples_per_second(self, video_fps: float) -> float:
        """Expected samples per second of video, for scaling detector penalties."""
        if self.mode == "all":
            return video_fps
        if self.mode == "every":
            return video_fps / self.value
        if self.mode == "indices":
            return video_fps
        return min(self.value, video_fps)

    def selector(self) -> "FrameSelector":
        """A fresh stateful selector for one pass over a video."""
        return FrameSelector(self)


class FrameSelector:
    """Stateful per-pass selector (fps mode remembers the next target instant)."""

    def __init__(self, sampling: Sampling) -> None:
        self.sampling = sampling
        self._next_time: float | None = None
        self._indices = frozenset(sampling.indices)

    def keep(self, index: int, time_s: float) -> bool:
        s = self.sampling
        if s.mode == "all":
            return True
        if s.mode == "every":
            return index % int(s.value) == 0
        if s.mode == "indices":
            return index in self._indices
        step = 1.0 / s.value
        if self._next_time is None:
            self._next_time = time_s
        # Half a microsecond of slack absorbs timestamp rounding on exact multiples.
        if time_s + 5e-7 >= self._next_time:
            missed = math.floor((time_s + 5e-7 - self._next_time) / step)
            self._next_time += (missed + 1) * step
            return True
        return False
