"""Ad breaks and the spots inside them, from cues that need no model.

How a break is found (each step can be switched off for the ablation in benchmarks/broadcast.py):

1. **Evidence per cell** (log-odds that the cell is in a break, :func:`break_evidence`): the
   station logo is gone; the picture changes format (aspect ratio); the sound is louder than the programme's typical level (ads are mixed
   hot); music rather than speech; and runs of separators (black frames, with silence when
   there is sound) spaced at standard spot lengths (10, 15, 20, 30 s...), which is the
   structure of a break even when nothing else is known.
2. **Segmentation**: the most likely programme/break path under a switching cost (Viterbi), so
   a stray quiet second or a logo hidden by a graphic does not flip the state; breaks shorter
   than :data:`MIN_BREAK_S` are dropped.
3. **Edges**: each edge moves to the separator next to it (the black run, which belongs to the
   break) or, on modern broadcasts without separators, to the nearest shot cut, so ad time is
   exact to the frame when the picture says where the edge is.
4. **Spots**: the break is split at separators and cuts into pieces of standard lengths (a
   shortest-path over the candidate points); a break that does not fit stays one piece.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from vidscan.broadcast.grid import CueGrid
from vidscan.labels.smoothing import runs, viterbi

#: Lengths ad spots are sold in, seconds (the break structure Comskip also relies on), each
#: with a cost that makes the common ones (30, 15, 20 s) the likelier reading of a break.
SPOT_PRIORS = {30.0: 0.0, 15.0: 0.1, 20.0: 0.1, 10.0: 0.2, 60.0: 0.4, 45.0: 0.5, 5.0: 0.5, 90.0: 0.6, 120.0: 0.6}
STANDARD_SPOTS_S = tuple(sorted(SPOT_PRIORS))
#: What a spot edge at a separator / at a cut is worth (negative cost) when splitting a break:
#: a separator inside a break is nearly always a spot edge; a cut only sometimes.
SEPARATOR_EDGE_REWARD = 1.0
CUT_EDGE_REWARD = 0.15
#: How far a spot may be from a standard length (encoders and playout round to frames).
SPOT_TOLERANCE_S = 0.6
#: Shortest break kept, seconds (Comskip's default shortest break is 20 s too).
MIN_BREAK_S = 20.0
#: Cost of switching between programme and break, nats of evidence.
SWITCH_PENALTY = 25.0
#: Edges move to a separator this close (seconds), else to a cut this close.
SNAP_SEPARATOR_S = 3.0
SNAP_CUT_S = 2.0
#: Evidence weights (log-odds per cell at full strength) of each cue family.
WEIGHTS = {"logo": 3.0, "loudness": 1.5, "music": 1.5, "speech": 1.0, "structure": 2.0, "aspect": 1.5}
#: An active-picture aspect ratio this far (relative) from the programme's usual one is a
#: picture in another format (a 4:3 or letterboxed ad in a 16:9 programme).
ASPECT_CHANGE = 0.08
#: Log-odds of "break" before any cue: most of a broadcast is programme, so a moment with no
#: evidence either way (a cue family switched off, or absent) reads as programme.
PRIOR_LOG_ODDS = -0.5
#: Logo presence below this reads as "logo gone".
LOGO_PRESENT = 0.5
#: Louder than the programme's typical short-term loudness by this many LU counts fully
#: toward a break (from half of it on); as loud or quieter is no evidence either way. (When
#: quieter counted against, generated broadcasts with ads at the programme's loudness lost
#: their breaks: F1 0.14, against 1.00 with the loudness cue left out.)
LOUDNESS_STEP_LU = 3.0
#: Share of the non-silent cells taken as the programme's level (a low percentile: breaks are
#: the louder minority).
PROGRAMME_LEVEL_PERCENTILE = 40.0
#: A run of black frames this short or shorter is a flash cut, not a separator (seconds).
MIN_SEPARATOR_S = 0.04
#: The cue families; a subset of them can be passed as ``use``.
CUE_FAMILIES = ("logo", "aspect", "loudness", "music", "speech", "structure", "separators", "cuts")


@dataclass
class Spot:
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class Break:
    """One ad break: where it is, its spots, and what said so."""

    start_s: float
    end_s: float
    spots: list[Spot] = field(default_factory=list)
    #: How each edge was placed: ``separator``, ``cut`` or ``cues`` (the evidence alone).
    start_edge: str = "cues"
    end_edge: str = "cues"
    #: The cue families that pointed to a break here, strongest first (e.g. ``logo``, ``loudness``).
    cues: list[str] = field(default_factory=list)
    #: Mean evidence (log-odds per cell) over the break.
    score: float = 0.0

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict:
        return {
            "start_s": round(self.start_s, 4), "end_s": round(self.end_s, 4), "duration_s": round(self.duration_s, 4),
            "start_edge": self.start_edge, "end_edge": self.end_edge, "cues": list(self.cues), "score": round(self.score, 4),
            "spots": [{"start_s": round(s.start_s, 4), "end_s": round(s.end_s, 4), "duration_s": round(s.duration_s, 4)} for s in self.spots],
        }


@dataclass
class BreakAnalysis:
    """Breaks, and the per-cell chance of being in one (what label fusion reads)."""

    breaks: list[Break]
    in_break: np.ndarray  # float32 [G] 0..1 (1 inside a found break, softened by the evidence)
    evidence: dict[str, np.ndarray]  # family -> float32 [G] log-odds contributions
    used: list[str]

    @property
    def ad_seconds(self) -> float:
        return float(sum(b.duration_s for b in self.breaks))


def separators(grid: CueGrid) -> list[tuple[float, float]]:
    """Black (or white) runs that separate programme from ads and ads from each other: with
    sound, only runs that are also (mostly) silent; without sound, every run."""
    out = []
    for start, end in grid.black_runs:
        if end - start <= MIN_SEPARATOR_S:
            continue
        if grid.silence is not None:
            cells = grid.cell_of(np.array([start, max(start, end - 1e-6)]))
            if not grid.silence[cells[0]: cells[1] + 1].any():
                continue
        out.append((start, end))
    return out


def spot_length_error(length_s: float) -> float:
    """Distance of ``length_s`` from the nearest standard spot length, seconds."""
    return float(np.min(np.abs(np.asarray(STANDARD_SPOTS_S) - length_s)))


def separator_chains(points: list[float], *, min_spots: int = 2) -> list[tuple[float, float]]:
    """Spans where consecutive ``points`` (separator times) are standard spot lengths apart,
    at least ``min_spots`` spots in a row: a break's skeleton."""
    chains: list[tuple[float, float]] = []
    pts = sorted(points)
    i = 0
    while i < len(pts) - 1:
        j = i
        while j + 1 < len(pts) and spot_length_error(pts[j + 1] - pts[j]) <= SPOT_TOLERANCE_S:
            j += 1
        if j - i >= min_spots:
            chains.append((pts[i], pts[j]))
        i = max(j, i + 1)
    return chains


def break_evidence(grid: CueGrid, use: Iterable[str] = CUE_FAMILIES) -> dict[str, np.ndarray]:
    """Per-cell log-odds contributions of each cue family (positive: break)."""
    use = set(use)
    g = grid.size
    out: dict[str, np.ndarray] = {}
    if "logo" in use and grid.logo is not None:
        logo = np.asarray(grid.logo, np.float64)
        lo = np.clip((LOGO_PRESENT - logo) / LOGO_PRESENT, -1.0, 1.0)
        out["logo"] = np.where(np.isfinite(lo), lo, 0.0) * WEIGHTS["logo"]
    if "aspect" in use and grid.aspect is not None and np.isfinite(grid.aspect).sum() >= 10:
        aspect = np.asarray(grid.aspect, np.float64)
        usual = np.nanmedian(aspect)
        other = np.abs(aspect - usual) > ASPECT_CHANGE * usual
        if other.any():
            out["aspect"] = np.where(np.isfinite(aspect), np.where(other, 1.0, 0.0), 0.0) * WEIGHTS["aspect"]
    if grid.has_audio:
        loud = np.asarray(grid.loudness, np.float64)
        audible = ~np.asarray(grid.silence, bool) if grid.silence is not None else np.ones(g, bool)
        if "loudness" in use and audible.sum() >= 10:
            level = np.percentile(loud[audible], PROGRAMME_LEVEL_PERCENTILE)
            # Only louder counts: a loudness-normalised channel (EBU R128) plays its ads at the
            # programme's level, and that must not count against a break the other cues see.
            lo = np.clip((loud - level - LOUDNESS_STEP_LU / 2) / (LOUDNESS_STEP_LU / 2), 0.0, 1.0)
            out["loudness"] = np.where(audible, lo, 0.0) * WEIGHTS["loudness"]
        if "music" in use and grid.music is not None:
            out["music"] = np.where(audible, (np.asarray(grid.music, np.float64) - 0.5) * 2, 0.0) * WEIGHTS["music"]
        if "speech" in use and grid.speech is not None and grid.music is not None:
            # Speech without music is a programme's voice (the commentator, the studio); over a
            # music bed it is a voice-over, which ads have.
            speech_only = np.asarray(grid.speech, np.float64) * (1.0 - np.asarray(grid.music, np.float64))
            out["speech"] = -np.where(audible, speech_only, 0.0) * WEIGHTS["speech"]
    if "structure" in use:
        lo = np.zeros(g)
        seps = separators(grid) if "separators" in use else []
        for start, end in separator_chains([(a + b) / 2 for a, b in seps]):
            lo[grid.cell_of(start): grid.cell_of(end) + 1] = 1.0
        if lo.any():
            out["structure"] = lo * WEIGHTS["structure"]
    return {k: v.astype(np.float32) for k, v in out.items()}


def _snap(t: float, is_start: bool, seps: list[tuple[float, float]], cuts: np.ndarray) -> tuple[float, str]:
    """Move a break edge near ``t`` onto the separator (its outer side: black frames belong to
    the break) or the cut next to it."""
    if seps:
        edges = np.array([s[0] if is_start else s[1] for s in seps])
        k = int(np.argmin(np.abs(edges - t)))
        if abs(edges[k] - t) <= SNAP_SEPARATOR_S:
            return float(edges[k]), "separator"
    if len(cuts):
        k = int(np.argmin(np.abs(cuts - t)))
        if abs(cuts[k] - t) <= SNAP_CUT_S:
            return float(cuts[k]), "cut"
    return t, "cues"


def spot_cost(length_s: float) -> float:
    """Cost of reading ``length_s`` as one spot: its distance from the nearest standard length
    (in tolerances) plus that length's prior; inf when no standard length is near."""
    best = np.inf
    for standard, prior in SPOT_PRIORS.items():
        err = abs(length_s - standard)
        if err <= SPOT_TOLERANCE_S:
            best = min(best, 0.5 * err / SPOT_TOLERANCE_S + prior)
    return float(best)


def split_spots(start_s: float, end_s: float, seps: list[tuple[float, float]], cuts: np.ndarray) -> list[Spot]:
    """The break's spots: the cheapest split at separators and cuts into standard lengths
    (:func:`spot_cost`, with separators and cuts rewarded as spot edges); one piece when no
    split fits. Black separators are gaps between spots: a spot ends where one begins and the
    next starts where it ends, so spots are their exact sold lengths."""
    eps = 1e-6
    opening, closing = (start_s, start_s), (end_s, end_s)
    edges: list[tuple[float, float, float]] = []  # (previous spot ends, next spot starts, reward)
    for a, b in seps:
        if b <= start_s + eps or a >= end_s - eps:
            continue
        if a <= start_s + eps:
            opening = (start_s, b)
        elif b >= end_s - eps:
            closing = (a, end_s)
        elif start_s + 1.0 < a and b < end_s - 1.0:
            edges.append((a, b, SEPARATOR_EDGE_REWARD))
    taken = [(a, b) for a, b, _ in edges]
    for c in cuts:
        c = float(c)
        if opening[1] + 1.0 < c < closing[0] - 1.0 and not any(a - 0.1 <= c <= b + 0.1 for a, b in taken):
            edges.append((c, c, CUT_EDGE_REWARD))
    points = [(*opening, 0.0), *sorted(edges), (*closing, 0.0)]
    n = len(points)
    best = np.full(n, np.inf)
    back = np.full(n, -1)
    best[0] = 0.0
    max_spot = max(STANDARD_SPOTS_S) + SPOT_TOLERANCE_S
    for j in range(1, n):
        for i in range(j - 1, -1, -1):
            length = points[j][0] - points[i][1]
            if length > max_spot:
                break
            if length <= 0:
                continue
            cost = best[i] + spot_cost(length) - points[j][2]
            if cost < best[j]:
                best[j], back[j] = cost, i
    if not np.isfinite(best[-1]):
        return [Spot(opening[1], closing[0])]
    spots: list[Spot] = []
    j = n - 1
    while j > 0:
        i = int(back[j])
        spots.append(Spot(points[i][1], points[j][0]))
        j = i
    return spots[::-1]


def find_breaks(grid: CueGrid, *, use: Iterable[str] = CUE_FAMILIES, switch_penalty: float = SWITCH_PENALTY,
                min_break_s: float = MIN_BREAK_S) -> BreakAnalysis:
    """Ad breaks in the broadcast whose cues are ``grid`` (see the module docstring).

    ``use`` names the cue families to read (the rest are ignored; for ablations);
    ``switch_penalty`` is the evidence a state change must overcome, ``min_break_s`` the
    shortest break kept.
    """
    given = set(use)
    unknown = given - set(CUE_FAMILIES)
    if unknown:
        raise ValueError(f"unknown cue families {sorted(unknown)}; known: {', '.join(CUE_FAMILIES)}")
    use = [u for u in CUE_FAMILIES if u in given]
    evidence = break_evidence(grid, use)
    total = PRIOR_LOG_ODDS + (np.sum(list(evidence.values()), axis=0) if evidence else np.zeros(grid.size))
    seps = separators(grid) if "separators" in use else []
    cuts = np.asarray(grid.cuts, np.float64) if "cuts" in use else np.zeros(0)
    breaks: list[Break] = []
    if evidence:
        # Log-probabilities of (programme, break) per cell from the summed log-odds.
        log_p = np.stack([-np.logaddexp(0.0, total), -np.logaddexp(0.0, -total)], axis=1)
        path = viterbi(log_p, switch_penalty)
        for state, a, b in runs(path):
            if state != 1:
                continue
            t0, t1 = float(grid.times[a]), min(grid.duration_s, float(grid.times[b - 1]) + grid.step_s)
            start, start_edge = _snap(t0, True, seps, cuts) if a > 0 else (0.0, "start")
            end, end_edge = _snap(t1, False, seps, cuts) if b < grid.size else (grid.duration_s, "end")
            if end - start < min_break_s:
                continue
            span = slice(a, b)
            drivers = sorted(((float(v[span].mean()), k) for k, v in evidence.items()), reverse=True)
            breaks.append(Break(start, end, split_spots(start, end, seps, cuts), start_edge, end_edge,
                                [k for v, k in drivers if v > 0.1], float(total[span].mean())))
    in_break = np.zeros(grid.size, np.float32)
    for b in breaks:
        in_break[grid.cell_of(b.start_s): grid.cell_of(max(b.start_s, b.end_s - 1e-6)) + 1] = 1.0
    return BreakAnalysis(breaks, in_break, evidence, use)
