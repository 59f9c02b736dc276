"""Scenes from shots: consecutive shots with similar content grouped by change-point detection.

Shots are visual boundaries (every camera cut); scenes are what a viewer would call a part of
the programme (a game block, an ad break, the studio). Each shot is summarised by its mean
embedding, weighted by its duration in seconds (so a long shot weighs more than a flash-cut),
and an exact penalised search (:mod:`vidscan.detect.pelt`, the linear-kernel cost of ruptures' KernelCPD, with weights)
looks for changes in that sequence; scene boundaries are the shot boundaries where it finds them.
"""

from __future__ import annotations

import numpy as np

from vidscan.checks import finite_number
from vidscan.config import MAX_SECONDS
from vidscan.detect.pelt import change_points
from vidscan.embed.base import l2_normalise
from vidscan.labels.aggregate import samples_inside
from vidscan.options import MIN_SCENE_LEN, SCENE_PENALTY
from vidscan.timeline import Segment, Timeline



def check_scene_options(penalty: float, min_scene_len: float) -> tuple[float, float]:
    """``penalty`` and ``min_scene_len`` as floats, if finite and in range (penalty > 0, length
    0..MAX_SECONDS s), else :class:`~vidscan.errors.UsageError`: callers check before decoding."""
    return (finite_number("scene penalty", penalty, min=0, min_open=True),
            finite_number("scene min_scene_len", min_scene_len, min=0, max=MAX_SECONDS))


def shot_embeddings(timeline: Timeline, times: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """Mean (unit) embedding of the samples inside each segment of ``timeline``."""
    out = np.zeros((len(timeline.segments), embeddings.shape[1]), np.float32)
    for i, seg in enumerate(timeline.segments):
        out[i] = embeddings[samples_inside(times, seg.start_s, seg.end_s)].mean(axis=0)
    return l2_normalise(out)


def scene_starts(shots: np.ndarray, durations: np.ndarray, penalty: float = SCENE_PENALTY, min_scene_len: float = MIN_SCENE_LEN) -> list[int]:
    """Indices of the shots that start a new scene (the first shot excluded).

    Each shot weighs one per second of its duration (at least one), as if its mean embedding
    were repeated once a second; the search runs over shots, not seconds, so time and memory
    follow the number of shots whatever the timestamps claim (a 12-day timestamp jump once
    made a million rows)."""
    penalty, min_scene_len = check_scene_options(penalty, min_scene_len)
    if len(shots) < 2:
        return []
    seconds = np.nan_to_num(np.asarray(durations, np.float64), nan=0.0, posinf=0.0)
    weights = np.maximum(1.0, np.round(seconds))
    return change_points(shots, penalty, max(1.0, round(min_scene_len)), weights=weights)


def add_scene_level(timeline: Timeline, times: np.ndarray, embeddings: np.ndarray, penalty: float = SCENE_PENALTY,
                    min_scene_len: float = MIN_SCENE_LEN, shot_vectors: np.ndarray | None = None) -> None:
    """Group ``timeline``'s shots into scenes (in place): shots get ``parent``, and the scene rows
    go to ``timeline.alternate``; ``timeline.level`` stays ``"shot"``. ``shot_vectors`` (one
    row per shot) replaces the shots' mean embeddings, e.g. their label probabilities."""
    penalty, min_scene_len = check_scene_options(penalty, min_scene_len)
    shots = timeline.segments
    for s in shots:
        s.level = "shot"
    if not shots:
        timeline.alternate = []
        return
    vecs = shot_embeddings(timeline, times, embeddings) if shot_vectors is None else shot_vectors
    starts = [0] + scene_starts(vecs, np.array([s.duration_s for s in shots]), penalty, min_scene_len) + [len(shots)]
    scenes = []
    for k, (a, b) in enumerate(zip(starts[:-1], starts[1:])):
        first, last = shots[a], shots[b - 1]
        scenes.append(Segment(index=k, start_frame=first.start_frame, end_frame=last.end_frame, start_s=first.start_s, end_s=last.end_s,
                              transition=first.transition, transition_start=first.transition_start, transition_end=first.transition_end,
                              score=first.score, level="scene", children=b - a))
        for s in shots[a:b]:
            s.parent = k
    timeline.alternate = scenes
    timeline.settings["scenes"] = {"penalty": penalty, "min_scene_len": min_scene_len}


def switch_level(timeline: Timeline, level: str) -> Timeline:
    """Make ``level`` ("shot" or "scene") the primary rows (the other stays in ``alternate``)."""
    if level not in ("shot", "scene"):
        raise ValueError(f"level must be 'shot' or 'scene', got {level!r}")
    if timeline.level != level and timeline.alternate:
        timeline.segments, timeline.alternate = timeline.alternate, timeline.segments
        timeline.level = level
    return timeline
