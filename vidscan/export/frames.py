"""Stills: one JPEG per segment, taken from the middle of it, plus an ``index.csv``.

Frames come out upright (rotated phone videos included) at the video's display size.
The images and ``index.csv`` are staged and put in place together (:class:`vidscan.atomic.Outputs`),
``index.csv`` last, so a failed export leaves neither images nor an index (nor a new, empty folder).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from vidscan.atomic import atomic_write_bytes, atomic_write_text, output_group
from vidscan.timeline import Segment, Timeline, timecode
from vidscan.video import FrameBatch, read_frame_batch
from vidscan.video.base import DEFAULT_BACKEND

INDEX_NAME = "index.csv"


def middle_frame(segment: Segment) -> int:
    """The frame in the middle of ``segment`` (away from the transitions at its edges)."""
    return segment.start_frame + max(0, segment.frames - 1) // 2 if segment.frames > 0 else segment.start_frame


def grab_frames(path: str | Path, indices: Iterable[int], size: tuple[int, int] | None = None, backend: str = DEFAULT_BACKEND) -> FrameBatch:
    """Exact upright frames at ``indices`` with their timestamps (sorted, duplicates dropped).

    A strict :func:`vidscan.video.read_frame_batch`: raises :class:`InputError` if any frame
    cannot be read.
    """
    return read_frame_batch(str(path), indices, size=size, backend=backend, strict=True)


def frame_file_name(segment_index: int, frame: int, time_s: float, digits: int = 4) -> str:
    """``scene-0007_00-01-23.456_f2057.jpg``: sorts by segment; says which frame it is."""
    stamp = timecode(time_s).replace(":", "-")
    return f"scene-{segment_index:0{digits}d}_{stamp}_f{frame}.jpg"


def save_frames(timeline: Timeline, folder: str | Path, *, video: str | Path | None = None, quality: int = 90,
                backend: str = DEFAULT_BACKEND) -> list[Path]:
    """Write one JPEG per segment (its middle frame) and ``folder/index.csv``.

    ``index.csv`` has ``segment`` (the timeline's 0-based ``index``, so it joins with the
    timeline CSV), ``frame``, ``time_s`` and ``file`` (relative to ``folder``). ``video``
    defaults to the timeline's own path. Returns the image paths, in segment order.
    """
    folder = Path(folder)
    source = str(video if video is not None else timeline.video.path)
    with output_group(folders=[folder], inputs=[source]):  # checked before decoding; all images and the index, or none
        return _save_frames(timeline, folder, source, quality, backend)


def _save_frames(timeline: Timeline, folder: Path, source: str, quality: int, backend: str) -> list[Path]:
    picks = {seg.index: middle_frame(seg) for seg in timeline.segments}
    batch = grab_frames(source, picks.values(), backend=backend)
    by_frame = {int(i): k for k, i in enumerate(batch.indices)}
    digits = max(4, len(str(max(picks, default=0))))
    rows, written = [], []
    for seg in timeline.segments:
        k = by_frame[picks[seg.index]]
        time_s = float(batch.times[k])
        name = frame_file_name(seg.index, picks[seg.index], time_s, digits)
        atomic_write_bytes(folder / name, jpeg_bytes(batch.frames[k], quality))
        written.append(folder / name)
        rows.append({"segment": seg.index, "frame": picks[seg.index], "time_s": round(time_s, 6), "file": name})
    index = pd.DataFrame(rows, columns=["segment", "frame", "time_s", "file"])
    atomic_write_text(folder / INDEX_NAME, index.to_csv(index=False))
    return written


def jpeg_bytes(frame: np.ndarray, quality: int = 90) -> bytes:
    """Encode an RGB ``uint8 [H, W, 3]`` frame as JPEG."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(frame)).save(buf, format="JPEG", quality=int(quality), optimize=True)
    return buf.getvalue()
