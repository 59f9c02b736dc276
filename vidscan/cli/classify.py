"""``vidscan classify``: what each segment is, and how much time each label got."""

from __future__ import annotations

import click

from vidscan.cli.common import (build_embedder, cache_options, config_defaults, decode_option, decoder_option, default_output, detector_option, embedder_options, labelling_options, make_cache,
                                 resolve_format, sampling_from)
from vidscan.cli.exports import declared_outputs, export_options, wants_embeddings, write_exports
from vidscan.detect import detector_options
from vidscan.errors import UsageError


@click.command()
@click.argument("video", type=click.Path(dir_okay=True, path_type=str))
@click.option("--labels", help="Comma-separated labels for zero-shot CLIP, e.g. ad,game,commentary.")
@click.option("--config", type=click.Path(dir_okay=False, path_type=str), help="TOML file with labels, prompts, examples and defaults.")
@click.option("--examples", type=click.Path(file_okay=False, path_type=str),
              help="Folder with one sub-folder of example images (or clips) per label: few-shot, works offline.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str),
              help="Labelled timeline (default ./<video>.labels.csv; not '-'); totals go beside it as <name>.totals.csv/.json.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), help="Timeline format (default: from -o, else csv).")
@embedder_options
@labelling_options
@click.option("--level", type=click.Choice(["scenes", "shots"]), default="scenes", show_default=True,
              help="scenes: a label per run of similar shots (an ad break, a game block). shots: a label per camera shot.")
@click.option("--boundaries", type=click.Choice(["frames", "samples"]), default="frames", show_default=True,
              help="frames: exact cuts from every frame (weight-free features); samples: cuts from the labelled "
                   "samples only (no every-frame pass; much faster with CLIP at 2/s, cuts within one sample).")
@detector_option
@decoder_option
@decode_option
@cache_options
@export_options
@click.option("-q", "--quiet", is_flag=True, help="No progress and no tables; errors only.")
def classify(video, labels, config, examples, output, fmt, embedder, model, pretrained, device, clip_fit, sample_fps, every,
             min_confidence, merge, per_frame, smooth, min_scene_len, penalty, level, boundaries, detector, decoder, decode, cache_dir, no_cache, quiet, **exports) -> None:
    """Label each scene of VIDEO (zero-shot from text, few-shot from examples) and total the time per label.

    \b
    Examples:
      vidscan classify match.mp4 --labels ad,game,commentary          # CLIP zero-shot
      vidscan classify match.mp4 --config sample_configs/sports_broadcast.toml
      vidscan classify match.mp4 --examples my_examples/              # weight-free, offline
      vidscan classify match.mp4 --labels ad,game --per-frame --merge
    """
    from vidscan.classify import choose_embedder, classify as run_classify, resolve_labels, totals_paths
    from vidscan.progress import ConsoleProgress, NullProgress
    from vidscan.video.base import check_readable_file

    if output == "-":  # it would be a file named "-", with "-.totals.csv" beside it
        raise UsageError("-o - (standard output) is not supported by classify: it writes a timeline and two totals files; give a file name")
    check_readable_file(video)
    label_set = resolve_labels(labels, config, examples)
    segment_options = config_defaults({"min_confidence": min_confidence, "merge": merge}, label_set.options)
    if sample_fps is None and every is None:
        sample_fps = label_set.options.get("sample_fps")
    sampling = sampling_from(sample_fps, every)
    fmt = resolve_format(output, fmt)
    target = output or str(default_output(video, "labels", fmt))
    outputs = declared_outputs([video, config], [target, *totals_paths(target)], exports)  # all checked before decoding (exit 5)
    chosen = embedder if embedder_explicit() else choose_embedder(label_set)
    emb = build_embedder(chosen, model, pretrained, device, clip_fit, quiet)
    warn = None if quiet else (lambda msg: click.echo(f"vidscan: warning: {msg}", err=True))
    result = run_classify(
        video,
        label_set,
        embedder=emb,
        sampling=sampling,
        per_frame=per_frame,
        smooth=smooth,
        detector=detector,
        detector_options=detector_options(detector, penalty=penalty, min_scene_len=min_scene_len, device=device),
        progress=NullProgress() if quiet else ConsoleProgress(),
        cache=make_cache(cache_dir, no_cache),
        warn=warn,
        boundaries=boundaries,
        backend=decoder,
        level=level.rstrip("s"),
        keep_embeddings=wants_embeddings(exports),
        decode=decode,
        **segment_options,
    )
    with outputs:  # all of them or none
        written = result.write(target, fmt)
        write_exports(result.timeline, video, totals=result.totals, quiet=quiet, **exports)
    if not quiet:
        from vidscan.cli.tables import print_summary, print_totals

        print_summary(result.timeline, str(written[0]))
        print_totals(result.totals, result.timeline.duration_s)
        click.echo(f"totals: {written[1]} and {written[2]}")


def embedder_explicit() -> bool:
    """Was --embedder given on the command line (rather than left to its default)?"""
    ctx = click.get_current_context()
    return ctx.get_parameter_source("embedder") == click.core.ParameterSource.COMMANDLINE
