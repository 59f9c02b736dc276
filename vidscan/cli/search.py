"""``vidscan search``: find the frames of a video (or a folder of videos) that match a text or an image."""

from __future__ import annotations

import click

from vidscan.cli.common import CREATES_FOLDERS, FiniteFloat, TaskSetup, format_option, task_options, write_table_to_stdout
from vidscan.config import MAX_SECONDS
from vidscan.errors import PartialFailure, UsageError
from vidscan.plural import plural


@click.command(short_help="Find the frames of videos that match a text or an image.")
@click.argument("args", nargs=-1, required=True, metavar="[QUERY] VIDEO_OR_FOLDER")
@click.option("--image", type=click.Path(dir_okay=False, path_type=str), help="Search with this image instead of a text query (works with --embedder features too).")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="How many hits to return (across all files).")
@click.option("--min-gap", type=FiniteFloat(min=0, max=MAX_SECONDS), default=2.0, show_default=True,
              help="At most one hit per this many seconds of each video (neighbouring frames of a shot all match); 0 keeps them all.")
@task_options(sampling=("Frames per second to search (default 2 for clip, every frame for features).", "Search every K-th frame instead."),
              detector=False, decode=False, cache=True, quiet="table")
@click.option("--as-typed", is_flag=True, help="Embed a text query only as typed (default: also as 'a photo of <query>.', averaged).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str),
              help=f"Also write the hits: .csv, .json, .jsonl or .parquet ('-' for stdout, CSV unless --format). {CREATES_FOLDERS}")
@format_option("Hits")
@click.option("--thumbnails", type=click.Path(file_okay=False, path_type=str),
              help=f"Save each hit's exact frame as a JPEG in this folder. {CREATES_FOLDERS}")
def search(args: tuple[str, ...], image: str | None, top: int, min_gap: float, run: TaskSetup, as_typed: bool, output: str | None,
           fmt: str | None, thumbnails: str | None) -> None:
    """Rank the frames of a video, or of every video under a folder, by similarity to QUERY or --image.

    A text QUERY is read by CLIP (it needs a text tower, and CLIP's weights); an --image query
    uses the weight-free features, like every other command, unless --embedder clip.
    Embeddings are cached: searching a video again (or one that 'scenes' or 'classify' already
    read with the same embedder and sampling) does not decode it again.

    \b
    Examples:
      vidscan search "goal celebration" match.mp4
      vidscan search "a man in a suit at a desk" archive/ --top 20 -o hits.csv
      vidscan search match.mp4 --image kickoff.jpg --thumbnails hits/
    """
    from vidscan.formats import format_for
    from vidscan.images import load_image
    from vidscan.search import DEFAULT_PROMPTS, find_videos, save_thumbnails, search as run_search

    query, target = _split_args(args, image)
    find_videos(target)  # fail on a bad path before loading any model
    if image is not None:
        load_image(image)
    fmt = format_for(output, fmt)
    from vidscan.atomic import Outputs

    # As classify: the weight-free default, unless a text query needs CLIP's text tower.
    embedder = run.embedder if run.embedder_given or query is None else run.embedder_named("clip")

    outputs = Outputs([image, *_input_files(target)])  # every output checked before decoding (exit 5)
    if output and output != "-":
        outputs.file(output)
    if thumbnails:
        outputs.folder(thumbnails)
    result = run_search(
        target, query, image=image, embedder=run.build_embedder(embedder), sampling=run.sampling, top=top, min_gap=min_gap,
        prompts=("{}",) if as_typed else DEFAULT_PROMPTS, cache=run.cache(), backend=run.decode.backend,
        progress=run.progress(), warn=run.warner,
    )
    with outputs:  # all of them or none
        if thumbnails:
            save_thumbnails(result, thumbnails, backend=run.decode.backend)
        if output and output != "-":
            result.write(output, fmt)
    if output == "-":
        write_table_to_stdout(fmt, result.to_dataframe(), result.to_dict())
    if not run.quiet and output != "-":
        _print_hits(result, output, thumbnails)
    if result.failed:
        raise PartialFailure(f"{len(result.failed)} of {plural(len(result.failed) + result.stats['videos'], 'video')} could not be searched "
                               f"(first: {result.failed[0][0]}); the results cover the others")


def _input_files(target: str) -> list[str]:
    """The videos a search reads (a folder's too), so no output can overwrite one of them."""
    from vidscan.search import find_videos

    return [str(v) for v in find_videos(target)]


def _split_args(args: tuple[str, ...], image: str | None) -> tuple[str | None, str]:
    """(text query or None, video or folder) from the positional arguments."""
    if len(args) > 2:
        raise UsageError("too many arguments: quote a query that has spaces, e.g. vidscan search \"goal celebration\" match.mp4")
    if len(args) == 2:
        if image is not None:
            raise UsageError("give either a text QUERY or --image, not both")
        if not " ".join(args[0].split()):
            raise UsageError("the query is empty: give some words, or an image with --image")
        return args[0], args[1]
    if image is None:
        raise UsageError("nothing to search for: vidscan search \"text\" VIDEO, or vidscan search VIDEO --image query.jpg")
    return None, args[0]


def _print_hits(result, output: str | None, thumbnails: str | None) -> None:
    from rich.table import Table

    from vidscan.cli.tables import console_for_tables

    settings, stats = result.settings, result.stats
    what = repr(settings["query"]) if settings["query"] is not None else f"image {settings['image']}"
    table = Table(title=f"top {len(result.hits)} for {what}", title_justify="left")
    for col, justify in (("#", "right"), ("file", "left"), ("time", "left"), ("frame", "right"), ("score", "right")):
        table.add_column(col, justify=justify)
    for h in result.hits:
        table.add_row(str(h.rank), h.file, h.timecode, str(h.frame), f"{h.score:.4f}")
    console = console_for_tables()
    console.print(table)
    console.print(f"searched {plural(stats['samples_scored'], 'frame')} of {plural(stats['videos'], 'video')} ({stats['videos_from_cache']} from the cache) "
                  f"in {stats['total_s']:.1f}s")
    if output:
        console.print(f"wrote {output}")
    if thumbnails:
        console.print(f"thumbnails in {thumbnails}")
