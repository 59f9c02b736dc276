"""Labels from broadcast cues, alone or fused with the visual labels.

A label names the cues it needs in its config table, e.g. ``ad``: ``cues = ["break"]``,
``commentary``: ``cues = ["programme", "speech"], without = ["crowd"]``, ``game``:
``cues = ["programme", "crowd"]``. Each cue is a 0..1 value at every moment (vidscan.broadcast.names);
a label's cue likelihood is the product of its cues and of one minus its ``without`` cues (a
soft AND); ``break`` and ``programme`` are the break finder's decision and act as a gate. When the labels also have prompts or examples, the visual probabilities multiply in
(a product of experts), so CLIP can tell a studio from a pitch while the sound tells
commentary from crowd, and the break finder tells ads from both. A label without cues gets a
neutral cue likelihood: the pictures decide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidscan.broadcast.breaks import BreakAnalysis
from vidscan.broadcast.grid import CueGrid
from vidscan.broadcast.names import CUE_NAMES

#: Cue values are clipped to [CUE_FLOOR, 1 - CUE_FLOOR]: no single cue can veto a label outright.
CUE_FLOOR = 0.03
#: ``break`` and ``programme`` are the break finder's decision, made on every cue together:
#: a label that needs one of them is ruled out where it does not hold (a log-likelihood of
#: -DECISION_PENALTY), so no single frame's visual score can overturn it. (As soft cues,
#: even clipped at 0.002, few-shot examples fused with them put a 6.5 s ad shot of a
#: generated break into ``game``: few-shot scores are that confident.)
DECISIONS = ("break", "programme")
DECISION_PENALTY = 1000.0
#: A cue reads as present in a segment's description when its mean value there is above this.
PRESENT = 0.5


@dataclass(frozen=True)
class CueRule:
    """The cues one label needs (``cues``) and must not have (``without``)."""

    label: str
    cues: tuple[str, ...] = ()
    without: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.cues + self.without) - set(CUE_NAMES))
        if unknown:
            raise ValueError(f"unknown cue(s) {unknown}; known: {', '.join(CUE_NAMES)}")

    @property
    def empty(self) -> bool:
        return not self.cues and not self.without


def in_intervals(times: np.ndarray, intervals: list[tuple[float, float]]) -> np.ndarray:
    """Whether each time lies in one of the [start, end) ``intervals``."""
    times = np.asarray(times, np.float64)
    out = np.zeros(len(times), bool)
    for start, end in intervals:
        out |= (times >= start) & (times < end)
    return out


def cue_values(times: np.ndarray, grid: CueGrid, analysis: BreakAnalysis) -> dict[str, np.ndarray]:
    """Every available cue's 0..1 value at ``times``; cues the file cannot give (no sound,
    no logo) are missing from the result."""
    times = np.asarray(times, np.float64)
    in_break = in_intervals(times, [(b.start_s, b.end_s) for b in analysis.breaks]).astype(np.float32)
    values = {"break": in_break, "programme": 1.0 - in_break}
    for name, series in (("speech", grid.speech), ("crowd", grid.noise), ("music", grid.music), ("logo", grid.logo)):
        if series is not None:
            v = grid.at(np.asarray(series, np.float32), times)
            values[name] = np.where(np.isfinite(v), v, 0.0).astype(np.float32)
    if grid.silence is not None:
        values["silence"] = grid.at(np.asarray(grid.silence, np.float32), times)
    return values


def cue_log_likelihood(rules: list[CueRule], values: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, list[str]]:
    """``float [n, L]`` log-likelihood of each label from its cues, and the cues that were
    asked for but are not available in this file (they count as neutral)."""
    out = np.zeros((n, len(rules)))
    missing: set[str] = set()
    for j, rule in enumerate(rules):
        for name, negate in [(c, False) for c in rule.cues] + [(c, True) for c in rule.without]:
            if name not in values:
                missing.add(name)
                continue
            if name in DECISIONS:
                holds = (values[name] < 0.5) if negate else (values[name] >= 0.5)
                out[:, j] -= np.where(holds, 0.0, DECISION_PENALTY)
                continue
            v = np.clip(values[name], CUE_FLOOR, 1.0 - CUE_FLOOR)
            out[:, j] += np.log(1.0 - v if negate else v)
    return out, sorted(missing)


def fuse(visual_log_p: np.ndarray | None, cue_log_l: np.ndarray) -> np.ndarray:
    """Normalised log-probabilities from visual log-probabilities (or none) and cue
    log-likelihoods: their sum, renormalised per sample."""
    total = cue_log_l if visual_log_p is None else visual_log_p + cue_log_l
    return total - np.logaddexp.reduce(total, axis=1, keepdims=True)


def describe_cues(rule: CueRule, values: dict[str, np.ndarray], where: np.ndarray | slice, analysis: BreakAnalysis | None = None,
                  start_s: float | None = None) -> str:
    """What drove a segment's label, in words: the label's cues that hold there (``speech``,
    ``no crowd``) and, inside a break, the cues that found the break (``break: logo, loudness``).
    ``where``: the segment's samples (a mask, indices or a slice of the value arrays)."""
    parts: list[str] = []
    some = next(iter(values.values()))[where].size > 0 if values else False
    for name in rule.cues:
        if name in values and some and float(values[name][where].mean()) >= PRESENT:
            if name == "break" and analysis is not None and start_s is not None:
                found = next((b for b in analysis.breaks if b.start_s - 1e-6 <= start_s < b.end_s), None)
                parts.append(f"break: {', '.join(found.cues) or 'structure'}" if found is not None else "break")
            else:
                parts.append(name)
    for name in rule.without:
        if name in values and some and float(values[name][where].mean()) < PRESENT:
            parts.append(f"no {name}")
    return "; ".join(parts)
