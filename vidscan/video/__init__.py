"""Video sources: probe a file and stream RGB frames with exact indices and timestamps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vidscan.video.base import DEFAULT_BACKEND, DecodeStats, VideoSource, available_backends, open_video, register_backend
from vidscan.video.info import VideoInfo
from vidscan.video.sampling import Sampling

if TYPE_CHECKING:
    from vidscan.video.frames import FrameBatch


def __getattr__(name: str) -> Any:
    """``FrameBatch`` on first use (numpy; the CLI's start-up lists backends without it)."""
    if name != "FrameBatch":
        raise AttributeError(f"module 'vidscan.video' has no attribute {name!r}")
    from vidscan.video.frames import FrameBatch

    return FrameBatch


def probe(path: str, backend: str = DEFAULT_BACKEND) -> VideoInfo:
    """Probe ``path`` (duration, fps, frame count, size, rotation, codec) without decoding it all."""
    with open_video(path, backend) as source:
        return source.info


def read_frame_batch(path: str, indices, size: tuple[int, int] | None = None, backend: str = DEFAULT_BACKEND, strict: bool = False) -> FrameBatch:
    """Exact upright frames at ``indices`` with their timestamps (sorted, duplicates dropped).

    Used for thumbnails, stills and detector windows: only the GOPs holding those frames are
    decoded. With ``strict``, a frame that cannot be decoded is an :class:`InputError`.
    """
    import numpy as np

    from vidscan.errors import InputError
    from vidscan.video.frames import FrameBatch

    wanted = sorted({int(i) for i in indices})
    with open_video(str(path), backend) as source:
        if not wanted:
            w, h = size or (source.info.width, source.info.height)
            return FrameBatch.empty(h, w)
        batches = list(source.batches(Sampling.frames(wanted), size=size, batch_size=64))
        w, h = size or (source.info.width, source.info.height)
    if not batches:
        got = FrameBatch.empty(h, w)
    else:
        got = FrameBatch(np.concatenate([b.frames for b in batches]), np.concatenate([b.indices for b in batches]),
                         np.concatenate([b.times for b in batches]))
    if strict:
        missing = sorted(set(wanted) - {int(i) for i in got.indices})
        if missing:
            shown = ", ".join(str(i) for i in missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise InputError(f"could not decode frame(s) {shown}", path=str(path))
    return got


def read_frames(path: str, indices, size: tuple[int, int] | None = None, backend: str = DEFAULT_BACKEND):
    """Exact frames at the given indices, upright, as ``(uint8 [N, H, W, 3], indices)``."""
    batch = read_frame_batch(path, indices, size, backend)
    return batch.frames, batch.indices


__all__ = [
    "DecodeStats",
    "FrameBatch",
    "Sampling",
    "VideoInfo",
    "VideoSource",
    "available_backends",
    "open_video",
    "probe",
    "read_frame_batch",
    "read_frames",
    "register_backend",
]
