"""Backends that decode with another library but describe the video with the exact PyAV probe."""

from __future__ import annotations

from vidscan.video.base import VideoSource
from vidscan.video.info import VideoInfo
from vidscan.video.pyav_backend import PyAVSource


class ProbedSource(VideoSource):
    """Base for backends that decode with another library but take metadata (size, rotation,
    duration) from the exact PyAV probe, so every backend reports the same ``info``."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self._probe = PyAVSource(path)

    @property
    def info(self) -> VideoInfo:
        return self._probe.info
