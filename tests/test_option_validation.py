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


# --- item 12: config files -------------------------------------------------------------------

LABELS = '[labels.a]\nexamples = "ex/a"\n\n[labels.b]\nexamples = "ex/b"\n'

# (config text, what the one error line must name besides the file)
BAD_CONFIGS = {
    "confidence-text": ('[classify]\nmin_confidence = "high"\n' + LABELS, ["[classify].min_confidence", '"high"']),
    "confidence-range": ("[classify]\nmin_confidence = 7.5\n" + LABELS, ["[classify].min_confidence", "<= 1", "7.5"]),
    "fps-list": ("[classify]\nsample_fps = [1]\n" + LABELS, ["[classify].sample_fps", "[1]"]),
    "fps-inf": ("[classify]\nsample_fps = inf\n" + LABELS, ["[classify].sample_fps", "finite"]),
    "merge-text": ('[classify]\nmerge = "no"\n' + LABELS, ["[classify].merge", "true or false", '"no"']),
    "merge-int": ("[classify]\nmerge = 0\n" + LABELS, ["[classify].merge", "true or false"]),
    "misspelt-key": ("[classify]\nmin_confidnce = 0.4\n" + LABELS, ["[classify].min_confidnce", "did you mean min_confidence?"]),
    "misspelt-table": ("[clasify]\nmerge = true\n" + LABELS, ["[clasify]", "did you mean [classify]?"]),
    "key-above-table": ("merge = true\n" + LABELS, ["merge", "[classify].merge"]),
    "prompts-number": ("[labels.ad]\nprompts = 3\n\n[labels.game]\nprompts = [\"a game\"]\n", ["[labels.ad].prompts", "3"]),
    "misspelt-label-key": ("[labels.ad]\nprompt = [\"an ad\"]\n\n[labels.game]\nprompts = [\"a game\"]\n",
                           ["[labels.ad].prompt", "did you mean prompts?"]),
    "workers-float": ("[batch]\nworkers = 2.5\n" + LABELS, ["[batch].workers", "whole number"]),
    "timeout-nan": ("[batch]\ntimeout_per_file = nan\n" + LABELS, ["[batch].timeout_per_file", "nan"]),
    "formats-unknown": ('[batch]\nformats = ["csv", "xml"]\n' + LABELS, ["[batch].formats", "html"]),
}


def command_with_config(command: str, work: Path, config: Path) -> list[str]:
    if command == "classify":
        return ["classify", str(work / "in.mp4"), "--config", str(config), "-o", str(work / "out.json")]
    return ["batch", str(work / "in.mp4"), "--config", str(config), "--out", str(work / "out")]


@pytest.mark.parametrize("command", ["classify", "batch"])
@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_is_one_usage_error_naming_file_and_key(capsys, work, command, case):
    """The same check, the same message, in classify and batch: before any work, nothing written."""
    text, names = BAD_CONFIGS[case]
    config = work / f"{case}.toml"
    config.write_text(text)
    before = sorted(work.iterdir())
    try:
        code, out, err = run(capsys, *command_with_config(command, work, config), "--no-cache", "-q")
    finally:
        config.unlink()
    assert_one_usage_line(code, err, str(config), *names)
    assert out == ""
    assert sorted(p for p in work.iterdir() if p != config) == [p for p in before if p != config]


@pytest.mark.parametrize("merge", [True, False])
def test_valid_config_values_are_used_as_written(capsys, work, merge):
    """Integers are fine where numbers are wanted, and ``merge = false`` means off."""
    config = work / f"ok-{merge}.toml"
    config.write_text(f"[classify]\nmin_confidence = 0\nmerge = {str(merge).lower()}\nsample_fps = 5\n\n"
                      f"[batch]\nworkers = 1\ntimeout_per_file = 600\nformats = \"csv, JSON\"\n\n{LABELS}")
    code, _, err = run(capsys, "classify", str(work / "in.mp4"), "--config", str(config), "-o", str(work / "ok.json"), "--no-cache", "-q")
    assert code == EXIT_OK, err
    settings = json.loads((work / "ok.json").read_text())["settings"]
    assert settings["classify"]["merge"] is merge and settings["classify"]["min_confidence"] == 0.0
    assert settings["sampling"] == "fps:5"
    for path in (work / "ok.json", *work.glob("ok.totals.*"), config):
        path.unlink()


def test_batch_reads_the_same_valid_config(work):
    from vidscan.batch import load_batch_config

    config = work / "batch-ok.toml"
    config.write_text("[classify]\nmerge = true\n\n[batch]\nworkers = 2\ntimeout_per_file = 60\nformats = \"csv, JSON, csv\"\n\n" + LABELS)
    cfg = load_batch_config(config)
    config.unlink()
    assert (cfg.workers, cfg.timeout_per_file, cfg.formats) == (2, 60.0, ("csv", "json"))
    assert cfg.classify == {"merge": True} and cfg.labels.names == ["a", "b"]
    assert cfg.labels.labels[0].examples == (work / "ex" / "a").resolve()


ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("path", sorted((ROOT / "sample_configs").glob("*.toml")), ids=lambda p: p.name)
def test_sample_configs_pass_the_schema_in_both_commands(path):
    from vidscan.batch import load_batch_config
    from vidscan.labels import load_config

    assert load_config(path).names == load_batch_config(path).labels.names


def test_documented_config_example_and_keys_match_the_schema(tmp_path):
    """The example in vidscan.labels.config's docstring validates; README names every key."""
    import textwrap

    import vidscan.labels.config as labels_config
    from vidscan.config import SCHEMA, read_config

    doc = labels_config.__doc__
    example = tmp_path / "example.toml"
    example.write_text(textwrap.dedent(doc[doc.index("::") + 2: doc.index("Relative")]))
    assert read_config(example)["classify"] == {"min_confidence": 0.4, "merge": True}
    readme = (ROOT / "README.md").read_text()
    for table in ("classify", "batch"):
        for key in SCHEMA[table]:
            assert f"`{key}`" in readme, key
