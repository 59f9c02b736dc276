"""Start-up stays light (issue 13): ``vidscan --help``/``--version`` and ``import vidscan``
must not import numpy, pandas, ruptures or torch; those load when a task runs. Checked by
what is imported, not by timing (timings are noisy on CI)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("numpy", "pandas", "scipy", "ruptures", "torch", "open_clip", "av", "pyarrow", "rich")


def _imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint('LOADED:', *(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    loaded = [line for line in out.stderr.splitlines() if line.startswith("LOADED:")]
    assert loaded, out.stderr
    return set(loaded[-1].split()[1:])


@pytest.mark.parametrize("code", [
    "import vidscan",
    "import vidscan.cli.main",
    "from vidscan.cli.main import cli\ntry:\n    cli(['--help'])\nexcept SystemExit:\n    pass",
    "from vidscan.cli.main import cli\ntry:\n    cli(['--version'])\nexcept SystemExit:\n    pass",
    "from vidscan.cli.main import cli\ntry:\n    cli(['scenes', '--help'])\nexcept SystemExit:\n    pass",
], ids=["import", "import-cli", "help", "version", "scenes-help"])
def test_start_up_imports_no_heavy_library(code: str) -> None:
    assert _imported_after(code) == set()


def test_the_public_api_still_resolves_lazily() -> None:
    import vidscan

    for name in vidscan.__all__:
        assert getattr(vidscan, name) is not None, name
    assert set(vidscan.__all__) <= set(dir(vidscan))
    with pytest.raises(AttributeError):
        getattr(vidscan, "no_such_name")


def test_no_public_name_is_shadowed_by_a_submodule() -> None:
    """Importing ``vidscan.x`` sets the package attribute ``x`` to the module, which would hide a lazy
    public name ``x`` for good (``vidscan.classify(...)`` once failed with "'module' object is not
    callable" after the CLI had imported its module). Imports every submodule first, in a fresh process."""
    code = (
        "import pkgutil, types, importlib, vidscan\n"
        "for info in pkgutil.walk_packages(vidscan.__path__, 'vidscan.'):\n"
        "    importlib.import_module(info.name)\n"
        "bad = [n for n in vidscan.__all__ if isinstance(getattr(vidscan, n), types.ModuleType)]\n"
        "print('SHADOWED:', *bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "SHADOWED:", out.stdout


def test_python_dash_m_vidscan_is_the_command() -> None:
    import vidscan

    out = subprocess.run([sys.executable, "-m", "vidscan", "--version"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert vidscan.__version__ in out.stdout


@pytest.mark.parametrize("output", ["shots.csv", "shots.json", "-"])
def test_finding_shots_loads_no_table_or_model_library(shots_video, tmp_path, output: str) -> None:
    """``vidscan scenes`` with the default detector, written as CSV, JSON or to standard output,
    needs none of pandas (0.35-0.4 s to import), scipy, ruptures or torch: on a small file their
    imports would be a third of the run."""
    video, truth = shots_video
    target = output if output == "-" else str(tmp_path / output)
    code = (f"from vidscan.cli.main import cli\ntry:\n    cli(['scenes', {str(video)!r}, '-o', {target!r}, '--quiet', '--no-cache'])\n"
            "except SystemExit as exc:\n    assert not exc.code, exc.code\n")
    loaded = _imported_after(code)
    assert not loaded & {"pandas", "scipy", "ruptures", "torch", "open_clip", "pyarrow"}, loaded
    assert {"numpy", "av"} <= loaded  # it did run
    if output != "-":
        assert (tmp_path / output).stat().st_size > 0
