"""Scenes from shots: consecutive shots with similar content grouped by change-point detection.

Shots are visual boundaries (every camera cut); scenes are what a viewer would call a part of
the programme (a game block, an ad break, the studio). Each shot is summarised by its mean
embedding, weighted by its duration in seconds (so a long shot weighs more than a flash-cut),
and an exact penalised search (PELT, with the linear-kernel cost ruptures' KernelCPD uses)
looks for changes in that sequence; scene boundaries are the shot boundaries where it finds them.
"""

from __future__ import annotations

import numpy as np

from vidscan.checks import finite_number
from vidscan.config import MAX_SECONDS
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
    return weighted_change_points(shots, weights, penalty, max(1.0, round(min_scene_len)))


def weighted_change_points(vectors: np.ndarray, weights: np.ndarray, penalty: float, min_weight: float) -> list[int]:
    """Indices starting a new segment (0 excluded) in the partition of ``vectors`` that minimises
    the weighted squared deviation from each segment's mean plus ``penalty`` per segment, every
    segment weighing at least ``min_weight``: exact PELT (Killick et al. 2012) with the linear
    kernel cost of ruptures' KernelCPD, which has no sample weights. Repeating row i
    ``weights[i]`` times in ruptures gives the same costs; this costs O(rows), not O(sum of
    weights), per step."""
    x = np.asarray(vectors, np.float64)
    w = np.asarray(weights, np.float64)
    n = len(x)
    if n < 2 or float(w.sum()) < 2 * min_weight:
        return []
    total_w = np.concatenate([[0.0], np.cumsum(w)])
    total_x = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(w[:, None] * x, axis=0)])
    total_sq = np.concatenate([[0.0], np.cumsum(w * np.einsum("ij,ij->i", x, x))])
    best = np.full(n + 1, np.inf)
    best[0] = -penalty
    previous = np.zeros(n + 1, np.int64)
    candidates = np.zeros(1, np.int64)
    slack = 1e-9 * float(total_w[-1])
    for t in range(1, n + 1):
        ready = total_w[t] - total_w[candidates] >= min_weight - slack
        if ready.any():
            s = candidates[ready]
            spread = total_x[t] - total_x[s]
            cost = (total_sq[t] - total_sq[s]) - np.einsum("ij,ij->i", spread, spread) / (total_w[t] - total_w[s])
            value = best[s] + cost
            k = int(np.argmin(value))
            best[t], previous[t] = value[k] + penalty, s[k]
            # PELT's pruning (this cost needs no constant): a start that cannot beat best[t]
            # now never will.
            candidates = np.concatenate([candidates[~ready], s[value <= best[t]], [t]])
        else:
            candidates = np.append(candidates, t)
    if not np.isfinite(best[n]):
        return []
    starts, t = [], n
    while t > 0:
        t = int(previous[t])
        if t > 0:
            starts.append(t)
    return sorted(starts)


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
