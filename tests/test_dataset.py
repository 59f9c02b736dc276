"""vidscan dataset: exact frames, right labels, diverse, capped, split by video, loadable as
ImageFolder / Hugging Face imagefolder / a manifest, and a re-run that only adds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import vidscan
from vidscan.cli.main import main
from vidscan.dataset import MANIFEST_COLUMNS, SPLITS, assign_splits, make_dataset, parse_split_shares
from vidscan.embed.registry import create_embedder
from vidscan.errors import EXIT_PARTIAL, EXIT_USAGE, OutputError, UsageError
from vidscan.synth import render
from vidscan.synth.corpus import broadcast_program
from vidscan.video import read_frames


@pytest.fixture(scope="module")
def videos(broadcast, tmp_path_factory) -> dict[str, object]:
    """The 75-second broadcast and two short ones (other seeds), with their truth."""
    path, truth, examples = broadcast
    folder = tmp_path_factory.mktemp("dataset-videos")
    out = {"broadcast": (path, truth)}
    for seed in (21, 22):
        p = folder / f"short{seed}.mp4"
        out[p.stem] = (p, render(broadcast_program(seed=seed, minutes=0.4), p))
    return {"videos": out, "examples": examples}


@pytest.fixture(scope="module")
def built(videos, tmp_path_factory):
    out = tmp_path_factory.mktemp("ds") / "data"
    paths = [str(p) for p, _ in videos["videos"].values()]
    return make_dataset(paths, out, examples=videos["examples"]), out


def truth_label(truth, frame: int) -> str:
    return next(label for label, a, b in truth.labels if a <= frame < b)


def test_images_are_the_exact_frames_with_the_right_labels(videos, built):
    result, out = built
    manifest = result.manifest
    assert list(manifest.columns) == MANIFEST_COLUMNS and len(manifest) >= 15
    by_key = {str(p.resolve()): (p, t) for p, t in videos["videos"].values()}
    right = 0
    for video, rows in manifest.groupby("video"):
        path, truth = by_key[video]
        frames, indices = read_frames(str(path), rows["frame"].tolist())
        exact = dict(zip(indices.tolist(), frames))
        for _, row in rows.iterrows():
            image = np.asarray(Image.open(out / row["file"]).convert("RGB"))
            assert np.array_equal(image, exact[int(row["frame"])]), row["file"]  # PNG: the decoded frame, bit for bit
            assert row["file"] == f"{row['split']}/{row['label']}/{row['file'].rsplit('/', 1)[1]}"
            right += row["label"] == truth_label(truth, int(row["frame"]))
        assert rows["confidence"].min() >= 0.6
    assert right / len(manifest) >= 0.95
    assert set(manifest["label"]) == {"ad", "game", "commentary"}


def test_each_video_is_in_one_split_and_kept_frames_differ(built):
    result, out = built
    assert (result.manifest.groupby("video")["split"].nunique() == 1).all()
    described = json.loads((out / "labels.json").read_text())
    assert described["labels"] == ["ad", "commentary", "game"]
    assert set(described["videos"].values()) <= set(SPLITS) and len(described["videos"]) == 3
    emb = create_embedder("features")
    for (video, label), rows in result.manifest.groupby(["video", "label"]):
        if len(rows) < 2:
            continue
        images = [Image.open(out / f).convert("RGB") for f in rows["file"]]  # the source's frames, at its size
        frames = np.stack([np.asarray(image.resize(emb.frame_size(*image.size))) for image in images])
        sims = emb.embed(frames) @ emb.embed(frames).T
        assert (sims[~np.eye(len(rows), dtype=bool)] < 0.9 + 1e-3).all(), (video, label)


def test_trainers_load_it_without_conversion(built, tmp_path):
    result, out = built
    torchvision = pytest.importorskip("torchvision")
    train = result.manifest[result.manifest["split"] == "train"]
    folder = torchvision.datasets.ImageFolder(str(out / "train"))
    assert len(folder) == len(train) and folder.classes == sorted(set(train["label"]))
    meta = pd.read_csv(out / "train" / "metadata.csv")
    assert len(meta) == len(train) and all((out / "train" / f).is_file() for f in meta["file_name"])
    pd.testing.assert_frame_equal(pd.read_parquet(out / "manifest.parquet"), pd.read_csv(out / "manifest.csv"), check_dtype=False)
    datasets = pytest.importorskip("datasets")
    loaded = datasets.load_dataset("imagefolder", data_dir=str(out), cache_dir=str(tmp_path / "hf"))
    for split, name in (("train", "train"), ("val", "validation"), ("test", "test")):
        rows = result.manifest[result.manifest["split"] == split]
        if len(rows):
            assert loaded[name].num_rows == len(rows)
            assert sorted(loaded[name]["label"]) == sorted(rows["label"])


def test_a_rerun_adds_new_videos_and_leaves_the_rest(videos, tmp_path):
    (b, _), (s1, _), (s2, _) = videos["videos"].values()
    out = tmp_path / "data"
    first = make_dataset([str(b), str(s1)], out, examples=videos["examples"])
    stamps = {f: (out / f).stat().st_mtime_ns for f in first.manifest["file"]}
    splits = json.loads((out / "labels.json").read_text())["videos"]
    second = make_dataset([str(b), str(s1), str(s2)], out, examples=videos["examples"])
    assert list(second.added) == [str(s2)] and sorted(second.skipped) == sorted([str(b), str(s1)])
    assert {f: (out / f).stat().st_mtime_ns for f in first.manifest["file"]} == stamps
    assert len(second.manifest) == len(first.manifest) + second.added[str(s2)]
    now = json.loads((out / "labels.json").read_text())["videos"]
    assert {k: now[k] for k in splits} == splits
    with pytest.raises(UsageError, match="holds a dataset with labels"):
        make_dataset([str(s2)], out, examples=_two_label_examples(videos["examples"], tmp_path))


def _two_label_examples(examples, tmp_path):
    import shutil

    folder = tmp_path / "two"
    for name in ("ad", "game"):
        shutil.copytree(examples / name, folder / name)
    return folder


def test_the_cap_holds_across_runs(videos, tmp_path):
    paths = [str(p) for p, _ in videos["videos"].values()]
    out = tmp_path / "data"
    make_dataset(paths[:1], out, examples=videos["examples"], per_label=2)
    result = make_dataset(paths, out, examples=videos["examples"], per_label=2)
    assert result.manifest["label"].value_counts().max() <= 2


def test_splits_are_by_video_in_proportion_and_stable():
    ten = [f"v{i}" for i in range(10)]
    first = assign_splits(ten, {}, (0.8, 0.1, 0.1), seed=0)
    assert sorted(first.values()).count("train") == 8 and list(first.values()).count("val") == 1
    more = assign_splits([f"w{i}" for i in range(10)], first, (0.8, 0.1, 0.1), seed=0)
    combined = {**first, **more}
    assert [list(combined.values()).count(s) for s in SPLITS] == [16, 2, 2]
    assert assign_splits(ten, {}, (0.8, 0.1, 0.1), seed=1) != first  # the seed decides which videos
    assert set(assign_splits(["a"], {}, (0.8, 0.1, 0.1), 0).values()) == {"train"}
    assert parse_split_shares("0.7,0.3,0") == (0.7, 0.3, 0.0)
    for bad in ("0.8,0.1", "0.5,0.5,0.5", "0,0.5,0.5", "a,b,c", "0.9,-0.1,0.2"):
        with pytest.raises(UsageError, match="--splits"):
            parse_split_shares(bad)


def test_cli_builds_and_then_trains_a_probe_on_it(videos, tmp_path, capsys):
    paths = [str(p) for p, _ in videos["videos"].values()]
    out = tmp_path / "data"
    assert main(["dataset", *paths, "--out", str(out), "--examples", str(videos["examples"]), "--format", "jpg"]) == 0
    stdout = capsys.readouterr().out
    assert "added" in stdout and "from 3 videos" in stdout
    manifest = pd.read_csv(out / "manifest.csv")
    assert manifest["file"].str.endswith(".jpg").all()
    probe = vidscan.train_probe(out)
    assert probe.report.grouped_by == "video" or probe.report.accuracy is None
    assert sum(probe.report.examples.values()) == int((manifest["split"] == "train").sum())


@pytest.mark.parametrize("args,message", [
    (["--splits", "1,1,1"], "--splits"),
    (["--labels", "ad,game"], "give either --labels or --config"),
    (["--min-confidence", "2"], "min-confidence"),
])
def test_bad_options_are_one_line(videos, tmp_path, capsys, args, message):
    path = str(next(iter(videos["videos"].values()))[0])
    extra = [] if "--labels" in args else ["--examples", str(videos["examples"])]
    code = main(["dataset", path, "--out", str(tmp_path / "d"), *extra, *args, *(["--config", str(tmp_path / "c.toml")] if "--labels" in args else [])])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "d").exists()


def test_an_unreadable_video_is_skipped_and_a_foreign_folder_refused(videos, tmp_path, capsys):
    path = next(iter(videos["videos"].values()))[0]
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.mp4").symlink_to(path)
    (folder / "bad.mp4").write_bytes(b"\0" * 5000)
    code = main(["dataset", str(folder), "--out", str(tmp_path / "d"), "--examples", str(videos["examples"]), "--quiet"])
    assert code == EXIT_PARTIAL and "bad.mp4" in capsys.readouterr().err
    assert pd.read_csv(tmp_path / "d" / "manifest.csv")["video"].nunique() == 1
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "manifest.csv").write_text("a,b\n1,2\n")
    with pytest.raises(OutputError, match="not a vidscan dataset"):
        make_dataset([str(path)], foreign, examples=videos["examples"])


def test_webdataset_shards_hold_every_image_once(videos, tmp_path):
    import tarfile

    paths = [str(p) for p, _ in videos["videos"].values()]
    out = tmp_path / "data"
    first = make_dataset(paths[:2], out, examples=videos["examples"], webdataset=True)
    result = make_dataset(paths, out, examples=videos["examples"], webdataset=True)  # the shards follow the added video
    assert len(result.manifest) > len(first.manifest)
    labels = json.loads((out / "labels.json").read_text())["labels"]
    seen = {}
    for shard in sorted((out / "webdataset").glob("*.tar")):
        split = shard.name.split("-")[0]
        with tarfile.open(shard) as tar:
            members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
        for name, data in members.items():
            key, ext = name.split(".", 1)  # WebDataset's rule: the key ends at the first dot
            if ext == "json":
                row = json.loads(data)
                assert row["split"] == split
                assert members[f"{key}.cls"].decode() == str(labels.index(row["label"]))
                assert members[f"{key}.png"] == (out / row["file"]).read_bytes()
                seen[row["file"]] = True
    assert sorted(seen) == sorted(result.manifest["file"])
    wds = pytest.importorskip("webdataset")
    train = sorted((out / "webdataset").glob("train-*.tar"))
    loaded = list(wds.WebDataset([str(p) for p in train], shardshuffle=False).decode("pil").to_tuple("png", "cls"))
    assert len(loaded) == int((result.manifest["split"] == "train").sum())
