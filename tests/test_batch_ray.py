"""vidscan batch --engine ray on a private local Ray instance (loopback only, 2 CPUs).

Skipped when ray is not installed (it is the optional extra ``vidscan[ray]``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from vidscan.cli.main import main
from vidscan.errors import EXIT_PARTIAL
from vidscan.synth import render

from tests.test_batch import ROOT, program

pytest.importorskip("ray", reason="ray is not installed (pip install 'vidscan[ray]')")


def _outputs(out: Path) -> dict[str, object]:
    result = {}
    for folder in sorted((out / "videos").iterdir()):
        data = json.loads((folder / "timeline.json").read_text())
        data.pop("stats")  # run timings
        result[folder.name] = ((folder / "timeline.csv").read_bytes(), data)
    return result


def test_ray_engine_gives_the_same_outputs_as_a_local_run(tmp_path):
    src = tmp_path / "shows"
    for i in range(3):
        render(program(i), src / f"ep{i}.mp4")
    (src / "broken.mp4").write_bytes(b"\x00" * 4096)
    local = tmp_path / "local"
    assert main(["batch", str(src), "--out", str(local), "--workers", "2", "--no-cache", "-q"]) == EXIT_PARTIAL

    ray_out = tmp_path / "ray"
    cmd = [sys.executable, "-m", "vidscan.cli.main", "batch", str(src), "--out", str(ray_out), "--engine", "ray",
           "--workers", "2", "--no-cache"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == EXIT_PARTIAL, done.stderr[-2000:]
    assert "3 done" in done.stderr and "1 failed" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("vidscan: error: 1 of 4 videos failed")

    assert _outputs(ray_out) == _outputs(local) and len(_outputs(local)) == 3
    volatile = ["wall_s", "x_realtime"]
    assert pd.read_csv(ray_out / "summary.csv").drop(columns=volatile).equals(pd.read_csv(local / "summary.csv").drop(columns=volatile))
