"""The archive-level summary: one row per input video, as CSV and Parquet, written atomically.

Columns: ``path, output, status, duration_s, segments, seconds_<label>..., wall_s,
x_realtime, error, attempts``. ``output`` is the video's folder relative to the output folder
(empty when it failed). Parquet needs pyarrow (``pip install 'vidscan[batch]'``); without it
only the CSV is written, with a warning.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Callable

import pandas as pd

from vidscan.atomic import atomic_write_bytes, atomic_write_text
from vidscan.inputs import InputVideo
from vidscan.batch.manifest import VideoRow, refuse_links
from vidscan.batch.naming import VIDEOS_FOLDER
from vidscan.batch.settings import BatchSettings

SUMMARY_CSV = "summary.csv"
SUMMARY_PARQUET = "summary.parquet"


def summary_frame(inputs: list[InputVideo], rows: dict[str, VideoRow | None], settings: BatchSettings) -> pd.DataFrame:
    """One row per input, in input order, from the manifest rows."""
    labels = list(settings.labels.names) if settings.labels is not None else []
    for row in rows.values():
        for name in (row.label_seconds if row is not None else {}):
            if name not in labels:
                labels.append(name)
    records = []
    for video in inputs:
        row = rows.get(video.key)
        done = row is not None and row.state == "done"
        record: dict[str, object] = {
            "path": video.path,
            "output": f"{VIDEOS_FOLDER}/{row.output}" if done else "",
            "status": row.state if row is not None else "pending",
            "duration_s": _round(row.duration_s) if done else None,
            "segments": row.segments if done else None,
        }
        for name in labels:
            record[f"seconds_{name}"] = _round(row.label_seconds.get(name, 0.0)) if done else None
        record.update({
            "wall_s": _round(row.wall_s, 3) if row is not None else None,
            "x_realtime": _round(row.x_realtime, 2) if done else None,
            "error": (row.error or "") if row is not None else "",
            "attempts": row.attempts if row is not None else 0,
        })
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    frame["segments"] = frame["segments"].astype("Int64")
    for col in frame.columns:
        if col in ("duration_s", "wall_s", "x_realtime") or col.startswith("seconds_"):
            frame[col] = frame[col].astype("float64")
    return frame


def write_summary(out_dir: Path, inputs: list[InputVideo], rows: dict[str, VideoRow | None], settings: BatchSettings,
                  warn: Callable[[str], None] | None = None) -> list[Path]:
    """Write ``summary.csv`` and (with pyarrow) ``summary.parquet``; returns the paths written."""
    frame = summary_frame(inputs, rows, settings)
    written = [out_dir / SUMMARY_CSV]
    atomic_write_text(written[0], frame.to_csv(index=False), follow_symlinks=False)  # run files: a planted link is refused
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        if warn:
            warn("pyarrow is not installed: wrote summary.csv only (pip install 'vidscan[batch]' for summary.parquet)")
        return written
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    atomic_write_bytes(out_dir / SUMMARY_PARQUET, buffer.getvalue(), follow_symlinks=False)
    written.append(out_dir / SUMMARY_PARQUET)
    return written


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)


INDEX_HTML = "index.html"


def write_index(out: Path, inputs: list[InputVideo], rows: dict[str, VideoRow | None]) -> Path | None:
    """DIR/index.html: a row for every input, linking its report with a thumbnail, or saying
    why it has none (failed, with the reason; not processed); only when reports were written."""
    from vidscan.batch.work import REPORT, THUMBNAIL
    from vidscan.report import IndexEntry, write_index_page

    entries = []
    for video in inputs:
        row = rows.get(video.key)
        folder = out / VIDEOS_FOLDER / row.output if row is not None and row.output else None
        report = folder / REPORT if folder is not None else None
        if row is not None and row.state == "done" and report is not None and report.exists():
            thumbnail = folder / THUMBNAIL
            entries.append(IndexEntry(name=video.path, report=report, duration_s=row.duration_s or 0.0, segments=row.segments or 0,
                                      totals=dict(row.label_seconds), thumbnail=thumbnail if thumbnail.exists() else None))
        else:
            reason = (f"failed: {row.error}" if row is not None and row.state == "failed" and row.error
                      else "not processed" if row is None or row.state != "done" else "no report (html was not asked for)")
            entries.append(IndexEntry(name=video.path, report=None, duration_s=0.0, segments=0, error=reason))
    if not any(e.report is not None for e in entries):
        return None
    refuse_links(out / INDEX_HTML)
    return write_index_page(entries, out / INDEX_HTML, title=f"vidscan batch: {len(entries)} videos")
