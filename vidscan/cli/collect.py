"""``vidscan collect``: save the frames of a video that differ from each other (training-data collection)."""

from __future__ import annotations

import click

from vidscan.cli.common import CREATES_FOLDERS, FiniteFloat, TaskSetup, task_options
from vidscan.config import MAX_SECONDS
from vidscan.options import COLLECT_HOLD_S, COLLECT_MAX_SIMILARITY


@click.command(short_help="Save the visually distinct frames of a video as images.")
@click.argument("video", type=click.Path(dir_okay=True, path_type=str))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=str),
              help=f"Folder for the images and manifest.csv. {CREATES_FOLDERS}")
@click.option("--max-similarity", type=FiniteFloat(0, 1, min_open=True), default=COLLECT_MAX_SIMILARITY, show_default=True,
              help="Keep a frame only if its cosine similarity to every frame kept so far is below this: lower keeps fewer, more different frames.")
@click.option("--hold", type=FiniteFloat(min=0, max=MAX_SECONDS), default=COLLECT_HOLD_S, show_default=True,
              help="Keep a frame only if the picture still looks the same (similarity >= 0.9) this many seconds later: skips dissolve blends and flashes (0: off).")
@task_options(sampling=("Frames per second to look at (default 5 for features, 2 for clip).", "Look at every K-th frame instead."),
              detector=False, decode=False, cache=False, quiet="summary")
@click.option("--format", "fmt", type=click.Choice(["jpg", "png"]), default="jpg", show_default=True, help="Image format.")
def collect(video: str, out_dir: str, max_similarity: float, hold: float, run: TaskSetup, fmt: str) -> None:
    """Save the visually distinct frames of VIDEO as images, e.g. to build a training set.

    Frames are taken in time order; one is kept when it differs from everything kept before
    (cosine similarity below --max-similarity), so each distinct picture is saved about once
    instead of 25 times a second. OUT/manifest.csv lists each image with its frame, time and
    the earlier kept frame it is closest to.

    \b
    Examples:
      vidscan collect match.mp4 --out stills/
      vidscan collect match.mp4 --out stills/ --max-similarity 0.8 --format png
      vidscan collect match.mp4 --out stills/ --embedder clip --sample-fps 1
    """
    from vidscan.collect import collect as run_collect
    from vidscan.video.base import check_readable_file

    check_readable_file(video)  # fail on a bad path before loading any model
    from vidscan.atomic import Outputs

    outputs = Outputs([video])
    outputs.folder(out_dir)  # checked before decoding (exit 5)
    emb = run.build_embedder()
    with outputs:  # the stills and the manifest: all of them or none
        result = run_collect(video, out_dir, max_similarity=max_similarity, hold=hold, embedder=emb, sampling=run.sampling, fmt=fmt,
                             backend=run.decode.backend, progress=run.progress())
    if not run.quiet:
        click.echo(f"kept {len(result.kept)} of {result.samples} sampled frames ({result.settings['sampling']}, "
                   f"max similarity {max_similarity:g}) in {result.timings['total_s']:.1f}s; manifest: {result.manifest}")
