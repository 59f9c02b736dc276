"""End to end: `detect_scenes` on generated videos with exact ground truth."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pandas as pd
import pytest

import vidscan
from vidscan.evaluate import match_boundaries
from vidscan.timeline import Timeline, schema


@pytest.fixture(scope="module")
def timeline(shots_video) -> Timeline:
    path, _ = shots_video
    return vidscan.detect_scenes(path)


def test_hard_cuts_land_on_the_right_frame(timeline, shots_video):
    _, truth = shots_video
    starts = [s.start_frame for s in timeline.segments[1:]]
    for b in truth.boundaries:
        if b.kind == "cut":
            assert min(abs(s - b.start) for s in starts) <= 1, f"cut at {b.start} not found in {starts}"


def test_gradual_transitions_found_inside_their_span(timeline, shots_video):
    _, truth = shots_video
    starts = [s.start_frame for s in timeline.segments[1:]]
    for b in truth.boundaries:
        if b.kind != "cut":
            assert any(b.start - 2 <= s <= b.end + 2 for s in starts), f"{b.kind} {b.start}-{b.end} missed: {starts}"


def test_no_boundary_from_flash_pan_or_motion(timeline, shots_video):
    _, truth = shots_video
    score = match_boundaries([s.start_frame for s in timeline.segments[1:]], [(b.start, b.end) for b in truth.boundaries])
    assert score.fp == 0 and score.fn == 0, score


def test_timeline_covers_the_video(timeline, shots_video):
    _, truth = shots_video
    segs = timeline.segments
    assert segs[0].start_frame == 0 and segs[0].start_s == 0
    assert segs[-1].end_frame == truth.frame_count
    assert segs[-1].end_s == pytest.approx(truth.frame_count / truth.fps)
    for a, b in zip(segs, segs[1:]):
        assert a.end_frame == b.start_frame and a.end_s == b.start_s
        assert b.start_s == pytest.approx(b.start_frame / truth.fps)
    assert timeline.video.frame_count == truth.frame_count and timeline.video.frame_count_exact


def test_csv_and_json_read_back(timeline, tmp_path):
    timeline.to_csv(tmp_path / "t.csv")
    timeline.to_json(tmp_path / "t.json")
    df = pd.read_csv(tmp_path / "t.csv")
    pd.testing.assert_frame_equal(df, timeline.to_dataframe(), check_dtype=False)
    assert df["start_frame"].dtype == np.int64
    assert (df["duration_s"].sum()) == pytest.approx(timeline.duration_s)
    raw = json.loads((tmp_path / "t.json").read_text())
    jsonschema.validate(raw, schema())
    assert raw["settings"]["detector"]["detector"] == "adaptive" and raw["vidscan_version"] == vidscan.__version__
    back = Timeline.from_json(tmp_path / "t.json")
    assert [(s.start_frame, s.end_frame, s.transition) for s in back.segments] == [
        (s.start_frame, s.end_frame, s.transition) for s in timeline.segments
    ]


def test_sampled_run_keeps_boundaries_near(shots_video):
    path, truth = shots_video
    tl = vidscan.detect_scenes(path, sampling="every:2")
    starts = [s.start_frame for s in tl.segments[1:]]
    score = match_boundaries(starts, [(b.start, b.end) for b in truth.boundaries], tolerance=2)
    assert score.f1 >= 0.9, score


def test_clip_random_weights_run_end_to_end(shots_video, tiny_clip_model):
    path, _ = shots_video
    emb = vidscan.create_embedder("clip", model=tiny_clip_model, pretrained=None, device="cpu")
    tl = vidscan.detect_scenes(path, embedder=emb, sampling="fps:4")
    assert tl.segments[-1].end_frame > 0 and tl.settings["embedder"]["name"] == "clip"
    assert tl.stats["samples"] == pytest.approx(tl.duration_s * 4, abs=2)


@pytest.fixture(scope="module", params=["closed", "open"])
def fixed_gop_video(request, media):
    """Broadcast-style files: a fixed 1 s GOP, no keyframes at cuts; closed GOPs (x264's
    default) or open ones, whose leading B-frames are shown before their keyframe."""
    from vidscan.synth import Event, Program, Shot, Transition, render

    shots = [Shot("studio", 110, 1), Shot("bars", 90, 2, events=[Event("flash", 40, 2)]), Shot("studio", 120, 3),
             Shot("gradients", 100, 4), Shot("ad", 95, 5)]
    path = media / f"gop25-{request.param}.mp4"
    extra = ["-x264-params", "open-gop=1"] if request.param == "open" else None
    truth = render(Program(shots, [Transition("cut"), Transition("dissolve", 14), Transition("cut"), Transition("fadeblack", 16)], 192, 108),
                   path, gop=25, extra_args=extra)
    return request.param, path, truth


def test_coarse_to_fine_matches_full_decode_on_fixed_gop(fixed_gop_video):
    """Keyframes first, every frame only where they differ; boundaries land on the same
    frames as after a full decode."""
    _, path, truth = fixed_gop_video
    full = vidscan.detect_scenes(path)
    coarse = vidscan.detect_scenes(path, decode="coarse")
    assert [s.start_frame for s in coarse.segments] == [s.start_frame for s in full.segments]
    assert coarse.video.frame_count == full.video.frame_count == truth.frame_count
    assert coarse.stats["coarse"]["full_rate_fraction"] < 0.8
    score = match_boundaries([s.start_frame for s in coarse.segments[1:]], [(b.start, b.end) for b in truth.boundaries])
    assert score.fp == 0 and score.fn == 0, score


@pytest.mark.parametrize("workers", [1, 3])
def test_coarse_pieces_decode_exactly_the_frames_a_full_decode_gives(fixed_gop_video, workers):
    """Every frame the fine pass decodes (open GOPs' leading frames included) embeds exactly
    as in a full decode, whatever the number of decoder threads."""
    import threading

    from vidscan.video.coarse import FrameEmbedder, embed_coarse_to_fine, keyframe_pass

    kind, path, _ = fixed_gop_video
    emb = vidscan.create_embedder("features")
    full = vidscan.detect_scenes(path, keep_embeddings=True).embedded
    video, stats = embed_coarse_to_fine(path, emb, workers=workers)
    index, _, key_emb, _, _ = keyframe_pass(str(path), emb.frame_size(192, 108), 0, FrameEmbedder(emb, threading.Lock()), workers=2)
    assert key_emb.shape == (len(index.key_pts), emb.dim)
    assert bool(index.open_keys) == (kind == "open")
    mask = stats.decoded
    assert 0.2 * len(mask) < mask.sum() < len(mask)
    np.testing.assert_allclose(video.embeddings[mask], full.embeddings[mask], atol=1e-6)
    # Frame differences wherever a frame and the one before it were decoded, keyframes that
    # close a piece decoded to its end included (their picture comes from the next piece or
    # from decoding the keyframe once more): what a full decode measures.
    both = np.flatnonzero(mask[1:] & mask[:-1]) + 1
    keys = np.array([index.index_of(int(k)) for k in index.key_pts])
    assert np.isin(keys, both).any()
    np.testing.assert_allclose(video.diffs[both], full.diffs[both], atol=1e-4)
    leading = [index.index_of(int(k)) - 1 for k in index.open_keys]
    assert kind == "closed" or mask[leading].any()  # some were decoded: the cuts sit near them
