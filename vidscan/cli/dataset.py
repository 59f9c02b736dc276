"""``vidscan dataset``: labelled, diverse, by-video-split training images from footage."""

from __future__ import annotations

import click

from vidscan.cli.common import CREATES_FOLDERS, FiniteFloat, TaskSetup, task_options
from vidscan.config import MAX_SECONDS
from vidscan.errors import PartialFailure
from vidscan.options import COLLECT_HOLD_S, COLLECT_MAX_SIMILARITY, DATASET_MIN_CONFIDENCE, DATASET_PER_LABEL, DATASET_SPLITS
from vidscan.plural import plural


@click.command(short_help="Build a labelled training set (ImageFolder, Hugging Face, manifest) from videos.")
@click.argument("inputs", nargs=-1, required=True, metavar="VIDEO_OR_FOLDER...")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=str),
              help=f"The dataset folder (a re-run adds new videos to it). {CREATES_FOLDERS}")
@click.option("--labels", help="Comma-separated labels for zero-shot CLIP, e.g. ad,game,commentary.")
@click.option("--config", type=click.Path(dir_okay=False, path_type=str), help="TOML file with labels, prompts and examples (as classify).")
@click.option("--examples", type=click.Path(file_okay=False, path_type=str), help="Folder with one sub-folder of example images per label: few-shot, offline.")
@click.option("--probe", type=click.Path(dir_okay=False, path_type=str), help="A probe from train-probe: its labels and embedder.")
@click.option("--min-confidence", type=FiniteFloat(0, 1), default=DATASET_MIN_CONFIDENCE, show_default=True,
              help="Keep a frame only if its label's probability is at least this.")
@click.option("--max-similarity", type=FiniteFloat(0, 1, min_open=True), default=COLLECT_MAX_SIMILARITY, show_default=True,
              help="Keep a frame only if its cosine similarity to every frame kept for its label is below this (as collect).")
@click.option("--hold", type=FiniteFloat(min=0, max=MAX_SECONDS), default=COLLECT_HOLD_S, show_default=True,
              help="Keep a frame only if the picture still looks the same this many seconds later (no blends, flashes).")
@click.option("--per-label", type=click.IntRange(min=1), default=DATASET_PER_LABEL, show_default=True,
              help="At most this many images per label in the whole dataset (a seeded random choice beyond).")
@click.option("--splits", default=",".join(f"{s:g}" for s in DATASET_SPLITS), show_default=True,
              help="Shares of the videos in train,val,test: every frame of a video goes to one split.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the split and of the choice under the cap.")
@click.option("--format", "fmt", type=click.Choice(["png", "jpg"]), default="png", show_default=True,
              help="Image format (png: the exact decoded frame; jpg: smaller, lossy).")
@click.option("--webdataset", is_flag=True, help="Also write WebDataset tar shards (OUT/webdataset/<split>-NNNNNN.tar, 1000 images each).")
@task_options(sampling=("Frames per second to look at (default 5 for features, 2 for clip).", "Look at every K-th frame instead."),
              detector=False, decode=False, cache=True, quiet="summary")
def dataset(inputs: tuple[str, ...], out_dir: str, labels: str | None, config: str | None, examples: str | None, probe: str | None,
            min_confidence: float, max_similarity: float, hold: float, per_label: int, splits: str, seed: int, fmt: str, webdataset: bool,
            run: TaskSetup) -> None:
    """Turn videos into a labelled image dataset a trainer loads as it is.

    Frames are labelled as classify does (prompts, examples or a probe), kept when confident,
    steady and unlike the frames already kept for their label, capped per label, and split
    into train/val/test BY VIDEO. OUT gets an ImageFolder tree (OUT/train/<label>/...),
    per-split metadata.csv (Hugging Face `imagefolder`), manifest.csv and labels.json.

    \b
    Examples:
      vidscan dataset archive/ --out data/ --examples my_examples/
      vidscan dataset archive/ --out data/ --probe broadcast.npz --per-label 500
      vidscan dataset new_match.mp4 --out data/ --examples my_examples/   # adds one video
    """
    from vidscan.atomic import check_target
    from vidscan.classification import labelling_embedder
    from vidscan.dataset import make_dataset, parse_split_shares
    from vidscan.inputs import discover_inputs

    shares = parse_split_shares(splits)  # bad values: exit 2 before any work
    videos = discover_inputs(list(inputs))
    check_target(out_dir, folder=True)
    from dataclasses import replace

    # As classify: the embedder the labels need (the probe's own, CLIP for prompts), on this run's device.
    spec = run.embedder if run.embedder_given else replace(labelling_embedder(labels, config, examples, probe), device=run.embedder.device)
    result = make_dataset([v.path for v in videos], out_dir, labels=labels, config=config, examples=examples, probe=probe,
                          embedder=run.build_embedder(spec), sampling=run.sampling, min_confidence=min_confidence, max_similarity=max_similarity,
                          hold=hold, per_label=per_label, splits=shares, seed=seed, fmt=fmt, webdataset=webdataset, cache=run.cache(), backend=run.decode.backend,
                          progress=run.progress(), warn=run.warner)
    if not run.quiet:
        from rich.table import Table

        from vidscan.cli.tables import console_for_tables

        counts = result.counts() if len(result.manifest) else None
        if counts is not None:
            table = Table(title=f"{plural(len(result.manifest), 'image')} in {out_dir}", title_justify="left")
            table.add_column("label")
            for split in counts.columns:
                table.add_column(split, justify="right")
            for label, row in counts.iterrows():
                table.add_row(str(label), *(str(int(v)) for v in row))
            console_for_tables().print(table)
        added = sum(result.added.values())
        click.echo(f"added {plural(added, 'image')} from {plural(len(result.added), 'video')}"
                   + (f"; {plural(len(result.skipped), 'video')} already in the dataset, left as they were" if result.skipped else "")
                   + f" ({result.timings['total_s']:.1f}s)")
    if result.failed:
        raise PartialFailure(f"{plural(len(result.failed), 'video')} could not be added (first: {result.failed[0][1]})")
