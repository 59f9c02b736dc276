"""Export options shared by ``scenes`` and ``classify``: chapters, EDL, scene-list CSV,
stills, embeddings and the HTML report. A thin layer over :mod:`vidscan.export` and
:mod:`vidscan.report`.

Paths are checked while the command line is parsed, so a bad one stops the run before
any decoding (exit 5), and the files are written atomically at the end.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from vidscan.errors import OutputError, UsageError

if TYPE_CHECKING:
    import pandas as pd

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
        fn = click.option(flag, metavar="DIR" if folder else "FILE", callback=_check_folder if folder else _check_file, help=text)(fn)
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
        for what, path in done:
            click.echo(f"{what}: {path}", err=True)
    return [path for _, path in done]


def wants_embeddings(options: dict[str, Any]) -> bool:
    """Should the pipeline keep its embeddings for ``--embeddings``?"""
    return bool(options.get("embeddings"))


def _check_file(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    if value in ("", "-"):
        raise UsageError(f"{param.opts[0]} needs a file path")
    path = Path(value)
    if path.is_dir():
        raise OutputError("is a directory, not a file", path=value)
    _check_parent(path, value)
    return value


def _check_folder(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    if value in ("", "-"):
        raise UsageError(f"{param.opts[0]} needs a folder path")
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise OutputError("exists and is not a directory", path=value)
    _check_parent(path / "index.csv", value)
    return value


def _check_parent(path: Path, shown: str) -> None:
    """The nearest existing folder above ``path`` must be a writable directory."""
    folder = path.parent if str(path.parent) else Path(".")
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write here: {folder} is not a directory", path=shown)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write here: permission denied on {folder}", path=shown)
