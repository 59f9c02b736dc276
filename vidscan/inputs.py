"""Which videos a command covers: folders (recursive), globs, list files and plain paths.

The one place that says what counts as a video file and how inputs are found: ``batch``,
``search`` and ``bench`` read their inputs here, and few-shot example folders use the same
extensions.

Folders and globs pick files by extension (so a folder of sidecar files, thumbnails and
``._`` resource forks is fine); a path named explicitly, on the command line or in a list
file, is always taken, so a mislabelled or broken file is recorded as failed instead of
silently left out. Hidden files and folders (``.name``) are skipped while walking.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

from vidscan.errors import InputError, UsageError

T = TypeVar("T")

#: What a folder walk or a glob counts as video.
VIDEO_EXTENSIONS = frozenset({".mp4", ".mkv", ".mov", ".avi", ".webm", ".ts", ".m4v", ".mpg", ".mpeg"})
#: A file with one of these extensions lists inputs, one per line ('#' starts a comment).
LIST_EXTENSIONS = frozenset({".txt", ".lst", ".list"})
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class InputVideo:
    """One video of the batch.

    ``path`` is absolute as found (a symlink stays a symlink: that is the name users know);
    ``key`` is the fully resolved path, which identifies the file in the manifest; ``rel`` is
    the readable part of the name the output folder is made from.
    """

    path: str
    key: str
    rel: str


def is_video_name(name: str) -> bool:
    return Path(name).suffix.lower() in VIDEO_EXTENSIONS


def discover_inputs(specs: Sequence[str]) -> list[InputVideo]:
    """Expand command-line inputs into a de-duplicated, ordered list of videos.

    Raises :class:`InputError` for an input that does not exist or yields no video at all,
    and :class:`UsageError` for a glob that matches nothing.
    """
    found: list[InputVideo] = []
    for spec in specs:
        found.extend(_expand(spec))
    unique: dict[str, InputVideo] = {}
    for video in found:
        unique.setdefault(video.key, video)
    if not unique:
        exts = " ".join(sorted(VIDEO_EXTENSIONS))
        raise InputError(f"no videos found in the inputs (folders and globs look for {exts})")
    return list(unique.values())


def _expand(spec: str) -> list[InputVideo]:
    if not spec:
        raise UsageError("empty input path")
    path = Path(spec).expanduser()
    if not path.exists() and not path.is_symlink() and _GLOB_CHARS & set(spec):
        matches = sorted(glob.glob(os.path.expanduser(spec), recursive=True))
        if not matches:
            raise UsageError(f"{spec}: the pattern matches no files")
        out: list[InputVideo] = []
        for match in matches:
            m = Path(match)
            if m.is_dir():
                out.extend(_walk(m))
            elif is_video_name(match) and not _hidden(m.name):
                out.append(_video(m, match))
        return out
    if path.is_dir():
        return list(_walk(path))
    if path.is_file() and path.suffix.lower() in LIST_EXTENSIONS:
        return _read_list(path)
    if path.exists() or path.is_symlink():
        return [_video(path, path.name)]
    raise InputError("no such file or folder", path=spec)


def _read_list(list_file: Path) -> list[InputVideo]:
    """One path per line; relative paths are relative to the list file's folder."""
    try:
        lines = list_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the list of inputs ({exc})", path=str(list_file)) from None
    out: list[InputVideo] = []
    for line in lines:
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        p = Path(entry).expanduser()
        if not p.is_absolute():
            p = list_file.parent / p
        if p.is_dir():
            out.extend(_walk(p))
        else:
            out.append(_video(p, entry))  # a missing file is kept: it is recorded as failed
    return out


def _walk(root: Path) -> Iterable[InputVideo]:
    """Videos under ``root``, sorted, not following symlinked folders (no loops)."""
    base = root.resolve().name or "root"
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not _hidden(d))
        for name in sorted(files):
            if is_video_name(name) and not _hidden(name):
                full = Path(folder) / name
                yield _video(full, os.path.join(base, os.path.relpath(full, root)))


def videos_under(root: str | Path) -> list[Path]:
    """Every video under the folder ``root`` (recursively, hidden files and folders skipped,
    symlinked folders not followed), sorted by path."""
    return sorted(Path(v.path) for v in _walk(Path(root)))


def _video(path: Path, rel: str) -> InputVideo:
    absolute = os.path.abspath(path)
    return InputVideo(path=absolute, key=os.path.realpath(absolute), rel=rel)


def _hidden(name: str) -> bool:
    return name.startswith(".")


def each_readable(paths: Sequence[str | Path], work: Callable[[str | Path], T], failed: list[tuple[str, str]],
                  warn: Callable[[str], None] | None = None) -> Iterator[tuple[str | Path, T]]:
    """``(path, work(path))`` for each video ``work`` can read; one it cannot (an
    :class:`InputError`) is added to ``failed`` with the reason and reported through ``warn``.
    A single video that cannot be read raises: with one input there is nothing else to do.

    The rule every command over a collection (search, map, dataset) follows: one broken file
    in an archive costs that file, not the run.
    """
    for path in paths:
        try:
            result = work(path)
        except InputError as exc:
            if len(paths) == 1:
                raise
            failed.append((str(path), str(exc)))
            if warn is not None:
                warn(f"skipped {exc}")
            continue
        yield path, result
