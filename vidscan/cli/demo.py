"""``vidscan demo-video``: a synthetic sports broadcast with exact ground truth."""

from __future__ import annotations

from pathlib import Path

import click

from vidscan.cli.common import CREATES_FOLDERS, FiniteFloat
from vidscan.plural import plural


def _size(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"use WIDTHxHEIGHT, e.g. 640x360 (got {value!r})") from None
    if w < 32 or h < 32 or w % 2 or h % 2:
        raise click.BadParameter("width and height must be even and at least 32")
    return w, h


@click.command("demo-video", short_help="Make a synthetic broadcast with known boundaries (offline).")
@click.argument("output", type=click.Path(dir_okay=False, path_type=str), default="demo.mp4")
@click.option("--seconds", type=FiniteFloat(min=5, max=4 * 3600), default=40, show_default=True, help="Length of the video.")
@click.option("--size", default="640x360", show_default=True, callback=_size, help="Frame size, WIDTHxHEIGHT.")
@click.option("--fps", type=click.IntRange(min=5, max=120), default=25, show_default=True, help="Frames per second of the video.")
@click.option("--seed", type=int, default=7, show_default=True, help="Another seed gives another broadcast.")
@click.option("--examples", type=click.Path(file_okay=False, path_type=str),
              help=f"Also write few-shot example images (game/ad/commentary sub-folders) to this folder. {CREATES_FOLDERS}")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def demo_video(output: str, seconds: float, size: tuple[int, int], fps: int, seed: int, examples: str | None, quiet: bool) -> None:
    """Make OUTPUT (default demo.mp4): a synthetic sports broadcast, generated offline.

    Studio commentary, game blocks cut between cameras (with flashes and pans) and ad breaks,
    joined by cuts, dissolves and dips to black: every frame is generated with ffmpeg's
    built-in sources, so the exact boundaries and labels are known. They are written to
    OUTPUT's name + .truth.json (none for a device or FIFO). With --examples, example images for few-shot
    labelling are written too (from other random seeds, never frames of OUTPUT):

    \b
      vidscan demo-video demo.mp4 --examples demo_examples
      vidscan classify demo.mp4 --examples demo_examples
    """
    from vidscan.synth import render
    from vidscan.synth.corpus import broadcast_program, write_examples

    from vidscan.atomic import Outputs, check_target

    outputs = Outputs()  # checked before rendering (exit 5); the video and its truth, or neither
    outputs.file(output)
    # A device or FIFO (/dev/null, a named pipe) is written through and has no folder to hold
    # a truth file beside it: "/dev/null.truth.json" would be a file in /dev.
    truth_path = None if check_target(output).kind == "stream" else Path(output).with_suffix(".truth.json")
    if truth_path is not None:
        outputs.file(truth_path)
    if examples:
        check_target(examples, folder=True)
    program = broadcast_program(seed=seed, minutes=seconds / 60, width=size[0], height=size[1], fps=fps)
    if quiet:
        with outputs:
            truth = render(program, output, truth_path=truth_path)
    else:
        from rich.console import Console

        console = Console(stderr=True)
        with console.status(f"rendering {output} ({plural(len(program.shots), 'shot')})…"), outputs:
            truth = render(program, output, truth_path=truth_path)
        console.print(
            f"wrote {output}: {truth.duration_s:.1f} s, {plural(truth.frame_count, 'frame')}, {plural(len(truth.boundaries), 'boundary', 'boundaries')}; "
            + (f"ground truth in {truth_path}" if truth_path else "no ground truth file (the output is a device or FIFO)")
        )
    if examples:
        counts = write_examples(examples, width=size[0], height=size[1], fps=fps)
        if not quiet:
            click.echo(f"wrote example images to {examples}/: " + ", ".join(f"{k} ({v})" for k, v in counts.items()))
