"""Export options shared by ``scenes`` and ``classify``: chapters, EDL, scene-list CSV,
stills, embeddings and the HTML report, behind one registry (:data:`EXPORTS`): each format
is a module of :mod:`vidscan.export` (or :mod:`vidscan.report`) and one registration line.

Paths are declared to the command's :class:`vidscan.atomic.Outputs` (:func:`declare_exports`),
so a bad one stops the run before any decoding (exit 5), and the files are staged and put in
place together with the command's other outputs at the end (all of them or none).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from vidscan.cli.common import CREATES_FOLDERS
from vidscan.errors import UsageError
from vidscan.registry import Registry
from vidscan.plural import plural

if TYPE_CHECKING:
    import pandas as pd

    from vidscan.atomic import Outputs
    from vidscan.timeline import Timeline

@dataclass(frozen=True)
class ExportFormat:
    """One export a command offers as ``--NAME PATH``: its help, how it writes (``write(request,
    path)`` returns the (what, path) pairs written), whether PATH is a folder, the other files
    it writes beside PATH (declared, so checked, up front) and whether it needs the run's
    embeddings kept."""

    help: str
    write: Callable[["ExportRequest", str], list[tuple[str, Path]]]
    folder: bool = False
    companions: Callable[[str], list[str]] = lambda path: []
    needs_embeddings: bool = False
    needs_breaks: bool = False  # reads the ad breaks a cue-driven run records (vidscan.broadcast)


@dataclass(frozen=True)
class ExportRequest:
    """What every export is written from: the timeline, the video it describes, and (classify)
    the per-label totals."""

    timeline: "Timeline"
    video: str
    totals: "pd.DataFrame | None" = None


def _chapters(request: ExportRequest, path: str) -> list[tuple[str, Path]]:
    from vidscan.export import write_chapters

    return [("chapters", write_chapters(request.timeline, path))]


def _edl(request: ExportRequest, path: str) -> list[tuple[str, Path]]:
    from vidscan.export import write_edl

    return [("EDL", write_edl(request.timeline, path))]


def _scenes_csv(request: ExportRequest, path: str) -> list[tuple[str, Path]]:
    from vidscan.export import write_scenes_csv

    return [("scene list", write_scenes_csv(request.timeline, path))]


def _save_frames(request: ExportRequest, path: str) -> list[tuple[str, Path]]:
    from vidscan.export import save_frames

    images = save_frames(request.timeline, path, video=request.video)
    return [(plural(len(images), "frame"), Path(path))]


def _embeddings(request: ExportRequest, path: str) -> list[tuple[str, Path]]:
    from vidscan.export import write_embeddings

    if request.timeline.embedded is None:
        raise UsageError("--embeddings needs the run to keep its embeddings (keep_embeddings=True)")
    npy, index = write_embeddings(request.timeline.embedded, path)
    return [("embeddings", npy), ("embeddings index", index)]


def _embeddings_index(path: str) -> list[str]:
    from vidscan.export import embeddings_index_path

    return [str(embeddings_index_path(path))]


def _comskip(request: ExportRequest, path: str) -> list[tuple[str, Path]]:
    from vidscan.export import write_comskip_edl, write_comskip_txt

    breaks = [(b["start_s"], b["end_s"]) for b in request.timeline.stats.get("breaks", [])]
    video = request.timeline.video
    write_comskip_txt(path, breaks, video.fps, video.frame_count)
    edl = comskip_edl_path(path)
    write_comskip_edl(edl, breaks)
    return [("Comskip frame list", Path(path)), ("Comskip EDL", edl)]


def comskip_edl_path(path: str) -> Path:
    """Where ``--comskip FILE.txt`` puts the EDL Comskip writes beside its list: ``FILE.edl``."""
    return Path(path).with_suffix(".edl")


def _report(request: ExportRequest, path: str) -> list[tuple[str, Path]]:
    from vidscan.report import write_report

    return [("report", write_report(request.timeline, path, video=request.video, totals=request.totals))]


def _builtin_exports(registry: Registry[ExportFormat]) -> None:
    """In the order --help lists them (and they are written)."""
    registry.register("chapters", partial(ExportFormat, "FFmpeg chapter metadata, one chapter per segment: "
                                          "ffmpeg -i VIDEO -i FILE -map_metadata 1 -map_chapters 1 -c copy OUT.", _chapters))
    registry.register("edl", partial(ExportFormat, "CMX3600 edit decision list (one event per segment) for Resolve/Premiere/Avid.", _edl))
    registry.register("scenes-csv", partial(ExportFormat, "Scene list in PySceneDetect's CSV layout (1-based inclusive frames), "
                                            "for scripts written for it.", _scenes_csv))
    registry.register("embeddings", partial(ExportFormat, "Sampled frames' embeddings as float32 .npy [N, D], with "
                                            "FILE.index.csv (sample, frame, time_s) beside it.", _embeddings,
                                            companions=_embeddings_index, needs_embeddings=True))
    registry.register("save-frames", partial(ExportFormat, "One JPEG per segment (its middle frame, upright) plus DIR/index.csv.",
                                             _save_frames, folder=True))
    registry.register("comskip", partial(ExportFormat, "Ad breaks as Comskip writes them: its frame list FILE (.txt) and, beside "
                                         "it, the .edl Kodi and MPlayer use to skip breaks (needs broadcast cues).", _comskip,
                                         companions=lambda path: [str(comskip_edl_path(path))], needs_breaks=True))
    registry.register("report", partial(ExportFormat, "Self-contained HTML report (timeline, thumbnails, charts); opens offline.", _report))


#: The exports ``scenes`` and ``classify`` offer, by option name (``--NAME``); a format is one
#: module in vidscan/export (or anywhere) and one line in :func:`_builtin_exports`.
EXPORTS: Registry[ExportFormat] = Registry("export format", _builtin_exports)


def _formats() -> list[tuple[str, ExportFormat]]:
    return [(name, EXPORTS.create(name)) for name in EXPORTS.names()]


def export_options(fn: Callable) -> Callable:
    """A ``--NAME FILE`` (or ``DIR``) option for every registered export format."""
    for name, fmt in reversed(_formats()):
        fn = click.option(f"--{name}", name.replace("-", "_"), metavar="DIR" if fmt.folder else "FILE", callback=_needs_path,
                          help=f"{fmt.help} {CREATES_FOLDERS}")(fn)
    return fn


def write_exports(timeline: "Timeline", video_path: str, *, totals: "pd.DataFrame | None" = None, quiet: bool = False,
                  **paths: str | None) -> list[Path]:
    """Write every export asked for (``paths``: option name with ``_`` -> path); returns the
    paths written (a line each on stderr unless quiet, once they are in place).

    ``totals`` (classify's per-label totals) go into the report; ``--embeddings`` needs the
    run to have kept them (``keep_embeddings=True``, see :func:`wants_embeddings`).
    """
    request = ExportRequest(timeline, video_path, totals)
    done: list[tuple[str, Path]] = []
    for name, fmt in _formats():
        path = paths.get(name.replace("-", "_"))
        if path:
            done += fmt.write(request, path)
    if not quiet:
        from vidscan.atomic import active_outputs

        def say() -> None:
            for what, path in done:
                click.echo(f"{what}: {path}", err=True)

        outputs = active_outputs()
        outputs.after_commit(say) if outputs is not None else say()  # only once they are in place
    return [path for _, path in done]


def wants_embeddings(options: dict[str, Any]) -> bool:
    """Should the pipeline keep its embeddings for an export that needs them (``--embeddings``)?"""
    return any(fmt.needs_embeddings and options.get(name.replace("-", "_")) for name, fmt in _formats())


def check_breaks_exports(options: dict[str, Any], has_breaks: bool) -> None:
    """Refuse, before any decoding, an export of ad breaks (``--comskip``) from a run that finds none."""
    for name, fmt in _formats():
        if fmt.needs_breaks and options.get(name.replace("-", "_")) and not has_breaks:
            raise UsageError(f"--{name} lists ad breaks: use `vidscan breaks`, or classify with labels defined by broadcast "
                             "cues (e.g. --config sample_configs/sports_broadcast.toml)")


def declared_outputs(inputs: list[str | None], files: str | list[str | Path] | None, options: dict[str, Any]) -> "Outputs":
    """A command's :class:`~vidscan.atomic.Outputs`: its own output ``files`` and the exports in
    ``options``, all checked now (before any decoding); refuses any that is one of ``inputs``."""
    from vidscan.atomic import Outputs

    outputs = Outputs(inputs)
    for path in ([files] if isinstance(files, (str, Path)) else files or []):
        outputs.file(path)
    declare_exports(outputs, options)
    return outputs


def declare_exports(outputs: "Outputs", options: dict[str, Any]) -> None:
    """Declare (and so check, before any decoding) every export file and folder that was asked for."""
    for name, fmt in _formats():
        value = options.get(name.replace("-", "_"))
        if not value:
            continue
        if fmt.folder:
            outputs.folder(value)
        else:
            outputs.file(value)
        for companion in fmt.companions(value):
            outputs.file(companion)


def _needs_path(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and value in ("", "-"):
        raise UsageError(f"{param.opts[0]} needs a {'folder' if param.metavar == 'DIR' else 'file'} path")
    return value
