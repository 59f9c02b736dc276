"""Kernel change-point detection (ruptures' ``KernelCPD`` search) over embeddings.

Why this method (measured on the synthetic corpus of benchmarks/accuracy.py and in the
shared field notes):

* ``KernelCPD(kernel="linear")`` finds mean shifts of the embedding with an exact penalised
  optimisation in C, in O(n) memory: 0.2 s for 5k samples, 1 s for 20k. The linear and
  cosine kernels run the same search in :mod:`vidscan.detect.pelt` (as fast, and without
  the second of scipy imports that ``import ruptures`` costs); ``rbf`` uses ruptures. ``rbf`` kernels build
  an n x n Gram matrix (7.7 GB at 20k samples) and Pelt/Binseg with l2 cost are 20-200x
  slower for the same F1, so they are impractical for two-hour videos.
* A hard cut is a step in the mean, so the optimum puts the change exactly on the first new
  frame; a dissolve or a fade is a ramp, which gets one change point near its middle.
* A temporal median filter (0.2 s) first removes flashes and one- or two-frame glitches,
  which are outliers, not mean shifts.
* The penalty is given per second of evidence: splitting two segments of n1 and n2 samples
  whose means differ by d lowers the cost by n1*n2/(n1+n2)*d^2, which grows with the
  sampling rate, so the penalty is ``penalty * samples_per_second``. One value (0.48) was
  best on every sampling rate tried (every frame and every 2nd frame gave F1 0.952/0.956).
  Penalty sweep, every frame, F1 over the corpus: 0.24 -> 0.917, 0.36 -> 0.935, 0.48 ->
  0.952, 0.64 -> 0.939.
* A gradual transition is a ramp, which the optimum may also cut into two or three pieces
  (fade out, black, fade in). Neighbouring change points less than ``max_transition`` apart
  are merged into one gradual boundary when the stretch between them is itself changing
  (its first and last samples differ more than ``merge_ratio`` times its steps to the
  neighbouring segments) rather than being a short shot of its own. That merge lets the
  penalty be lower (more sensitive) without double-counting dissolves. A chain of such
  pieces longer than ``max_transition`` is a continuous change (a long camera move, a zoom),
  not a transition, and gives no boundary. A short dark (or white) stretch between two
  change points is a dip to black (white) and also becomes one gradual boundary.
* Long videos are processed in overlapping windows, so memory does not grow with length.

Measured on the corpus (every frame, F1 at +-2 frames, PySceneDetect adaptive 0.737 on the
same files): penalty 0.24/0.32/0.40/0.48 -> 0.929/0.935/0.952/0.951 without merging and
0.970/0.966/0.966/0.962 with it (merge ratio 0.7; 1.0 -> 0.956/0.952/0.959/0.955).
Default 0.36, between the two best: the higher the penalty, the fewer false boundaries on
busy material; the lower, the more subtle cuts between similar shots are found.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vidscan.detect.base import Boundary, BoundaryDetector, refine_kinds
from vidscan.detect.pelt import change_points
from vidscan.checks import finite_number
from vidscan.config import MAX_SECONDS
from vidscan.errors import UsageError
from vidscan.detect.defaults import MIN_SCENE_LEN, PENALTY


def contrast_curve(x: np.ndarray, half_window: int, chunk: int = 2048) -> np.ndarray:
    """Distance between the mean of the ``half_window`` samples before and after each sample:
    the "how much does the picture change here" curve shown in reports. Computed ``chunk``
    samples at a time (float64 running sums of a 3-hour video would take gigabytes)."""
    n = len(x)
    out = np.zeros(n, np.float32)
    if n < 2:
        return out
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        s, e = max(0, a - half_window), min(n, b + half_window)
        c = np.vstack([np.zeros((1, x.shape[1]), np.float64), np.cumsum(x[s:e], axis=0, dtype=np.float64)])  # c[j] = sum of x[s:s+j]
        idx = np.arange(a, b)
        lo, hi = np.maximum(0, idx - half_window), np.minimum(n, idx + half_window)
        left = (c[idx - s] - c[lo - s]) / np.maximum(idx - lo, 1)[:, None]
        right = (c[hi - s] - c[idx - s]) / np.maximum(hi - idx, 1)[:, None]
        part = np.linalg.norm(right - left, axis=1)
        part[(idx - lo == 0) | (hi - idx == 0)] = 0.0
        out[a:b] = part
    return out


def _is_dip(luma: np.ndarray | None, c1: int, c2: int, ctx: int) -> bool:
    """Is [c1, c2) a dip to black (or white) between brighter (darker) neighbours?"""
    if luma is None or c1 < 1 or c2 >= len(luma):
        return False
    darkest, brightest = float(luma[c1:c2].min()), float(luma[c1:c2].max())
    before = float(np.median(luma[max(0, c1 - ctx) : c1]))
    after = float(np.median(luma[c2 : c2 + ctx]))
    if darkest < 32 and before > darkest + 32 and after > darkest + 32:
        return True
    return brightest > 223 and before < brightest - 32 and after < brightest - 32


def smooth(signal: np.ndarray, samples: int, chunk: int = 4096) -> np.ndarray:
    """Temporal median filter (odd width ``samples``, edges repeated) that keeps steps, drops
    outliers. The same values as ``scipy.ndimage.median_filter(mode="nearest")``, in numpy:
    importing scipy.ndimage takes 0.3 s, more than filtering a 5-minute file. ``chunk`` rows
    at a time, so memory stays bounded on long videos."""
    x = np.asarray(signal)
    if samples <= 1 or len(x) < 3:
        return signal
    width = samples if samples % 2 else samples + 1
    half, n = width // 2, len(x)
    out = np.empty_like(x)
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        rows = np.clip(np.arange(a - half, b + half), 0, n - 1)
        padded = x[rows]
        out[a:b] = middle_of([padded[k : k + b - a] for k in range(width)])
    return out


def middle_of(arrays: list[np.ndarray]) -> np.ndarray:
    """Element-wise median of an odd number of equal-shaped arrays, by odd-even transposition
    sort (compare-exchange with minimum/maximum: exact, and 6x faster than ``np.partition``
    across arrays for the 5-7 of a 0.2 s window)."""
    items = [a.copy() for a in arrays]
    for sweep in range(len(items)):
        for i in range(sweep % 2, len(items) - 1, 2):
            low = np.minimum(items[i], items[i + 1])
            np.maximum(items[i], items[i + 1], out=items[i + 1])
            items[i] = low
    return items[len(items) // 2]


class KernelDetector(BoundaryDetector):
    """Penalised kernel change-point detection; see the module docstring.

    Parameters are in seconds so they do not depend on the sampling rate:
    ``penalty`` (cost per change point, per sample-per-second), ``min_scene_len`` (shortest
    segment), ``smoothing`` (median filter width).
    """

    name = "kernel"

    def __init__(
        self,
        penalty: float = PENALTY,
        min_scene_len: float = MIN_SCENE_LEN["kernel"],
        smoothing: float = 0.2,
        max_transition: float = 1.6,
        merge_ratio: float = 0.7,
        kernel: str = "linear",
        window: int = 6000,
        overlap: int = 600,
    ) -> None:
        self.penalty = finite_number("penalty", penalty, min=0, min_open=True)
        self.min_scene_len = finite_number("min_scene_len", min_scene_len, min=0, max=MAX_SECONDS)
        self.smoothing = finite_number("smoothing", smoothing, min=0, max=MAX_SECONDS)
        self.max_transition = finite_number("max_transition", max_transition, min=0, max=MAX_SECONDS)
        self.merge_ratio = finite_number("merge_ratio", merge_ratio, min=0)
        if kernel not in ("linear", "cosine", "rbf"):
            raise UsageError(f"kernel must be linear, cosine or rbf, got {kernel!r}")
        if overlap * 2 >= window:
            raise ValueError("overlap must be less than half the window")
        self.kernel = kernel
        self.window = int(window)
        self.overlap = int(overlap)
        self._boundaries: list[Boundary] = []
        #: Per-sample change score (see :func:`contrast_curve`) from the last fit.
        self.scores_: np.ndarray = np.zeros(0, np.float32)

    def params(self) -> dict[str, Any]:
        return {
            "detector": self.name,
            "penalty": self.penalty,
            "min_scene_len": self.min_scene_len,
            "smoothing": self.smoothing,
            "max_transition": self.max_transition,
            "merge_ratio": self.merge_ratio,
            "kernel": self.kernel,
        }

    def fit(self, signal: np.ndarray, samples_per_second: float, luma: np.ndarray | None = None,
            diffs: np.ndarray | None = None) -> "KernelDetector":
        # float32 over the whole video (a 3-hour file at 25 fps is 270k samples); each window is
        # converted to float64 only while ruptures works on it.
        x = np.asarray(signal, dtype=np.float32)
        n = len(x)
        self._boundaries = []
        if n < 2:
            return self
        sps = float(samples_per_second)
        min_size = max(1, int(round(self.min_scene_len * sps)))
        filtered = smooth(x, int(round(self.smoothing * sps)))
        self.scores_ = contrast_curve(filtered, max(1, int(round(0.5 * sps))))
        pen = self.penalty * sps
        changes = self._windowed_changes(filtered, pen, min_size)
        max_len = int(round(self.max_transition * sps))
        groups = self._merge_transitions(filtered, changes, max_len, luma)
        groups = [g for g in groups if g[-1] - g[0] <= max_len]
        anchors = [g[0] for g in groups]
        boundaries = []
        for group in groups:
            if len(group) == 1:
                boundaries.append(self._describe(filtered, group[0], anchors))
            else:
                start, end = group[0], group[-1]
                score = float(np.linalg.norm(filtered[end : end + 3].mean(0) - filtered[max(0, start - 3) : start].mean(0)))
                boundaries.append(Boundary((start + end) // 2, "gradual", start=start, end=end, score=score))
        # A "transition" longer than max_transition is a continuous change (camera move).
        boundaries = [b for b in boundaries if b.end - b.start <= max_len]
        self._boundaries = refine_kinds(boundaries, luma, max(2, max_len // 2))
        return self

    def _merge_transitions(self, x: np.ndarray, changes: list[int], max_len: int, luma: np.ndarray | None = None) -> list[list[int]]:
        """Group change points that split one gradual transition (see module docstring)."""
        groups = [[c] for c in changes]
        n, edge, ctx = len(x), 3, 6
        i = 0
        while i < len(groups) - 1:
            c1, c2 = groups[i][-1], groups[i + 1][0]
            if c2 - c1 <= max_len and c2 - c1 >= 2:
                first, last = x[c1 : c1 + edge].mean(0), x[c2 - edge : c2].mean(0)
                before, after = x[max(0, c1 - ctx) : c1].mean(0), x[c2 : min(n, c2 + ctx)].mean(0)
                internal = np.linalg.norm(last - first)
                external = max(np.linalg.norm(first - before), np.linalg.norm(after - last))
                if internal > self.merge_ratio * external or _is_dip(luma, c1, c2, ctx):
                    groups[i] = groups[i] + groups.pop(i + 1)
                    i = max(0, i - 1)
                    continue
            i += 1
        return groups

    def predict(self) -> list[Boundary]:
        return list(self._boundaries)

    def _windowed_changes(self, x: np.ndarray, pen: float, min_size: int) -> list[int]:
        """Change points over overlapping windows; each window keeps those in its middle."""
        n = len(x)
        if n <= self.window:
            return self._changes(x, pen, min_size)
        step = self.window - 2 * self.overlap
        found: list[int] = []
        start = 0
        while start < n:
            stop = min(n, start + self.window)
            keep_from = start + self.overlap if start else 0
            keep_to = stop - self.overlap if stop < n else n
            for c in self._changes(x[start:stop], pen, min_size):
                if keep_from <= start + c < keep_to:
                    found.append(start + c)
            if stop == n:
                break
            start += step
        # Enforce the minimum length across window seams too.
        merged: list[int] = []
        for c in sorted(found):
            if not merged or c - merged[-1] >= min_size:
                merged.append(c)
        return [c for c in merged if min_size <= c <= n - min_size or min_size <= 1]

    def _changes(self, x: np.ndarray, pen: float, min_size: int) -> list[int]:
        if len(x) < 2 * max(min_size, 1):
            return []
        if self.kernel == "rbf":
            import ruptures as rpt  # only here: the import costs about a second (scipy)

            algo = rpt.KernelCPD(kernel=self.kernel, min_size=max(min_size, 1)).fit(np.asarray(x, dtype=np.float64))
            return [int(c) for c in algo.predict(pen=pen)[:-1]]
        # The cosine kernel is the linear kernel on unit rows.
        rows = np.asarray(x, np.float64)
        if self.kernel == "cosine":
            rows = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
        return change_points(rows, pen, max(min_size, 1))

    @staticmethod
    def _describe(filtered: np.ndarray, change: int, changes: list[int]) -> Boundary:
        """Snap a change to the exact step and tell cuts from gradual transitions.

        A cut concentrates the change in one step between consecutive samples; a dissolve or
        fade spreads it over several. The span of a gradual transition is where consecutive
        differences stay above a quarter of the largest one.
        """
        n = len(filtered)
        pos = changes.index(change)
        lo = changes[pos - 1] if pos else 0
        hi = changes[pos + 1] if pos + 1 < len(changes) else n
        reach = max(2, min(change - lo, hi - change) // 2)
        a, b = max(1, change - reach), min(n - 1, change + reach)
        steps = np.linalg.norm(np.diff(filtered[a - 1 : b + 1], axis=0), axis=1)  # steps[i]: sample a+i-1 -> a+i
        left = filtered[max(lo, change - reach) : change].mean(axis=0)
        right = filtered[change : min(hi, change + reach)].mean(axis=0)
        total = float(np.linalg.norm(right - left))
        if len(steps) == 0:
            return Boundary(change, score=total)
        peak = int(np.argmax(steps))
        peak_index = a + peak
        if steps[peak] >= 0.6 * total or total < 1e-6:
            # Cut: put it on the largest single step near the change (exact frame).
            if abs(peak_index - change) <= 2:
                change = peak_index
            return Boundary(change, "cut", score=total)
        active = steps >= 0.25 * steps[peak]
        first = peak
        while first > 0 and active[first - 1]:
            first -= 1
        last = peak
        while last + 1 < len(active) and active[last + 1]:
            last += 1
        start, end = a + first - 1, a + last + 1
        if end - start <= 2:
            return Boundary(change, "cut", score=total)
        return Boundary(min(max(change, start + 1), end - 1), "gradual", start=start, end=end, score=total)
