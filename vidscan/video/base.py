"""The video-source interface and its backend registry.

A backend opens one file, probes it, and streams :class:`FrameBatch` es at a chosen
sampling and size. Backends differ in speed and exactness; ``pyav`` is the exact default.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from functools import partial
from typing import TYPE_CHECKING, Callable, ClassVar, Iterator

from vidscan.errors import InputError
from vidscan.registry import Registry, lazy
from vidscan.video.info import VideoInfo
from vidscan.video.sampling import Sampling

if TYPE_CHECKING:  # numpy: not needed to list or choose backends (the CLI's start-up)
    from vidscan.video.frames import AlsoSize, FrameBatch


@dataclass
class DecodeStats:
    """What a pass over the video actually saw (filled in while streaming)."""

    frames_decoded: int = 0
    frames_kept: int = 0
    last_time_s: float = 0.0
    last_frame_duration_s: float = 0.0
    #: (start_s, end_s) stretches where packets could not be decoded.
    damaged: list[tuple[float, float]] = field(default_factory=list)
    finished: bool = False

    @property
    def end_time_s(self) -> float:
        """Presentation end of the last decoded frame."""
        return self.last_time_s + self.last_frame_duration_s

    def add_damage(self, start: float, end: float) -> None:
        """Record a damaged stretch, merged with the previous one when they (nearly) touch."""
        end = max(end, start)
        if self.damaged and start <= self.damaged[-1][1] + 0.5:
            prev = self.damaged[-1]
            self.damaged[-1] = (prev[0], max(prev[1], end))
        else:
            self.damaged.append((round(start, 6), round(end, 6)))

    def add_damages(self, ranges) -> None:
        """Record damaged stretches found out of order (e.g. timestamp gaps from the index),
        keeping the list sorted and merged."""
        everything = sorted([*self.damaged, *(tuple(r) for r in ranges)])
        self.damaged = []
        for start, end in everything:
            self.add_damage(start, end)


class VideoSource(ABC):
    """One open video. Use as a context manager; iterate with :meth:`batches`."""

    name: ClassVar[str] = ""
    #: Whether :meth:`batches` delivers its ``also`` sizes (scaled from the decoded picture).
    makes_further_sizes: ClassVar[bool] = False
    #: True if frame indices and timestamps are exact on every file (edit lists, open GOP, VFR).
    exact: ClassVar[bool] = False

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        check_readable_file(self.path)
        self.stats = DecodeStats()

    @property
    @abstractmethod
    def info(self) -> VideoInfo:
        """Probe result (cheap; decodes at most the first frame)."""

    @abstractmethod
    def batches(
        self,
        sampling: Sampling,
        size: tuple[int, int] | None = None,
        batch_size: int = 32,
        also: tuple[AlsoSize, ...] = (),
    ) -> Iterator[FrameBatch]:
        """Yield batches of upright RGB frames resized to ``size`` = (width, height).

        Frames are those selected by ``sampling``, numbered in the order the decoder shows
        them. ``self.stats`` describes the pass once exhausted. ``also``: further sizes a
        backend may deliver in :attr:`FrameBatch.smaller`, each scaled from the decoded
        picture (one decode serving requests of several sizes); a backend that cannot leaves
        it empty, and the caller scales ``frames`` itself. The deblocking filter is skipped
        only if the largest of the sizes allows it (vidscan.video.deblocking).
        """

    def close(self) -> None:
        """Release the file and decoder."""

    def __enter__(self) -> "VideoSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_readable_file(path: str) -> None:
    """Fail early with one clear line for the commonest path problems."""
    p = Path(path)
    if not p.exists():
        raise InputError("no such file", path=path)
    if p.is_dir():
        raise InputError("is a directory, not a video file (use 'vidscan batch' for folders)", path=path)
    if not p.is_file():
        raise InputError("is not a regular file", path=path)
    try:
        with open(p, "rb") as handle:
            head = handle.read(1)
    except PermissionError:
        raise InputError("permission denied", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None
    if not head:
        raise InputError("file is empty (0 bytes)", path=path)


#: The decoder every command uses unless told otherwise: frame-exact on every file.
DEFAULT_BACKEND = "pyav"


def _builtin_backends(registry: Registry[VideoSource]) -> None:
    """Best first: the command line lists them in this order."""
    torchcodec = lazy("vidscan.video.torchcodec_backend", "TorchCodecSource")  # imports torch: only when asked
    registry.register("pyav", lazy("vidscan.video.pyav_backend", "PyAVSource"))
    registry.register("decord", lazy("vidscan.video.decord_backend", "DecordSource"))
    registry.register("torchcodec", torchcodec)
    registry.register("torchcodec-cuda", partial(torchcodec, device="cuda"))


#: Decoder backends by name; each factory takes the file path and returns a :class:`VideoSource`.
BACKENDS: Registry[VideoSource] = Registry("decoder backend", _builtin_backends)


def register_backend(name: str, factory: Callable[[str], VideoSource], *, replace: bool = False) -> None:
    """Make a backend available to :func:`open_video` (and ``--decoder``) under ``name``."""
    BACKENDS.register(name, factory, replace=replace)


def available_backends() -> list[str]:
    """Every backend name, sorted."""
    return sorted(BACKENDS.names())


def open_video(path: str | Path, backend: str = DEFAULT_BACKEND) -> VideoSource:
    """Open ``path`` with the named backend: ``pyav`` (exact, the default), ``decord`` (fast
    sequential reads, not exact on edit lists), ``torchcodec`` / ``torchcodec-cuda`` (exact,
    random access; NVDEC on an NVIDIA GPU)."""
    return BACKENDS.create(backend, str(path))
