"""The timeline: segments with frames, seconds and timecodes, plus how it was made.

One row per segment; ``end_frame`` is exclusive (the first frame of the next segment) so
``frames = end_frame - start_frame`` and consecutive rows share their edge. Times come from
the frames' presentation timestamps (right on variable-frame-rate video), measured from the
start of the video.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidscan._version import __version__
from vidscan.atomic import atomic_write_text
from vidscan.errors import InputError, UsageError
from vidscan.formats import csv_text, format_for, json_text, table_text, write_table
from vidscan.video.info import VideoInfo

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_ID = "https://vidscan.dev/schemas/timeline-1.json"
SCHEMA_VERSION = 1

#: Columns of :meth:`Timeline.to_dataframe`, in order (label columns follow when present).
BASE_COLUMNS = [
    "index",
    "start_frame",
    "end_frame",
    "frames",
    "start_s",
    "end_s",
    "duration_s",
    "start_tc",
    "end_tc",
    "transition",
]


def schema() -> dict[str, Any]:
    """The JSON Schema that :meth:`Timeline.to_dict` output follows."""
    from importlib.resources import files

    return json.loads((files("vidscan") / "schemas" / "timeline-1.schema.json").read_text())


def timecode(seconds: float) -> str:
    """``HH:MM:SS.mmm`` (hours grow past 99 if they must)."""
    if not math.isfinite(seconds) or seconds < 0:
        seconds = 0.0
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


@dataclass
class Segment:
    """A stretch of video between two boundaries.

    ``transition`` says how the segment *begins*: ``start`` for the first one, else ``cut``,
    ``dissolve`` or ``fade`` (a dip through black or white), or ``label`` (a change of label in
    per-frame mode); a dissolve or fade covers frames [``transition_start``, ``transition_end``).
    """

    index: int
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    transition: str = "cut"
    transition_start: int | None = None
    transition_end: int | None = None
    score: float | None = None
    label: str | None = None
    confidence: float | None = None
    runner_up: str | None = None
    probabilities: dict[str, float] | None = None
    #: What drove the label when broadcast cues took part (vidscan.broadcast.fusion), e.g.
    #: ``break: logo, loudness`` or ``programme; speech; no crowd``.
    cues: str | None = None
    #: ``shot`` (between visual boundaries) or ``scene`` (a run of similar shots).
    level: str = "shot"
    #: For a shot: the index of its scene. For a scene: how many shots it holds.
    parent: int | None = None
    children: int | None = None

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class Timeline:
    """Segments of one video plus the metadata needed to reproduce them."""

    video: VideoInfo
    segments: list[Segment]
    settings: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    #: Per-sample boundary score curve (time_s, score), for reports; not written to CSV.
    score_curve: list[tuple[float, float]] = field(default_factory=list)
    #: The level each point of ``score_curve`` had to reach to be a boundary (empty when the
    #: detector has none): the report draws it so a reader sees why a peak was or was not a cut.
    score_thresholds: list[float] = field(default_factory=list)
    version: str = __version__
    #: Which level ``segments`` holds ("shot" or "scene"); the other level, if computed.
    level: str = "shot"
    alternate: list[Segment] = field(default_factory=list)
    #: The sampled frames' embeddings (a ``vidscan.embedded.EmbeddedVideo``), kept only when
    #: asked for (``keep_embeddings=True``) for exports; never written to CSV/JSON.
    embedded: Any = field(default=None, repr=False, compare=False)

    @property
    def duration_s(self) -> float:
        return self.segments[-1].end_s if self.segments else 0.0

    @property
    def frame_count(self) -> int:
        return self.segments[-1].end_frame if self.segments else 0

    @property
    def has_labels(self) -> bool:
        return any(s.label is not None for s in self.segments)

    def table_rows(self) -> tuple[list[str], list[dict[str, Any]]]:
        """The columns and rows of the segment table (CSV, JSONL, Parquet, DataFrame)."""
        rows = []
        label_names = sorted({k for s in self.segments for k in (s.probabilities or {})})
        for s in self.segments:
            row: dict[str, Any] = {
                "index": s.index,
                "start_frame": s.start_frame,
                "end_frame": s.end_frame,
                "frames": s.frames,
                "start_s": round(s.start_s, 6),
                "end_s": round(s.end_s, 6),
                "duration_s": round(s.duration_s, 6),
                "start_tc": timecode(s.start_s),
                "end_tc": timecode(s.end_s),
                "transition": s.transition,
            }
            if self.alternate:
                row["level"] = s.level
                row["scene" if s.level == "shot" else "shots"] = s.parent if s.level == "shot" else s.children
            if self.has_labels:
                row["label"] = s.label
                row["confidence"] = None if s.confidence is None else round(float(s.confidence), 6)
                row["runner_up"] = s.runner_up
                if any(seg.cues is not None for seg in self.segments):
                    row["cues"] = s.cues
                for name in label_names:
                    row[f"p_{name}"] = round(float((s.probabilities or {}).get(name, 0.0)), 6)
            rows.append(row)
        return (list(rows[0]) if rows else list(BASE_COLUMNS)), rows

    def to_dataframe(self) -> "pd.DataFrame":
        """One row per segment; pandas-friendly dtypes (ints, float64, strings)."""
        import pandas as pd  # here, not at the top: finding scenes needs no pandas (0.35 s to import)

        columns, rows = self.table_rows()
        frame = pd.DataFrame(rows, columns=columns)
        for col in ("index", "start_frame", "end_frame", "frames"):
            frame[col] = frame[col].astype("int64")
        return frame

    def csv_text(self) -> str:
        """The segment table as CSV: what ``to_dataframe().to_csv(index=False)`` gives, without
        importing pandas."""
        return csv_text(*self.table_rows())

    def to_csv(self, path: str | Path) -> None:
        """Write the segment table as CSV (atomically)."""
        atomic_write_text(path, self.csv_text())

    def to_dict(self) -> dict[str, Any]:
        return {
            "$schema": SCHEMA_ID,
            "schema_version": SCHEMA_VERSION,
            "vidscan_version": self.version,
            "video": self.video.to_dict(),
            "settings": self.settings,
            "stats": self.stats,
            "level": self.level,
            "segments": [_segment_dict(s) for s in self.segments],
            **({("scenes" if self.level == "shot" else "shots"): [_segment_dict(s) for s in self.alternate]} if self.alternate else {}),
            "score_curve": {"times_s": [t for t, _ in self.score_curve], "scores": [v for _, v in self.score_curve],
                            **({"thresholds": self.score_thresholds} if self.score_thresholds else {})},
        }

    def to_json(self, path: str | Path) -> None:
        """Write the timeline, metadata and settings as JSON (atomically)."""
        atomic_write_text(path, self.text("json"))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "Timeline":
        if raw.get("schema_version") != SCHEMA_VERSION:
            raise UsageError(f"unsupported timeline schema version {raw.get('schema_version')!r}")
        def rows(items: list[dict]) -> list[Segment]:
            return [Segment(**{k: v for k, v in s.items() if k not in ("frames", "duration_s", "start_tc", "end_tc")}) for s in items]

        segments = rows(raw["segments"])
        level = raw.get("level", "shot")
        alternate = rows(raw.get("scenes" if level == "shot" else "shots", []))
        curve = raw.get("score_curve") or {}
        return cls(
            video=VideoInfo(**raw["video"]),
            segments=segments,
            settings=raw.get("settings", {}),
            stats=raw.get("stats", {}),
            score_curve=list(zip(curve.get("times_s", []), curve.get("scores", []))),
            score_thresholds=list(curve.get("thresholds", [])),
            version=raw.get("vidscan_version", ""),
            level=level,
            alternate=alternate,
        )

    @classmethod
    def from_json(cls, path: str | Path) -> "Timeline":
        try:
            raw = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read timeline JSON ({exc})", path=str(path)) from None
        return cls.from_dict(raw)

    def text(self, fmt: str) -> str:
        """The timeline in a text format (csv, json, jsonl). CSV and JSON are written without
        pandas, whose import (0.35-0.4 s) would be a tenth of finding the shots of a small file."""
        if fmt == "csv":
            return self.csv_text()
        if fmt == "json":
            return json_text(self.to_dict())
        return table_text(fmt, self.to_dataframe(), self.to_dict())

    def write(self, path: str | Path, fmt: str | None = None) -> str:
        """Write the timeline in ``fmt`` or the format its extension names (csv, json, jsonl,
        parquet: :mod:`vidscan.formats`), atomically; returns the format."""
        fmt = format_for(path, fmt)
        if fmt == "parquet":
            write_table(path, fmt, self.to_dataframe(), self.to_dict(), rows_key="segments")
        else:
            atomic_write_text(path, self.text(fmt))
        return fmt


def _segment_dict(s: Segment) -> dict[str, Any]:
    out = asdict(s)
    out.update(frames=s.frames, duration_s=round(s.duration_s, 6), start_tc=timecode(s.start_s), end_tc=timecode(s.end_s))
    out["start_s"], out["end_s"] = round(s.start_s, 6), round(s.end_s, 6)
    for key in ("confidence", "score"):
        if out.get(key) is not None:
            out[key] = round(float(out[key]), 6)
    if out.get("probabilities"):
        out["probabilities"] = {k: round(float(v), 6) for k, v in out["probabilities"].items()}
    return out
