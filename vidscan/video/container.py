"""Opening a file with PyAV and choosing which of its video streams is the video.

Every PyAV-based path (probe, sequential and parallel decoding, the packet index, coarse
decoding) opens files here, so they all refuse the same inputs with the same one-line error
and all read the same stream.

A file may carry several video streams: a cover picture or a one-frame thumbnail track
stored first, a second camera angle, a preview. The stream chosen is the one
``av_find_best_stream`` (FFmpeg's own choice, also decord's) picks, with one change: cover
pictures and still images never, and a stream with a single frame never over one that moves
(whatever its marks; FFmpeg lets a one-frame thumbnail track marked default win); then the
stream marked default; then the one with more frames seen in the file's first packets (up to
5, as FFmpeg counts); then the higher bit rate; then the first.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from functools import lru_cache

import av
import av.error

from vidscan.errors import InputError

#: Demuxers that read still images; a lone picture is not a video.
IMAGE_DEMUXERS = ("image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "gif_pipe", "tiff_pipe", "svg_pipe")
#: Packets read from the start of a file to count each video stream's frames when choosing.
PACKETS_TO_COUNT = 200
#: FFmpeg caps the frame count it compares at this (more frames than this all rank equal).
FRAMES_THAT_COUNT = 5

_PICTURE = av.stream.Disposition.attached_pic | av.stream.Disposition.still_image
_IMPAIRED = av.stream.Disposition.hearing_impaired | av.stream.Disposition.visual_impaired


def open_container(path: str) -> "av.container.InputContainer":
    """Open ``path`` for reading; an :class:`InputError` (one line) when it is not a video:
    unreadable, no video stream, only a cover picture, or a still image."""
    try:
        container = av.open(path, mode="r", metadata_errors="ignore")
    except PermissionError:
        raise InputError("permission denied", path=path) from None
    except av.error.FFmpegError as exc:
        raise InputError(f"not a readable video file ({ffmpeg_reason(exc)})", path=path) from None
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams})
        container.close()
        what = f"only {', '.join(kinds)} streams" if kinds else "no streams"
        raise InputError(f"no video stream ({what})", path=path)
    if all(_is_picture(s) for s in container.streams.video):
        container.close()
        raise InputError("no video stream (only a cover picture)", path=path)
    fmt = container.format.name or ""
    if any(name in fmt.split(",") for name in IMAGE_DEMUXERS) or fmt.endswith("_pipe"):
        container.close()
        raise InputError("is a still image, not a video", path=path)
    return container


def ffmpeg_reason(exc: BaseException) -> str:
    """The short reason in an FFmpeg error ("invalid data found when processing input")."""
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[0].strip().rstrip(".").lower() if text else type(exc).__name__


def video_stream(container: "av.container.InputContainer") -> "av.video.stream.VideoStream":
    """The stream that is the video (see the module docstring)."""
    streams = list(container.streams.video)
    if len(streams) == 1:
        return streams[0]
    index = _chosen_index(container.name, *file_version(container.name))
    return next(s for s in streams if s.index == index)


def video_stream_count(container: "av.container.InputContainer") -> int:
    """Video streams that could be the video (cover pictures left out)."""
    return sum(not _is_picture(s) for s in container.streams.video)


def tagged_duration(stream) -> float:
    """The stream's own length from a ``DURATION`` tag (``HH:MM:SS.fraction``, as Matroska
    writes it), 0.0 when absent or unreadable; the container's length can be another
    stream's."""
    text = str((stream.metadata or {}).get("DURATION", "")).strip()
    try:
        hours, minutes, seconds = text.split(":")
        value = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return 0.0
    return value if math.isfinite(value) and value > 0 else 0.0


def file_version(path: str) -> tuple[int, int]:
    """(mtime in ns, size) of ``path``: keys what is remembered per file, so a rewritten file is read again."""
    try:
        st = os.stat(path)
        return st.st_mtime_ns, st.st_size
    except OSError:
        return 0, 0


@lru_cache(maxsize=64)
def _chosen_index(path: str, mtime_ns: int, size: int) -> int:
    """The chosen stream's index, worked out once per file version (decoders reopen files)."""
    container = open_container(path)
    try:
        candidates = [s for s in container.streams.video if not _is_picture(s)]
        if len(candidates) == 1:
            return candidates[0].index
        seen: Counter[int] = Counter()
        try:
            for n, packet in enumerate(container.demux(*candidates)):
                if n >= PACKETS_TO_COUNT:
                    break
                if packet.size:
                    seen[packet.stream.index] += 1
        except av.error.FFmpegError:
            pass  # a damaged start: rank on what was seen

        def rank(stream) -> tuple:
            flags = stream.disposition
            disposition = (not flags & _IMPAIRED) + bool(flags & av.stream.Disposition.default)
            rate = stream.codec_context.bit_rate or stream.bit_rate or 0
            return seen[stream.index] > 1, disposition, min(FRAMES_THAT_COUNT, seen[stream.index]), rate, seen[stream.index], -stream.index

        return max(candidates, key=rank).index
    finally:
        container.close()


def _is_picture(stream) -> bool:
    return bool(stream.disposition & _PICTURE)
