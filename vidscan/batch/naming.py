"""Output folder names: readable, unique per input file, and always inside the output folder.

A video's outputs go to ``DIR/videos/<readable>-<hash>/`` where ``<readable>`` is its
relative path with every character outside letters, digits and ``._+-`` replaced (path
separators become ``__``, ``..`` and leading dots are dropped) and ``<hash>`` is 12 hex
digits of the SHA-256 of its resolved path, so two ``match.mp4`` in different folders never
share a folder and nothing in an input's name can point outside ``DIR``.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from vidscan.inputs import InputVideo
from vidscan.errors import OutputError

VIDEOS_FOLDER = "videos"
#: Prefixes of the driver's scratch folders inside ``DIR/videos`` (never final names).
STAGING_PREFIX = ".tmp-"
OLD_PREFIX = ".old-"
_MAX_READABLE = 80
_UNSAFE = re.compile(r"[^\w.+-]")


def readable_part(rel: str) -> str:
    """``"../Archive 2024/match.mp4"`` -> ``"Archive_2024__match"``."""
    parts = [p for p in re.split(r"[\\/]+", rel) if p not in ("", ".", "..")]
    if parts:
        parts[-1] = os.path.splitext(parts[-1])[0] or parts[-1]
    cleaned = [_UNSAFE.sub("_", p).lstrip(".-_") for p in parts]
    text = "__".join(p for p in cleaned if p)
    if len(text) > _MAX_READABLE:
        text = text[-_MAX_READABLE:].lstrip(".-_")  # the tail (file name) is the informative end
    return text or "video"


def output_name(video: InputVideo) -> str:
    """The folder name for one input (unique: it ends in a hash of the resolved path)."""
    digest = hashlib.sha256(video.key.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f"{readable_part(video.rel)}-{digest}"


def videos_root(out_dir: Path) -> Path:
    """``DIR/videos``, created if needed; refuses a symlink that could lead out of ``DIR``."""
    root = out_dir / VIDEOS_FOLDER
    if root.is_symlink():
        raise OutputError(f"{VIDEOS_FOLDER} is a symlink; refusing to write outside the output folder", path=str(out_dir))
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create: {exc.strerror or exc}", path=str(root)) from None
    if not root.is_dir():
        raise OutputError("exists and is not a folder", path=str(root))
    return root


def inside(root: Path, name: str) -> Path:
    """``root/name`` after checking that ``name`` is one plain path component."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name or os.path.isabs(name):
        raise OutputError(f"unsafe output name {name!r}")
    target = root / name
    if target.parent.resolve() != root.resolve():
        raise OutputError(f"output name {name!r} leaves the output folder")
    return target
