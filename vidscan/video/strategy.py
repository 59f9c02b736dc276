"""``--decode auto``: choose full or coarse-to-fine decoding per file, from its keyframes.

Coarse-to-fine (vidscan.video.coarse) pays off when keyframes come at a short, fixed spacing
that knows nothing of the content, as broadcast and streaming encoders write them: most
keyframe-to-keyframe stretches then lie inside one shot and need no decoding in between.
When an encoder puts keyframes at cuts (x264's defaults, most web and camera encodes), the
spacing is irregular, nearly every stretch differs from the next, and a coarse pass would
decode almost everything anyway after decoding the keyframes once more (measured: 91% of
frames on such files), so every frame is decoded in one pass instead. The demuxer gives the
keyframe positions without decoding anything (one packet-index pass).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidscan.video.packets import PacketIndex, index_packets

#: Longest median keyframe spacing (seconds) at which keyframes are looked at first. Broadcast
#: encodes use 0.5-2 s; a shot change shorter than the spacing that returns to the same
#: picture (A -> B -> A) is the one thing a keyframes-first pass can miss, so the spacing
#: must stay short.
MAX_KEYFRAME_SPACING_S = 2.1
#: Share of keyframe-to-keyframe spacings within one frame of the median for the layout to
#: count as fixed (broadcast-style); encoders that place keyframes at cuts fall well below.
MIN_REGULAR_SHARE = 0.8
#: Fewest keyframes for a layout to be judged at all (a short clip says nothing).
MIN_KEYFRAMES = 4


@dataclass(frozen=True)
class KeyframeLayout:
    """Where a video's keyframes are: how many, their median spacing, how regular."""

    keyframes: int
    frames: int
    median_spacing_s: float
    regular_share: float

    @classmethod
    def of(cls, index: PacketIndex) -> "KeyframeLayout":
        key_idx = np.searchsorted(index.pts, index.key_pts)
        spacing = np.diff(key_idx)
        if len(spacing) == 0:
            return cls(len(key_idx), len(index.pts), float("inf"), 0.0)
        median = float(np.median(spacing))
        frame_s = float(index.seconds(index.pts[-1]) - index.seconds(index.pts[0])) / max(1, len(index.pts) - 1)
        regular = float(np.mean(np.abs(spacing - median) <= 1))
        return cls(len(key_idx), len(index.pts), median * frame_s, regular)

    def describe(self) -> str:
        if self.keyframes < 2:
            return f"{self.keyframes} keyframe{'s' if self.keyframes != 1 else ''}"
        how = "at a fixed spacing" if self.regular_share >= MIN_REGULAR_SHARE else "at irregular spacing (placed at cuts)"
        return f"a keyframe every {self.median_spacing_s:.2f} s {how}"


@dataclass(frozen=True)
class StrategyChoice:
    """The strategy ``auto`` resolved to for one file, and why (said in the timeline's stats)."""

    strategy: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"requested": "auto", "used": self.strategy, "reason": self.reason}


def choose_strategy(path: str, index: PacketIndex | None = None) -> StrategyChoice:
    """``coarse`` for files with short, fixed keyframe spacing; ``full`` otherwise (keyframes at
    cuts, long spacing, too few keyframes, or timestamps that cannot be indexed)."""
    index = index if index is not None else index_packets(path)
    if index is None or not index.ordered or len(index.pts) == 0:
        return StrategyChoice("full", "the keyframes cannot be indexed in order: every frame decoded")
    layout = KeyframeLayout.of(index)
    if layout.keyframes < MIN_KEYFRAMES:
        return StrategyChoice("full", f"{layout.describe()}: every frame decoded")
    if layout.regular_share < MIN_REGULAR_SHARE:
        return StrategyChoice("full", f"{layout.describe()}: every frame decoded")
    if layout.median_spacing_s > MAX_KEYFRAME_SPACING_S:
        return StrategyChoice("full", f"{layout.describe()}, longer than {MAX_KEYFRAME_SPACING_S:g} s: every frame decoded")
    return StrategyChoice("coarse", f"{layout.describe()}: keyframes first, every frame only where they differ")
