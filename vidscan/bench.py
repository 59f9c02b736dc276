"""Throughput benchmark: per-stage times, frames/s, x realtime, peak memory, F1 vs PySceneDetect.

Each (file, method) runs in a fresh process, so peak RSS is that run's own and one run's
caches cannot help the next. Timings are ratios within one run on one machine: compare
methods with each other, not with numbers from another machine.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import resource
import time
from pathlib import Path
from typing import Any, Callable

METHODS = ("scenes", "scenes-coarse", "clip-2fps", "classify", "classify-coarse", "pyscenedetect")
#: Methods of other projects, measured for comparison, and the module each needs. One that is
#: not installed is left out (with a warning); a failure of one of them does not fail the run.
PEERS = {"pyscenedetect": "scenedetect"}
#: How to install every peer (the ``bench`` extra pins what they need, e.g. OpenCV for PySceneDetect).
INSTALL_PEERS = "pip install 'vidscan[bench]'"
#: Where ``vidscan bench`` writes its full results (per-stage times, memory, ratios) unless told.
DEFAULT_REPORT = "vidscan-bench.json"


def find_inputs(paths: list[Path]) -> list[Path]:
    """The videos named by ``paths`` (files, or folders searched recursively), each checked as
    every command checks its input (missing, a folder without videos, a FIFO, unreadable, not a
    video: :class:`~vidscan.errors.InputError`, exit 3), so a bad input fails before any timing run."""
    import vidscan
    from vidscan.search import find_videos

    files = [f for p in paths for f in find_videos(p)]
    for f in files:
        vidscan.probe(str(f))  # opens it as every method will: the shared checks, then the container
    return files


def missing_peers(methods: list[str]) -> list[str]:
    """The peer methods in ``methods`` whose package is not installed."""
    import importlib.util

    return [m for m in methods if m in PEERS and importlib.util.find_spec(PEERS[m]) is None]


def truth_for(path: Path):
    """Ground truth next to a generated video (``<name>.truth.json``), if any."""
    from vidscan.synth import GroundTruth

    candidate = path.with_suffix(".truth.json")
    return GroundTruth.load(candidate) if candidate.exists() else None


def _clip_embedder(device: str):
    from vidscan.embed.registry import create_embedder
    from vidscan.errors import ModelUnavailableError

    try:
        return create_embedder("clip", device=device), "ViT-B-32 laion2b_s34b_b79k"
    except ModelUnavailableError:
        # Same architecture and compute, random weights: speed figures stay valid.
        return create_embedder("clip", pretrained=None, device=device), "ViT-B-32 random weights (no weights offline; speed only)"


def _run(method: str, path: str, device: str) -> dict[str, Any]:
    import vidscan
    from vidscan.evaluate import match_boundaries

    p = Path(path)
    out: dict[str, Any] = {"method": method, "file": p.name}
    t0 = time.perf_counter()
    boundaries: list[int] | None = None
    if method in ("scenes", "scenes-coarse"):
        tl = vidscan.detect_scenes(p, decode="coarse" if method == "scenes-coarse" else "full")
        boundaries = [s.start_frame for s in tl.segments[1:]]
        out["stages_s"] = dict(tl.stats["timings_s"])
        if "coarse" in tl.stats:
            coarse = tl.stats["coarse"]
            out["full_rate_fraction"] = coarse["full_rate_fraction"]
            split = coarse.get("timings_s", {})
            if split:  # decode = keyframes (with the demux index) + fine pass
                out["stages_s"]["keyframes_s"] = split["index_keyframes_s"]
                out["stages_s"]["fine_s"] = split["fine_s"]
        t = time.perf_counter()
        tl.to_json(p.with_suffix(f".{method}.bench.json"))
        out["stages_s"]["write_s"] = time.perf_counter() - t
        duration, frames = tl.duration_s, tl.frame_count
    elif method in ("clip-2fps", "classify", "classify-coarse"):
        emb, out["model"] = _clip_embedder(device)
        out["device"] = emb.device
        if method == "clip-2fps":
            tl = vidscan.detect_scenes(p, embedder=emb, sampling="fps:2")
        else:
            decode = "coarse" if method == "classify-coarse" else "full"
            tl = vidscan.classify(p, "ad,game,commentary", embedder=emb, sampling="fps:2", decode=decode).timeline
        out["stages_s"] = dict(tl.stats["timings_s"])
        duration, frames = tl.duration_s, tl.frame_count
        if method == "clip-2fps":
            boundaries = None  # 2 samples/s cannot place cuts at +-2 frames; speed only
    elif method == "pyscenedetect":
        from scenedetect import AdaptiveDetector, detect

        scenes = detect(str(p), AdaptiveDetector())
        boundaries = [start.frame_num for start, _ in scenes[1:]]
        info = vidscan.probe(str(p))
        duration, frames = info.duration_s, info.frame_count
    else:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    wall = time.perf_counter() - t0
    out.update(wall_s=round(wall, 3), duration_s=round(duration, 3), frames=frames, fps=round(frames / wall, 1), x_realtime=round(duration / wall, 2))
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    try:
        import torch

        if torch.cuda.is_available():
            out["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    except ImportError:
        pass
    truth = truth_for(p)
    if truth is not None and boundaries is not None:
        score = match_boundaries(boundaries, [(b.start, b.end) for b in truth.boundaries], tolerance=2)
        out.update(f1=round(score.f1, 4), precision=round(score.precision, 4), recall=round(score.recall, 4))
    return out


def run_isolated(method: str, path: str, device: str = "auto") -> dict[str, Any]:
    """Run one method on one file in a fresh process (its own peak RSS)."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_run, (method, path, device))


def benchmark(paths: list[Path], methods: list[str], device: str = "auto", log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every method on every file (see :func:`run_isolated`).

    A failure of one of vidscan's own methods stops the run with that error (a file vidscan
    cannot process is not a benchmark result); a peer's failure is kept as an error row, unless
    no method at all worked on a file (:class:`~vidscan.errors.InputError`)."""
    from vidscan.errors import InputError

    results = []
    for path in paths:
        errors = []
        for method in methods:
            log(f"{path.name}: {method} ...")
            try:
                results.append(run_isolated(method, str(path), device))
            except Exception as exc:
                if method not in PEERS:
                    raise
                errors.append(f"{method}: {type(exc).__name__}: {exc}")
                results.append({"method": method, "file": path.name, "error": f"{type(exc).__name__}: {exc}"})
        if errors and len(errors) == len(methods):
            raise InputError(f"no method could run on it ({'; '.join(errors)})", path=str(path))
    ratios = {}
    for path in paths:
        base = next((r for r in results if r["file"] == path.name and r["method"] == "pyscenedetect" and "wall_s" in r), None)
        for r in results:
            if base and r["file"] == path.name and "wall_s" in r and r["method"] != "pyscenedetect":
                ratios[f"{path.name}:{r['method']}"] = round(base["wall_s"] / r["wall_s"], 2)
    return {"results": results, "speed_vs_pyscenedetect": ratios}


def print_report(report: dict[str, Any], missing: list[str] = (), details: str | None = None) -> None:
    """The results as a table that fits 100 columns; per-stage times and memory are in the JSON
    (``details``). A peer in ``missing`` gets a row saying how to install it."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="vidscan bench (one machine, one run: compare rows with each other)", title_justify="left")
    for col in ("file", "method", "wall s", "x realtime", "frames/s", "vs PySceneDetect", "F1"):
        table.add_column(col, justify="left" if col in ("file", "method") else "right", overflow="fold")
    for r in report["results"]:
        if "error" in r:
            table.add_row(r["file"], r["method"], "-", "-", "-", "-", "-")
            continue
        ratio = report["speed_vs_pyscenedetect"].get(f"{r['file']}:{r['method']}")
        table.add_row(r["file"], r["method"], f"{r['wall_s']:.1f}", f"{r['x_realtime']:.1f}", f"{r['fps']:.0f}",
                      f"{ratio:.2f}x faster" if ratio else "", f"{r['f1']:.3f}" if "f1" in r else "")
    for method in missing:
        table.add_row("(all)", method, "-", "-", "-", "-", "-")
    console = Console(width=100)
    console.print(table)
    for r in report["results"]:
        if "error" in r:
            console.print(f"{r['file']} {r['method']}: {r['error']}", markup=False, highlight=False)
    for method in missing:
        console.print(f"{method}: not installed: {INSTALL_PEERS}", markup=False, highlight=False)
    if details:
        console.print(f"per-stage times, memory and frames decoded: {details}", markup=False, highlight=False)


def save(report: dict[str, Any], path: str | Path) -> None:
    from vidscan.atomic import atomic_write_text

    atomic_write_text(path, json.dumps(report, indent=2) + "\n")
