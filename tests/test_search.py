"""search end to end: image queries find their shot, near-duplicate suppression, CLIP text plumbing,
folders, the cache, outputs that parse back, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import vidscan

from vidscan.cache import EmbeddingCache
from vidscan.cli.main import main
from vidscan.errors import EXIT_INPUT, EXIT_USAGE, InputError, UsageError
from vidscan.search import pick_peaks, search
from vidscan.synth import Program, Shot, Transition, render
from vidscan.video import read_frames

FPS = 25
LOOKS_A = ["bars", "studio", "gradients", "field", "mandelbrot", "ad"]
LOOKS_B = ["testsrc", "sierpinski", "cells"]


def shots_video(path, looks, seed0):
    """Visually distinct 1 s shots, 160x90, cut together; returns the (start, end) frames of each shot."""
    program = Program([Shot(look, FPS, seed=seed0 + i) for i, look in enumerate(looks)], [Transition("cut")] * (len(looks) - 1),
                      width=160, height=90, fps=FPS)
    render(program, path)
    return [(i * FPS, (i + 1) * FPS) for i in range(len(looks))]


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("search")
    a = folder / "a.mp4"
    (folder / "sub").mkdir()
    b = folder / "sub" / "b.mp4"
    (folder / "notes.txt").write_text("not a video")
    return folder, (a, shots_video(a, LOOKS_A, 1)), (b, shots_video(b, LOOKS_B, 50))


def query_image(video, frame, folder) -> str:
    """One exact frame of ``video`` saved as a PNG: the test controls what the query shows."""
    rgb, _ = read_frames(str(video), [frame])
    path = folder / f"query_{frame}.png"
    Image.fromarray(rgb[0]).save(path)
    return str(path)


@pytest.mark.parametrize("shot", [0, 3, 5])
def test_image_query_finds_its_shot(videos, tmp_path, shot):
    _, (a, spans), _ = videos
    start, end = spans[shot]
    result = search(a, image=query_image(a, start + 12, tmp_path), embedder="features", top=3)
    assert start <= result.hits[0].frame < end
    assert result.hits[0].score > 0.95 > result.hits[1].score  # the other shots really look different
    assert [h.rank for h in result.hits] == [1, 2, 3]
    assert result.settings["sampling"] == "all"  # features: every frame, as scenes/classify (shared cache)


def test_min_gap_suppresses_neighbouring_frames(videos, tmp_path):
    _, (a, spans), _ = videos
    image = query_image(a, spans[2][0] + 5, tmp_path)
    crowded = search(a, image=image, embedder="features", top=5, min_gap=0)
    assert all(spans[2][0] <= h.frame < spans[2][1] for h in crowded.hits)  # five frames of one shot: why the gap exists
    spread = search(a, image=image, embedder="features", top=20, min_gap=0.7)
    times = sorted(h.time_s for h in spread.hits)
    assert np.diff(times).min() >= 0.7 - 1e-9
    assert 5 <= len(spread.hits) <= 9  # 6 s of video hold at most 9 hits 0.7 s apart, greedy picks at least 5
    assert spans[2][0] <= spread.hits[0].frame < spans[2][1]


def test_pick_peaks_greedy_nms():
    times = np.arange(10) * 0.5
    scores = np.array([0.1, 0.9, 0.85, 0.2, 0.3, 0.8, 0.1, 0.7, 0.95, 0.0])
    assert pick_peaks(times, scores, 10, 0).tolist()[:3] == [8, 1, 2]
    assert pick_peaks(times, scores, 10, 1.0).tolist() == [8, 1, 5, 3]  # 2 and 7 are < 1 s from a better hit
    assert pick_peaks(times, scores, 2, 1.0).tolist() == [8, 1]


def test_text_search_plumbing_with_tiny_clip(videos, tiny_clip_model, tmp_path):
    import vidscan

    folder, (a, _), _ = videos
    emb = vidscan.create_embedder("clip", model=tiny_clip_model, pretrained=None, device="cpu")
    result = search(a, "goal celebration", embedder=emb, top=4, min_gap=0.5)
    assert [h.rank for h in result.hits] == [1, 2, 3, 4]
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True) and all(-1 <= s <= 1 for s in scores)
    assert all(0 <= h.frame < len(LOOKS_A) * FPS for h in result.hits)
    assert result.settings["sampling"] == "fps:2" and result.settings["prompts"] == ["{}", "a photo of {}."]
    # The same through the CLI, written as JSON that pandas reads back.
    out = tmp_path / "hits.json"
    code = main(["search", "goal celebration", str(a), "--model", "tests/data/vidscan-tiny-clip.json", "--pretrained", "none",
                 "--device", "cpu", "--top", "4", "--min-gap", "0.5", "--no-cache", "-q", "-o", str(out)])
    assert code == 0
    raw = json.loads(out.read_text())
    hits = pd.DataFrame(raw["hits"])
    assert list(hits["rank"]) == [1, 2, 3, 4] and raw["settings"]["query"] == "goal celebration"
    assert list(hits.columns) == ["rank", "file", "frame", "time_s", "timecode", "score"]


def test_folder_search_ranks_across_files(videos, tmp_path):
    folder, (a, spans_a), (b, spans_b) = videos
    result = search(folder, image=query_image(b, spans_b[1][0] + 10, tmp_path), embedder="features", top=8)
    assert result.hits[0].file == str(b) and spans_b[1][0] <= result.hits[0].frame < spans_b[1][1]
    assert {h.file for h in result.hits} == {str(a), str(b)}  # ranked across both files (notes.txt ignored)
    assert result.stats["videos"] == 2
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)


def test_search_after_scenes_does_not_decode_again(videos, tmp_path):
    _, (a, spans), _ = videos
    image = np.asarray(Image.open(query_image(a, 30, tmp_path)))
    cache = EmbeddingCache(tmp_path / "cache")
    vidscan.detect_scenes(a, cache=cache)
    hits, misses = cache.hits, cache.misses
    result = search(a, image=image, embedder="features", cache=cache)
    assert result.stats["videos_from_cache"] == 1
    assert (cache.hits, cache.misses) == (hits + 1, misses)
    assert spans[1][0] <= result.hits[0].frame < spans[1][1]


def test_cli_outputs_parse_back_and_thumbnails_are_exact(videos, tmp_path):
    _, (a, spans), _ = videos
    image = query_image(a, spans[4][0] + 3, tmp_path)
    args = ["search", str(a), "--image", image, "--embedder", "features", "--top", "3", "--cache-dir", str(tmp_path / "c"), "-q"]
    assert main(args + ["-o", str(tmp_path / "hits.csv"), "--thumbnails", str(tmp_path / "thumbs")]) == 0
    hits = pd.read_csv(tmp_path / "hits.csv")
    assert list(hits.columns) == ["rank", "file", "frame", "time_s", "timecode", "score", "thumbnail"]
    assert len(hits) == 3 and spans[4][0] <= hits["frame"][0] < spans[4][1]
    assert hits["timecode"][0] == f"00:00:0{hits['time_s'][0]:.3f}"
    exact, _ = read_frames(str(a), [int(hits["frame"][0])])
    with Image.open(hits["thumbnail"][0]) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (160, 90)
        assert np.abs(np.asarray(thumb, np.int16) - exact[0]).mean() < 6  # the hit's own frame, JPEG-compressed
    assert len(list((tmp_path / "thumbs").iterdir())) == 3


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["goal", "{missing}"], EXIT_INPUT, "no such file"),
        (["   ", "{video}"], EXIT_USAGE, "query is empty"),
        (["{video}", "--image", "{bad_image}", "--embedder", "features"], EXIT_INPUT, "image cannot be read"),
        (["{video}", "--image", "{missing}", "--embedder", "features"], EXIT_INPUT, "no such image file"),
        (["goal", "{video}", "--embedder", "features"], EXIT_USAGE, "no text tower"),
        (["goal", "{video}", "--image", "{bad_image}"], EXIT_USAGE, "not both"),
        (["{video}"], EXIT_USAGE, "nothing to search for"),
        (["goal", "{empty_dir}"], EXIT_INPUT, "no videos in this folder"),
        (["{video}", "--image", "{bad_image}", "--top", "0"], EXIT_USAGE, "--top"),
    ],
)
def test_bad_input_one_line_and_exit_code(videos, tmp_path, capsys, args, code, message):
    _, (a, _), _ = videos
    (tmp_path / "empty").mkdir()
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 not a jpeg")
    names = {"video": str(a), "missing": str(tmp_path / "nope.mp4"), "bad_image": str(bad), "empty_dir": str(tmp_path / "empty")}
    out = tmp_path / "hits.csv"
    assert main(["search", *[x.format(**names) for x in args], "-o", str(out), "-q"]) == code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not out.exists()


def test_library_rejects_bad_arguments(videos):
    _, (a, _), _ = videos
    with pytest.raises(UsageError, match="not both"):
        search(a, "x", image=np.zeros((9, 16, 3), np.uint8), embedder="features")
    with pytest.raises(UsageError, match="min_gap"):
        search(a, image=np.zeros((9, 16, 3), np.uint8), embedder="features", min_gap=-1)
    with pytest.raises(InputError, match="no such file"):
        search(a.parent / "missing.mp4", image=np.zeros((9, 16, 3), np.uint8), embedder="features")


def test_folder_with_an_unreadable_video_searches_the_rest_and_exits_1(videos, tmp_path, capsys):
    _, (a, spans), _ = videos
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.mp4").write_bytes(a.read_bytes())
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    image = query_image(a, spans[0][0] + 3, tmp_path)
    code = main(["search", str(folder), "--image", image, "--embedder", "features", "--no-cache", "-o", str(tmp_path / "hits.csv")])
    assert code == 1
    err = capsys.readouterr().err
    assert "warning: skipped" in err and "broken.mp4" in err
    hits = pd.read_csv(tmp_path / "hits.csv")
    assert set(hits["file"]) == {str(folder / "good.mp4")} and hits["frame"][0] < spans[0][1]
