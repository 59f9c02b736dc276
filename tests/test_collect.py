"""collect end to end: one frame per distinct shot, a manifest that parses back, reruns, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from vidscan.cli.main import main
from vidscan.collect import MANIFEST_COLUMNS, DiverseSelector, collect
from vidscan.embed import create_embedder
from vidscan.errors import EXIT_INPUT, EXIT_USAGE, UsageError
from vidscan.extract import embed_video
from vidscan.synth import Program, Shot, Transition, render
from vidscan.video import Sampling, read_frames

FPS = 25
#: Static-looking shots (no cuts inside, little motion) that look unlike each other.
LOOKS = ["bars", "studio", "gradients", "field", "mandelbrot"]
#: Between the weight-free features' similarity within these shots (>= 0.97) and across them (<= 0.5).
THRESHOLD = 0.8


@pytest.fixture(scope="module")
def distinct(tmp_path_factory):
    path = tmp_path_factory.mktemp("collect") / "shots.mp4"
    program = Program([Shot(look, FPS, seed=10 + i) for i, look in enumerate(LOOKS)], [Transition("cut")] * (len(LOOKS) - 1),
                      width=160, height=90, fps=FPS)
    render(program, path)
    return path, [(i * FPS, (i + 1) * FPS) for i in range(len(LOOKS))]


def test_threshold_sits_between_within_and_across_shot_similarity(distinct):
    path, spans = distinct
    video = embed_video(path, create_embedder("features"), Sampling.per_second(5))
    shot = np.searchsorted([s for s, _ in spans], video.indices, side="right") - 1
    sims = video.embeddings @ video.embeddings.T
    same = shot[:, None] == shot[None, :]
    assert sims[same].min() > THRESHOLD + 0.1 and sims[~same].max() < THRESHOLD - 0.1


def test_keeps_exactly_one_frame_per_distinct_shot(distinct, tmp_path):
    path, spans = distinct
    result = collect(path, tmp_path / "out", max_similarity=THRESHOLD)
    frames = [k.frame for k in result.kept]
    assert len(frames) == len(LOOKS)
    assert all(a <= f < b for f, (a, b) in zip(frames, spans))  # one in each shot, in time order
    assert result.samples == 5 * len(LOOKS)  # 5 frames/s by default for features

    manifest = pd.read_csv(tmp_path / "out" / "manifest.csv")
    assert list(manifest.columns) == MANIFEST_COLUMNS
    assert manifest["frame"].tolist() == frames
    assert manifest["video"].nunique() == 1 and manifest["video"][0] == str(path.resolve())
    assert np.isnan(manifest["nearest_kept_frame"][0]) and np.isnan(manifest["similarity"][0])
    assert set(manifest["nearest_kept_frame"][1:].astype(int)) <= set(frames)
    assert (manifest["similarity"][1:] < THRESHOLD).all()
    exact, _ = read_frames(str(path), frames)
    for name, frame in zip(manifest["file"], exact):
        with Image.open(tmp_path / "out" / name) as img:
            assert img.format == "JPEG" and img.size == (160, 90)
            assert np.abs(np.asarray(img, np.int16) - frame).mean() < 6  # the exact frame, full size
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted([*manifest["file"], "manifest.csv"])


def test_dissolve_blends_are_not_kept(tmp_path):
    path = tmp_path / "dissolve.mp4"
    truth = render(Program([Shot("bars", 40, seed=3), Shot("studio", 40, seed=4)], [Transition("dissolve", 20)], width=160, height=90, fps=FPS), path)
    blend = truth.boundaries[0]
    plain = collect(path, tmp_path / "plain", max_similarity=THRESHOLD, hold=0)
    assert any(blend.start <= k.frame < blend.end for k in plain.kept)  # what greedy alone does
    steady = collect(path, tmp_path / "steady", max_similarity=THRESHOLD)
    frames = [k.frame for k in steady.kept]
    assert len(frames) == 2 and frames[0] < blend.start and frames[1] >= blend.end, (frames, blend)


def test_threshold_one_keeps_nearly_everything_and_rerun_replaces_own_rows(distinct, tmp_path):
    path, _ = distinct
    out = tmp_path / "out"
    other = tmp_path / "other.mp4"
    other.write_bytes(path.read_bytes())
    collect(other, out, max_similarity=THRESHOLD)  # a second video collected into the same folder
    many = collect(path, out, max_similarity=1.0)
    assert len(many.kept) > 2 * len(LOOKS)
    assert len(pd.read_csv(out / "manifest.csv")) == len(many.kept) + len(LOOKS)
    few = collect(path, out, max_similarity=THRESHOLD)
    manifest = pd.read_csv(out / "manifest.csv")
    assert manifest.groupby("video").size().to_dict() == {str(other.resolve()): len(LOOKS), str(path.resolve()): len(few.kept)}
    # The images of the first run that the second did not keep are gone; the other video's stay.
    assert sorted(p.name for p in out.glob("*.jpg")) == sorted(manifest["file"])


def test_cli_png_and_clip_plumbing(distinct, tmp_path, tiny_clip_model, capsys):
    path, _ = distinct
    assert main(["collect", str(path), "--out", str(tmp_path / "png"), "--format", "png", "--max-similarity", str(THRESHOLD)]) == 0
    assert "kept 5 of 25 sampled frames" in capsys.readouterr().out
    assert len(list((tmp_path / "png").glob("*.png"))) == len(LOOKS)
    code = main(["collect", str(path), "--out", str(tmp_path / "clip"), "--embedder", "clip", "--model", "tests/data/vidscan-tiny-clip.json",
                 "--pretrained", "none", "--device", "cpu", "--max-similarity", "0.99", "-q"])
    assert code == 0
    manifest = pd.read_csv(tmp_path / "clip" / "manifest.csv")
    assert 1 <= len(manifest) <= 10 and manifest["frame"].is_monotonic_increasing  # 2 frames/s for clip: at most 10 samples


def test_selector_greedy_within_and_across_batches():
    e = np.eye(4, dtype=np.float32)
    sel = DiverseSelector(0.9, 4)
    rows, nearest, sims = sel.offer(np.stack([e[0], e[0], e[1], e[0]]))
    assert rows.tolist() == [0, 2] and nearest.tolist() == [-1, 0] and sims[1] == 0.0
    unit = lambda v: v / np.linalg.norm(v)  # noqa: E731
    near_e1 = unit(e[1] + 0.2 * e[2])  # cos 0.98 to the kept e1: dropped
    v = unit(e[2] + 0.5 * e[1])  # cos 0.45 to e1: kept, nearest to e1 (kept id 1)
    w = unit(e[2] + 0.1 * e[1])  # cos 0.93 to v, kept earlier in the same batch: dropped
    rows, nearest, _ = sel.offer(np.stack([near_e1, v, w, e[3]]))
    assert rows.tolist() == [1, 3] and nearest[0] == 1
    assert sel.count == 4 and np.allclose(sel.kept, np.stack([e[0], e[1], v, e[3]]))
    with pytest.raises(UsageError):
        DiverseSelector(0.0, 4)


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["{missing}"], EXIT_INPUT, "no such file"),
        (["{video}", "--max-similarity", "0"], EXIT_USAGE, "--max-similarity"),
        (["{video}", "--max-similarity", "1.5"], EXIT_USAGE, "--max-similarity"),
        (["{video}", "--max-similarity", "-0.2"], EXIT_USAGE, "--max-similarity"),
        (["{not_video}"], EXIT_INPUT, "not a readable video"),
    ],
)
def test_bad_input_one_line_and_nothing_written(distinct, tmp_path, capsys, args, code, message):
    path, _ = distinct
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("hello")
    names = {"video": str(path), "missing": str(tmp_path / "nope.mp4"), "not_video": str(not_video)}
    out = tmp_path / "out"
    assert main(["collect", *[x.format(**names) for x in args], "--out", str(out)]) == code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not (out / "manifest.csv").exists()


def test_selector_grows_past_its_first_block():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    sel = DiverseSelector(1.0, 16)
    kept = np.concatenate([sel.offer(x[i : i + 70])[0] + i for i in range(0, 300, 70)])
    assert kept.tolist() == list(range(300)) and np.array_equal(sel.kept, x)
