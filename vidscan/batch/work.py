"""One video's work, as run inside a worker process (local pool or Ray actor).

A :class:`VideoWorker` builds its embedder once (a CLIP model is loaded once per worker,
not once per video) and then processes videos one at a time, writing every output into the
job's staging folder. It never raises for a bad video: the outcome carries the one-line
reason, so the batch can record it and go on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidscan.batch.settings import BatchSettings
from vidscan.errors import VidscanError
from vidscan.formats import extension

if TYPE_CHECKING:
    from vidscan.timeline import Timeline

TIMELINE = "timeline"
TOTALS = "totals"
REPORT = "report.html"
#: With html output: the video's middle frame, small, for the batch's index page.
THUMBNAIL = "thumbnail.jpg"


@dataclass(frozen=True)
class VideoJob:
    """A video to process and the (already created) folder to write its outputs into."""

    path: str
    staging: str


@dataclass
class VideoOutcome:
    ok: bool
    error: str | None = None
    duration_s: float = 0.0
    segments: int = 0
    label_seconds: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0
    files: list[str] = field(default_factory=list)


class VideoWorker:
    """Holds the settings and the embedder of one worker process."""

    def __init__(self, settings: BatchSettings) -> None:
        settings.registrations.install()  # the caller's own decoders, embedders, detectors
        self.settings = settings
        self._embedder: Any = None

    def warm(self) -> tuple[str, int] | None:
        """Build the embedder now (model load); returns ``(message, exit_code)`` on failure."""
        try:
            self.embedder()
        except VidscanError as exc:
            return str(exc), exc.exit_code
        except Exception as exc:  # noqa: BLE001 - reported as one line, not a traceback
            return f"cannot start a worker: {type(exc).__name__}: {_one_line(exc)}", 70
        return None

    def embedder(self) -> Any:
        if self._embedder is None:
            self._embedder = self.settings.embedder.build()
        return self._embedder

    def run(self, job: VideoJob) -> VideoOutcome:
        """Process one video into ``job.staging``; any failure becomes ``ok=False``."""
        t0 = time.perf_counter()
        try:
            outcome = self._run(job)
        except VidscanError as exc:
            outcome = VideoOutcome(ok=False, error=strip_path(_one_line(exc), job.path))
        except MemoryError:
            outcome = VideoOutcome(ok=False, error="out of memory")
        except Exception as exc:  # noqa: BLE001 - a decoder or library error on this file only
            outcome = VideoOutcome(ok=False, error=f"{type(exc).__name__}: {_one_line(exc)}")
        outcome.wall_s = time.perf_counter() - t0
        return outcome

    def _run(self, job: VideoJob) -> VideoOutcome:
        from vidscan.cache import EmbeddingCache
        from vidscan.video.base import check_readable_file

        s = self.settings
        check_readable_file(job.path)
        cache = EmbeddingCache(s.cache_dir) if s.use_cache else None
        out = Path(job.staging)
        files: list[str] = []
        if s.labels is None:
            from vidscan.pipeline import detect_scenes

            timeline = detect_scenes(job.path, embedder=self.embedder(), detector=s.detector, sampling=s.sampling,
                                     decode=s.decode, cache=cache)
            label_seconds: dict[str, float] = {}
            totals = result = None
        else:
            from vidscan.classification import classify

            result = classify(job.path, None if s.probe else s.labels, probe=s.probe, embedder=self.embedder(), detector=s.detector,
                              sampling=s.sampling, decode=s.decode, labelling=s.labelling, cache=cache)
            timeline, totals = result.timeline, result.totals
            label_seconds = {str(r["label"]): float(r["seconds"]) for r in result.totals.to_dict(orient="records")}
        for fmt in s.formats:
            if fmt == "html":
                from vidscan.report import write_report

                write_report(timeline, out / REPORT, video=job.path, totals=totals)
                write_thumbnail(timeline, job.path, out / THUMBNAIL)
                files += [REPORT, THUMBNAIL]
                continue
            name = f"{TIMELINE}{extension(fmt)}"
            timeline.write(out / name, fmt)
            files.append(name)
            if result is not None:
                name = f"{TOTALS}{extension(fmt)}"
                result.write_totals(out / name, fmt)
                files.append(name)
        return VideoOutcome(ok=True, duration_s=float(timeline.duration_s), segments=len(timeline.segments),
                            label_seconds=label_seconds, files=sorted(files))


def write_thumbnail(timeline: "Timeline", video: str, path: Path, width: int = 160) -> None:
    """The frame in the middle of the video, ``width`` pixels wide, as a JPEG (the index page's picture)."""
    from vidscan.atomic import atomic_write_bytes
    from vidscan.export.frames import grab_frames, jpeg_bytes
    from vidscan.report.thumbs import thumbnail_size

    size = thumbnail_size(timeline.video.width, timeline.video.height, width)
    batch = grab_frames(video, [max(0, timeline.frame_count // 2)], size=size)
    if len(batch.frames):
        atomic_write_bytes(path, jpeg_bytes(batch.frames[0], 80))


def strip_path(message: str, path: str) -> str:
    """``"/a/b.mp4: no video stream"`` -> ``"no video stream"`` (the summary has a path column)."""
    prefix = f"{path}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
