"""``vidscan scenes``: scene boundaries of one video as a timeline."""

from __future__ import annotations

import json

import click

from vidscan.cli.common import (
    build_embedder,
    cache_options,
    decode_option,
    decoder_option,
    detection_options,
    detector_option,
    make_cache,
    default_output,
    embedder_options,
    FiniteFloat,
    resolve_format,
    sampling_from,
    write_stdout,
)
from vidscan.cli.exports import declared_outputs, export_options, wants_embeddings, write_exports
from vidscan.detect import detector_options


@click.command()
@click.argument("video", type=click.Path(dir_okay=True, path_type=str))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str),
              help="Where to write the timeline ('-' for stdout). Default: ./<video>.scenes.csv")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), help="Output format (default: from -o's extension, else csv).")
@embedder_options
@click.option("--sample-fps", type=FiniteFloat(min=0, min_open=True),
              help="Embed N frames per second (default: every frame for features, 2 for clip).")
@click.option("--every", type=click.IntRange(min=1), help="Embed every K-th frame instead.")
@detection_options
@decoder_option
@detector_option
@click.option("--level", type=click.Choice(["shots", "scenes"]), default="shots", show_default=True,
              help="shots: a row per camera shot (every cut). scenes: a row per run of similar shots (a game block, an ad break).")
@decode_option
@cache_options
@export_options
@click.option("-q", "--quiet", is_flag=True, help="No progress and no table; errors only.")
def scenes(video: str, output: str | None, fmt: str | None, embedder: str, model: str, pretrained: str, device: str,
           clip_fit: str, sample_fps: float | None, every: int | None, min_scene_len: float | None, penalty: float | None,
           decoder: str, detector: str, level: str, decode: str, cache_dir: str | None, no_cache: bool, quiet: bool, **exports) -> None:
    """Find scene boundaries (cuts, dissolves, fades) in VIDEO and write a timeline.

    Each row of the timeline is a segment: frames (end exclusive), seconds, HH:MM:SS.mmm
    timecodes and duration. JSON output adds the video's metadata and the settings used.

    \b
    Examples:
      vidscan scenes match.mp4
      vidscan scenes match.mp4 -o match.json
      vidscan scenes match.mp4 --embedder clip --sample-fps 2
    """
    from vidscan.pipeline import detect_scenes
    from vidscan.progress import ConsoleProgress, NullProgress
    from vidscan.video.base import check_readable_file

    check_readable_file(video)  # fail on a bad path before loading any model
    sampling = sampling_from(sample_fps, every)
    fmt = resolve_format(output, fmt)
    target = None if output == "-" else output or str(default_output(video, "scenes", fmt))
    outputs = declared_outputs([video], target, exports)  # every output checked before decoding (exit 5)
    emb = build_embedder(embedder, model, pretrained, device, clip_fit, quiet)
    progress = NullProgress() if quiet else ConsoleProgress()
    timeline = detect_scenes(
        video,
        embedder=emb,
        sampling=sampling,
        backend=decoder,
        progress=progress,
        detector=detector,
        detector_options=detector_options(detector, penalty=penalty, min_scene_len=min_scene_len, device=device),
        cache=make_cache(cache_dir, no_cache),
        decode=decode,
        level=level.rstrip("s"),
        keep_embeddings=wants_embeddings(exports),
    )
    with outputs:  # all of them or none
        write_exports(timeline, video, quiet=quiet, **exports)
        if target is not None:
            timeline.write(target, fmt)
    if target is None:
        text = timeline.to_dataframe().to_csv(index=False) if fmt == "csv" else json.dumps(timeline.to_dict(), indent=2) + "\n"
        write_stdout(text)
        return
    if not quiet:
        from vidscan.cli.tables import print_summary

        print_summary(timeline, target)
