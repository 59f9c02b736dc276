"""FFmpeg chapter metadata (the ``ffmetadata`` format), one chapter per segment.

Mux it into a copy of the video without re-encoding::

    ffmpeg -i in.mp4 -i chapters.txt -map_metadata 1 -map_chapters 1 -c copy out.mp4

Players (mpv, VLC, QuickTime) then show the segments as chapters.
"""

from __future__ import annotations

from pathlib import Path

from vidscan.atomic import atomic_write_text
from vidscan.timeline import Segment, Timeline

#: Characters ffmetadata requires to be escaped with a backslash (newline included).
_SPECIAL = ("\\", "=", ";", "#", "\n")


def escape(value: str) -> str:
    """Escape a metadata value as ffmetadata requires (backslash before ``= ; # \\`` and newline)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    for ch in _SPECIAL:  # backslash first, so added backslashes are not doubled
        value = value.replace(ch, "\\" + ch)
    return value


def chapter_title(segment: Segment) -> str:
    """The segment's label when it has one, else ``Scene N`` (1-based, as players count chapters)."""
    return segment.label if segment.label else f"Scene {segment.index + 1}"


def chapters_text(timeline: Timeline) -> str:
    """The ffmetadata document: ``TIMEBASE=1/1000``, START/END in milliseconds.

    Consecutive chapters share their edge (END of one is START of the next), so the chapters
    cover the video without gaps, as the timeline's segments do.
    """
    lines = [";FFMETADATA1"]
    for seg in timeline.segments:
        lines += [
            "",
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={_ms(seg.start_s)}",
            f"END={_ms(seg.end_s)}",
            f"title={escape(chapter_title(seg))}",
        ]
    return "\n".join(lines) + "\n"


def write_chapters(timeline: Timeline, path: str | Path) -> Path:
    """Write :func:`chapters_text` to ``path`` atomically."""
    atomic_write_text(path, chapters_text(timeline))
    return Path(path)


def _ms(seconds: float) -> int:
    return max(0, int(round(seconds * 1000)))
