"""Locate an ffmpeg executable for muxing and for the synthetic video generator.

Decoding never shells out (PyAV is exact and in-process); the binary is only used to
*write* videos. Order: ``$VIDSCAN_FFMPEG``, the binary shipped by the ``imageio-ffmpeg``
wheel (a fresh ``pip install`` has it, no system package needed), then ``ffmpeg`` on PATH.
"""

from __future__ import annotations

import functools
import os
import shutil

from vidscan.errors import UsageError


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of an ffmpeg binary, or a clear error saying how to get one."""
    configured = os.environ.get("VIDSCAN_FFMPEG")
    if configured:
        return configured
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # not installed, or no binary for this platform
        pass
    found = shutil.which("ffmpeg")
    if found:
        return found
    raise UsageError("no ffmpeg binary found: pip install imageio-ffmpeg, install ffmpeg, or set VIDSCAN_FFMPEG")
