"""Video sources: probe a file and stream RGB frames with exact indices and timestamps."""

from vidscan.video.base import DecodeStats, VideoSource, available_backends, open_video, register_backend
from vidscan.video.frames import FrameBatch
from vidscan.video.info import VideoInfo
from vidscan.video.sampling import Sampling


def probe(path: str, backend: str = "pyav") -> VideoInfo:
    """Probe ``path`` (duration, fps, frame count, size, rotation, codec) without decoding it all."""
    with open_video(path, backend) as source:
        return source.info


def read_frames(path: str, indices, size: tuple[int, int] | None = None, backend: str = "pyav"):
    """Exact frames at the given indices, upright, as ``uint8 [N, H, W, 3]`` (sorted by index).

    Used for thumbnails and keyframe exports; only the GOPs holding those frames are decoded.
    """
    import numpy as np

    with open_video(path, backend) as source:
        batches = list(source.batches(Sampling.frames(indices), size=size, batch_size=64))
    if not batches:
        w, h = size or (source.info.width, source.info.height)
        return np.zeros((0, h, w, 3), np.uint8), np.zeros(0, np.int64)
    return np.concatenate([b.frames for b in batches]), np.concatenate([b.indices for b in batches])


__all__ = [
    "DecodeStats",
    "FrameBatch",
    "Sampling",
    "VideoInfo",
    "VideoSource",
    "available_backends",
    "open_video",
    "probe",
    "read_frames",
    "register_backend",
]
