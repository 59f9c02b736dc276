"""The default shot detector: cuts from spikes in the frame difference, gradual transitions
from change points.

Why (measured on real footage, benchmarks/realset, and on the synthetic corpus of
benchmarks/accuracy.py; figures in the README's accuracy section):

* **Cuts are local events.** A cut is one frame-to-frame difference (see
  :mod:`vidscan.detect.difference`) several times larger than the differences around it;
  in-shot motion raises all of them together. So a frame is a cut candidate when its
  difference is at least ``ratio`` times the mean of its neighbours' (two each side) and at
  least ``min_score``. One global penalty over a whole video (the kernel detector) cannot
  do this: a same-palette cut is a small step next to a busy shot's motion, yet a clear
  spike locally.
* **Repeated frames are not neighbours.** Material shot or converted at a lower rate
  (animation on twos, 10-12 fps webcams and surveillance, 28 -> 25 fps conversions) repeats
  frames, so its motion arrives as isolated spikes between near-zero differences.
  Neighbours are the nearest frames that actually changed (difference above ``still`` = 1,
  compression noise on a still picture is below that), up to ``reach`` seconds away. With
  ``still`` 0.5 (noise counted as motion) real-set F1 was 0.895, with 1.0 0.934, 1.5 0.934,
  2.0 0.931 (the synthetic negatives start failing at 2.0).
* **Cuts next to cuts.** A second pass judges each frame with the first pass's cuts left
  out of its neighbours, so both ends of a 3-frame shot, or a cut into a frozen frame, are
  judged against motion rather than against each other (short-shot F1 0.935 -> 0.969).
* **Flashes and glitches return.** A flash or a one-frame glitch gives two spikes, into it
  and out of it, and afterwards the picture is what it was before. Two candidates at most
  ``transient`` seconds apart whose outer frames look alike (embedding distance under
  ``return_ratio`` times the jump) are dropped when at most two frames lie between them, or
  when those frames are ``flash_brightening`` (90) levels brighter than both sides (a flash
  washes the picture out). A cutaway that returns to the same camera is kept: editors do that
  all the time. Rules that also dropped returns that were darker, or 20 or 40 levels
  brighter, lost bright 3-frame inserts (real-set F1 0.886 at 40, 0.907 at 90; flashes and
  the synthetic negatives unaffected).
* **Short shots are kept.** Cuts need only ``min_scene_len`` (default 0.1 s, 3 frames at
  30 fps) between them: music videos, trailers and replays have shots of 3-12 frames.
* **Gradual transitions are change points.** A dissolve or a fade spreads the change over
  many frames with no spike, so the kernel detector (ruptures ``KernelCPD`` on the
  embeddings, see :mod:`vidscan.detect.kernel`) finds them and names them (``dissolve`` /
  ``fade``); a cut candidate inside a gradual transition is part of it. Gradual changes whose
  two sides differ by less than ``gradual_score`` (0.45) are camera motion on real footage
  (real-set F1 0.942 -> 0.952, no change from 0.45 to 0.6, none on the synthetic groups).
* **A dissolve into a short shot keeps the cut out of it.** The kernel joins change points
  closer than its longest transition, so a dissolve into a moving shot shorter than 1.6 s
  and the cut that ends that shot came back as one "dissolve" between them, and the cut was
  lost (the report tests' four-shot video, once FFmpeg 9 rendered its Mandelbrot zoom).
  A gradual span that ends in a cut candidate after at least ``reach`` seconds of calm is
  split: the cut stays, the gradual part keeps only its elevated frames. Real-set F1 0.906
  and synthetic 0.993 before and after (benchmarks/accuracy.py, the same run).
* **Strong change points also count as cuts.** A cut in the middle of heavy motion may not
  stand out locally; a kernel change point whose two sides differ by at least ``kernel_cut``
  (0.6) is kept, placed on the largest difference near it (synthetic F1 0.962 -> 0.993 with
  it, real unchanged).
* **Ratio and floor.** ``ratio`` 2.5-3 and ``min_score`` 8-12 all gave real-set F1
  0.936-0.942; 3 (PySceneDetect's adaptive default) and 8 are kept: the more conservative
  ratio, the lower floor for dark footage.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vidscan.detect.base import Boundary, BoundaryDetector, refine_kinds
from vidscan.detect.kernel import KernelDetector
from vidscan.checks import finite_number
from vidscan.config import MAX_SECONDS
from vidscan.errors import UsageError
from vidscan.detect.defaults import MIN_SCENE_LEN, PENALTY


def neighbour_level(scores: np.ndarray, still: float, per_side: int, reach: int, upper: bool = False,
                    exclude: np.ndarray | None = None) -> np.ndarray:
    """For each sample, the mean score of its ``per_side`` nearest changing neighbours on each
    side (score above ``still``, at most ``reach`` samples away); ``still`` where none. With
    ``upper``, the mean of the larger half of them: material that alternates new and nearly
    repeated frames, or a pan that jerks, is judged by its real motion. Samples in ``exclude``
    (other cuts) are nobody's neighbours."""
    n = len(scores)
    level = np.full(n, still, np.float64)
    changing = scores > still
    if exclude is not None:
        changing &= ~exclude
    moving = np.flatnonzero(changing)
    if len(moving) == 0:
        return level
    idx = np.arange(n)
    before = np.searchsorted(moving, idx, side="left")  # moving[before - k]: k-th changing sample before i
    after = np.searchsorted(moving, idx, side="right")  # moving[after + k - 1]: k-th one after i
    last = len(moving) - 1
    values = np.full((n, 2 * per_side), np.nan)
    for k in range(1, per_side + 1):
        for col, at in ((2 * k - 2, before - k), (2 * k - 1, after + k - 1)):
            j = moving[np.clip(at, 0, last)]
            ok = (at >= 0) & (at <= last) & (np.abs(j - idx) <= reach)
            values[:, col] = np.where(ok, scores[j], np.nan)
    count = np.sum(~np.isnan(values), axis=1)
    has = count > 0
    if upper:
        ranked = -np.sort(-np.nan_to_num(values, nan=-np.inf), axis=1)  # largest first, missing last
        keep = np.maximum(1, (count + 1) // 2)
        mask = np.arange(values.shape[1])[None, :] < keep[:, None]
        total = np.where(mask & np.isfinite(ranked), ranked, 0.0).sum(axis=1)
        level[has] = total[has] / keep[has]
    else:
        level[has] = np.nansum(values[has], axis=1) / count[has]
    return level


class AdaptiveDetector(BoundaryDetector):
    """Adaptive-threshold cuts on the frame difference plus change-point gradual
    transitions; see the module docstring. Times are in seconds (any sampling rate)."""

    name = "adaptive"

    def __init__(
        self,
        ratio: float = 3.0,
        min_score: float = 8.0,
        min_scene_len: float = MIN_SCENE_LEN["adaptive"],
        still: float = 1.0,
        reach: float = 0.5,
        transient: float = 0.5,
        return_ratio: float = 0.5,
        kernel_cut: float = 0.6,
        flash_brightening: float = 90.0,
        gradual_score: float = 0.45,
        level: str = "mean",
        penalty: float = PENALTY,
        **kernel_options: Any,
    ) -> None:
        self.ratio = finite_number("ratio", ratio, min=1, min_open=True)
        self.min_score, self.still = finite_number("min_score", min_score, min=0), finite_number("still", still, min=0)
        self.min_scene_len = finite_number("min_scene_len", min_scene_len, min=0, max=MAX_SECONDS)
        self.reach = finite_number("reach", reach, min=0, max=MAX_SECONDS)
        self.transient = finite_number("transient", transient, min=0, max=MAX_SECONDS)
        self.return_ratio, self.kernel_cut = finite_number("return_ratio", return_ratio, min=0), finite_number("kernel_cut", kernel_cut, min=0)
        if level not in ("mean", "upper"):
            raise UsageError(f"level must be 'mean' or 'upper', got {level!r}")
        self.flash_brightening, self.level = finite_number("flash_brightening", flash_brightening, min=0), level
        self.gradual_score = finite_number("gradual_score", gradual_score, min=0)
        self.kernel = KernelDetector(penalty=penalty, **kernel_options)
        self._boundaries: list[Boundary] = []
        #: Per-sample frame difference from the last fit (the report's score curve).
        self.scores_: np.ndarray = np.zeros(0, np.float32)
        #: Per-sample difference over its neighbours' level from the last fit: how clearly a cut stands out.
        self.ratios_: np.ndarray = np.zeros(0, np.float32)

    def params(self) -> dict[str, Any]:
        return {
            "detector": self.name,
            "ratio": self.ratio,
            "min_score": self.min_score,
            "min_scene_len": self.min_scene_len,
            "still": self.still,
            "reach": self.reach,
            "transient": self.transient,
            "return_ratio": self.return_ratio,
            "kernel_cut": self.kernel_cut,
            "flash_brightening": self.flash_brightening,
            "gradual_score": self.gradual_score,
            "level": self.level,
            "kernel": self.kernel.params(),
        }

    def fit(self, signal: np.ndarray, samples_per_second: float, luma: np.ndarray | None = None,
            diffs: np.ndarray | None = None) -> "AdaptiveDetector":
        x = np.asarray(signal, dtype=np.float32)
        n = len(x)
        self._boundaries = []
        if n < 2:
            self.scores_ = self.thresholds_ = np.zeros(n, np.float32)
            return self
        sps = float(samples_per_second)
        scores = self._scores(x, diffs)
        self.scores_ = scores.astype(np.float32)
        cuts = self._cuts(x, scores, luma, sps)
        gradual = [b for b in self.kernel.fit_predict(x, sps, luma)
                   if (b.kind != "cut" and b.score >= self.gradual_score) or b.score >= self.kernel_cut]
        self._boundaries = self._merge(cuts, gradual, scores, sps, luma)
        return self

    def predict(self) -> list[Boundary]:
        return list(self._boundaries)

    @staticmethod
    def _scores(x: np.ndarray, diffs: np.ndarray | None) -> np.ndarray:
        """The frame differences; without them (a caller that has only embeddings), the steps
        between consecutive embeddings, scaled to the same range (x100)."""
        if diffs is not None and len(diffs) == len(x):
            return np.asarray(diffs, np.float64)
        steps = np.linalg.norm(np.diff(x, axis=0), axis=1).astype(np.float64) * 100.0
        return np.concatenate([[0.0], steps])

    def _cuts(self, x: np.ndarray, scores: np.ndarray, luma: np.ndarray | None, sps: float) -> list[int]:
        reach = max(2, int(round(self.reach * sps)))
        candidate = np.zeros(len(scores), bool)
        # Twice: the second time, the first pass's cuts are nobody's neighbours, so a cut next to
        # another one (both ends of a short shot, a cut into a frozen frame) is judged by motion.
        for _ in range(2):
            level = neighbour_level(scores, self.still, per_side=2, reach=reach, upper=self.level == "upper", exclude=candidate)
            candidate = candidate | ((scores >= self.min_score) & (scores >= self.ratio * np.maximum(level, self.still)))
            candidate[0] = False
        self.ratios_ = (scores / np.maximum(level, self.still)).astype(np.float32)
        self.thresholds_ = np.maximum(self.min_score, self.ratio * np.maximum(level, self.still)).astype(np.float32)
        found = [int(i) for i in np.flatnonzero(candidate)]
        found = self._drop_transients(x, scores, found, luma, sps)
        min_gap = max(1, int(round(self.min_scene_len * sps)))
        kept: list[int] = []
        for i in found:
            if kept and i - kept[-1] < min_gap:
                if scores[i] > scores[kept[-1]]:
                    kept[-1] = i
                continue
            kept.append(i)
        return kept

    def _drop_transients(self, x: np.ndarray, scores: np.ndarray, found: list[int], luma: np.ndarray | None, sps: float) -> list[int]:
        """Drop pairs of candidates around a flash or glitch (see the module docstring)."""
        limit = max(1, int(round(self.transient * sps)))
        drop: set[int] = set()
        for a, b in zip(found, found[1:]):
            if b - a > limit or a in drop:
                continue
            before, after = x[a - 1], x[b]
            jump = min(float(np.linalg.norm(x[a] - before)), float(np.linalg.norm(x[b - 1] - after)))
            back = float(np.linalg.norm(after - before))
            if jump <= 1e-6 or back > self.return_ratio * jump:
                continue
            if b - a <= 2 or _brightening(luma, a, b) >= self.flash_brightening:
                drop.update((a, b))
        return [i for i in found if i not in drop]

    def _split_at_cut(self, b: Boundary, cuts: list[int], scores: np.ndarray, sps: float) -> Boundary:
        """A gradual span that ends in a cut after a calm stretch is two boundaries: the
        kernel joins change points closer than its ``max_transition``, so a dissolve into a
        shot shorter than that, and the cut out of it, came back as one long "dissolve"
        placed between them, and the cut was lost inside it. The cut then stays a cut, and
        the gradual part keeps only its elevated frames, placed at their middle."""
        calm = max(2, int(round(self.reach * sps)))
        for c in cuts:
            if not b.start + calm < c <= b.end + 2:
                continue
            rest = np.delete(scores[b.start : b.end + 1], min(c - b.start, b.end - b.start))
            if len(rest) == 0 or scores[c] < self.ratio * max(float(np.median(rest)), self.still):
                continue
            end = _calm_before(scores, b.start, c, calm)
            if end is None:
                continue
            return Boundary((b.start + end - 1) // 2, b.kind, start=b.start, end=end - 1, score=b.score)
        return b

    def _merge(self, cuts: list[int], kernel: list[Boundary], scores: np.ndarray, sps: float, luma: np.ndarray | None) -> list[Boundary]:
        """Cuts and the kernel's gradual transitions (and strong cuts) as one ordered list."""
        n = len(scores)
        out: list[Boundary] = []
        gradual = [self._split_at_cut(b, cuts, scores, sps) for b in kernel if b.kind != "cut"]
        spans = [(b.start - 2, b.end + 2) for b in gradual]
        for i in cuts:
            if not any(lo <= i <= hi for lo, hi in spans):
                out.append(Boundary(i, "cut", score=float(scores[i])))
        reach = 2
        for b in [k for k in kernel if k.kind == "cut"] + gradual:
            if b.kind == "cut":
                lo, hi = max(1, b.index - reach), min(n, b.index + reach + 1)
                if any(lo - 1 <= c < hi + 1 for c in cuts):
                    continue
                at = lo + int(np.argmax(scores[lo:hi]))
                out.append(Boundary(at, "cut", score=float(scores[at])))
            else:
                out.append(b)
        out.sort(key=lambda b: b.index)
        merged: list[Boundary] = []
        for b in out:
            if merged and b.index == merged[-1].index:
                continue
            merged.append(b)
        return refine_kinds(merged, luma, max(2, int(round(0.8 * sps))))


def _calm_before(scores: np.ndarray, start: int, cut: int, calm: int) -> int | None:
    """Where the elevated part of a gradual span [start, cut) ends, if at least ``calm`` quiet
    frames lie between it and the cut (each under half the span's largest difference); else None."""
    part = scores[start:cut]
    if len(part) <= calm:
        return None
    quiet = part < 0.5 * float(part.max())
    if not quiet[-calm:].all():
        return None
    loud = np.flatnonzero(~quiet)
    return start + int(loud[-1]) + 1 if len(loud) else None


def _brightening(luma: np.ndarray | None, a: int, b: int) -> float:
    """How much brighter the brightest of samples [a, b) is than the frames either side."""
    if luma is None or a < 1 or b >= len(luma) or b <= a:
        return 0.0
    return float(luma[a:b].max()) - max(float(luma[a - 1]), float(luma[b]))
