"""The packet index: every shown frame's timestamp and the keyframes, from one demux pass.

Demuxing reads packets without decoding them (~1000x faster than decoding), which is enough
to number every frame exactly, find keyframes and open GOPs, spot packets flagged corrupt
and check the timestamps (vidscan.video.timestamps), and to know how many bytes each frame
is coded in (what decoding it costs, vidscan.video.cost). The parallel, sampled and coarse
decode paths all work from this index.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from fractions import Fraction
from typing import Iterator

import av
import av.error
import numpy as np

from vidscan.video.container import file_version, open_container, video_stream
from vidscan.video.timestamps import absurd_gaps, rebase_resets, spread_duplicates, stamped_in_decode_order, typical_step


@dataclass
class PacketIndex:
    """Presentation times of every displayed frame and of the keyframes (stream units)."""

    pts: np.ndarray  # int64, sorted
    key_pts: np.ndarray  # int64, sorted, subset of pts
    time_base: Fraction
    start_pts: int
    last_duration: int
    #: Keyframes of open GOPs: frames shown just before them are decoded after them.
    open_keys: frozenset[int] = frozenset()
    #: Keyframes that could not be decoded and packets the demuxer flagged corrupt.
    damaged_pts: frozenset[int] = frozenset()
    #: Every keyframe packet, shown or not (an edit list can hide the keyframe that the first
    #: shown frames need): where decoding may start. Defaults to ``key_pts``.
    seek_pts: np.ndarray | None = None
    #: False when the timestamps were reset or written in decode order (vidscan.video.timestamps):
    #: ``pts`` then holds the repaired times, one per frame, but a frame's own timestamp does
    #: not say which of them it is, so only a sequential decode may use the index.
    ordered: bool = True
    #: (start s, end s) from the stream start of every absurd gap between consecutive frames.
    gaps: tuple[tuple[float, float], ...] = ()
    #: Coded size (bytes) of each frame in ``pts``; None when unknown (an index built without
    #: packets, or timestamps that are not ``ordered``).
    sizes: np.ndarray | None = None

    def seek_point(self, pts: int) -> int:
        """The last keyframe at or before ``pts`` (the first one if none is)."""
        keys = self.seek_pts if self.seek_pts is not None and len(self.seek_pts) else self.key_pts
        return int(keys[max(0, int(np.searchsorted(keys, pts, side="right")) - 1)])

    def index_of(self, pts: int) -> int:
        i = int(np.searchsorted(self.pts, pts))
        if i >= len(self.pts) or self.pts[i] != pts:
            raise KeyError(pts)
        return i

    def seconds(self, pts: np.ndarray | int) -> np.ndarray | float:
        return (np.asarray(pts, dtype=np.float64) - self.start_pts) * float(self.time_base)


class PacketScan:
    """What one demux pass learns from the packets, in decode order: every shown frame's
    timestamp, the keyframes, the open-GOP keyframes and the packets flagged corrupt."""

    def __init__(self) -> None:
        self.pts: list[int] = []
        self.sizes: list[int] = []  # bytes of each packet in ``pts``
        self.keys: list[int] = []  # every keyframe packet, shown or not
        self.open_keys: set[int] = set()
        self.corrupt: list[int] = []
        self.last_duration = 0
        self.without_pts = 0
        self._current_key: int | None = None

    def add(self, packet: "av.Packet") -> None:
        if packet.pts is None:
            self.without_pts += packet.size > 0
            return
        pts = int(packet.pts)
        if self._current_key is not None and pts < self._current_key and not packet.is_keyframe:
            self.open_keys.add(self._current_key)  # a leading frame: decoded after, shown before its keyframe
        if packet.is_keyframe:
            self._current_key = pts
            self.keys.append(pts)
        if packet.is_corrupt:
            self.corrupt.append(pts)  # flagged by the demuxer (e.g. MPEG-TS continuity errors)
        if not packet.is_discard:  # edit-list packets the decoder drops are not frames
            self.pts.append(pts)
            self.sizes.append(int(packet.size))
            self.last_duration = int(packet.duration or self.last_duration)

    def index(self, time_base: Fraction, start: int | None, keys: list[int] | None = None,
              reorders: bool = False) -> PacketIndex | None:
        """The index (None without timestamps). ``keys``: the keyframes to list, of those
        shown (default: every keyframe packet); ``reorders``: the codec has B-frames (see
        :func:`vidscan.video.timestamps.stamped_in_decode_order`)."""
        if not self.pts:
            return None
        raw = np.asarray(self.pts, np.int64)
        step = self.last_duration or int(typical_step(raw)) or 1
        repaired, resets = rebase_resets(raw, step)
        ordered = not resets and len(np.unique(raw)) == len(raw) and not stamped_in_decode_order(raw, reorders, len(self.keys))
        if ordered:
            pts, first_of = np.unique(raw, return_index=True)
            sizes = np.asarray(self.sizes, np.int64)[first_of]
        else:
            pts, sizes = spread_duplicates(np.sort(repaired), step), None  # disordered: one per frame
        shown = set(pts.tolist())
        key_pts = np.unique(np.asarray([k for k in (self.keys if keys is None else keys) if k in shown], np.int64))
        first = start if start is not None else int(pts[0])
        seconds = (pts - first).astype(np.float64) * float(time_base)
        gaps = tuple(absurd_gaps(seconds, step * float(time_base)))
        return PacketIndex(pts, key_pts, time_base, first, self.last_duration,
                           frozenset(self.open_keys), frozenset(self.corrupt), np.unique(np.asarray(self.keys, np.int64)),
                           ordered=ordered, gaps=gaps, sizes=sizes)


def demux_tolerantly(container, stream) -> Iterator["av.Packet"]:
    """Packets until the end, or until demuxing fails (a truncated file): what came stands."""
    demuxer = container.demux(stream)
    while True:
        try:
            yield next(demuxer)
        except (StopIteration, av.error.FFmpegError):
            return


def index_packets(path: str) -> PacketIndex | None:
    """A demux-only pass (no decoding, ~1000x faster than decoding); None when the packets
    carry no timestamps (a raw elementary stream). Remembered per file version: ``auto``'s
    choice, its keyframe sample and the decoder each need it, and a pass over a 1-hour 1080p
    file reads all of its gigabytes. Callers must not change the index they get."""
    return _indexed(path, *file_version(path))


@lru_cache(maxsize=8)
def _indexed(path: str, mtime_ns: int, size: int) -> PacketIndex | None:
    container = open_container(path)
    scan = PacketScan()
    try:
        stream = video_stream(container)
        for packet in demux_tolerantly(container, stream):
            scan.add(packet)
        return scan.index(stream.time_base, int(stream.start_time) if stream.start_time is not None else None,
                          reorders=bool(stream.codec_context.has_b_frames))
    finally:
        container.close()
