"""The default (adaptive) shot detector and the frame-difference signal it reads, on
sequences whose structure the test controls."""

from __future__ import annotations

import numpy as np
import pytest

from vidscan.detect import AdaptiveDetector, create_detector, detector_options
from vidscan.detect.adaptive import neighbour_level
from vidscan.detect.difference import DifferenceTracker, frame_differences
from vidscan.errors import UsageError

SPS = 25.0


def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def sequence(lengths, dim=32, seed=0, motion=(1.0, 3.0)):
    """Embeddings (one direction per shot, small noise), luma and frame differences (in-shot
    motion drawn from ``motion``, a spike of 40 on each cut)."""
    rng = np.random.default_rng(seed)
    parts = [np.repeat(rng.normal(size=(1, dim)), n, axis=0) for n in lengths]
    x = unit(np.concatenate(parts) + rng.normal(scale=0.02, size=(sum(lengths), dim))).astype(np.float32)
    cuts = [int(c) for c in np.cumsum(lengths)[:-1]]
    diffs = rng.uniform(*motion, size=len(x)).astype(np.float32)
    diffs[0] = 0
    diffs[cuts] = 40.0
    luma = np.full(len(x), 110.0, np.float32)
    return x, luma, diffs, cuts


def test_frame_differences_measure_luma_and_colour():
    grey = np.full((1, 8, 8, 3), 100, np.uint8)
    brighter = grey + np.uint8(10)
    red = grey.copy()
    red[..., 0] += 30
    d = frame_differences(np.concatenate([grey, grey, brighter, red]))
    assert d[0] == 0 and d[1] == 0
    assert d[2] == pytest.approx(10.0, abs=0.01)  # Y moves by 10, Cb and Cr not at all
    # red +30 from grey+10: Y -1.03, Cb, Cr move too; the sum of the three magnitudes
    assert d[3] > 10


def test_tracker_over_batches_equals_one_pass():
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, size=(10, 6, 8, 3), dtype=np.uint8)
    tracker = DifferenceTracker()
    streamed = np.concatenate([tracker(frames[:3]), tracker(frames[3:4]), tracker(frames[4:])])
    np.testing.assert_allclose(streamed, frame_differences(frames), rtol=1e-6)


def test_neighbour_level_skips_repeated_frames():
    s = np.array([0, 20, 0.1, 0.1, 0.1, 20, 0.1, 0.1, 0.1, 20, 0.1], np.float64)
    level = neighbour_level(s, still=0.5, per_side=2, reach=12)
    assert level[5] == pytest.approx(20.0)  # its neighbours are the other changes, not the repeats


def test_cuts_on_the_exact_frame():
    x, luma, diffs, cuts = sequence([60, 40, 90, 30, 75])
    found = AdaptiveDetector().fit_predict(x, SPS, luma, diffs)
    assert [b.index for b in found] == cuts and all(b.kind == "cut" for b in found)


def test_same_palette_cut_is_found_from_the_difference_alone():
    x, luma, diffs, _ = sequence([160])
    x[:] = x[0]  # two shots that embed alike (same palette)
    diffs[50] = 30.0
    assert [b.index for b in AdaptiveDetector().fit_predict(x, SPS, luma, diffs)] == [50]
    assert AdaptiveDetector().fit_predict(x, SPS, luma, None) == []  # the embeddings alone cannot see it


def test_short_shots_are_kept():
    x, luma, diffs, cuts = sequence([50, 3, 5, 50])
    assert [b.index for b in AdaptiveDetector().fit_predict(x, SPS, luma, diffs)] == cuts == [50, 53, 58]


def test_min_scene_len_merges_shorter_shots():
    x, luma, diffs, _ = sequence([50, 3, 50])
    assert len(AdaptiveDetector(min_scene_len=0.5).fit_predict(x, SPS, luma, diffs)) == 1


@pytest.mark.parametrize("length", [1, 2, 4])
def test_flash_that_returns_is_not_a_boundary(length):
    x, luma, diffs, cuts = sequence([80, 80])
    a = 30
    x[a : a + length] = unit(x[a : a + length] + 2 * np.ones_like(x[a : a + length]))  # white frames
    luma[a : a + length] = 235
    diffs[a], diffs[a + length] = 60.0, 60.0
    assert [b.index for b in AdaptiveDetector().fit_predict(x, SPS, luma, diffs)] == cuts


def test_repeated_frame_material_gives_no_cuts_but_a_real_cut_still_counts():
    x, luma, _, _ = sequence([100, 100])
    diffs = np.full(len(x), 0.1, np.float32)
    diffs[::4] = 18.0  # a new picture every 4th frame (6 fps material at 25 fps)
    diffs[0] = 0
    diffs[100] = 90.0
    assert [b.index for b in AdaptiveDetector().fit_predict(x, SPS, luma, diffs)] == [100]


def test_busy_motion_is_not_a_cut():
    x, luma, diffs, _ = sequence([200], motion=(10.0, 30.0))
    assert AdaptiveDetector().fit_predict(x, SPS, luma, diffs) == []


def test_dissolve_is_one_gradual_boundary():
    x, luma, diffs, _ = sequence([70, 70])
    diffs[70] = diffs[69]  # no spike: the change is spread
    ramp = np.linspace(0, 1, 22)[:, None]
    x[59:81] = unit(x[0] * (1 - ramp) + x[-1] * ramp)
    diffs[59:81] = 6.0
    found = AdaptiveDetector().fit_predict(x, SPS, luma, diffs)
    assert len(found) == 1 and found[0].kind == "dissolve" and 59 <= found[0].index <= 81


def test_without_differences_embedding_steps_stand_in():
    x, luma, _, cuts = sequence([60, 40, 90])
    assert [b.index for b in AdaptiveDetector().fit_predict(x, SPS, luma)] == cuts


def test_registry_default_and_options():
    assert isinstance(create_detector(), AdaptiveDetector)
    assert detector_options("adaptive", penalty=None, min_scene_len=0.3) == {"min_scene_len": 0.3}
    with pytest.raises(UsageError, match="--penalty and --min-scene-len do not apply to the transnetv2 detector"):
        detector_options("transnetv2", penalty=1.0, min_scene_len=0.3)  # said, never silently dropped
    with pytest.raises(UsageError):
        AdaptiveDetector(ratio=1.0)
    with pytest.raises(UsageError):
        AdaptiveDetector(min_scene_len=-1)
    assert AdaptiveDetector().fit_predict(np.zeros((1, 4), np.float32), SPS) == []


def test_a_dissolve_into_a_short_shot_keeps_the_cut_out_of_it():
    """A dissolve A->B, B held for 1.4 s (shorter than the kernel's longest transition) and
    drifting (a zoom), then a cut to C: the kernel alone joins the two changes into one long
    "dissolve" placed between them; the detector must report the dissolve where it is and the cut."""
    rng = np.random.default_rng(3)
    a, b, drift, c = (unit(rng.normal(size=(1, 32)))[0] for _ in range(4))
    frames = [a] * 40
    frames += [unit(((1 - t) * a + t * b)[None])[0] for t in np.linspace(0.1, 0.9, 10)]  # the dissolve: frames 40-49
    frames += [unit(((1 - s) * b + s * 0.3 * drift)[None])[0] for s in np.linspace(0, 1, 35)]  # b from 50, zooming
    frames += [c] * 40  # the cut to c at frame 85
    x = unit(np.array(frames) + rng.normal(scale=0.002, size=(len(frames), 32))).astype(np.float32)
    diffs = rng.uniform(1.0, 2.0, size=len(x)).astype(np.float32)
    diffs[40:50] = 18.0
    diffs[85] = 150.0
    diffs[0] = 0
    found = AdaptiveDetector().fit(x, SPS, np.full(len(x), 110.0, np.float32), diffs).predict()
    assert [b.kind for b in found] == ["dissolve", "cut"], found
    assert abs(found[0].index - 45) <= 3 and found[1].index == 85
