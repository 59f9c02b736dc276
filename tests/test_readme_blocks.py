"""Every README code block, run as a new user would (issue 13): vidscan installed into a fresh
virtual environment from a copy of the source, each shell line and each Python block run in a
folder holding the inputs the README names (``match.mp4``, ``my_examples/``, ``archive/``...),
exit codes and the files they say they write checked.

The environment sees the machine's packages (``--system-site-packages``) and installs vidscan
itself without dependencies, so the test takes seconds rather than a 6 GB download; the
dependency declarations are what ``.ci/run`` installs from scratch. The hub is offline, so lines
that need CLIP's weights must fail the documented way (one line, exit 4). Lines that cannot run
here are listed in :data:`NOT_RUN` with the reason, never skipped silently.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Lines that are not run, by a pattern they match, and why.
NOT_RUN = {
    r'pip install -e "\.\[test\]"': "the test suite itself",
    r"benchmarks/": "benchmarks take minutes and need the bench extra's peers",
    r"bench_out/speedset": "times files that benchmarks/realset/speedset.py builds (minutes)",
    r"^ray start|--engine ray": "needs a Ray cluster and shared paths",
}
#: Lines that need CLIP's weights: offline they must fail with the one-line error, exit 4.
NEEDS_WEIGHTS = r"--embedder clip|--labels |archive_batch\.toml|vidscan search \""
#: What a line that runs must leave behind (by a pattern of the line).
WRITES = {
    r"vidscan demo-video demo\.mp4": ["demo.mp4", "demo.truth.json"],
    r"vidscan scenes demo\.mp4": ["demo.scenes.csv"],
    r"vidscan scenes match\.mp4 +#": ["match.scenes.csv"],
    r"-o match\.json": ["match.json"],
    r"-o match\.parquet": ["match.parquet"],
    r"--examples my_examples/ +#": ["match.labels.csv", "match.labels.totals.csv"],
    r"--report match\.html": ["match.html", "match.chapters.txt", "match.edl"],
    r"-o hits\.csv": ["hits.csv"],
    r"--thumbnails hits/": ["hits"],
    r"--out stills/": ["stills/manifest.csv"],
    r"train-probe my_examples/ --out my_probe\.npz": ["my_probe.npz", "my_probe.json"],
    r"--probe my_probe\.npz": ["match.labels.csv", "match.labels.totals.csv"],
    r"--out archive_map\.html": ["archive_map.html", "archive_map.clusters.csv", "archive_map.clusters.summary.csv"],
    r"--out match_map\.html": ["match_map.html", "match_map.clusters.csv"],
    r"--out data/ --examples": ["data/manifest.csv", "data/labels.json", "data/train/metadata.csv"],
    r"--out data_probe\.npz": ["data_probe.npz", "data_probe.json"],
    r"--out fixed_probe\.npz": ["fixed_probe.npz", "fixed_probe.json"],
    r"-o match\.shots\.csv": ["match.shots.csv", "match.shots.totals.csv"],
    r"--out results/": ["results/summary.csv", "results/manifest.sqlite"],
    r"sports_broadcast\.toml +#": ["match.labels.csv", "match.labels.totals.csv"],
    r"vidscan breaks match\.mp4 +#": ["match.breaks.csv"],
    r"--comskip match\.comskip\.txt": ["breaks.json", "match.comskip.txt", "match.comskip.edl"],
}


def blocks() -> list[tuple[str, int, str]]:
    """(language, line number, code) of every bash and python block."""
    text = (ROOT / "README.md").read_text()
    return [(m.group(1), text[: m.start()].count("\n") + 1, m.group(2)) for m in re.finditer(r"```(bash|python)\n(.*?)\n```", text, flags=re.S)]


@pytest.fixture(scope="module")
def user(tmp_path_factory) -> dict[str, Path]:
    """A fresh venv with vidscan installed from a copy of the source, and a folder with the README's inputs."""
    base = tmp_path_factory.mktemp("readme")
    source = base / "src"
    for name in ("vidscan", "sample_configs"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "HF_HUB_OFFLINE": "1", "VIRTUAL_ENV": str(venv)}
    env.pop("PYTHONPATH", None)
    done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", str(source)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import vidscan; print(vidscan.__file__)"], capture_output=True,
                           text=True, env=env, cwd=base, timeout=60).stdout
    assert str(venv) in where, where  # the venv's copy, not the checkout
    work = source  # the README's commands run in the source folder
    run = lambda *args: subprocess.run(list(args), cwd=work, env=env, capture_output=True, text=True, timeout=300, check=True)  # noqa: E731
    run("vidscan", "demo-video", "match.mp4", "--seconds", "12", "--examples", "my_examples", "-q")
    (work / "archive" / "2024").mkdir(parents=True)
    shutil.copy(work / "match.mp4", work / "archive" / "final.mp4")
    shutil.copy(work / "match.mp4", work / "archive" / "2024" / "replay.mkv")  # for 'archive/**/*.mkv' (read by content)
    (work / "recordings").mkdir()
    shutil.copy(work / "match.mp4", work / "recordings" / "r.mp4")
    (work / "more_paths.txt").write_text("recordings/r.mp4\n")
    shutil.copy(next((work / "my_examples" / "ad").iterdir()), work / "kickoff.jpg")
    return {"venv": venv, "work": work, "env": env}


def reason_not_run(line: str) -> str | None:
    return next((why for pattern, why in NOT_RUN.items() if re.search(pattern, line)), None)


SHELL_LINES = [(number, line) for lang, number, code in blocks() if lang == "bash" for line in code.splitlines() if line.strip()]


def test_the_readme_has_blocks_of_both_kinds() -> None:
    assert len(SHELL_LINES) >= 20 and sum(lang == "python" for lang, _, _ in blocks()) >= 5


@pytest.mark.slow
def test_every_readme_shell_line_works(user) -> None:
    failures, ran, not_run = [], 0, []
    for number, line in SHELL_LINES:
        why = reason_not_run(line)
        if why:
            not_run.append((number, why))
            continue
        # the quick start installs from the source folder: the fixture already did, dependencies come from the machine
        command = line.replace("pip install . &&", "pip install -q --no-deps . &&")
        done = subprocess.run(["bash", "-c", command], cwd=user["work"], env=user["env"], capture_output=True, text=True, timeout=600)
        ran += 1
        if re.search(NEEDS_WEIGHTS, line):
            lines = done.stderr.strip().splitlines()
            if done.returncode != 4 or len(lines) != 1 or "cannot be downloaded (offline)" not in lines[0]:
                failures.append(f"README line {number}: {line!r}: wanted the offline one-line error, exit 4; got {done.returncode}: {done.stderr[-300:]}")
            continue
        if done.returncode != 0:
            failures.append(f"README line {number}: {line!r}: exit {done.returncode}: {done.stderr[-400:]}")
            continue
        for pattern, files in WRITES.items():
            if re.search(pattern, line):
                missing = [f for f in files if not (user["work"] / f).exists()]
                if missing:
                    failures.append(f"README line {number}: {line!r} did not write {missing}")
        if "-o - " in line:
            assert done.stdout.startswith("index,start_frame"), done.stdout[:200]
    assert failures == []
    assert ran >= 15 and len(not_run) <= 11, not_run  # the test command, 6 benchmark lines, the speedset bench, 3 Ray lines


@pytest.mark.slow
def test_every_readme_python_block_works(user) -> None:
    failures = []
    for _, number, code in [b for b in blocks() if b[0] == "python"]:
        script = user["work"] / f"readme_block_{number}.py"
        script.write_text(code + "\n")
        done = subprocess.run([str(user["venv"] / "bin" / "python"), script.name], cwd=user["work"], env=user["env"],
                              capture_output=True, text=True, timeout=600)
        if re.search(r'search\("match\.mp4", "', code):  # a text query: CLIP's weights, offline here
            if done.returncode == 0 or "ModelUnavailableError" not in done.stderr or "cannot be downloaded (offline)" not in done.stderr:
                failures.append(f"README line {number}: wanted ModelUnavailableError offline; got {done.returncode}: {done.stderr[-300:]}")
            continue
        if done.returncode != 0:
            failures.append(f"README line {number}: exit {done.returncode}: {done.stderr[-600:]}")
    assert failures == []
    assert (user["work"] / "results" / "summary.csv").exists()  # the batch block ran its workers
