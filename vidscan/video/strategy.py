"""``--decode auto``: choose full or coarse-to-fine decoding per file, from its keyframes.

Coarse-to-fine (vidscan.video.coarse) pays off when keyframes come at a short, fixed spacing
that knows nothing of the content, as broadcast and streaming encoders write them: most
keyframe-to-keyframe stretches then lie inside one shot and need no decoding in between.
When an encoder puts keyframes at cuts (x264's defaults, most web and camera encodes), the
spacing is irregular, nearly every stretch differs from the next, and a coarse pass would
decode almost everything anyway after decoding the keyframes once more (measured: 91-97% of
frames on such files), so every frame is decoded in one pass instead. The demuxer gives the
keyframe positions without decoding anything (one packet-index pass).

Two more measured limits (``vidscan bench`` on real footage joined into 5-minute files,
benchmarks/realset/speedset.py, medians of 3): below 720p a full decode is cheap and the
per-frame work of the fine pass costs more than the decoding it saves (at 72% of frames
decoded, keyframes first took 1.17x a full decode's time at 360p and 1.7x at 160x90), so
small files decode every frame; and content that cuts every couple of seconds makes most
keyframe pairs differ (71-80% of frames decoded, as long as a full decode even at 1080p),
so sampled keyframe pairs decide first (vidscan.video.coarse.sample_keyframe_pairs), and a
keyframes-first pass whose fine pass would cost more than ``MAX_FINE_COST`` of a full decode
(predicted from frame sizes and coded bytes, vidscan.video.cost) stops after the keyframes
and decodes every frame instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidscan.video.container import open_container, video_stream
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
#: Smallest frame area (pixels) at which keyframes are looked at first: 1280x720.
MIN_COARSE_PIXELS = 1280 * 720
#: Predicted cost of a planned fine pass, as a share of a full decode's, above which it is
#: dropped for one full decode. The keyframes are read by then, so the fine pass competes
#: with a whole full decode: measured on real footage with a 1 s GOP (``vidscan bench``,
#: stage seconds), the fine pass alone took 0.71x the time of decoding and embedding every
#: frame at 58% of the frames decoded (1080p), 0.86x at 71% (720p) and 0.89x at 81% (1080p);
#: predicted 0.61, 0.80 and 0.87. Giving up at half the frames, as once, cost the 134 s of
#: 1080p long takes 11.1 s (keyframes, then every frame) where going on took 8.1 s.
MAX_FINE_COST = 1.0


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


def choose_strategy(path: str, index: PacketIndex | None = None, frame_size: tuple[int, int] | None = None) -> StrategyChoice:
    """``coarse`` for files of 720p or more with short, fixed keyframe spacing; ``full``
    otherwise (small frames, keyframes at cuts, long spacing, too few keyframes, or timestamps
    that cannot be indexed). ``frame_size`` (width, height) is read from the file when not given."""
    width, height = frame_size if frame_size is not None else stream_size(path)
    if width * height < MIN_COARSE_PIXELS:
        return StrategyChoice("full", f"{width}x{height} frames, below 720p, are cheap to decode: every frame decoded")
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


def stream_size(path: str) -> tuple[int, int]:
    """(width, height) of the video stream as coded (0, 0 when unknown)."""
    container = open_container(path)
    try:
        ctx = video_stream(container).codec_context
        return int(ctx.width or 0), int(ctx.height or 0)
    finally:
        container.close()


def gave_up(choice: StrategyChoice, share: float, cost: float, sampled: bool = False) -> StrategyChoice:
    """The choice once a keyframes-first pass found too much to decode (see ``MAX_FINE_COST``;
    ``share`` of the frames, at ``cost`` times a full decode's), or (``sampled``) keyframe
    pairs sampled over the file already showed it (vidscan.video.coarse.sample_keyframe_pairs)."""
    layout = choice.reason.split(":")[0]
    if sampled:
        return StrategyChoice("full", f"{layout}, but {share:.0%} of the keyframe pairs sampled over the file differ "
                                      f"(frequent cuts or motion; keyframes first would cost about {cost:.2f}x "
                                      f"a full decode): every frame decoded")
    return StrategyChoice("full", f"{layout}, but the keyframes differ around {share:.0%} of the frames "
                                  f"(frequent cuts or motion; decoding them would cost about {cost:.2f}x a full decode): "
                                  f"every frame decoded after the keyframes")
