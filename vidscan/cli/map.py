"""``vidscan map``: every sampled frame of a collection on a 2-D map, in clusters, as one HTML page."""

from __future__ import annotations

import click

from vidscan.cli.common import CREATES_FOLDERS, FiniteFloat, TaskSetup, format_option, task_options
from vidscan.errors import PartialFailure
from vidscan.mapping.defaults import CLUSTER_METHODS, DEFAULT_CLUSTER_METHOD, DEFAULT_PROJECTION, DEFAULT_THUMBNAILS, PROJECTIONS
from vidscan.plural import plural


@click.command("map", short_help="Map the frames of videos in 2-D, clustered, as one HTML page.")
@click.argument("inputs", nargs=-1, required=True, metavar="VIDEO_OR_FOLDER...")
@click.option("--out", "out", default="map.html", show_default=True, type=click.Path(dir_okay=False, path_type=str),
              help=f"The page (self-contained HTML, opens offline). {CREATES_FOLDERS}")
@click.option("--table", type=click.Path(dir_okay=False, path_type=str),
              help="The points table: .csv, .json, .jsonl or .parquet (default <out>.clusters.csv); the cluster summary goes beside it.")
@format_option("Points table and summary")
@click.option("--clusters", type=click.IntRange(min=1, max=500), help="Number of k-means clusters (default: estimated by silhouette, 2-30).")
@click.option("--cluster-method", type=click.Choice(CLUSTER_METHODS), default=DEFAULT_CLUSTER_METHOD, show_default=True,
              help="kmeans: every point in a cluster. hdbscan: dense groups only, the rest 'no cluster' (no --clusters).")
@click.option("--projection", type=click.Choice(PROJECTIONS), default=DEFAULT_PROJECTION, show_default=True,
              help="How points are laid out in 2-D: tsne (keeps neighbours best; openTSNE when installed), umap (faster at 10k points, "
                   "keeps fewer neighbours), pca (instant, similar frames overlap).")
@click.option("--collapse", type=FiniteFloat(0, 1, min_open=True),
              help="One point per run of consecutive frames at least this alike (cosine, e.g. 0.98), with its count.")
@click.option("--probe", type=click.Path(dir_okay=False, path_type=str), help="Label every point with this probe (from train-probe).")
@click.option("--examples", type=click.Path(file_okay=False, path_type=str), help="Label every point few-shot from this examples folder.")
@click.option("--thumbnails", type=click.IntRange(min=0), default=DEFAULT_THUMBNAILS, show_default=True,
              help="Points with a thumbnail of their own (beyond: the nearest thumbnailed frame of the video; 0: none).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the clustering and the layout.")
@task_options(sampling=("Frames per second put on the map (default 1).", "Map every K-th frame instead."),
              detector=False, decode=False, cache=True, quiet="summary")
def map_command(inputs: tuple[str, ...], out: str, table: str | None, fmt: str | None, clusters: int | None, cluster_method: str, projection: str,
                collapse: float | None, probe: str | None, examples: str | None, thumbnails: int, seed: int, run: TaskSetup) -> None:
    """Put every sampled frame of the videos (files, folders, globs) on a 2-D map: similar
    frames together, clusters named and counted, hover for the frame, click to open the video there.

    Embeddings come from the cache where present (a video that scenes/classify read is not
    decoded again). Writes OUT (HTML), the points table (video, frame, time, cluster, x, y,
    label, confidence) and a cluster summary (size, share of runtime, representative frames).

    \b
    Examples:
      vidscan map archive/ --out archive_map.html
      vidscan map match.mp4 --collapse 0.98 --probe broadcast.npz
      vidscan map archive/ --embedder clip --clusters 12 -o map.html --table map.parquet
    """
    from vidscan.atomic import Outputs
    from vidscan.formats import format_for
    from vidscan.inputs import discover_inputs
    from vidscan.mapping.build import FrameMap, map_videos

    if probe is not None and examples is not None:
        from vidscan.errors import UsageError

        raise UsageError("give either --probe or --examples, not both")
    if table is not None:
        format_for(table, fmt)  # a name and --format that disagree: exit 2 before any work
    videos = discover_inputs(list(inputs))  # a bad path fails before any model is loaded
    paths = FrameMap.output_paths(out, table, fmt)
    outputs = Outputs([v.path for v in videos] + [probe])
    for path in paths:
        outputs.file(path)  # checked before decoding (exit 5)
    built = map_videos([v.path for v in videos], embedder=run.build_embedder(), sampling=run.sampling, clusters=clusters,
                       cluster_method=cluster_method, projection=projection, collapse=collapse, probe=probe, examples=examples,
                       thumbnails=thumbnails, cache=run.cache(), backend=run.decode.backend, progress=run.progress(), warn=run.warner, seed=seed)
    with outputs:
        written = built.write(out, table, fmt)
    if not run.quiet:
        data = built.data
        found = len([c for c in data.clusters if c.id >= 0])
        click.echo(f"mapped {plural(data.size, 'point')} of {plural(len(data.videos), 'video')} in {plural(found, 'cluster')} "
                   f"({built.timings['total_s']:.1f}s: embed {built.timings['embed_s']:.1f}, cluster {built.timings['cluster_s']:.1f}, "
                   f"layout {built.timings['project_s']:.1f}); wrote {', '.join(str(p) for p in written)}")
    if built.failed:
        raise PartialFailure(f"{plural(len(built.failed), 'video')} could not be mapped (first: {built.failed[0][1]})")
