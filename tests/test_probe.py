"""Linear probes: fitting, calibration, the two-file format, train-probe and classify --probe."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import vidscan
from vidscan.cli.main import main
from vidscan.errors import EXIT_INPUT, EXIT_USAGE, InputError, UsageError
from vidscan.labels.probe import LinearProbe, fit_probe, load_probe, probe_paths, save_probe
from vidscan.options import LabellingSpec

from tests.test_classify import labelled_share

EMBEDDER = {"name": "test", "identity": "test-v1", "dim": 16}


def blobs(per_label: int = 30, videos: int = 3, seed: int = 0) -> tuple[np.ndarray, list[str], list[str]]:
    """Three labels, each a cloud around its own direction; each label's frames come from ``videos`` videos."""
    rng = np.random.default_rng(seed)
    centres = np.eye(16)[:3] * 3
    x, y, g = [], [], []
    for k, name in enumerate(["ad", "game", "studio"]):
        x.append(centres[k] + rng.normal(scale=0.6, size=(per_label, 16)))
        y += [name] * per_label
        g += [f"{name}-video{i % videos}" for i in range(per_label)]
    return np.concatenate(x), y, g


def test_probe_learns_labels_and_reports_cross_validated_accuracy():
    x, y, g = blobs()
    probe = fit_probe(x, y, groups=g, embedder=EMBEDDER)
    assert probe.names == ["ad", "game", "studio"]
    assert probe.weights.shape == (3, 16) and probe.bias.shape == (3,)
    report = probe.report
    assert report.grouped_by == "video" and report.folds == 3  # 3 videos per label: 3 folds at most
    assert report.accuracy >= 0.95 and all(v >= 0.9 for v in report.per_label.values())
    assert report.examples == {"ad": 30, "game": 30, "studio": 30}
    test_x, test_y, _ = blobs(seed=1)
    assert np.mean(np.array(probe.predict(test_x)) == np.array(test_y)) >= 0.95


def test_calibration_sharpens_a_probe_that_is_right():
    """Regularised on few examples the raw probabilities are soft; calibrated, a frame the probe
    gets right is confidently right (classify's smoothing weighs evidence by them)."""
    x, y, _ = blobs(per_label=10)
    probe = fit_probe(x, y, embedder=EMBEDDER, c=1.0)
    assert probe.report.scale > 1
    p = np.exp(probe.log_probs(x))
    assert p.max(axis=1).mean() >= 0.9
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_two_labels_give_one_row_each():
    x, y, _ = blobs()
    keep = [i for i, v in enumerate(y) if v != "studio"]
    probe = fit_probe(x[keep], [y[i] for i in keep], embedder=EMBEDDER)
    assert probe.weights.shape == (2, 16)
    assert probe.predict(x[keep]) == [y[i] for i in keep]


def test_without_videos_the_folds_are_not_grouped_and_too_few_examples_are_not_scored():
    x, y, _ = blobs(per_label=6)
    assert fit_probe(x, y, embedder=EMBEDDER).report.grouped_by is None
    single = fit_probe(x[[0, 6, 12]], ["ad", "game", "studio"], embedder=EMBEDDER)
    assert single.report.accuracy is None and single.report.folds == 0


@pytest.mark.parametrize("labels,names,message", [
    (["ad"] * 5 + ["game"] * 5, ["ad", "game", "studio"], "no training examples for label(s) studio"),
    (["ad"] * 5 + ["crowd"] * 5, ["ad", "game"], "not among"),
    (["ad"] * 10, None, "at least two labels"),
])
def test_bad_training_labels_are_one_line_usage_errors(labels, names, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fit_probe(np.random.default_rng(0).normal(size=(10, 4)), labels, names=names, embedder=EMBEDDER)


def test_probe_files_round_trip_without_pickle(tmp_path):
    x, y, g = blobs()
    probe = fit_probe(x, y, groups=g, embedder=EMBEDDER, sampling="every frame")
    weights, meta = save_probe(probe, tmp_path / "p.npz")
    assert (weights, meta) == probe_paths(tmp_path / "p")
    with np.load(weights, allow_pickle=False) as arrays:  # plain arrays: loads with pickle off
        assert set(arrays.files) == {"weights", "bias"}
    described = json.loads(meta.read_text())
    assert described["labels"] == ["ad", "game", "studio"] and described["embedder"]["identity"] == "test-v1"
    assert described["training"]["grouped_by"] == "video"
    for name in ("p.npz", "p.json", "p"):
        loaded = load_probe(tmp_path / name)
        np.testing.assert_allclose(loaded.log_probs(x), probe.log_probs(x))
        assert loaded.report.accuracy == probe.report.accuracy and loaded.sampling == "every frame"


def test_broken_probe_files_are_one_line_input_errors(tmp_path):
    x, y, _ = blobs()
    save_probe(fit_probe(x, y, embedder=EMBEDDER), tmp_path / "p.npz")
    (tmp_path / "q.npz").write_bytes((tmp_path / "p.npz").read_bytes())
    with pytest.raises(InputError, match="probe file missing"):
        load_probe(tmp_path / "q.npz")
    (tmp_path / "q.json").write_text('{"format": "something else"}')
    with pytest.raises(InputError, match="not a vidscan probe"):
        load_probe(tmp_path / "q.npz")
    meta = json.loads((tmp_path / "p.json").read_text())
    meta["labels"] = ["ad", "game"]
    (tmp_path / "q.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="do not match"):
        load_probe(tmp_path / "q.npz")
    (tmp_path / "q.json").write_text((tmp_path / "p.json").read_text())
    (tmp_path / "q.npz").write_bytes(b"not an npz")
    with pytest.raises(InputError, match="weights cannot be read"):
        load_probe(tmp_path / "q.npz")


@pytest.fixture(scope="module")
def trained(broadcast, tmp_path_factory) -> tuple[object, object]:
    """``vidscan train-probe`` on the broadcast's few-shot examples folder."""
    _, _, examples = broadcast
    out = tmp_path_factory.mktemp("probe") / "broadcast.npz"
    assert main(["train-probe", str(examples), "--out", str(out), "--quiet"]) == 0
    return out, examples


def test_classify_with_a_probe_labels_the_broadcast(trained, broadcast, tmp_path):
    path, truth, _ = broadcast
    probe, _ = trained
    result = vidscan.classify(path, probe=probe, labelling=LabellingSpec(per_frame=True))
    settings = result.timeline.settings["classify"]
    assert settings["mode"] == "probe" and settings["probe"]["file"] == str(probe)
    assert settings["label_embedder"]["name"] == "features"
    assert labelled_share(result.timeline, truth) >= 0.95
    totals = result.totals.set_index("label")["seconds"]
    for label, seconds in truth.label_seconds().items():
        assert abs(totals.get(label, 0.0) - seconds) <= 2.0, (label, totals.to_dict(), truth.label_seconds())


def test_cli_train_probe_then_classify(capsys, trained, broadcast, tmp_path):
    path, truth, examples = broadcast
    out = tmp_path / "p.npz"
    assert main(["train-probe", str(examples), "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "cv accuracy" in stdout and "not grouped by video" in stdout and f"wrote {out}" in stdout
    assert main(["classify", str(path), "--probe", str(out), "-o", str(tmp_path / "l.csv"), "--quiet", "--merge"]) == 0
    labels = pd.read_csv(tmp_path / "l.csv")
    assert {"p_ad", "p_game", "p_commentary"} <= set(labels.columns)
    assert set(labels["label"]) == {"ad", "game", "commentary"}


@pytest.mark.parametrize("extra,message", [
    (["--labels", "ad,game"], "a probe brings its own labels"),
    (["--embedder", "clip", "--model", "vidscan-tiny-clip", "--pretrained", "none"], "was trained on features embeddings"),
])
def test_classify_refuses_a_probe_with_other_labels_or_another_embedder(capsys, trained, shots_video, tiny_clip_model, tmp_path, extra, message):
    path, _ = shots_video
    probe, _ = trained
    out = tmp_path / "x.csv"
    assert main(["classify", str(path), "--probe", str(probe), "-o", str(out), *extra]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 + ("RANDOM" in err)
    assert not out.exists()


def test_classify_with_a_missing_probe_says_so(capsys, shots_video, tmp_path):
    path, _ = shots_video
    assert main(["classify", str(path), "--probe", str(tmp_path / "none.npz"), "-o", str(tmp_path / "x.csv")]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "probe file missing" in err and len(err.strip().splitlines()) == 1


def test_train_probe_on_a_manifest_trains_on_train_and_scores_val(trained, tmp_path):
    """A manifest with splits and videos (as `vidscan dataset` writes): folds grouped by
    video, and a held-out accuracy from the val rows."""
    _, examples = trained
    rows = []
    for label_dir in sorted(p for p in examples.iterdir() if p.is_dir()):
        for k, image in enumerate(sorted(label_dir.iterdir())):
            rows.append({"file": str(image.relative_to(examples)), "label": label_dir.name, "split": "val" if k >= 6 else "train",
                         "video": f"{label_dir.name}{k % 3}"})
    pd.DataFrame(rows).to_csv(examples / "manifest.csv", index=False)
    try:
        probe = vidscan.train_probe(examples)
    finally:
        (examples / "manifest.csv").unlink()
    assert probe.report.grouped_by == "video"
    assert sum(probe.report.examples.values()) == 18  # the train rows only
    assert probe.report.held_out["examples"] == 6 and probe.report.held_out["accuracy"] >= 0.8


def test_train_probe_bad_source(capsys, tmp_path):
    assert main(["train-probe", str(tmp_path / "nothing"), "--out", str(tmp_path / "p.npz")]) == EXIT_INPUT
    assert "no such training folder" in capsys.readouterr().err
    (tmp_path / "m.csv").write_text("file,colour\na.png,red\n")
    assert main(["train-probe", str(tmp_path / "m.csv"), "--out", str(tmp_path / "p.npz")]) == EXIT_INPUT
    assert "no label column" in capsys.readouterr().err
    assert not (tmp_path / "p.npz").exists() and not (tmp_path / "p.json").exists()


def test_a_probe_object_can_be_used_directly(broadcast):
    path, truth, examples = broadcast
    probe = vidscan.train_probe(examples)
    assert isinstance(probe, LinearProbe)
    result = vidscan.classify(path, probe=probe, level="shot")
    assert labelled_share(result.timeline, truth) >= 0.9


def test_a_corrected_timeline_trains_a_probe_that_labels_another_video(broadcast, tmp_path, capsys):
    """The distil loop: classify's export, its labels set right by hand (here: from the truth,
    with one stretch left 'unknown'), trains a probe on the video's own frames."""
    from vidscan.synth import render
    from vidscan.synth.corpus import broadcast_program

    path, truth, _ = broadcast
    rows = [{"index": k, "start_frame": a, "end_frame": b, "label": label if k != 1 else "unknown"} for k, (label, a, b) in enumerate(truth.labels)]
    corrected = tmp_path / "corrected.csv"
    pd.DataFrame(rows).to_csv(corrected, index=False)
    out = tmp_path / "p.npz"
    assert main(["train-probe", str(corrected), "--video", str(path), "--out", str(out), "--sample-fps", "2"]) == 0
    stdout = capsys.readouterr().out
    assert "grouped by segment" in stdout
    probe = load_probe(out)
    assert probe.sampling == "fps:2"
    skipped = truth.labels[1]
    assert sum(probe.report.examples.values()) < 2 * truth.duration_s - 2 * (skipped[2] - skipped[1]) / truth.fps + 1
    other = tmp_path / "other.mp4"
    other_truth = render(broadcast_program(seed=31, minutes=0.5), other)
    result = vidscan.classify(other, probe=out, labelling=LabellingSpec(per_frame=True))
    assert labelled_share(result.timeline, other_truth) >= 0.9


def test_timeline_training_input_errors(shots_video, tmp_path, capsys):
    path, _ = shots_video
    bad = tmp_path / "t.csv"
    bad.write_text("start_frame,end_frame\n0,10\n")
    assert main(["train-probe", str(bad), "--video", str(path), "--out", str(tmp_path / "p.npz")]) == EXIT_INPUT
    assert "no label column" in capsys.readouterr().err
    assert main(["train-probe", str(tmp_path), "--out", str(tmp_path / "p.npz"), "--sample-fps", "2"]) == EXIT_USAGE
    assert "--video" in capsys.readouterr().err


def test_batch_labels_an_archive_with_a_probe_and_redoes_it_when_the_probe_changes(trained, broadcast, tmp_path, capsys):
    path, truth, examples = broadcast
    probe, _ = trained
    mine = tmp_path / "p.npz"
    mine.write_bytes(probe.read_bytes())
    mine.with_suffix(".json").write_bytes(probe.with_suffix(".json").read_bytes())
    args = ["batch", str(path), "--out", str(tmp_path / "results"), "--probe", str(mine), "--workers", "1", "--cache-dir", str(tmp_path / "c")]
    assert main(args) == 0
    summary = pd.read_csv(tmp_path / "results" / "summary.csv")
    for label, seconds in truth.label_seconds().items():
        assert abs(summary[f"seconds_{label}"].iloc[0] - seconds) <= 3.0
    capsys.readouterr()
    assert main(args) == 0
    assert "1 already up to date" in capsys.readouterr().err
    assert main(["train-probe", str(examples), "--out", str(mine), "--c", "3", "--quiet"]) == 0
    assert main(args) == 0
    assert "processed 1" in capsys.readouterr().err


def test_train_probe_output_must_be_named_npz(trained, tmp_path, capsys):
    _, examples = trained
    assert main(["train-probe", str(examples), "--out", str(tmp_path / "p.txt")]) == EXIT_USAGE
    assert "give --out NAME.npz" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
