"""``vidscan bench``: throughput of vidscan (and PySceneDetect) on your files."""

from __future__ import annotations

from pathlib import Path

import click

from vidscan.bench import DEFAULT_REPORT
from vidscan.cli.common import CREATES_FOLDERS


@click.command(short_help="Time vidscan (and PySceneDetect) on your files.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--methods", default="scenes,pyscenedetect,ffmpeg-all,ffmpeg-keyframes", show_default=True,
              help="Comma-separated: scenes (the default decode, auto), scenes-full, scenes-coarse, clip-2fps, classify, "
                   "classify-coarse, pyscenedetect; ffmpeg-all and ffmpeg-keyframes are the decode limits (FFmpeg "
                   "decoding every frame, or only the keyframes).")
@click.option("--repeat", type=click.IntRange(min=1), default=1, show_default=True,
              help="Runs of each method per file, taken in turns; the table shows medians.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True, help="Where models run (auto: the GPU when there is one).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_REPORT, show_default=True,
              help=f"Where to write the full results (per-stage times, memory, frames decoded) as JSON. {CREATES_FOLDERS}")
def bench(paths: tuple[Path, ...], methods: str, repeat: int, device: str, json_out: Path) -> None:
    """Time each method on PATHS (files or folders of videos), each run a whole process:
    wall and CPU seconds, x realtime, share of frames decoded, per-stage seconds, peak memory,
    and F1 where a <name>.truth.json sits beside the video."""
    from vidscan.bench import INSTALL_PEERS, METHODS, benchmark, find_inputs, missing_peers, print_report, save
    from vidscan.errors import UsageError

    chosen = [m.strip() for m in methods.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in METHODS]
    if not chosen:
        raise UsageError(f"--methods names no method; choose from {', '.join(METHODS)}")
    if unknown:
        raise UsageError(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    missing = missing_peers(chosen)
    if missing and len(missing) == len(chosen):
        raise UsageError(f"nothing to run: {', '.join(missing)} is not installed: {INSTALL_PEERS}")
    chosen = [m for m in chosen if m not in missing]
    files = find_inputs(list(paths))  # every input checked before any timing run (exit 3)
    from vidscan.atomic import check_target

    check_target(json_out, inputs=files)  # before any timing run (exit 5)
    report = benchmark(files, chosen, device, log=lambda m: click.echo(m, err=True), repeat=repeat)
    report["not_installed"] = {method: INSTALL_PEERS for method in missing}
    save(report, json_out)
    print_report(report, missing, details=str(json_out))
