"""``vidscan classify``: what each segment is, and how much time each label got."""

from __future__ import annotations

import click

from vidscan.cli.common import CREATES_FOLDERS, TaskSetup, config_defaults, default_output, format_option, labelling_options, task_options
from vidscan.cli.exports import check_breaks_exports, declared_outputs, export_options, wants_embeddings, write_exports
from vidscan.errors import UsageError


@click.command(short_help="Label each segment and total the time per label.")
@click.argument("video", type=click.Path(dir_okay=True, path_type=str))
@click.option("--labels", help="Comma-separated labels for zero-shot CLIP, e.g. ad,game,commentary.")
@click.option("--config", type=click.Path(dir_okay=False, path_type=str), help="TOML file with labels, prompts, examples and defaults.")
@click.option("--examples", type=click.Path(file_okay=False, path_type=str),
              help="Folder with one sub-folder of example images (or clips) per label: few-shot, works offline.")
@click.option("--probe", type=click.Path(dir_okay=False, path_type=str),
              help="A probe from `vidscan train-probe` (NAME.npz): its labels, scored by its classifier instead of prompts or examples.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str),
              help="Labelled timeline: .csv, .json, .jsonl or .parquet (default ./<video>.labels.csv; not '-'); the totals go "
                   f"beside it in the same format as <name>.totals.<ext>. {CREATES_FOLDERS}")
@format_option("Timeline and totals")
@click.option("--level", type=click.Choice(["scenes", "shots"]), default="scenes", show_default=True,
              help="scenes: a label per run of similar shots (an ad break, a game block). shots: a label per camera shot.")
@labelling_options
@task_options(sampling=("Frames per second to label (default 2 for clip, every frame for features).", "Label every K-th frame instead."),
              detector=True, decode=True, cache=True, quiet="tables")
@export_options
def classify(video: str, labels: str | None, config: str | None, examples: str | None, probe: str | None, output: str | None, fmt: str | None, level: str,
             min_confidence: float | None, merge: bool | None, per_frame: bool, smooth: float, boundaries: str, run: TaskSetup, **exports) -> None:
    """Label each scene of VIDEO (zero-shot from text, few-shot from examples) and total the time per label.

    \b
    Examples:
      vidscan classify match.mp4 --labels ad,game,commentary          # CLIP zero-shot
      vidscan classify match.mp4 --config sample_configs/sports_broadcast.toml
      vidscan classify match.mp4 --examples my_examples/              # weight-free, offline
      vidscan classify match.mp4 --labels ad,game --per-frame --merge
    """
    from vidscan.classification import choose_embedder, classify as run_classify, resolve_labels, totals_path
    from vidscan.formats import format_for
    from vidscan.options import LabellingSpec
    from vidscan.video import Sampling
    from vidscan.video.base import check_readable_file

    if output == "-":  # it would be a file named "-", with "-.totals.csv" beside it
        raise UsageError("-o - (standard output) is not supported by classify: it writes a timeline and a totals file; give a file name")
    check_readable_file(video)
    trained = None
    if probe is not None:
        from vidscan.classification import probe_embedder, probe_labels
        from vidscan.labels.probe import load_probe

        trained = load_probe(probe)
        label_set = probe_labels(trained, probe, labels, config, examples)
    else:
        label_set = resolve_labels(labels, config, examples)
    check_breaks_exports(exports, has_breaks=label_set.has_cues)
    labelling = LabellingSpec(per_frame=per_frame, smooth=smooth, boundaries=boundaries).replaced(
        **config_defaults({"min_confidence": min_confidence, "merge": merge}, label_set.options))
    sampling = run.sampling
    if sampling is None and "sample_fps" in label_set.options:
        sampling = Sampling.per_second(label_set.options["sample_fps"])
    fmt = format_for(output, fmt)
    target = output or str(default_output(video, "labels", fmt))
    outputs = declared_outputs([video, config], [target, totals_path(target, fmt)], exports)  # all checked before decoding (exit 5)
    if run.embedder_given:
        embedder = run.embedder
    elif trained is not None:
        embedder = probe_embedder(trained, device=run.embedder.device)
    else:
        embedder = run.embedder_named(choose_embedder(label_set))
    result = run_classify(
        video,
        None if trained is not None else label_set,
        probe=trained,
        embedder=run.build_embedder(embedder),
        detector=run.detector,
        sampling=sampling,
        decode=run.decode,
        labelling=labelling,
        level=level.rstrip("s"),
        cache=run.cache(),
        progress=run.progress(),
        warn=run.warner,
        keep_embeddings=wants_embeddings(exports),
    )
    with outputs:  # all of them or none
        written = result.write(target, fmt)
        write_exports(result.timeline, video, totals=result.totals, quiet=run.quiet, **exports)
    if not run.quiet:
        from vidscan.cli.tables import print_summary, print_totals

        print_summary(result.timeline, str(written[0]))
        print_totals(result.totals, result.timeline.duration_s)
        click.echo(f"totals: {written[1]}")
