"""`vidscan bench`: each method in its own process, stages, F1 against the truth file."""

from __future__ import annotations

import json

import pytest

from vidscan.cli.main import main


@pytest.fixture(scope="module")
def gop_video(tmp_path_factory):
    from vidscan.synth import Program, Shot, Transition, render

    d = tmp_path_factory.mktemp("bench")
    path = d / "bench.mp4"
    program = Program([Shot("studio", 60, 1), Shot("field", 70, 2), Shot("ad", 50, 3), Shot("crowd", 60, 4)],
                      [Transition("cut"), Transition("dissolve", 12), Transition("cut")], 160, 90)
    render(program, path, gop=25, truth_path=path.with_suffix(".truth.json"))
    return path


def test_bench_times_each_method_and_scores_it_against_the_truth(gop_video, tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = main(["bench", str(gop_video.parent), "--methods", "scenes,scenes-full,scenes-coarse,ffmpeg-all,ffmpeg-keyframes", "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    truth = json.loads(gop_video.with_suffix(".truth.json").read_text())
    rows = {r["method"]: r for r in report["results"]}
    assert set(rows) == {"scenes", "scenes-full", "scenes-coarse", "ffmpeg-all", "ffmpeg-keyframes"}
    for row in rows.values():
        assert "error" not in row, row
        assert row["frames"] == truth["frame_count"] and row["duration_s"] == pytest.approx(truth["frame_count"] / 25, abs=0.05)
        assert row["x_realtime"] > 0 and row["peak_rss_mb"] > 0 and row["cpu_s"] > 0
        assert row["process_wall_s"] > 0 and row["repeats"] == 1
    for method in ("scenes", "scenes-full", "scenes-coarse"):
        assert rows[method]["f1"] == 1.0 and rows[method]["stages_s"]["decode_s"] > 0
    coarse = rows["scenes-coarse"]
    assert coarse["decode"] == "coarse" and 0 < coarse["decoded_share"] < 1 and 0 < coarse["full_rate_fraction"] < 1
    assert coarse["stages_s"]["keyframes_s"] > 0 and coarse["stages_s"]["fine_s"] > 0
    auto = rows["scenes"]  # the default decode: a fixed 1 s GOP, but 160x90 frames, so every frame
    assert auto["decode"] == "full" and auto["decoded_share"] == 1.0
    assert rows["scenes-full"]["decode"] == "full" and rows["scenes-full"]["decoded_share"] == 1.0
    # the decode limits: a keyframe every 25 frames
    assert rows["ffmpeg-all"]["decoded_share"] == 1.0
    keyframes = -(-truth["frame_count"] // 25)
    assert rows["ffmpeg-keyframes"]["decoded_share"] == pytest.approx(keyframes / truth["frame_count"])
    printed = capsys.readouterr().out
    assert "vidscan bench" in printed and f"per-stage times, memory and frames decoded: {out}" in " ".join(printed.split())
    assert max(len(line) for line in printed.splitlines()) <= 100


def test_a_peer_that_is_not_installed_is_a_row_saying_what_to_install(gop_video, tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "scenedetect" else real(name, *a))
    out = tmp_path / "bench.json"
    code = main(["bench", str(gop_video), "--methods", "scenes,pyscenedetect", "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "pyscenedetect: not installed: pip install 'vidscan[bench]'" in printed and "Error" not in printed
    assert max(len(line) for line in printed.splitlines()) <= 100
    assert json.loads(out.read_text())["not_installed"] == {"pyscenedetect": "pip install 'vidscan[bench]'"}


def test_bench_rejects_an_unknown_method(gop_video, capsys):
    assert main(["bench", str(gop_video), "--methods", "scenes,fastest"]) == 2
    assert "unknown method(s) fastest" in capsys.readouterr().err


def test_repeated_runs_take_turns_and_keep_medians(gop_video, monkeypatch):
    import vidscan.bench as bench

    calls = []

    def fake_run(method, path, device="auto"):
        calls.append(method)
        wall = {"scenes": [3.0, 1.0, 2.0], "pyscenedetect": [6.0, 4.0, 5.0]}[method][sum(m == method for m in calls) - 1]
        return {"method": method, "file": gop_video.name, "wall_s": wall, "process_wall_s": wall, "cpu_s": wall * 2,
                "duration_s": 10.0, "frames": 250}

    monkeypatch.setattr(bench, "run_isolated", fake_run)
    report = bench.benchmark([gop_video], ["scenes", "pyscenedetect"], repeat=3, log=lambda m: None)
    assert calls == ["scenes", "pyscenedetect"] * 3  # interleaved, not all of one method first
    rows = {r["method"]: r for r in report["results"]}
    assert (rows["scenes"]["process_wall_s"], rows["scenes"]["cpu_s"], rows["scenes"]["repeats"]) == (2.0, 4.0, 3)
    assert rows["scenes"]["x_realtime"] == 5.0
    assert report["speed_vs_pyscenedetect"][f"{gop_video.name}:scenes"] == 2.5
