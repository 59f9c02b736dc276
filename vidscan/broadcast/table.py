"""``vidscan breaks`` as a library call, and its tables: ad breaks and their spots.

Finding breaks is classify with two labels defined by cues alone (``programme`` and ``ad``),
so the result is an ordinary labelled timeline (programme/ad rows cut exactly at the break
edges) that every export reads (chapters, Comskip lists, EDL, the report), and the breaks
themselves are in its stats (vidscan.broadcast.breaks.Break.to_dict).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from vidscan.broadcast.breaks import CUE_FAMILIES
from vidscan.cache import EmbeddingCache
from vidscan.classification import ClassifyResult, classify
from vidscan.labels.config import LabelSet, LabelSpec
from vidscan.options import DecodeSpec, LabellingSpec
from vidscan.progress import Progress
from vidscan.timeline import Timeline, timecode

#: The two labels a break search sorts the broadcast into.
PROGRAMME, AD = "programme", "ad"
BREAK_COLUMNS = ["break", "start_s", "end_s", "duration_s", "start_tc", "end_tc", "start_frame", "end_frame",
                 "spots", "spot_lengths_s", "start_edge", "end_edge", "cues"]
SPOT_COLUMNS = ["break", "spot", "start_s", "end_s", "duration_s", "start_tc", "end_tc", "start_frame", "end_frame"]


def break_labels() -> LabelSet:
    """``programme`` (outside breaks) and ``ad`` (inside), from the cues alone."""
    return LabelSet([LabelSpec(PROGRAMME, cues=["programme"]), LabelSpec(AD, cues=["break"])], source="vidscan breaks")


def find_ad_breaks(path: str | Path, *, decode: DecodeSpec | str = DecodeSpec(), cache: EmbeddingCache | None = None,
                   progress: Progress | None = None, warn: Callable[[str], None] | None = None,
                   cue_families: Iterable[str] = CUE_FAMILIES, audio: bool = True) -> ClassifyResult:
    """The ad breaks of one broadcast: a programme/ad timeline (rows cut at the break edges),
    its totals, and the breaks with their spots in ``timeline.stats["breaks"]``.
    ``cue_families`` and ``audio`` as for :func:`vidscan.classification.classify`."""
    return classify(path, break_labels(), decode=decode, cache=cache, progress=progress, warn=warn,
                    cue_families=cue_families, audio=audio,
                    labelling=LabellingSpec(merge=True, min_confidence=0.0), level="shot")


def breaks_of(timeline: Timeline) -> list[dict[str, Any]]:
    """The breaks a cue-driven classify recorded (empty when it found none)."""
    return list(timeline.stats.get("breaks", []))


def breaks_table(timeline: Timeline, *, spots: bool = False) -> pd.DataFrame:
    """One row per break (or per spot, with ``spots``): seconds, timecodes, frames, and for a
    break its spots' lengths, how each edge was placed and the cues that found it."""
    fps = timeline.video.fps or 25.0
    rows: list[dict[str, Any]] = []
    for i, b in enumerate(breaks_of(timeline)):
        if spots:
            for j, s in enumerate(b["spots"]):
                rows.append({"break": i, "spot": j, **_span(s["start_s"], s["end_s"], fps)})
        else:
            rows.append({"break": i, **_span(b["start_s"], b["end_s"], fps), "spots": len(b["spots"]),
                         "spot_lengths_s": "+".join(f"{s['duration_s']:g}" for s in b["spots"]),
                         "start_edge": b["start_edge"], "end_edge": b["end_edge"], "cues": ",".join(b["cues"])})
    frame = pd.DataFrame(rows, columns=SPOT_COLUMNS if spots else BREAK_COLUMNS)
    for col in ("break", "spot", "start_frame", "end_frame", "spots"):
        if col in frame:
            frame[col] = frame[col].astype("int64")
    return frame


def breaks_document(result: ClassifyResult) -> dict[str, Any]:
    """The JSON form: the video, every break with its spots, and programme/ad totals."""
    timeline = result.timeline
    ad = sum(b["duration_s"] for b in breaks_of(timeline))
    return {
        "video": timeline.video.to_dict(),
        "duration_s": round(timeline.duration_s, 6),
        "ad_s": round(ad, 4),
        "programme_s": round(timeline.duration_s - ad, 4),
        "cues": timeline.stats.get("cues", {}),
        "breaks": breaks_of(timeline),
    }


def _span(start_s: float, end_s: float, fps: float) -> dict[str, Any]:
    return {"start_s": round(start_s, 6), "end_s": round(end_s, 6), "duration_s": round(end_s - start_s, 6),
            "start_tc": timecode(start_s), "end_tc": timecode(end_s),
            "start_frame": int(round(start_s * fps)), "end_frame": int(round(end_s * fps))}
