"""Export options shared by ``scenes`` and ``classify``: chapters, EDL, scene-list CSV,
stills, embeddings and the HTML report. A thin layer over :mod:`vidscan.export` and
:mod:`vidscan.report`.

Paths are declared to the command's :class:`vidscan.atomic.Outputs` (:func:`declare_exports`),
so a bad one stops the run before any decoding (exit 5), and the files are staged and put in
place together with the command's other outputs at the end (all of them or none).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from vidscan.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from vidscan.atomic import Outputs
    from vidscan.timeline import Timeline

#: (option, is a folder, help), in the order --help lists them.
_OPTIONS = [
    ("--chapters", False, "FFmpeg chapter metadata, one chapter per segment: ffmpeg -i VIDEO -i FILE -map_metadata 1 -map_chapters 1 -c copy OUT."),
    ("--edl", False, "CMX3600 edit decision list (one event per segment) for Resolve/Premiere/Avid."),
    ("--scenes-csv", False, "Scene list in PySceneDetect's CSV layout (1-based inclusive frames), for scripts written for it."),
    ("--save-frames", True, "One JPEG per segment (its middle frame, upright) plus DIR/index.csv."),
    ("--embeddings", False, "Sampled frames' embeddings as float32 .npy [N, D], with FILE.index.csv (sample, frame, time_s) beside it."),
    ("--report", False, "Self-contained HTML report (timeline, thumbnails, charts); opens offline."),
]


def export_options(fn: Callable) -> Callable:
    """--chapters/--edl/--scenes-csv/--save-frames/--embeddings/--report."""
    for flag, folder, text in reversed(_OPTIONS):
        fn = click.option(flag, metavar="DIR" if folder else "FILE", callback=_needs_path, help=text)(fn)
    return fn


def write_exports(timeline: "Timeline", video_path: str, *, totals: "pd.DataFrame | None" = None, quiet: bool = False, chapters: str | None = None,
                  edl: str | None = None, scenes_csv: str | None = None, save_frames: str | None = None,
                  embeddings: str | None = None, report: str | None = None) -> list[Path]:
    """Write every export that was asked for; returns the paths written (a line each on stderr unless quiet).

    ``totals`` (classify's per-label totals) go into the report; ``--embeddings`` needs the
    run to have kept them (``keep_embeddings=True``, see :func:`wants_embeddings`).
    """
    from vidscan import export
    from vidscan.report import write_report

    done: list[tuple[str, Path]] = []
    if chapters:
        done.append(("chapters", export.write_chapters(timeline, chapters)))
    if edl:
        done.append(("EDL", export.write_edl(timeline, edl)))
    if scenes_csv:
        done.append(("scene list", export.write_scenes_csv(timeline, scenes_csv)))
    if embeddings:
        if timeline.embedded is None:
            raise UsageError("--embeddings needs the run to keep its embeddings (keep_embeddings=True)")
        npy, index = export.write_embeddings(timeline.embedded, embeddings)
        done += [("embeddings", npy), ("embeddings index", index)]
    if save_frames:
        images = export.save_frames(timeline, save_frames, video=video_path)
        done.append((f"{len(images)} frames", Path(save_frames)))
    if report:
        done.append(("report", write_report(timeline, report, video=video_path, totals=totals)))
    if not quiet:
        from vidscan.atomic import active_outputs

        def say() -> None:
            for what, path in done:
                click.echo(f"{what}: {path}", err=True)

        outputs = active_outputs()
        outputs.after_commit(say) if outputs is not None else say()  # only once they are in place
    return [path for _, path in done]


def wants_embeddings(options: dict[str, Any]) -> bool:
    """Should the pipeline keep its embeddings for ``--embeddings``?"""
    return bool(options.get("embeddings"))


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
    from vidscan.export import embeddings_index_path

    for flag, folder, _ in _OPTIONS:
        value = options.get(flag.lstrip("-").replace("-", "_"))
        if not value:
            continue
        if folder:
            outputs.folder(value)
        else:
            outputs.file(value)
            if flag == "--embeddings":
                outputs.file(embeddings_index_path(value))


def _needs_path(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and value in ("", "-"):
        raise UsageError(f"{param.opts[0]} needs a {'folder' if param.metavar == 'DIR' else 'file'} path")
    return value
