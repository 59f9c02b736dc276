"""What a frame's timestamp may be trusted for, and how broken ones are repaired.

Frames are always counted in the order the decoder shows them. Their times normally come
straight from the packets; three kinds of damage need a rule, and this module is where each
rule lives, so that every decode path (sequential, parallel ranges, sampled, coarse, another
backend) applies the same one:

- **Resets**: timestamps that go back in decode order by more than the codec can reorder
  (a recording restarted, two captures concatenated), or frames sharing one time (a muxer
  clamping them). Later frames are moved on to follow the last time seen, keeping their
  spacing, and shared times are spread a frame apart.
- **Decode-order stamps**: a stream whose codec reorders frames (B-frames) but whose packet
  times only ever increase in decode order was stamped by a muxer that confused decode and
  presentation times; the decoder then shows frames with shuffled times. The set of times is
  right, so the k-th frame shown gets the k-th smallest time.
- **Absurd gaps**: a jump of more than a minute (and of more than 100 frame durations)
  between two consecutive frames is reported as a damaged stretch (nothing to see there),
  and the work done on the video is bounded by its frames, never by the seconds it claims.

Files with resets or decode-order stamps are "disordered": their packet index cannot say
which frame a timestamp belongs to without decoding, so every path reads them in one
sequential decode (exact, slower); well-formed files keep every fast path.
"""

from __future__ import annotations

import numpy as np

#: How far back (in frames) a timestamp may go in decode order and still be a reordered
#: frame: H.264/HEVC reorder at most 16 frames.
REORDER_FRAMES = 16
#: A gap between consecutive frames longer than this (seconds), and longer than
#: :data:`GAP_FRAMES` frame durations, is damage, not footage.
ABSURD_GAP_S = 60.0
GAP_FRAMES = 100


def typical_step(stamps: np.ndarray) -> float:
    """The commonest spacing of ``stamps`` (any order): the median positive difference once
    sorted, 0.0 when there is none."""
    diffs = np.diff(np.sort(np.asarray(stamps, np.float64)))
    diffs = diffs[diffs > 0]
    return float(np.median(diffs)) if len(diffs) else 0.0


def gap_limit(step: float) -> float:
    """The longest gap (seconds) between consecutive frames that is still footage, for frames
    ``step`` seconds apart as a rule."""
    return max(ABSURD_GAP_S, GAP_FRAMES * step)


def absurd_gaps(times: np.ndarray, step: float) -> list[tuple[float, float]]:
    """(end of the frame before, start of the frame after) of every absurd gap in sorted
    ``times`` (seconds)."""
    times = np.asarray(times, np.float64)
    if len(times) < 2:
        return []
    return [(float(times[i] + step), float(times[i + 1])) for i in np.flatnonzero(np.diff(times) > gap_limit(step))]


def rebase_resets(decode_order: np.ndarray, step: int) -> tuple[np.ndarray, int]:
    """Timestamps (decode order, integer stream units) with every reset moved on to follow
    the highest time before it by ``step``; also the number of resets. A timestamp below the
    running maximum by more than :data:`REORDER_FRAMES` steps is a reset."""
    stamps = np.asarray(decode_order, np.int64)
    window = REORDER_FRAMES * max(int(step), 1)
    running = np.maximum.accumulate(stamps)
    if not np.any(stamps[1:] < running[:-1] - window):
        return stamps, 0  # the usual case, found without a loop
    out = stamps.copy()
    offset, highest, resets = 0, int(stamps[0]), 0
    for i in range(1, len(stamps)):
        value = int(stamps[i]) + offset
        if value < highest - window:
            offset += highest + int(step) - value
            value = highest + int(step)
            resets += 1
        out[i] = value
        highest = max(highest, value)
    return out, resets


def spread_duplicates(stamps: np.ndarray, step: int) -> np.ndarray:
    """Sorted timestamps made strictly increasing: each at least ``step`` after the one before
    (frames a muxer stamped with one time, e.g. every frame after a reset clamped to the last
    time, follow each other a frame apart)."""
    stamps = np.asarray(stamps, np.int64)
    ramp = np.arange(len(stamps), dtype=np.int64) * max(int(step), 1)
    return np.maximum.accumulate(stamps - ramp) + ramp


def stamped_in_decode_order(decode_order: np.ndarray, reorders: bool, keyframes: int) -> bool:
    """True when a codec that reorders frames (``reorders``: it has B-frames) has packet times
    that only ever increase in decode order over a stream with inter frames: the times were
    written in decode order, so they belong to other frames than the ones they are on."""
    stamps = np.asarray(decode_order, np.int64)
    if not reorders or len(stamps) < 8 or keyframes >= len(stamps):
        return False
    return bool(np.all(np.diff(stamps) > 0))
