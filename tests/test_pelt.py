"""The penalised mean-shift search (vidscan.detect.pelt) against ruptures' KernelCPD, which
it stands in for on the linear and cosine kernels, and against an exhaustive search."""

from __future__ import annotations

import numpy as np
import pytest
import ruptures as rpt

from vidscan.detect.kernel import KernelDetector
from vidscan.detect.pelt import change_points


def piecewise(rng: np.random.Generator, n: int, dims: int, pieces: int, noise: float) -> np.ndarray:
    labels = np.sort(rng.integers(0, pieces, n))
    return rng.normal(size=(pieces, dims))[labels] + noise * rng.normal(size=(n, dims))


def exhaustive(x: np.ndarray, penalty: float, min_size: int) -> tuple[list[int], float]:
    """Every start for every end, no pruning: the reference optimum and its value."""
    n = len(x)
    sums = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    squares = np.concatenate([[0.0], np.cumsum((x * x).sum(axis=1))])
    best, previous = np.full(n + 1, np.inf), np.zeros(n + 1, int)
    best[0] = -penalty
    for t in range(1, n + 1):
        for s in range(0, t - min_size + 1):
            value = best[s] + squares[t] - squares[s] - ((sums[t] - sums[s]) ** 2).sum() / (t - s) + penalty
            if value < best[t] - 1e-9:
                best[t], previous[t] = value, s
    starts, t = [], n
    while t > 0:
        t = previous[t]
        if t > 0:
            starts.append(int(t))
    return sorted(starts), float(best[n])


def objective(x: np.ndarray, starts: list[int], penalty: float) -> float:
    return sum(float(((part - part.mean(axis=0)) ** 2).sum()) for part in np.split(x, starts)) + penalty * len(starts)


@pytest.mark.parametrize("min_size", [1, 2, 5, 12])
def test_same_partition_as_ruptures_linear_kernel(min_size: int) -> None:
    rng = np.random.default_rng(min_size)
    for _ in range(25):
        x = piecewise(rng, int(rng.integers(4 * min_size, 600)), int(rng.integers(1, 40)), int(rng.integers(1, 8)), 0.2)
        penalty = float(rng.uniform(1.0, 10.0))
        theirs = rpt.KernelCPD(kernel="linear", min_size=min_size).fit(x).predict(pen=penalty)[:-1]
        assert change_points(x, penalty, min_size) == [int(c) for c in theirs]


def test_cosine_kernel_is_the_linear_kernel_on_unit_rows() -> None:
    rng = np.random.default_rng(7)
    for _ in range(10):
        x = piecewise(rng, 300, 16, 5, 0.2) * rng.uniform(0.5, 3.0, size=(300, 1))
        theirs = rpt.KernelCPD(kernel="cosine", min_size=3).fit(x).predict(pen=0.5)[:-1]
        unit = x / np.linalg.norm(x, axis=1, keepdims=True)
        assert change_points(unit, 0.5, 3) == [int(c) for c in theirs]


def test_the_cosine_kernel_ignores_scale_and_the_linear_does_not() -> None:
    """A shot whose embeddings only grow in length is one segment to the cosine kernel."""
    rng = np.random.default_rng(2)
    v = rng.normal(size=8).astype(np.float32)
    x = np.r_[np.tile(v, (50, 1)), np.tile(3 * v, (50, 1))] + 0.001 * rng.normal(size=(100, 8)).astype(np.float32)
    assert [b.index for b in KernelDetector(kernel="linear").fit_predict(x, 25.0)] == [50]
    assert KernelDetector(kernel="cosine").fit_predict(x, 25.0) == []


def test_exact_where_pruning_with_a_minimum_size_is_not() -> None:
    """Noisy signals with a penalty near the noise level: the result is the exhaustive
    optimum; ruptures' pruning sometimes misses it, never by beating it."""
    rng = np.random.default_rng(11)
    for _ in range(120):
        min_size = int(rng.integers(1, 10))
        x = piecewise(rng, int(rng.integers(2 * min_size, 110)), int(rng.integers(1, 5)), int(rng.integers(1, 6)), float(rng.uniform(0.1, 1.5)))
        penalty = float(rng.uniform(0.05, 10.0))
        ours = change_points(x, penalty, min_size)
        assert ours == exhaustive(x, penalty, min_size)[0]
        theirs = [int(c) for c in rpt.KernelCPD(kernel="linear", min_size=min_size).fit(x).predict(pen=penalty)[:-1]]
        assert objective(x, ours, penalty) <= objective(x, theirs, penalty) + 1e-9


def test_exact_when_blocks_are_shorter_than_the_minimum_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks are capped (memory); a start beaten in one is then kept for several blocks."""
    import vidscan.detect.pelt as pelt

    monkeypatch.setattr(pelt, "MAX_BLOCK", 3)
    rng = np.random.default_rng(13)
    for _ in range(60):
        min_size = int(rng.integers(4, 12))
        x = piecewise(rng, int(rng.integers(2 * min_size, 100)), 2, 4, float(rng.uniform(0.1, 1.5)))
        penalty = float(rng.uniform(0.05, 8.0))
        assert pelt.change_points(x, penalty, min_size) == exhaustive(x, penalty, min_size)[0]


def test_weights_equal_repeated_rows() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        x = piecewise(rng, 40, 6, 4, 0.3)
        weights = rng.integers(1, 6, 40).astype(float)
        rows = np.repeat(x, weights.astype(int), axis=0)
        owner = np.repeat(np.arange(40), weights.astype(int))
        repeated, _ = exhaustive(rows, 2.0, 3)
        if all(owner[c] != owner[c - 1] for c in repeated):  # every change on a row boundary
            assert change_points(x, 2.0, 3, weights=weights) == [int(owner[c]) for c in repeated]


def test_too_short_or_constant_input_has_no_change() -> None:
    assert change_points(np.zeros((0, 3)), 1.0, 1) == []
    assert change_points(np.ones((5, 3)), 1.0, 3) == []
    assert change_points(np.ones((50, 3)), 1.0, 2) == []
    assert change_points(np.r_[np.zeros(20), np.ones(20)], 0.1, 2) == [20]  # 1-D rows


def test_the_default_detector_does_not_import_ruptures() -> None:
    """``import ruptures`` imports scipy.stats (about a second), scipy.ndimage 0.3 s; the default
    detector needs neither."""
    import subprocess
    import sys

    code = ("import numpy as np, sys\nfrom vidscan.detect import create_detector\n"
            "d = create_detector('adaptive')\nx = np.r_[np.zeros((40, 4)), np.ones((40, 4))].astype('float32')\n"
            "print([b.index for b in d.fit_predict(x, 25.0)], 'ruptures' in sys.modules, 'scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["[40]", "False", "False"], out.stdout + out.stderr


@pytest.mark.parametrize("width", [2, 3, 5, 9])
def test_smoothing_is_scipys_median_filter(width: int) -> None:
    """The kernel's temporal median equals scipy.ndimage's (edges repeated), chunk seams included."""
    from scipy.ndimage import median_filter

    from vidscan.detect.kernel import smooth

    rng = np.random.default_rng(width)
    x = rng.normal(size=(2500, 6)).astype(np.float32)
    odd = width if width % 2 else width + 1
    assert np.array_equal(smooth(x, width, chunk=700), median_filter(x, size=(odd, 1), mode="nearest"))
