"""Locate an ffmpeg executable for muxing and for the synthetic video generator.

Decoding never shells out (PyAV is exact and in-process); the binary is only used to
*write* videos. Order: ``$VIDSCAN_FFMPEG``, the binary shipped by the ``imageio-ffmpeg``
wheel (a fresh ``pip install`` has it, no system package needed), then ``ffmpeg`` on PATH.
"""

from __future__ import annotations

import functools
import os
import re
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


#: The ``[out#0 @ 0x55cd...] `` / ``[libx264 @ 0x...] `` prefix of ffmpeg's log lines.
_LOG_PREFIX = re.compile(r"^(\[[^\]]*@ 0x[0-9a-f]+\]\s*)+")


def ffmpeg_failure(stderr: str, replace: dict[str, str] | None = None, limit: int = 200) -> str:
    """ffmpeg's captured stderr as one short line for an error message: the first thing it
    complained about (later lines are its consequences: "Error opening output files ..."),
    without the ``[muxer @ 0x...]`` prefix, each key of ``replace`` (a temp file name) shown as
    its value. ffmpeg's own output is never printed raw: a command fails with one line."""
    lines = [_LOG_PREFIX.sub("", line).strip() for line in stderr.splitlines()]
    first = next((line for line in lines if line), "no message")
    for old, new in (replace or {}).items():
        first = first.replace(old, new)
    return first if len(first) <= limit else first[: limit - 3] + "..."
