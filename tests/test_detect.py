"""The change-point detector on sequences whose structure the test controls."""

from __future__ import annotations

import numpy as np
import pytest

from vidscan.detect import KernelDetector, available_detectors, create_detector
from vidscan.errors import UsageError

SPS = 25.0


def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def shots(lengths, dim=32, noise=0.02, seed=0):
    """Piecewise-constant unit vectors (one random direction per shot) plus noise."""
    rng = np.random.default_rng(seed)
    parts = [np.repeat(rng.normal(size=(1, dim)), n, axis=0) for n in lengths]
    x = np.concatenate(parts) + rng.normal(scale=noise, size=(sum(lengths), dim))
    return unit(x).astype(np.float32), list(np.cumsum(lengths)[:-1])


def test_finds_hard_cuts_on_the_exact_sample():
    x, cuts = shots([60, 40, 90, 30, 75])
    found = KernelDetector().fit_predict(x, SPS)
    assert [b.index for b in found] == cuts
    assert all(b.kind == "cut" for b in found)


def test_flash_is_not_a_boundary():
    x, cuts = shots([80, 80])
    x[30:32] = unit(np.ones((2, x.shape[1])))  # two white frames
    assert [b.index for b in KernelDetector().fit_predict(x, SPS)] == cuts


def test_ramp_gives_one_gradual_boundary_spanning_it():
    x, _ = shots([70, 70])
    a, b = x[0].copy(), x[-1].copy()
    ramp = np.linspace(0, 1, 22)[:, None]
    x[59:81] = unit(a * (1 - ramp) + b * ramp)
    found = KernelDetector().fit_predict(x, SPS)
    assert len(found) == 1
    assert 59 <= found[0].index <= 81
    assert found[0].kind == "dissolve" and found[0].start >= 55 and found[0].end <= 85


def test_slow_drift_is_not_a_boundary():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 32))
    t = np.linspace(0, 1, 400)[:, None]  # a 16-second camera move
    x = unit(a * (1 - 0.5 * t) + b * 0.5 * t + rng.normal(scale=0.02, size=(400, 32)))
    assert KernelDetector().fit_predict(x.astype(np.float32), SPS) == []


def test_min_scene_len_is_respected():
    x, _ = shots([50, 6, 50])
    found = KernelDetector(min_scene_len=0.5).fit_predict(x, SPS)
    idx = [b.index for b in found]
    assert all(b - a >= 12 for a, b in zip([0] + idx, idx + [len(x)]))


def test_windowed_equals_whole_sequence():
    x, cuts = shots([int(v) for v in np.random.default_rng(5).integers(20, 120, 60)], seed=5)
    whole = [b.index for b in KernelDetector(window=100000).fit_predict(x, SPS)]
    windowed = [b.index for b in KernelDetector(window=900, overlap=150).fit_predict(x, SPS)]
    assert whole == cuts
    assert windowed == whole


def test_penalty_is_per_second_of_evidence():
    x, cuts = shots([60, 40, 90, 30, 75])
    every_other = x[::2]
    found = KernelDetector().fit_predict(every_other, SPS / 2)
    assert [2 * b.index for b in found] == [c + (c % 2) for c in cuts]


def test_registry_and_bad_params():
    assert "kernel" in available_detectors()
    assert isinstance(create_detector("kernel", penalty=1.0), KernelDetector)
    with pytest.raises(UsageError):
        create_detector("nope")
    with pytest.raises(UsageError):
        KernelDetector(penalty=0)
    with pytest.raises(UsageError):
        KernelDetector(min_scene_len=-1)
    assert KernelDetector().fit_predict(np.zeros((1, 4), np.float32), SPS) == []


def test_contrast_curve_peaks_at_a_step_and_does_not_depend_on_its_chunks():
    from vidscan.detect.kernel import contrast_curve

    rng = np.random.default_rng(3)
    x = np.repeat(rng.random((4, 16)), 250, axis=0).astype(np.float32) + 0.01 * rng.random((1000, 16)).astype(np.float32)
    whole = contrast_curve(x, 12, chunk=10**6)
    np.testing.assert_array_equal(contrast_curve(x, 12, chunk=37), whole)
    peaks = np.argsort(whole)[-3:]
    assert all(min(abs(p - c) for c in (250, 500, 750)) <= 1 for p in peaks)
    assert whole[0] == 0  # nothing before the first sample to compare with

