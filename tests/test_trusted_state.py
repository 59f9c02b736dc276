"""vidscan's own state files are checked, never trusted; checkpoints never run code; offline is fast.

- The embedding cache: an entry whose metadata or arrays were changed, that has a key this
  version does not know, or that is not an entry at all is a miss: it is recomputed (the same
  result as a fresh run) and rewritten, never trusted and never exit 70.
- The batch manifest: a row that does not make sense is redone, exit 0.
- Checkpoints: a pickle that would run code is refused (exit 4, one line) even where torch
  would default to ``weights_only=False`` (emulated with TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD).
- Offline: ``models download`` and CLIP by tag answer with one line and exit 4 within seconds.
"""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import DATA, run_ffmpeg
from vidscan.batch.manifest import MANIFEST_NAME, Manifest, parse_row
from vidscan.cache import EmbeddingCache
from vidscan.cli.main import main
from vidscan.errors import EXIT_MODEL, EXIT_OK, ModelUnavailableError
from vidscan.pipeline import detect_scenes

ROOT = Path(__file__).resolve().parent.parent
TINY_CONFIG = DATA / "vidscan-tiny-clip.json"


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[Path]:
    """Two 2-second clips, each with one cut (so a timeline has two segments)."""
    folder = tmp_path_factory.mktemp("clips")
    paths = []
    for i, (a, b) in enumerate([("testsrc2", "mandelbrot"), ("smptebars", "testsrc")]):
        path = folder / f"clip{i}.mp4"
        run_ffmpeg("-f", "lavfi", "-t", "1", "-i", f"{a}=size=160x90:rate=25", "-f", "lavfi", "-t", "1", "-i",
                   f"{b}=size=160x90:rate=25", "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]",
                   "-map", "[v]", "-pix_fmt", "yuv420p", str(path))
        paths.append(path)
    return paths


def comparable(timeline) -> dict:
    """A timeline without its timings and cache flag (which differ between runs by design)."""
    data = timeline.to_dict()
    data.pop("stats", None)
    return data


def the_entry(folder: Path) -> Path:
    entries = list(folder.rglob("*.npz"))
    assert len(entries) == 1, entries
    return entries[0]


def rewrite_meta(entry: Path, change) -> None:
    """Edit an entry's metadata as a person or another program would, keeping its stored checksum."""
    with np.load(entry) as data:
        arrays = dict(data)
    meta = json.loads(bytes(arrays["meta"]).decode())
    change(meta)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    with open(entry, "wb") as handle:
        np.savez(handle, **arrays)


def _edit_info(meta: dict) -> None:
    meta["info"].update(width=9999, codec="evil")
    meta["duration_s"] = 999.0


def _edit_damaged(meta: dict) -> None:
    meta["damaged"] = [[0.2, 1.5]]


def _unknown_key(meta: dict) -> None:
    meta["info"]["bogus"] = 1


def _truncate(entry: Path) -> None:
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 3])


def _garbage(entry: Path) -> None:
    entry.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 8)


DAMAGE = {
    "edited-size-codec-duration": lambda entry: rewrite_meta(entry, _edit_info),
    "edited-damaged-ranges": lambda entry: rewrite_meta(entry, _edit_damaged),
    "unknown-key": lambda entry: rewrite_meta(entry, _unknown_key),
    "truncated": _truncate,
    "garbage": _garbage,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_changed_or_broken_cache_entry_is_recomputed(clips, tmp_path, damage):
    cache = EmbeddingCache(tmp_path)
    fresh = detect_scenes(clips[0], cache=cache)
    assert len(fresh.segments) == 2
    entry = the_entry(tmp_path)
    DAMAGE[damage](entry)
    changed = entry.read_bytes()

    again = detect_scenes(clips[0], cache=cache)
    assert cache.rejected == 1 and not again.stats["from_cache"]
    assert comparable(again) == comparable(fresh)
    assert the_entry(tmp_path).read_bytes() != changed  # rewritten, not left to fail again
    third = detect_scenes(clips[0], cache=cache)
    assert third.stats["from_cache"] and comparable(third) == comparable(fresh)


@pytest.mark.parametrize("meta_change", [_unknown_key, lambda meta: meta.update(damaged=[["a", 1]]),
                                         lambda meta: meta.update(frame_count=-3)])
def test_an_entry_with_a_valid_checksum_that_does_not_parse_is_a_miss(clips, tmp_path, meta_change):
    """What an older writer (or a hand-made file with a correct checksum) could leave: the
    checksum passes, the parser refuses it, the entry is recomputed instead of exit 70."""
    cache = EmbeddingCache(tmp_path)
    fresh = detect_scenes(clips[1], cache=cache)
    entry = the_entry(tmp_path)
    key = entry.stem
    with np.load(entry) as data:
        arrays = {name: data[name] for name in data.files if name not in ("meta", "sha256")}
        meta = json.loads(bytes(data["meta"]).decode())
    meta_change(meta)
    cache.store(key, arrays, meta)  # a correct checksum over the bad metadata

    again = detect_scenes(clips[1], cache=cache)
    assert cache.rejected == 1 and not again.stats["from_cache"]
    assert comparable(again) == comparable(fresh)
    assert detect_scenes(clips[1], cache=cache).stats["from_cache"]


def test_cli_reruns_after_an_unknown_cache_key_exit_0_and_same_output(clips, tmp_path, capsys):
    args = ["scenes", str(clips[0]), "--cache-dir", str(tmp_path / "cache"), "-q", "--format", "json"]
    assert main([*args, "-o", str(tmp_path / "a.json")]) == EXIT_OK
    rewrite_meta(the_entry(tmp_path / "cache"), _unknown_key)
    for name in ("b.json", "c.json"):  # the second rerun reads the rewritten entry
        assert main([*args, "-o", str(tmp_path / name)]) == EXIT_OK, capsys.readouterr().err
    timelines = [json.loads((tmp_path / n).read_text()) for n in ("a.json", "b.json", "c.json")]
    assert timelines[0]["stats"]["from_cache"] is False and timelines[2]["stats"]["from_cache"] is True
    for t in timelines:
        t.pop("stats")
    assert timelines[0] == timelines[1] == timelines[2]


# -- the batch manifest --------------------------------------------------------------------

def _manifest(out: Path) -> dict[str, dict]:
    conn = sqlite3.connect(out / MANIFEST_NAME)
    conn.row_factory = sqlite3.Row
    try:
        return {Path(r["path"]).name: dict(r) for r in conn.execute("SELECT * FROM videos")}
    finally:
        conn.close()


def _set(out: Path, name: str, column: str, value: object) -> None:
    conn = sqlite3.connect(out / MANIFEST_NAME)
    with conn:
        conn.execute(f"UPDATE videos SET {column} = ? WHERE path LIKE ?", (value, f"%{name}"))
    conn.close()


def test_bad_manifest_rows_are_redone_not_exit_70(clips, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["batch", *map(str, clips), "--out", str(out), "--no-cache", "--workers", "1", "--format", "csv"]
    assert main(args) == EXIT_OK
    capsys.readouterr()
    _set(out, "clip0.mp4", "label_seconds", "not json")
    _set(out, "clip1.mp4", "duration_s", "abc")

    code = main(args)
    err = capsys.readouterr().err
    assert code == EXIT_OK, err
    assert "2 manifest row(s) did not make sense" in err and "2 done" in err and "this run processed 2" in err
    rows = _manifest(out)
    assert {n: r["state"] for n, r in rows.items()} == {"clip0.mp4": "done", "clip1.mp4": "done"}
    for row in rows.values():
        parse_row(row)  # every row is valid again
        assert json.loads(row["label_seconds"]) == {} and row["segments"] == 2 and row["duration_s"] == pytest.approx(2.0)

    code = main(args)  # and now they are trusted: nothing to do
    assert code == EXIT_OK and "2 already up to date" in capsys.readouterr().err


@pytest.mark.parametrize("column, value", [
    ("label_seconds", '{"ad": NaN}'), ("label_seconds", '{"ad": "long"}'), ("label_seconds", "[1, 2]"),
    ("label_seconds", "{"), ("segments", "many"), ("attempts", 1.5), ("x_realtime", "fast"), ("size", 3.5),
])
def test_manifest_rows_are_type_checked_when_read(tmp_path, column, value):
    m = Manifest(tmp_path / MANIFEST_NAME)
    try:
        for key in ("good", "bad"):
            m.mark_pending(key, f"/v/{key}.mp4", key)
            m.mark_running(key, 10, 20, "s", 1)
            m.mark_done(key, duration_s=2.0, segments=1, label_seconds={"ad": 2.0}, wall_s=1.0)
        m.conn.execute(f"UPDATE videos SET {column} = ? WHERE key = 'bad'", (value,))
        assert m.get("good").label_seconds == {"ad": 2.0}
        assert m.get("bad") is None and [r.key for r in m.rows()] == ["good"]
        assert m.conn.execute("SELECT COUNT(*) FROM videos").fetchone()[0] == 1  # dropped, so it is redone
        assert len(m.dropped) == 1 and m.dropped[0].startswith("bad:")
    finally:
        m.close()


# -- checkpoints ---------------------------------------------------------------------------

class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _malicious_pickle(path: Path, marker: Path) -> None:
    with open(path, "wb") as handle:
        pickle.dump({"state_dict": {"visual.proj": _RunsCode(marker)}}, handle)


def _malicious_torch_save(path: Path, marker: Path) -> None:
    import torch

    torch.save({"visual.proj": _RunsCode(marker)}, path)


@pytest.mark.parametrize("make", [_malicious_pickle, _malicious_torch_save])
@pytest.mark.parametrize("command", ["scenes", "search"])
def test_a_checkpoint_that_would_run_code_is_refused(clips, tmp_path, capsys, monkeypatch, make, command):
    # What torch < 2.6 does by default: weights_only=False wherever the caller does not pass it.
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker = tmp_path / "pwned"
    checkpoint = tmp_path / "weights.pt"
    make(checkpoint, marker)
    query = ["a picture"] if command == "search" else []
    code = main([command, *query, str(clips[0]), "--embedder", "clip", "--model", str(TINY_CONFIG),
                 "--pretrained", str(checkpoint), "--device", "cpu", "--no-cache", "-q", "-o", str(tmp_path / "out.json")])
    err = capsys.readouterr().err
    assert code == EXIT_MODEL and err.count("\n") == 1 and err.startswith("vidscan: error: "), err
    assert "not a plain weights file" in err
    assert not marker.exists()
    assert not (tmp_path / "out.json").exists()


def _tiny_state(tiny_clip_model: str) -> dict:
    import open_clip
    import torch

    torch.manual_seed(7)
    return open_clip.create_model(tiny_clip_model, pretrained=None).state_dict()


@pytest.mark.parametrize("form", ["state_dict.pt", "wrapped.pt", "weights.safetensors"])
def test_a_weight_only_checkpoint_still_loads(tmp_path, tiny_clip_model, form):
    import torch
    from safetensors.torch import save_file

    from vidscan.embed.registry import create_embedder

    state = _tiny_state(tiny_clip_model)
    path = tmp_path / form
    if form == "wrapped.pt":
        torch.save({"state_dict": state, "epoch": 3}, path)
    elif form.endswith(".safetensors"):
        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        torch.save(state, path)
    emb = create_embedder("clip", model=tiny_clip_model, pretrained=str(path), device="cpu")
    assert not emb.random_weights
    loaded = emb.model.state_dict()
    assert loaded.keys() == state.keys()
    assert all(torch.equal(loaded[k].float(), state[k].float()) for k in state)  # these weights, not random ones


def test_a_checkpoint_of_another_shape_is_one_clear_error(tmp_path, tiny_clip_model):
    import torch

    from vidscan.embed.registry import create_embedder

    state = _tiny_state(tiny_clip_model)
    state.pop("logit_scale")
    torch.save(state, tmp_path / "partial.pt")
    with pytest.raises(ModelUnavailableError, match="do not fit .*1 tensors missing"):
        create_embedder("clip", model=tiny_clip_model, pretrained=str(tmp_path / "partial.pt"), device="cpu")


# -- offline -------------------------------------------------------------------------------

OFFLINE = {"HF_HUB_OFFLINE": "1"}
UNREACHABLE = {"HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "0"}


def test_models_download_offline_is_one_line_exit_4_and_quick(tmp_path):
    """Both at once (each is mostly Python start-up): HF_HUB_OFFLINE, and a hub that refuses."""
    runs = []
    for extra in (OFFLINE, UNREACHABLE):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HOME": str(tmp_path / "hf"), **extra}
        proc = subprocess.Popen([sys.executable, "-m", "vidscan.cli.main", "models", "download", "ViT-B-32", "laion2b_s34b_b79k"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        runs.append((extra, proc, time.monotonic()))
    for extra, proc, t0 in runs:
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"no answer within 60 s with {extra}")
        took = time.monotonic() - t0
        assert proc.returncode == EXIT_MODEL and err.count("\n") == 1, (extra, err)
        assert "vidscan models download ViT-B-32 laion2b_s34b_b79k" in err and "--pretrained" in err
        assert took < 30, (extra, took)
    assert not (tmp_path / "hf").exists() or not list((tmp_path / "hf").rglob("*.bin"))


@pytest.mark.parametrize("env", [OFFLINE, UNREACHABLE], ids=["HF_HUB_OFFLINE", "unreachable-endpoint"])
@pytest.mark.parametrize("command", ["classify", "search"])
def test_clip_by_tag_offline_is_one_line_exit_4_and_quick(clips, tmp_path, capsys, monkeypatch, env, command):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    args = ["--labels", "game,ad"] if command == "classify" else ["a goal"]
    if command == "search":
        args = [*args, str(clips[0])]
    else:
        args = [str(clips[0]), *args]
    t0 = time.monotonic()
    code = main([command, *args, "--embedder", "clip", "--device", "cpu", "--no-cache", "-q", "-o", str(tmp_path / "o.csv")])
    took = time.monotonic() - t0
    err = capsys.readouterr().err
    assert code == EXIT_MODEL and err.count("\n") == 1 and "cannot be downloaded (offline)" in err, err
    assert took < 30
