"""``vidscan batch``: every video of an archive, resumable, in parallel, failures recorded."""

from __future__ import annotations

import os

import click

from vidscan.cli.common import CREATES_FOLDERS, FiniteFloat, TaskSetup, config_defaults, labelling_options, task_options
from vidscan.config import MAX_SECONDS, SCHEMA
from vidscan.errors import PartialFailure
from vidscan.plural import plural


@click.command(short_help="Run scenes or classify over a whole archive (resumable).")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=str),
              help=f"Output folder: per-video results under videos/, summary.csv/.parquet, the manifest. {CREATES_FOLDERS}")
@click.option("--config", type=click.Path(dir_okay=False, path_type=str),
              help="TOML config: [labels.*] (optional), [classify] and [batch] (workers, timeout_per_file, formats).")
@click.option("--labels", help="Comma-separated labels (zero-shot CLIP). Without any labels the batch runs scenes only.")
@click.option("--examples", type=click.Path(file_okay=False, path_type=str), help="Few-shot examples folder (one sub-folder per label).")
@click.option("--probe", type=click.Path(dir_okay=False, path_type=str), help="A probe from train-probe: its labels and its embedder.")
@labelling_options
@task_options(sampling=("Frames per second to label (default 2 for clip, every frame for features).", "Label every K-th frame instead."),
              detector=True, decode=True, cache=True, quiet="report")
@click.option("--format", "formats", multiple=True, type=click.Choice(SCHEMA["batch"]["formats"].choices),
              help="Per-video output: csv, json, jsonl, parquet (the timeline, and the totals when labelled), html (a report per video "
                   "plus DIR/index.html); repeat to combine.  [default: csv and json]")
@click.option("--workers", type=click.IntRange(min=1),
              help="Worker processes (local: default half the CPUs; ray: default one per cluster CPU).")
@click.option("--timeout-per-file", type=FiniteFloat(min=0, min_open=True, max=MAX_SECONDS),
              help="Seconds one video may take; its worker is then stopped and the video recorded as failed.")
@click.option("--retry-failed", is_flag=True, help="Retry videos that failed in an earlier run (by default they are kept as failed unless the file or the settings changed).")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: processes on this machine; ray: a Ray cluster (pip install 'vidscan[ray]').")
@click.option("--address", help="Ray cluster address (auto, HOST:PORT or ray://HOST:10001); default: start a private local Ray.")
def batch(inputs: tuple[str, ...], out_dir: str, config: str | None, labels: str | None, examples: str | None, probe: str | None, min_confidence: float | None,
          merge: bool | None, per_frame: bool, smooth: float, boundaries: str, run: TaskSetup, formats: tuple[str, ...], workers: int | None,
          timeout_per_file: float | None, retry_failed: bool, engine: str, address: str | None) -> None:
    """Run scenes (or, with labels, classify) over every video in INPUT... and keep a resumable record.

    INPUT is a folder (searched recursively for .mp4 .mkv .mov .avi .webm .ts .m4v .mpg .mpeg),
    a quoted glob ('archive/**/*.mp4'), a .txt/.lst/.list file with one path per line, or a
    video. Rerunning the same command skips finished videos, redoes those whose file or
    settings changed and finishes the rest. Exit code 1 when some videos failed.

    \b
    Examples:
      vidscan batch archive/ --out results/
      vidscan batch archive/ --out results/ --config sample_configs/archive_batch.toml
      vidscan batch 'archive/**/*.mkv' --out results/ --examples my_examples/ --timeout-per-file 1800
      vidscan batch paths.txt --out /shared/results --engine ray --address auto
    """
    from vidscan.batch import BatchOptions, BatchSettings, discover_inputs, load_batch_config, run_batch
    from vidscan.batch.progress import ConsoleBatchProgress, NullBatchProgress
    from vidscan.batch.settings import FORMATS, BatchConfig
    from vidscan.classification import choose_embedder, resolve_labels
    from vidscan.errors import UsageError
    from vidscan.options import LabellingSpec
    from vidscan.video import Sampling

    if address and engine != "ray":
        raise UsageError("--address is for --engine ray")
    cfg = load_batch_config(config) if config else BatchConfig()
    if labels is not None and cfg.labels is not None:
        raise UsageError("give either --labels or a config with [labels], not both")
    label_set = trained = None
    if probe is not None:
        from vidscan.classification import probe_embedder, probe_labels
        from vidscan.labels.probe import load_probe

        trained = load_probe(probe)
        label_set = probe_labels(trained, probe, labels, cfg.labels, examples)
    elif labels is not None or cfg.labels is not None or examples is not None:
        label_set = resolve_labels(labels if labels is not None else cfg.labels, None, examples)
    sampling = run.sampling
    if sampling is None and "sample_fps" in cfg.classify:
        sampling = Sampling.per_second(cfg.classify["sample_fps"])
    if label_set is None and (per_frame or merge or min_confidence is not None):
        run.warn("--per-frame/--merge/--min-confidence need labels; without labels the batch runs scenes only")
    embedder = run.embedder
    if trained is not None and not run.embedder_given:
        embedder = probe_embedder(trained, device=run.embedder.device)
    elif label_set is not None and not run.embedder_given:
        embedder = run.embedder_named(choose_embedder(label_set))
    run.check_weights(embedder)
    settings = BatchSettings(
        labels=label_set,
        embedder=embedder,
        detector=run.detector,
        decode=run.decode,
        sampling=sampling.describe() if sampling is not None else None,
        labelling=LabellingSpec(per_frame=per_frame, smooth=smooth, boundaries=boundaries).replaced(
            **config_defaults({"min_confidence": min_confidence, "merge": merge}, cfg.classify)),
        formats=tuple(dict.fromkeys(formats)) if formats else (cfg.formats or FORMATS),
        cache_dir=run.cache_dir,
        use_cache=run.use_cache,
        probe=os.path.abspath(probe) if probe is not None else None,
    )
    if workers is None:
        workers = cfg.workers or (None if engine == "ray" else max(1, (os.cpu_count() or 1) // 2))
    options = BatchOptions(workers=workers, timeout_per_file=timeout_per_file or cfg.timeout_per_file,
                           retry_failed=retry_failed, engine=engine, address=address)
    videos = discover_inputs(inputs)
    progress = NullBatchProgress() if run.quiet else ConsoleBatchProgress()
    report = run_batch(videos, out_dir, settings, options, progress=progress, warn=run.warner)
    if not run.quiet:
        _print_report(report)
    if report.failed:
        raise PartialFailure(f"{report.failed} of {plural(report.total, 'video')} failed; reasons in {report.summary_files[0]}")


def _print_report(report) -> None:
    notes = []
    if report.up_to_date:
        notes.append(f"{report.up_to_date} already up to date")
    if report.kept_failed:
        notes.append(f"{report.kept_failed} failed in an earlier run, not retried (--retry-failed)")
    if report.stale_reset:
        notes.append(f"{report.stale_reset} interrupted in an earlier run, redone")
    note = f" ({'; '.join(notes)})" if notes else ""
    speed = f", {report.video_seconds / report.wall_s:.1f}x realtime" if report.video_seconds and report.wall_s else ""
    workers = f" with {report.workers} worker(s)" if report.workers else ""
    click.echo(f"batch: {plural(report.total, 'video')}: {report.done} done, {report.failed} failed{note}; "
               f"this run processed {report.processed} in {report.wall_s:.1f} s{workers}{speed}", err=True)
    for path, error in report.failures[:20]:
        click.echo(f"  failed: {path}: {error}", err=True)
    if len(report.failures) > 20:
        click.echo(f"  ... and {len(report.failures) - 20} more (see the summary)", err=True)
    click.echo(f"summary: {', '.join(str(p) for p in report.summary_files)}", err=True)
