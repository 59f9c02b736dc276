"""``vidscan scenes``: scene boundaries of one video as a timeline."""

from __future__ import annotations

import click

from vidscan.cli.common import CREATES_FOLDERS, TaskSetup, default_output, format_option, task_options, write_stdout
from vidscan.cli.exports import check_breaks_exports, declared_outputs, export_options, wants_embeddings, write_exports


@click.command(short_help="Shot and scene boundaries of a video, as a timeline.")
@click.argument("video", type=click.Path(dir_okay=True, path_type=str))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str),
              help="Where to write the timeline: .csv, .json, .jsonl or .parquet ('-' for stdout). "
                   f"Default: ./<video>.scenes.csv. {CREATES_FOLDERS}")
@format_option("Timeline")
@click.option("--level", type=click.Choice(["shots", "scenes"]), default="shots", show_default=True,
              help="shots: a row per camera shot (every cut). scenes: a row per run of similar shots (a game block, an ad break).")
@task_options(sampling=("Embed N frames per second (default: every frame for features, 2 for clip).", "Embed every K-th frame instead."),
              detector=True, decode=True, cache=True, quiet="table")
@export_options
def scenes(video: str, output: str | None, fmt: str | None, level: str, run: TaskSetup, **exports) -> None:
    """Find scene boundaries (cuts, dissolves, fades) in VIDEO and write a timeline.

    Each row of the timeline is a segment: frames (end exclusive), seconds, HH:MM:SS.mmm
    timecodes and duration. JSON output adds the video's metadata and the settings used.

    \b
    Examples:
      vidscan scenes match.mp4
      vidscan scenes match.mp4 -o match.json
      vidscan scenes match.mp4 --embedder clip --sample-fps 2
    """
    from vidscan.formats import format_for
    from vidscan.pipeline import detect_scenes
    from vidscan.video.base import check_readable_file

    check_readable_file(video)  # fail on a bad path before loading any model
    check_breaks_exports(exports, has_breaks=False)
    fmt = format_for(output, fmt)
    target = None if output == "-" else output or str(default_output(video, "scenes", fmt))
    outputs = declared_outputs([video], target, exports)  # every output checked before decoding (exit 5)
    timeline = detect_scenes(
        video,
        embedder=run.build_embedder(),
        detector=run.detector,
        sampling=run.sampling,
        decode=run.decode,
        level=level.rstrip("s"),
        cache=run.cache(),
        progress=run.progress(),
        keep_embeddings=wants_embeddings(exports),
    )
    with outputs:  # all of them or none
        write_exports(timeline, video, quiet=run.quiet, **exports)
        if target is not None:
            timeline.write(target, fmt)
    if target is None:
        write_stdout(timeline.text(fmt))
        return
    if not run.quiet:
        from vidscan.cli.tables import print_summary

        print_summary(timeline, target)
