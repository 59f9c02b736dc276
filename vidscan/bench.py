"""Throughput benchmark: per-stage times, CPU, x realtime, peak memory, F1 vs PySceneDetect.

Each (file, method) runs in a fresh process, so peak RSS is that run's own and one run's
caches cannot help the next; its wall time is the whole process's, start-up included, as a
user would time it. With ``repeat`` the methods take turns (interleaved, so a slow spell on
a shared machine hits every method alike) and the median is kept. The decode limits run
alongside: FFmpeg decoding every frame, and only the keyframes, of the same file. Timings
are ratios within one run on one machine: compare methods with each other, not with numbers
from another machine.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

#: ``scenes`` is the default (``--decode auto``); ``scenes-full`` / ``scenes-coarse`` force a strategy.
METHODS = ("scenes", "scenes-full", "scenes-coarse", "clip-2fps", "classify", "classify-coarse", "pyscenedetect",
           "ffmpeg-all", "ffmpeg-keyframes")
#: The decode limits: FFmpeg decoding every frame (what any every-frame detector pays at least)
#: and only the keyframes (what a keyframes-first pass pays at least), every core, no output.
DECODE_LIMITS = {"ffmpeg-all": [], "ffmpeg-keyframes": ["-skip_frame", "nokey"]}
#: The timings that are medians over repeats (the rest of a row comes from its median run).
TIMED = ("wall_s", "process_wall_s", "cpu_s")
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


def _cpu_s(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _decode_limit(method: str, path: Path) -> dict[str, Any]:
    """FFmpeg's own decode of the video stream (all frames, or keyframes only), every core."""
    from vidscan.ffmpeg_bin import ffmpeg_exe

    cmd = [ffmpeg_exe(), "-v", "error", "-nostdin", *DECODE_LIMITS[method], "-i", str(path), "-map", "0:v:0", "-f", "null", "-"]
    before, t0 = _cpu_s(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    # FFmpeg is its own process: its wall time is the process's (the probe after it is ours).
    return {"cpu_s": _cpu_s(resource.RUSAGE_CHILDREN) - before, "own_process_wall_s": wall}


def _keyframe_share(path: Path, frames: int) -> float | None:
    from vidscan.video.packets import index_packets

    index = index_packets(str(path))
    return len(index.key_pts) / frames if index is not None and frames else None


def _run(method: str, path: str, device: str) -> dict[str, Any]:
    import vidscan
    from vidscan.evaluate import match_boundaries

    p = Path(path)
    out: dict[str, Any] = {"method": method, "file": p.name}
    t0, cpu0 = time.perf_counter(), _cpu_s()
    boundaries: list[int] | None = None
    if method in ("scenes", "scenes-full", "scenes-coarse"):
        tl = vidscan.detect_scenes(p, decode={"scenes": None, "scenes-full": "full", "scenes-coarse": "coarse"}[method])
        boundaries = [s.start_frame for s in tl.segments[1:]]
        out["stages_s"] = dict(tl.stats["timings_s"])
        out["decode"] = tl.settings.get("decode", "full")
        out["decoded_share"] = 1.0
        if "coarse" in tl.stats:
            coarse = tl.stats["coarse"]
            out["full_rate_fraction"] = coarse["full_rate_fraction"]
            out["decoded_share"] = coarse.get("decoded_share", coarse["full_rate_fraction"])
            if "predicted_fine_cost" in coarse:
                out["predicted_fine_cost"] = coarse["predicted_fine_cost"]
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
        out["decoded_share"] = 1.0
    elif method in DECODE_LIMITS:
        out.update(_decode_limit(method, p))
        info = vidscan.probe(str(p))
        duration, frames = info.duration_s, info.frame_count
        out["decoded_share"] = 1.0 if method == "ffmpeg-all" else _keyframe_share(p, frames)
    else:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    wall = time.perf_counter() - t0
    out.setdefault("cpu_s", _cpu_s() - cpu0)
    out.update(wall_s=round(wall, 3), duration_s=round(duration, 3), frames=frames, fps=round(frames / wall, 1), x_realtime=round(duration / wall, 2))
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    torch = sys.modules.get("torch")  # only when the method used it: importing it would count as run time
    if torch is not None and torch.cuda.is_available():
        out["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    truth = truth_for(p)
    if truth is not None and boundaries is not None:
        score = match_boundaries(boundaries, [(b.start, b.end) for b in truth.boundaries], tolerance=2)
        out.update(f1=round(score.f1, 4), precision=round(score.precision, 4), recall=round(score.recall, 4))
    return out


def run_isolated(method: str, path: str, device: str = "auto") -> dict[str, Any]:
    """Run one method on one file in a fresh process (its own peak RSS); ``process_wall_s``
    is the whole process, start-up included."""
    ctx = mp.get_context("spawn")
    t0 = time.perf_counter()
    with ctx.Pool(1) as pool:
        out = pool.apply(_run, (method, path, device))
    out["process_wall_s"] = round(out.pop("own_process_wall_s", time.perf_counter() - t0), 3)
    return out


def _median_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median process wall time, with each timing replaced by its median."""
    ordered = sorted(runs, key=lambda r: r["process_wall_s"])
    row = dict(ordered[(len(ordered) - 1) // 2])
    for key in TIMED:
        values = [r[key] for r in runs if r.get(key) is not None]
        if values:
            row[key] = round(statistics.median(values), 3)
    row["repeats"] = len(runs)
    row["x_realtime"] = round(row["duration_s"] / row["process_wall_s"], 2) if row.get("duration_s") else None
    return row


def benchmark(paths: list[Path], methods: list[str], device: str = "auto", log: Callable[[str], None] = print,
              repeat: int = 1) -> dict[str, Any]:
    """Run every method on every file ``repeat`` times, the methods taking turns (see
    :func:`run_isolated`); each row holds the medians.

    A failure of one of vidscan's own methods stops the run with that error (a file vidscan
    cannot process is not a benchmark result); a peer's or a decode limit's failure is kept as
    an error row, unless no method at all worked on a file (:class:`~vidscan.errors.InputError`)."""
    from vidscan.errors import InputError

    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    failed: dict[tuple[str, str], str] = {}
    for round_ in range(repeat):
        for path in paths:
            for method in methods:
                if (path.name, method) in failed:
                    continue
                log(f"{path.name}: {method}" + (f" (run {round_ + 1} of {repeat})" if repeat > 1 else "") + " ...")
                try:
                    runs.setdefault((path.name, method), []).append(run_isolated(method, str(path), device))
                except Exception as exc:
                    if method not in PEERS and method not in DECODE_LIMITS:
                        raise
                    failed[(path.name, method)] = f"{type(exc).__name__}: {exc}"
            if round_ == 0 and all((path.name, m) in failed for m in methods):
                reasons = "; ".join(f"{m}: {failed[(path.name, m)]}" for m in methods)
                raise InputError(f"no method could run on it ({reasons})", path=str(path))
    results = []
    for path in paths:
        for method in methods:
            key = (path.name, method)
            if key in failed:
                results.append({"method": method, "file": path.name, "error": failed[key]})
            else:
                results.append(_median_row(runs[key]))
    ratios = {}
    for path in paths:
        base = next((r for r in results if r["file"] == path.name and r["method"] == "pyscenedetect" and "wall_s" in r), None)
        for r in results:
            if base and r["file"] == path.name and "wall_s" in r and r["method"] != "pyscenedetect":
                ratios[f"{path.name}:{r['method']}"] = round(base["process_wall_s"] / r["process_wall_s"], 2)
    return {"results": results, "speed_vs_pyscenedetect": ratios, "repeats": repeat,
            "timing": "process_wall_s: the whole process, start-up included; ratios use it"}


def print_report(report: dict[str, Any], missing: list[str] = (), details: str | None = None) -> None:
    """The results as a table that fits 100 columns; per-stage times and memory are in the JSON
    (``details``). A peer in ``missing`` gets a row saying how to install it."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="vidscan bench (one machine, one run: compare rows with each other)", title_justify="left")
    columns = ("file", "method", "wall s", "CPU s", "x realtime", "decoded", "vs PySceneDetect", "F1")
    for col in columns:
        table.add_column(col, justify="left" if col in ("file", "method") else "right", overflow="fold")
    for r in report["results"]:
        if "error" in r:
            table.add_row(r["file"], r["method"], *["-"] * (len(columns) - 2))
            continue
        ratio = report["speed_vs_pyscenedetect"].get(f"{r['file']}:{r['method']}")
        method = r["method"] + (f" ({r['decode']})" if r["method"] == "scenes" and "decode" in r else "")
        share = r.get("decoded_share")
        table.add_row(r["file"], method, f"{r['process_wall_s']:.1f}", f"{r['cpu_s']:.1f}", f"{r['x_realtime']:.1f}",
                      f"{share:.0%}" if share is not None else "", _ratio_text(ratio), f"{r['f1']:.3f}" if "f1" in r else "")
    for method in missing:
        table.add_row("(all)", method, *["-"] * (len(columns) - 2))
    console = Console(width=100)
    console.print(table)
    for r in report["results"]:
        if "error" in r:
            console.print(f"{r['file']} {r['method']}: {r['error']}", markup=False, highlight=False)
    for method in missing:
        console.print(f"{method}: not installed: {INSTALL_PEERS}", markup=False, highlight=False)
    if details:
        console.print(f"per-stage times, memory and frames decoded: {details}", markup=False, highlight=False)


def _ratio_text(ratio: float | None) -> str:
    if not ratio:
        return ""
    return f"{ratio:.2f}x faster" if ratio >= 1 else f"{1 / ratio:.2f}x slower"


def save(report: dict[str, Any], path: str | Path) -> None:
    from vidscan.atomic import atomic_write_text

    atomic_write_text(path, json.dumps(report, indent=2) + "\n")
