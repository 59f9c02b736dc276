"""Video sources: probe a file and stream RGB frames with exact indices and timestamps."""

from vidscan.video.base import DecodeStats, VideoSource, available_backends, open_video, register_backend
from vidscan.video.frames import FrameBatch
from vidscan.video.info import VideoInfo
from vidscan.video.sampling import Sampling


def probe(path: str, backend: str = "pyav") -> VideoInfo:
    """Probe ``path`` (duration, fps, frame count, size, rotation, codec) without decoding it all."""
    with open_video(path, backend) as source:
        return source.info


__all__ = [
    "DecodeStats",
    "FrameBatch",
    "Sampling",
    "VideoInfo",
    "VideoSource",
    "available_backends",
    "open_video",
    "probe",
    "register_backend",
]
