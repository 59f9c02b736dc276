"""classify end to end: few-shot on a synthetic broadcast, CLIP plumbing, the cache, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import vidscan

from vidscan.cache import EmbeddingCache
from vidscan.classification import classify
from vidscan.cli.main import main
from vidscan.errors import EXIT_INPUT, EXIT_USAGE, InputError, UsageError
from vidscan.options import DecodeSpec, LabellingSpec


def labelled_share(timeline, truth) -> float:
    """Share of the video's frames whose predicted label equals the true one."""
    predicted = np.empty(truth.frame_count, object)
    for seg in timeline.segments:
        predicted[seg.start_frame : seg.end_frame] = seg.label
    right = sum(int((predicted[a:b] == label).sum()) for label, a, b in truth.labels)
    return right / truth.frame_count


@pytest.fixture(scope="module")
def few_shot(broadcast, tmp_path_factory):
    path, truth, examples = broadcast
    cache = EmbeddingCache(tmp_path_factory.mktemp("cache"))
    return classify(path, examples=examples, cache=cache, level="shot"), cache


def test_few_shot_weight_free_labels_the_broadcast(few_shot, broadcast):
    result, _ = few_shot
    _, truth, _ = broadcast
    assert result.timeline.settings["classify"]["mode"] == "few-shot"
    assert result.timeline.settings["classify"]["label_embedder"]["name"] == "features"
    assert labelled_share(result.timeline, truth) >= 0.95
    totals = result.totals.set_index("label")["seconds"]
    for label, seconds in truth.label_seconds().items():
        assert abs(totals.get(label, 0.0) - seconds) <= 2.0, (label, totals.to_dict(), truth.label_seconds())


def test_scene_level_gives_one_row_per_programme_block(broadcast):
    path, truth, examples = broadcast
    result = classify(path, examples=examples)  # level="scene" is the default
    scenes = result.timeline.segments
    assert result.timeline.level == "scene" and all(s.level == "scene" and s.children >= 1 for s in scenes)
    assert abs(len(scenes) - len(truth.labels)) <= 2
    assert labelled_share(result.timeline, truth) >= 0.93
    shots = result.timeline.alternate
    assert len(shots) > len(scenes) and all(s.parent is not None for s in shots)
    # Every shot lies inside its scene, and scenes are contiguous and cover the video.
    for shot in shots:
        scene = scenes[shot.parent]
        assert scene.start_frame <= shot.start_frame and shot.end_frame <= scene.end_frame
    assert scenes[0].start_frame == 0 and scenes[-1].end_frame == truth.frame_count
    assert all(a.end_frame == b.start_frame for a, b in zip(scenes, scenes[1:]))


def test_per_frame_mode_is_smooth_and_right(broadcast):
    path, truth, examples = broadcast
    result = classify(path, examples=examples, sampling="fps:5", labelling=LabellingSpec(per_frame=True, smooth=2.0))
    segs = result.timeline.segments
    assert all(s.transition in ("start", "label") for s in segs)
    assert labelled_share(result.timeline, truth) >= 0.9
    assert len(segs) <= 2 * len(truth.labels)  # no flicker


def test_merge_gives_one_row_per_block(broadcast):
    path, truth, examples = broadcast
    merged = classify(path, examples=examples, labelling=LabellingSpec(merge=True), level="shot").timeline
    labels = [s.label for s in merged.segments]
    assert all(a != b for a, b in zip(labels, labels[1:]))


def test_classify_after_scenes_does_not_decode_again(broadcast, tmp_path):
    path, _, examples = broadcast
    cache = EmbeddingCache(tmp_path)
    vidscan.detect_scenes(path, cache=cache)
    hits, misses = cache.hits, cache.misses
    result = classify(path, examples=examples, cache=cache)
    assert result.timeline.stats["from_cache"]
    assert (cache.hits, cache.misses) == (hits + 1, misses)  # every request answered by the cache


def test_damaged_cache_entry_is_recomputed(broadcast, tmp_path):
    path, _, _ = broadcast
    cache = EmbeddingCache(tmp_path)
    first = vidscan.detect_scenes(path, cache=cache)
    entries = list(tmp_path.rglob("*.npz"))
    assert len(entries) == 1
    data = bytearray(entries[0].read_bytes())
    data[len(data) // 2] ^= 0xFF  # flip a byte in the middle
    entries[0].write_bytes(bytes(data))
    again = vidscan.detect_scenes(path, cache=cache)
    assert cache.rejected == 1 and not again.stats["from_cache"]
    assert [s.start_frame for s in again.segments] == [s.start_frame for s in first.segments]
    assert vidscan.detect_scenes(path, cache=cache).stats["from_cache"]


def test_clip_zero_shot_plumbing(shots_video, tiny_clip_model):
    import vidscan

    path, _ = shots_video
    emb = vidscan.create_embedder("clip", model=tiny_clip_model, pretrained=None, device="cpu")
    result = classify(path, "ad,game,commentary", embedder=emb, sampling="fps:2")
    seg = result.timeline.segments[0]
    assert set(seg.probabilities) == {"ad", "game", "commentary"}
    assert sum(seg.probabilities.values()) == pytest.approx(1.0)
    assert result.timeline.settings["classify"]["mode"] == "zero-shot"
    prompts = result.timeline.settings["classify"]["labels"]["ad"]["prompts"]
    assert len(prompts) >= 3 and "advertisement" in prompts[0]
    # Boundaries still come from the exact every-frame detector, labels from CLIP at 2/s.
    assert result.timeline.settings["sampling"] == "all" and result.timeline.settings["classify"]["label_sampling"] == "fps:2"


def test_zero_shot_with_weight_free_embedder_says_what_to_do(shots_video):
    path, _ = shots_video
    with pytest.raises(UsageError, match="--examples DIR, or use a CLIP model"):
        classify(path, "ad,game", embedder="features")


def test_examples_folder_problems(shots_video, tmp_path):
    path, _ = shots_video
    (tmp_path / "ad").mkdir()
    (tmp_path / "game").mkdir()
    with pytest.raises(InputError, match="no example images"):
        classify(path, examples=tmp_path)
    (tmp_path / "ad" / "a.png").write_bytes(b"not really a png")
    (tmp_path / "game" / "g.jpg").write_bytes(b"\xff\xd8 nope")
    with pytest.raises(InputError, match="cannot be read"):
        classify(path, examples=tmp_path)
    with pytest.raises(InputError, match="at least two"):
        classify(path, examples=tmp_path / "ad")


def test_cli_classify_writes_timeline_and_totals(capsys, broadcast, tmp_path):
    path, truth, examples = broadcast
    out = tmp_path / "labels.csv"
    code = main(["classify", str(path), "--examples", str(examples), "-o", str(out), "--merge", "--cache-dir", str(tmp_path / "c")])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    df = pd.read_csv(out)
    assert {"label", "confidence", "runner_up", "p_ad", "p_game", "p_commentary"} <= set(df.columns)
    totals = pd.read_csv(tmp_path / "labels.totals.csv")
    assert list(totals.columns) == ["label", "seconds", "share", "segments", "longest_s"]
    assert totals["seconds"].sum() == pytest.approx(truth.duration_s, abs=0.05)
    assert not (tmp_path / "labels.totals.json").exists()  # the totals follow the timeline's format
    assert "time per label" in stdout


@pytest.mark.parametrize(
    "args,code,message",
    [
        (["--labels", "ad,,game"], EXIT_USAGE, "empty label"),
        (["--labels", "ad,game,ad"], EXIT_USAGE, "duplicate"),
        (["--labels", "ad,game", "--embedder", "features"], EXIT_USAGE, "no text tower"),
        (["--labels", "ad,game", "--min-confidence", "2"], EXIT_USAGE, "min-confidence"),
        ([], EXIT_USAGE, "say what to look for"),
        (["--examples", "/no/such/dir"], EXIT_INPUT, "examples folder not found"),
    ],
)
def test_cli_classify_bad_input(capsys, shots_video, tmp_path, args, code, message):
    path, _ = shots_video
    out = tmp_path / "x.csv"
    got = main(["classify", str(path), "-o", str(out), *args])
    _, err = capsys.readouterr()
    assert got == code, err
    assert len(err.strip().splitlines()) == 1 and message in err
    assert not out.exists()


def test_cli_config_that_does_not_parse(capsys, shots_video, tmp_path):
    path, _ = shots_video
    cfg = tmp_path / "c.toml"
    cfg.write_text("[labels.ad]\nprompts = [\"x\"\n")
    assert main(["classify", str(path), "--config", str(cfg)]) == EXIT_USAGE
    assert "line" in capsys.readouterr().err


def test_boundaries_from_samples_need_no_every_frame_pass(shots_video, tiny_clip_model):
    import vidscan

    path, _ = shots_video
    emb = vidscan.create_embedder("clip", model=tiny_clip_model, pretrained=None, device="cpu")
    result = classify(path, "ad,game", embedder=emb, sampling="fps:4", labelling=LabellingSpec(boundaries="samples"))
    assert result.timeline.settings["sampling"] == "fps:4"  # the detector ran on the CLIP samples
    assert result.timeline.segments[-1].end_frame == result.timeline.video.frame_count


@pytest.fixture(scope="module")
def gop_broadcast(broadcast, tmp_path_factory):
    """The broadcast re-encoded the way broadcasters do: a fixed 1 s GOP, no keyframes at cuts."""
    from tests.conftest import run_ffmpeg

    path, truth, examples = broadcast
    fixed = tmp_path_factory.mktemp("gop") / "broadcast_gop25.mp4"
    run_ffmpeg("-i", str(path), "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-g", "25", "-keyint_min", "25",
               "-sc_threshold", "0", str(fixed))
    return fixed, truth, examples


def same_cuts(a, b, tolerance: int = 2) -> bool:
    """Same number of segments, each start within ``tolerance`` frames (the surrogate frames of a
    coarse pass can move a change point by a frame either way, mostly inside gradual transitions)."""
    starts_a, starts_b = [s.start_frame for s in a.segments], [s.start_frame for s in b.segments]
    return len(starts_a) == len(starts_b) and all(abs(x - y) <= tolerance for x, y in zip(starts_a, starts_b))


def test_coarse_decoding_labels_like_a_full_decode(gop_broadcast, tmp_path):
    """Few-shot labels on every frame: the coarse-to-fine signal serves both the labels and the
    boundaries, decodes a fraction of the frames, and gives the same shots and labels."""
    path, truth, examples = gop_broadcast
    full = classify(path, examples=examples, level="shot")
    cache = EmbeddingCache(tmp_path / "cache")
    coarse = classify(path, examples=examples, level="shot", decode="coarse", cache=cache)
    assert coarse.timeline.settings["decode"] == "coarse" and full.timeline.settings["decode"] == "full"
    assert coarse.timeline.stats["coarse"]["full_rate_fraction"] < 0.7
    assert same_cuts(coarse.timeline, full.timeline)
    assert [s.label for s in coarse.timeline.segments] == [s.label for s in full.timeline.segments]
    assert labelled_share(coarse.timeline, truth) >= 0.95
    again = classify(path, examples=examples, level="shot", decode="coarse", cache=cache)  # from the cache
    assert again.timeline.stats["from_cache"] and again.timeline.stats["coarse"] == coarse.timeline.stats["coarse"]
    assert [s.start_frame for s in again.timeline.segments] == [s.start_frame for s in coarse.timeline.segments]


def test_coarse_boundary_pass_beside_sparse_clip_samples(gop_broadcast, tiny_clip_model):
    """CLIP at a few samples/s labels; the every-frame boundary pass goes coarse-to-fine and
    finds the same cuts as a full decode."""
    import vidscan

    path, _, _ = gop_broadcast
    emb = vidscan.create_embedder("clip", model=tiny_clip_model, pretrained=None, device="cpu")
    full = classify(path, "ad,game", embedder=emb, sampling="fps:2", level="shot")
    coarse = classify(path, "ad,game", embedder=emb, sampling="fps:2", level="shot", decode="coarse")
    assert coarse.timeline.settings["decode"] == "coarse"
    assert same_cuts(coarse.timeline, full.timeline)
    with pytest.raises(UsageError, match="pyav"):
        classify(path, "ad,game", embedder=emb, sampling="fps:2", decode=DecodeSpec("decord", "coarse"))
