"""The scene list CSV in PySceneDetect's layout, so scripts written for it keep working.

Matches what ``scenedetect list-scenes`` writes (``scenedetect.output.write_scene_list``
with the cut list, PySceneDetect 0.6-0.7): a first row ``Timecode List:,<cut>,<cut>...``
(the start of every scene after the first), then the header, then one row per scene with
1-based scene numbers and 1-based *inclusive* frame numbers (``Start Frame`` is the first
frame + 1, ``End Frame`` the last frame + 1, which equals vidscan's exclusive 0-based
``end_frame``). Timecodes are ``HH:MM:SS.mmm``, seconds have 3 decimals. Read it with
``pandas.read_csv(path, skiprows=1)``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from vidscan.atomic import atomic_write_text
from vidscan.timeline import Timeline, timecode

HEADER = [
    "Scene Number",
    "Start Frame",
    "Start Timecode",
    "Start Time (seconds)",
    "End Frame",
    "End Timecode",
    "End Time (seconds)",
    "Length (frames)",
    "Length (timecode)",
    "Length (seconds)",
]


def scenes_csv_text(timeline: Timeline, *, include_cut_list: bool = True) -> str:
    """The CSV text (``\\n`` line ends, as PySceneDetect writes)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if include_cut_list:
        writer.writerow(["Timecode List:", *(timecode(s.start_s) for s in timeline.segments[1:])])
    writer.writerow(HEADER)
    for n, seg in enumerate(timeline.segments, start=1):
        writer.writerow([
            str(n),
            str(seg.start_frame + 1),
            timecode(seg.start_s),
            f"{seg.start_s:.3f}",
            str(seg.end_frame),
            timecode(seg.end_s),
            f"{seg.end_s:.3f}",
            str(seg.frames),
            timecode(seg.duration_s),
            f"{seg.duration_s:.3f}",
        ])
    return out.getvalue()


def write_scenes_csv(timeline: Timeline, path: str | Path, *, include_cut_list: bool = True) -> Path:
    """Write :func:`scenes_csv_text` to ``path`` atomically."""
    atomic_write_text(path, scenes_csv_text(timeline, include_cut_list=include_cut_list))
    return Path(path)
