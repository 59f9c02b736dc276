"""Scoring detected boundaries against ground truth, the way the field does it.

Cuts match a prediction within +-``tolerance`` frames; a gradual transition matches a
prediction anywhere inside it (widened by the same tolerance). Matching is one-to-one
(each truth and each prediction used once), precision/recall/F1 are micro-averaged by
summing counts over videos.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: "Score") -> "Score":
        return Score(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


def match_boundaries(
    predicted: Iterable[int], truth: Sequence[tuple[int, int]], tolerance: int = 2
) -> Score:
    """Score predicted boundary frames against truth spans ``(start, end)``.

    A cut at frame k is ``(k, k)``; a gradual transition over frames [s, e) is ``(s, e)``.
    """
    preds = sorted(set(int(p) for p in predicted))
    pairs: list[tuple[int, int, int]] = []  # (distance, truth index, prediction index)
    for ti, (start, end) in enumerate(truth):
        lo, hi = start - tolerance, max(end - 1, start) + tolerance
        centre = (start + max(end - 1, start)) / 2
        for pi, p in enumerate(preds):
            if lo <= p <= hi:
                pairs.append((abs(p - centre), ti, pi))
    used_t: set[int] = set()
    used_p: set[int] = set()
    for _, ti, pi in sorted(pairs):
        if ti not in used_t and pi not in used_p:
            used_t.add(ti)
            used_p.add(pi)
    tp = len(used_t)
    return Score(tp=tp, fp=len(preds) - tp, fn=len(truth) - tp)
