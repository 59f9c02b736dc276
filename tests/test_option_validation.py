"""Bad option values and bad config files fail up front: one line, exit 2, nothing written.

Issue 12, items 11 and 12: ``inf``/``nan``/out-of-range numbers on the command line, and
config files with wrong types, out-of-range values or misspelt keys, used to crash (exit 70),
silently do the wrong thing, or fail once per file in ``batch``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from tests.conftest import run_ffmpeg
from vidscan.cli.common import FiniteFloat
from vidscan.cli.main import cli, main
from vidscan.errors import EXIT_OK, EXIT_USAGE


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A 1 s clip, an examples folder (two labels, one image each) and a query image."""
    d = tmp_path_factory.mktemp("opts")
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=96x64:rate=25:duration=1", "-pix_fmt", "yuv420p", str(d / "in.mp4"))
    for label, colour in (("a", "red"), ("b", "blue")):
        (d / "ex" / label).mkdir(parents=True)
        run_ffmpeg("-f", "lavfi", "-i", f"color={colour}:size=64x64", "-frames:v", "1", str(d / "ex" / label / "1.png"))
    return d


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_usage_line(code: int, err: str, *names: str) -> None:
    """Exit 2, exactly one ``vidscan: error:`` line that names each of ``names``, no traceback."""
    lines = err.strip().splitlines()
    assert code == EXIT_USAGE, err
    assert len(lines) == 1 and lines[0].startswith("vidscan: error: "), err
    assert "Traceback" not in err and "internal error" not in err
    for name in names:
        assert name in lines[0], (name, err)


def all_commands(group: click.Group = cli, prefix: str = ""):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from all_commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


# --- item 11: numeric options ---------------------------------------------------------------

def test_every_float_option_of_every_command_is_finite_float():
    """One shared type for every float option, so no command can let inf/nan through again."""
    floats = []
    for name, command in all_commands():
        for param in command.params:
            if isinstance(param.type, click.types.FloatParamType):
                floats.append(f"{name} {param.opts[0]}")
                assert isinstance(param.type, FiniteFloat), f"{name} {param.opts[0]} is a plain float"
    assert len(floats) >= 15  # scenes, classify, search, collect, batch, demo-video


# (command line before the value, the option, the bad value); {d} is the work folder.
BAD_OPTIONS = [
    ("scenes {d}/in.mp4 -o {d}/out.csv", "--min-scene-len", "inf"),
    ("scenes {d}/in.mp4 -o {d}/out.json", "--penalty", "inf"),
    ("scenes {d}/in.mp4 -o {d}/out.json", "--penalty", "-1"),
    ("scenes {d}/in.mp4 -o {d}/out.json", "--min-scene-len", "1e308"),
    ("scenes {d}/in.mp4 -o {d}/out.csv", "--sample-fps", "nan"),
    ("classify {d}/in.mp4 --examples {d}/ex --per-frame -o {d}/out.json", "--smooth", "inf"),
    ("classify {d}/in.mp4 --examples {d}/ex --per-frame -o {d}/out.json", "--smooth", "nan"),
    ("classify {d}/in.mp4 --examples {d}/ex -o {d}/out.json", "--min-confidence", "nan"),
    ("classify {d}/in.mp4 --examples {d}/ex -o {d}/out.json", "--min-scene-len", "-0.5"),
    ("search {d}/in.mp4 --image {d}/ex/a/1.png --embedder features -o {d}/out.json", "--min-gap", "inf"),
    ("search {d}/in.mp4 --image {d}/ex/a/1.png --embedder features -o {d}/out.json", "--min-gap", "-2"),
    ("collect {d}/in.mp4 --out {d}/out", "--hold", "inf"),
    ("collect {d}/in.mp4 --out {d}/out", "--max-similarity", "nan"),
    ("batch {d}/in.mp4 --out {d}/out", "--min-scene-len", "inf"),
    ("batch {d}/in.mp4 --out {d}/out --examples {d}/ex", "--smooth", "nan"),
    ("batch {d}/in.mp4 --out {d}/out", "--timeout-per-file", "nan"),
    ("batch {d}/in.mp4 --out {d}/out", "--penalty", "0"),
    ("demo-video {d}/out.mp4", "--seconds", "nan"),
]


@pytest.mark.parametrize("command, option, value", BAD_OPTIONS, ids=[f"{c.split()[0]}{o}={v}" for c, o, v in BAD_OPTIONS])
def test_non_finite_or_out_of_range_option_is_one_usage_error(capsys, work, command, option, value):
    before = sorted(work.iterdir())
    code, out, err = run(capsys, *command.format(d=work).split(), option, value, "-q")
    assert_one_usage_line(code, err, option)
    assert out == ""
    assert sorted(work.iterdir()) == before  # no timeline, no batch folder, no video: nothing was started


def test_option_values_are_checked_before_the_input_is_read(capsys, work):
    """A bad value wins over a missing video: the command line is checked before any decoding."""
    code, _, err = run(capsys, "scenes", str(work / "missing.mp4"), "--penalty", "inf")
    assert_one_usage_line(code, err, "--penalty", "finite")
    code, _, err = run(capsys, "batch", str(work / "missing.mp4"), "--out", str(work / "nothing"), "--smooth", "-1")
    assert_one_usage_line(code, err, "--smooth")


@pytest.mark.parametrize("command, options", [
    ("scenes {d}/in.mp4 -o {d}/ok.json", ["--min-scene-len", "0", "--penalty", "1e-3", "--sample-fps", "12.5"]),
    ("classify {d}/in.mp4 --examples {d}/ex -o {d}/ok.json", ["--per-frame", "--smooth", "0", "--min-confidence", "1"]),
    ("search {d}/in.mp4 --image {d}/ex/a/1.png --embedder features -o {d}/ok.json", ["--min-gap", "0"]),
], ids=["scenes", "classify", "search"])
def test_valid_edge_values_still_work(capsys, work, command, options):
    code, _, err = run(capsys, *command.format(d=work).split(), *options, "--no-cache", "-q")
    assert code == EXIT_OK, err
    assert json.loads((work / "ok.json").read_text())
    (work / "ok.json").unlink()
    for extra in work.glob("ok.totals.*"):
        extra.unlink()
