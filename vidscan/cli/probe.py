"""``vidscan train-probe``: distil labelled frames into a small classifier that ``classify --probe`` uses."""

from __future__ import annotations

import click

from vidscan.cli.common import CREATES_FOLDERS, FiniteFloat, TaskSetup, task_options
from vidscan.options import PROBE_C, PROBE_FOLDS


@click.command("train-probe", short_help="Train a linear probe on labelled frames for classify --probe.")
@click.argument("source", type=click.Path(path_type=str))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=str),
              help=f"The probe: NAME.npz (weights) and NAME.json beside it (labels, embedder, accuracy). {CREATES_FOLDERS}")
@click.option("--video", type=click.Path(dir_okay=False, path_type=str),
              help="SOURCE is classify's labelled timeline (CSV/JSON/Parquet, corrected by hand or not) of this video: train on its frames.")
@click.option("--c", "c", type=FiniteFloat(min=0, min_open=True), default=PROBE_C, show_default=True,
              help="Inverse regularisation strength of the logistic regression (higher fits the examples more closely).")
@click.option("--folds", type=click.IntRange(min=2, max=20), default=PROBE_FOLDS, show_default=True, help="Cross-validation folds for the accuracy report.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the cross-validation folds.")
@task_options(sampling=("With --video: frames per second to train on (default 5 for features, 2 for clip).", "With --video: every K-th frame."),
              detector=False, decode=False, cache=True, quiet="report")
def train_probe(source: str, out: str, video: str | None, c: float, folds: int, seed: int, run: TaskSetup) -> None:
    """Train a probe on SOURCE: a folder with one sub-folder of images per label, or a dataset
    made by `vidscan dataset` (its manifest: trains on the train split, scores the val split).

    With --video, SOURCE is a labelled timeline of that video (classify's output, its labels
    corrected where they were wrong): the probe learns the labels from the video's frames.

    Prints the cross-validated accuracy per label (folds never split a video when the video of
    each image is known). Use the probe with `vidscan classify VIDEO --probe NAME.npz`.

    \b
    Examples:
      vidscan train-probe my_examples/ --out broadcast.npz
      vidscan train-probe dataset/ --out broadcast.npz --embedder clip
      vidscan train-probe match.labels.csv --video match.mp4 --out broadcast.npz
    """
    from vidscan.atomic import Outputs
    from vidscan.labels.probe import probe_paths, save_probe
    from vidscan.training import train_probe as run_train

    from pathlib import Path

    if Path(out).suffix.lower() not in (".npz", ".json"):
        from vidscan.errors import UsageError

        raise UsageError(f"a probe is two files, NAME.npz and NAME.json: give --out NAME.npz (got {out!r})")
    weights, meta = probe_paths(out)
    out = str(weights)
    outputs = Outputs([source, video])
    outputs.file(weights)
    outputs.file(meta)  # checked before any embedding (exit 5)
    spec = run.embedder
    run.check_weights(spec)
    if video is not None:
        from vidscan.video.base import check_readable_file

        check_readable_file(video)
    elif run.sampling is not None:
        from vidscan.errors import UsageError

        raise UsageError("--sample-fps/--every choose a video's frames: give them with --video")
    probe = run_train(source, video=video, embedder=spec, sampling=run.sampling, c=c, folds=folds, seed=seed, cache=run.cache(),
                      progress=run.progress())
    with outputs:
        written = save_probe(probe, out)
    if not run.quiet:
        print_report(probe)
        click.echo(f"wrote {written[0]} and {written[1]}")


def print_report(probe) -> None:
    """Per label: training examples, cross-validated and held-out accuracy."""
    from rich.table import Table

    from vidscan.cli.tables import console_for_tables

    report = probe.report
    held = report.held_out.get("per_label", {}) if report.held_out else {}
    how = f"{report.folds}-fold, grouped by {report.grouped_by}" if report.grouped_by else f"{report.folds}-fold, not grouped by video"
    table = Table(title=f"probe over {probe.embedder.get('name')} embeddings ({how})", title_justify="left")
    for col in ("label", "examples", "cv accuracy", *(["val accuracy"] if held else [])):
        table.add_column(col, justify="left" if col == "label" else "right")

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}%"

    for name in probe.names:
        table.add_row(name, str(report.examples.get(name, 0)), pct(report.per_label.get(name)), *([pct(held.get(name))] if held else []))
    table.add_row("all", str(sum(report.examples.values())), pct(report.accuracy), *([pct(report.held_out.get("accuracy"))] if held else []))
    console_for_tables().print(table)
    if report.accuracy is None:
        click.echo("(too few examples per label to cross-validate; the probe was trained on all of them)")
    elif report.grouped_by is None:
        click.echo("note: the folds may hold frames of the same video on both sides, which flatters the accuracy; "
                   "a dataset made by `vidscan dataset` (or collect-named images) is grouped by video")
    elif report.grouped_by == "segment":
        click.echo("note: the folds are grouped by segment of one video; for a score on footage it never saw, "
                   "classify another labelled video with the probe")
