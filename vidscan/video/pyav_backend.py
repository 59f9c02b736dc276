"""PyAV (libav*) backend: the exact default.

Frame indices count frames in presentation order exactly as ``ffmpeg -vsync passthrough``
emits them (edit lists applied, open-GOP leading frames handled by libavcodec), and
timestamps are the frames' own presentation times, so VFR video is timed correctly.
Resizing and RGB conversion happen in one swscale call per frame.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Iterator

import av
import av.error
import numpy as np

from vidscan.errors import InputError
from vidscan.video.base import DecodeStats, VideoSource
from vidscan.video.container import ffmpeg_reason, open_container, tagged_duration, video_stream, video_stream_count
from vidscan.video.frames import AlsoSize, FrameBatch
from vidscan.video.convert import FrameConverter
from vidscan.video.deblocking import configure_deblocking, largest
from vidscan.video.gop import RangeFrame, decode_ranges, default_workers, ranges_of, sampled_ranges, skip_mode
from vidscan.video.info import VideoInfo
from vidscan.video.packets import PacketIndex, index_packets
from vidscan.video.sampling import Sampling

def _quiet_ffmpeg() -> None:
    """libav* prints every concealed macroblock error to stderr; vidscan reports damaged time
    ranges itself, once. ``VIDSCAN_FFMPEG_LOG=1`` brings FFmpeg's own messages back."""
    if not os.environ.get("VIDSCAN_FFMPEG_LOG"):
        import av.logging

        av.logging.set_level(av.logging.PANIC)


_quiet_ffmpeg()

#: Every-frame reads use keyframe-to-keyframe ranges decoded in parallel when frames are at
#: most this big (embedding sizes; a range is held whole, so full-size frames go sequentially)
#: and each range holds about this many frames.
PARALLEL_MAX_FRAME_BYTES = 256 * 256 * 3
PARALLEL_RANGE_FRAMES = 250

def _rate(stream: "av.video.stream.VideoStream") -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            value = float(rate)
            if 0 < value < 1000:
                return value
    return 25.0


class PyAVSource(VideoSource):
    """Exact decoding with PyAV; see the module docstring."""

    name = "pyav"
    makes_further_sizes = True
    exact = True

    def __init__(self, path: str, workers: int | None = None) -> None:
        """``workers``: decoders working on keyframe-to-keyframe ranges in parallel (default:
        one per core, :func:`vidscan.video.gop.default_workers`); 1 decodes sequentially with one
        single-threaded decoder."""
        super().__init__(path)
        self.workers = workers
        self._info: VideoInfo | None = None
        self._packet_index: tuple[np.ndarray, np.ndarray] | None = None
        self._index: PacketIndex | None = None
        self._time_base = 0.0

    @property
    def info(self) -> VideoInfo:
        if self._info is None:
            self._info = self._probe()
        return self._info

    def _probe(self) -> VideoInfo:
        container = open_container(self.path)
        try:
            stream = video_stream(container)
            fps = _rate(stream)
            tb = stream.time_base or Fraction(1, 90000)
            if stream.duration:
                duration = float(stream.duration * tb)
            elif tagged_duration(stream):  # Matroska keeps each stream's length in a tag
                duration = tagged_duration(stream)
            elif container.duration:
                duration = container.duration / av.time_base
            else:
                duration = 0.0
            start = float(stream.start_time * tb) if stream.start_time is not None else 0.0
            first = self._first_frame(container, stream)
            rotation = int(round(getattr(first, "rotation", 0) or 0)) % 360
            cc = stream.codec_context
            width, height = first.width, first.height
            if rotation in (90, 270):
                width, height = height, width
            # The container's count is not trusted: an MP4 edit list, for one, makes it count
            # packets that are never shown. A full decode replaces it with the real count.
            declared = int(stream.frames or 0)
            count, exact = (declared if declared > 0 else int(round(duration * fps))), False
            return VideoInfo(
                path=self.path,
                codec=cc.name or "",
                width=width,
                height=height,
                fps=fps,
                duration_s=duration,
                frame_count=count,
                frame_count_exact=exact,
                rotation=rotation,
                start_time_s=start,
                size_bytes=os.path.getsize(self.path),
                interlaced=bool(getattr(first, "interlaced_frame", False)),
                pixel_format=first.format.name if first.format else "",
                bit_rate=container.bit_rate or None,
                container=container.format.name or "",
                stream_index=stream.index,
                video_streams=video_stream_count(container),
            )
        finally:
            container.close()

    def _first_frame(self, container, stream) -> "av.VideoFrame":
        try:
            for frame in container.decode(stream):
                return frame
        except av.error.FFmpegError as exc:
            raise InputError(f"video stream cannot be decoded ({ffmpeg_reason(exc)})", path=self.path) from None
        raise InputError("video stream has no decodable frames", path=self.path)

    def batches(
        self,
        sampling: Sampling,
        size: tuple[int, int] | None = None,
        batch_size: int = 32,
        also: tuple[AlsoSize, ...] = (),
    ) -> Iterator[FrameBatch]:
        info = self.info
        width, height, _, _ = info.decode_size(size)
        quarter_turns = info.quarter_turns
        stats = self.stats = DecodeStats()
        selector = sampling.selector()
        converter = FrameConverter((width, height), quarter_turns)
        also = tuple(a for a in also if tuple(a.size) != (width, height))
        also_sizes = tuple(tuple(a.size) for a in also)
        also_converters = [FrameConverter(s, quarter_turns) for s in also_sizes]
        default_step = 1.0 / info.fps

        buffer = np.empty((batch_size, height, width, 3), np.uint8)
        also_buffers = [np.zeros((batch_size, h, w, 3), np.uint8) for w, h in also_sizes]
        idx_buf = np.empty(batch_size, np.int64)
        time_buf = np.empty(batch_size, np.float64)
        filled = 0

        container = open_container(self.path)
        try:
            stream = video_stream(container)
            stream.thread_type = "AUTO"
            if self.workers == 1:
                stream.codec_context.thread_count = 1
            configure_deblocking(stream.codec_context, largest((width, height), *also_sizes))
            # pts * num / den in integers is float(pts * time_base), correctly rounded, without
            # two Fraction objects per frame.
            tb_num, tb_den = stream.time_base.numerator, stream.time_base.denominator
            prev_time = info.start_time_s - default_step
            self.packet_index()  # a demux-only pass: is the order trustworthy, are there gaps
            packets = self._index
            ordered = packets is None or packets.ordered
            presampled = sampling.mode != "all" and ordered
            if presampled and not all(len(a) for a in self.packet_index()):
                presampled = False  # no timestamps to index (a raw elementary stream): decode all, keep some
            # Disordered timestamps: the k-th frame shown takes the k-th repaired time (the one
            # rule every path follows, vidscan.video.timestamps).
            repaired = self.frame_times() if not ordered else None
            # Which frames each further size is made for (pts; None: all of them).
            also_wanted = [self._also_wanted(a) for a in also]
            workers = self.workers or default_workers()
            small = width * height * 3 <= PARALLEL_MAX_FRAME_BYTES
            gops = self.gop_index() if workers > 1 and small else None
            if gops is not None and sampling.mode == "all":
                frames_in = self._decode_parallel(gops, (width, height), quarter_turns, workers, stats, tuple(zip(also_sizes, also_wanted)))
            elif gops is not None and presampled:
                frames_in = self._decode_sampled_parallel(gops, sampling, (width, height), quarter_turns, workers, stats,
                                                          tuple(zip(also_sizes, also_wanted)))
            elif presampled:
                frames_in = self._decode_sampled(container, stream, stats, sampling)
            else:
                frames_in = enumerate(self._decode_tolerantly(container, stream, stats))
            for index, frame in frames_in:
                if repaired is not None:
                    t = info.start_time_s + (float(repaired[index]) if index < len(repaired) else prev_time - info.start_time_s + default_step)
                else:
                    t = frame.pts * tb_num / tb_den if frame.pts is not None else prev_time + default_step
                dur = frame.duration * tb_num / tb_den if getattr(frame, "duration", 0) else default_step
                prev_time = t
                rel = t - info.start_time_s
                stats.frames_decoded = max(stats.frames_decoded, index + 1)
                stats.last_time_s = rel
                stats.last_frame_duration_s = dur
                if getattr(frame, "is_corrupt", False):
                    stats.add_damage(rel, rel + dur)
                if not presampled and not selector.keep(index, rel):
                    continue
                if isinstance(frame, RangeFrame):
                    rgb = frame.rgb  # converted (and turned upright) by the decoding thread
                    for buf, small in zip(also_buffers, frame.smaller):
                        if small is not None:
                            buf[filled] = small
                else:
                    rgb = converter.rgb(frame)
                    for buf, conv, wanted in zip(also_buffers, also_converters, also_wanted):
                        if wanted is None or frame.pts in wanted:
                            buf[filled] = conv.rgb(frame)
                buffer[filled] = rgb
                idx_buf[filled] = index
                time_buf[filled] = rel
                filled += 1
                stats.frames_kept += 1
                if filled == batch_size:
                    yield FrameBatch(buffer, idx_buf, time_buf, dict(zip(also_sizes, also_buffers)))
                    buffer = np.empty_like(buffer)
                    also_buffers = [np.zeros_like(b) for b in also_buffers]
                    idx_buf = np.empty_like(idx_buf)
                    time_buf = np.empty_like(time_buf)
                    filled = 0
            else:
                stats.finished = True
            if filled:
                yield FrameBatch(buffer[:filled], idx_buf[:filled], time_buf[:filled],
                                 {s: b[:filled] for s, b in zip(also_sizes, also_buffers)})
        finally:
            container.close()
        if stats.finished and info.duration_s and stats.end_time_s < info.duration_s - 0.5:
            # Truncated file: the container promised more than could be decoded.
            stats.add_damage(stats.end_time_s, info.duration_s)
        if packets is not None and packets.gaps:
            stats.add_damages(gap for gap in packets.gaps if gap[0] < stats.end_time_s)

    def packet_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted presentation timestamps of every shown frame and of the keyframes, from a
        demux-only pass (edit-list packets flagged "discard" left out, as the decoder drops
        them). Computed once per source, so repeated sparse reads do not demux again."""
        if self._packet_index is None:
            index = index_packets(self.path)
            self._index = index
            if index is None:
                self._packet_index = (np.zeros(0, np.int64), np.zeros(0, np.int64))
            else:
                self._time_base = float(index.time_base)
                self._packet_index = (index.pts, index.key_pts)
        return self._packet_index

    def gop_index(self) -> PacketIndex | None:
        """The packet index the parallel decoder needs (None without timestamps or keyframes,
        or when they are out of order); the same demux pass as :meth:`packet_index`."""
        self.packet_index()
        usable = self._index is not None and self._index.ordered and len(self._index.key_pts)
        return self._index if usable else None

    def _decode_parallel(self, gops: PacketIndex, size: tuple[int, int], turns: int, workers: int,
                         stats: DecodeStats, also: tuple = ()) -> Iterator[tuple[int, RangeFrame]]:
        """Every frame, decoded in keyframe-to-keyframe ranges on ``workers`` threads (see
        vidscan.video.gop): 1.4x a frame-threaded decoder on 2 cores, the same frames."""
        damaged: list[int] = []
        count = 0
        for frames in decode_ranges(self.path, gops, ranges_of(gops, PARALLEL_RANGE_FRAMES), size, turns, workers, damaged, also):
            for frame in frames:
                yield count, frame
                count += 1
        for pts in sorted(damaged):
            t = float(gops.seconds(pts))
            stats.add_damage(t, t + 1.0 / self.info.fps)

    def timestamps_ordered(self) -> bool:
        """False when a frame's own timestamp does not say which frame it is (resets,
        decode-order stamps): then only a sequential decode numbers frames right."""
        self.packet_index()
        return self._index is None or self._index.ordered

    def frame_times(self) -> np.ndarray:
        """Presentation time of every shown frame, in seconds from the start of the video."""
        pts, _ = self.packet_index()
        return pts.astype(np.float64) * self._time_base - self.info.start_time_s

    def _also_wanted(self, also: AlsoSize) -> frozenset[int] | None:
        """Timestamps of the frames ``also`` is made for; None for every frame (no sampling,
        or timestamps that cannot be indexed)."""
        if also.sampling is None or also.sampling.mode == "all" or not self.timestamps_ordered() or not len(self.packet_index()[0]):
            return None
        return frozenset(self._wanted_pts(also.sampling).tolist())

    def _wanted_pts(self, sampling: Sampling) -> np.ndarray:
        """Timestamps of the frames a sparse sampling selects, resolved on the packet index."""
        pts, _ = self.packet_index()
        if sampling.mode == "indices":
            chosen = np.asarray(sampling.indices, np.int64)
            return pts[chosen[(chosen >= 0) & (chosen < len(pts))]]
        selector, tb, start = sampling.selector(), self._time_base, self.info.start_time_s
        return np.array([p for i, p in enumerate(pts) if selector.keep(i, float(p) * tb - start)], np.int64)

    def _decode_sampled_parallel(self, gops: PacketIndex, sampling: Sampling, size: tuple[int, int], turns: int, workers: int,
                                 stats: DecodeStats, also: tuple = ()) -> Iterator[tuple[int, RangeFrame]]:
        """What :meth:`_decode_sampled` does, one GOP per task on ``workers`` threads."""
        pts = gops.pts
        wanted = self._wanted_pts(sampling)
        damaged: list[int] = []
        if len(wanted):
            for frames in decode_ranges(self.path, gops, sampled_ranges(gops, wanted), size, turns, workers, damaged, also):
                for frame in frames:
                    yield int(np.searchsorted(pts, frame.pts)), frame
        for p in sorted(damaged):
            t = float(gops.seconds(p))
            stats.add_damage(t, t + 1.0 / self.info.fps)
        stats.frames_decoded = len(pts)
        stats.last_time_s = float(gops.seconds(int(pts[-1])))
        stats.last_frame_duration_s = 1.0 / self.info.fps

    def _decode_sampled(self, container, stream, stats: DecodeStats, sampling: Sampling) -> Iterator[tuple[int, "av.VideoFrame"]]:
        """Decode only what a sparse sampling needs: (frame index, frame) pairs.

        A demux-only pass (no decoding, ~1000x faster than decoding) lists every displayed
        frame's timestamp, which gives exact frame indices, and the keyframes. The sampling is
        resolved on that list; then each GOP is decoded from its keyframe up to the last
        frame wanted in it, and its tail is skipped; on the way, non-reference frames that are
        not wanted are not decoded at all. Frames not wanted are still counted exactly.
        """
        pts, keys = self.packet_index()  # not empty: batches() checked
        tb = float(stream.time_base)
        start = self.info.start_time_s
        needed = self._wanted_pts(sampling)
        # The last wanted timestamp of each GOP, keyed by the GOP's keyframe.
        owner = keys[np.clip(np.searchsorted(keys, needed, side="right") - 1, 0, len(keys) - 1)]
        last_wanted: dict[int, int] = {}
        for k, p in zip(owner.tolist(), needed.tolist()):
            last_wanted[k] = max(p, last_wanted.get(k, p))
        wanted = set(needed.tolist())
        before_first = needed[needed < keys[0]]
        stats.frames_decoded = len(pts)
        target = int(before_first.max()) if len(before_first) else None
        feeding = True
        skipping = "DEFAULT"
        highest = -(2**62)
        for packet in container.demux(stream):
            if packet.pts is not None and packet.is_keyframe and int(packet.pts) in last_wanted:
                feeding = True
                target = max(target if target is not None else -(2**62), last_wanted[int(packet.pts)])
            if not feeding and packet.pts is not None:
                continue
            skip = skip_mode(packet, wanted)
            if skip != skipping:
                stream.codec_context.skip_frame = skipping = skip
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                continue
            for frame in frames:
                if frame.pts is None:
                    continue
                i = int(np.searchsorted(pts, frame.pts))
                if i < len(pts) and pts[i] == frame.pts:
                    highest = max(highest, int(frame.pts))
                    if int(frame.pts) in wanted:
                        yield i, frame
            if target is None or highest >= target:
                feeding = False
        stats.frames_decoded = len(pts)
        stats.last_time_s = float(pts[-1]) * tb - start
        stats.last_frame_duration_s = 1.0 / self.info.fps

    def _decode_tolerantly(self, container, stream, stats: DecodeStats) -> Iterator["av.VideoFrame"]:
        """Decode packet by packet; a bad packet is recorded as damage, not fatal."""
        tb = stream.time_base
        start = self.info.start_time_s
        demuxer = container.demux(stream)
        while True:
            try:
                packet = next(demuxer)
            except StopIteration:
                return
            except av.error.FFmpegError:
                # Demuxing failed (e.g. truncated file): nothing further can be read, but the
                # frames the decoder still holds for reordering are good.
                try:
                    yield from stream.codec_context.decode(None)
                except av.error.FFmpegError:
                    pass
                return
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                if packet.pts is not None:
                    t = float(packet.pts * tb) - start
                    stats.add_damage(t, t + float((packet.duration or 0) * tb))
                continue
            yield from frames
