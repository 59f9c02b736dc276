"""CMX3600 edit decision list: one event per segment, for NLEs (Resolve, Premiere, Avid).

Events are numbered from 001; each takes the segment from reel ``AX`` (the usual name for
an auxiliary source file) and lays it at the same place on the record side, so conforming
the EDL against the video rebuilds it cut at the detected boundaries. A ``* FROM CLIP NAME:``
line names the file; a labelled segment adds ``* COMMENT:`` with its label and confidence.
"""

from __future__ import annotations

import math
from pathlib import Path

from vidscan.atomic import atomic_write_text
from vidscan.timeline import Timeline

#: CMX3600 limits the title to 70 characters and reel names to 8.
_TITLE_MAX = 70
_REEL_MAX = 8


def nominal_rate(fps: float) -> int:
    """Frames per timecode second: the frame rate rounded half up (at least 1).

    Timecode counts whole frames, so a fractional rate uses the nearest whole rate, as
    non-drop-frame timecode does: 23.976 counts 24 a second, 29.97 counts 30, 59.94 counts
    60, 12.5 counts 13. Frame numbers stay exact (in/out points land on the right frames);
    only the clock reading drifts from wall time (3.6 s an hour at 29.97), which is what
    ``FCM: NON-DROP FRAME`` tells the reader.
    """
    if not math.isfinite(fps) or fps <= 0:
        return 1
    return max(1, int(math.floor(fps + 0.5)))


def edl_timecode(frame: int, rate: int) -> str:
    """``HH:MM:SS:FF`` of a 0-based frame number at ``rate`` frames per timecode second."""
    frame = max(0, int(frame))
    seconds, ff = divmod(frame, rate)
    minutes, ss = divmod(seconds, 60)
    hh, mm = divmod(minutes, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}"


def edl_text(timeline: Timeline, *, title: str | None = None, reel: str = "AX") -> str:
    """The EDL document. Out points are exclusive (the first frame not used), as in CMX3600."""
    rate = nominal_rate(timeline.video.fps)
    clip = _one_line(Path(timeline.video.path).name)
    title = _one_line(title if title is not None else Path(timeline.video.path).stem)[:_TITLE_MAX]
    reel = (_one_line(reel).replace(" ", "_") or "AX")[:_REEL_MAX]
    lines = [f"TITLE: {title}", "FCM: NON-DROP FRAME", ""]
    for n, seg in enumerate(timeline.segments, start=1):
        src_in, src_out = edl_timecode(seg.start_frame, rate), edl_timecode(seg.end_frame, rate)
        lines.append(f"{n:03d}  {reel:<8} V     C        {src_in} {src_out} {src_in} {src_out}")
        lines.append(f"* FROM CLIP NAME: {clip}")
        if seg.label:
            conf = "" if seg.confidence is None else f" (confidence {seg.confidence:.2f})"
            lines.append(f"* COMMENT: {_one_line(seg.label)}{conf}")
        lines.append("")
    return "\n".join(lines)


def write_edl(timeline: Timeline, path: str | Path, *, title: str | None = None, reel: str = "AX") -> Path:
    """Write :func:`edl_text` to ``path`` atomically."""
    atomic_write_text(path, edl_text(timeline, title=title, reel=reel))
    return Path(path)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
