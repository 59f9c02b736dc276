"""The batch driver: plan from the manifest, feed an engine, put outputs in place, summarise.

Order of events for one video, which is what makes a killed run safe to rerun:

1. the manifest row becomes ``running`` (with the input and settings fingerprints);
2. a worker writes every output file into ``DIR/videos/.tmp-<name>-...``;
3. the driver renames that folder to ``DIR/videos/<name>`` (replacing an older one);
4. the row becomes ``done``, in one transaction.

A run killed before 4 leaves a ``running`` row, which the next run (holding the lock, so
the killer's run is surely dead) resets and redoes; leftover ``.tmp-``/``.old-`` folders are
removed at start, and so are vidscan's temp files (``.vs-*.tmp``) anywhere under ``DIR``.
A row is ``done`` only if all its files exist. Run files (the lock, the manifest, the
summaries) are never reached through a symlink planted in ``DIR``: that is refused (exit 5).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from vidscan.atomic import check_target, fsync_dir, sweep_temp_files
from vidscan.batch.engine import Engine
from vidscan.inputs import InputVideo
from vidscan.batch.manifest import MANIFEST_NAME, BatchLock, Manifest, VideoRow, check_run_files
from vidscan.batch.naming import OLD_PREFIX, STAGING_PREFIX, inside, output_name, videos_root
from vidscan.batch.progress import BatchProgress, NullBatchProgress
from vidscan.batch.reentry import leave_if_importing_the_main_script
from vidscan.batch.settings import BatchSettings
from vidscan.batch.summary import write_index, write_summary
from vidscan.batch.work import VideoJob, VideoOutcome, strip_path
from vidscan.errors import InputError, OutputError

Warn = Callable[[str], None]


@dataclass
class BatchOptions:
    """How to run (none of this changes results, so none of it is in the fingerprint)."""

    workers: int | None = 1     # None: the engine's default (ray: one per cluster CPU)
    timeout_per_file: float | None = None
    retry_failed: bool = False
    engine: str = "local"  # local | ray
    address: str | None = None  # Ray cluster address (ray engine)


@dataclass
class BatchReport:
    out_dir: Path
    total: int = 0
    done: int = 0
    failed: int = 0
    processed: int = 0        # videos worked on in this run (done or failed now)
    up_to_date: int = 0       # done earlier, inputs and settings unchanged: skipped
    kept_failed: int = 0      # failed earlier, unchanged and not retried
    stale_reset: int = 0      # 'running' rows of a dead run that were redone
    wall_s: float = 0.0
    video_seconds: float = 0.0  # seconds of video processed in this run
    workers: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    summary_files: list[Path] = field(default_factory=list)


@dataclass
class _Todo:
    video: InputVideo
    name: str
    size: int
    mtime_ns: int
    staging: Path | None = None
    t0: float = 0.0


def run_batch(inputs: list[InputVideo], out_dir: str | Path, settings: BatchSettings, options: BatchOptions | None = None,
              progress: BatchProgress | None = None, warn: Warn | None = None) -> BatchReport:
    """Process every input into ``out_dir`` (resuming what an earlier run left), see module doc."""
    leave_if_importing_the_main_script()
    options = options or BatchOptions()
    progress = progress or NullBatchProgress()
    if options.engine == "local":  # spawned workers get the settings pickled (Ray's cloudpickle sends more)
        settings.registrations.check_sendable()
    out = Path(out_dir)
    check_target(out, folder=True)  # before any decoding (exit 5)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder: {exc.strerror or exc}", path=str(out)) from None
    check_run_files(out)
    t_start = time.monotonic()
    with BatchLock(out):
        sweep_temp_files(out)  # temp files of a run that was killed while writing (it held this lock)
        root = videos_root(out)
        _sweep_scratch(root)
        manifest = Manifest(out / MANIFEST_NAME)
        try:
            report = BatchReport(out_dir=out, total=len(inputs))
            report.stale_reset = manifest.reset_stale()
            fingerprint = settings.fingerprint()
            todo = _plan(inputs, root, manifest, fingerprint, options.retry_failed, report)
            if manifest.dropped and warn:
                warn(f"{len(manifest.dropped)} manifest row(s) did not make sense and were dropped; "
                     "those videos are processed again")
            run_id = manifest.start_run(options.engine, fingerprint, settings.describe(), len(inputs))
            if todo:
                _process(todo, root, manifest, settings, fingerprint, run_id, options, progress, report, warn)
                _sweep_scratch(root)  # workers are stopped: nothing can still be writing there
            report.wall_s = time.monotonic() - t_start
            rows = {inp.key: manifest.get(inp.key) for inp in inputs}
            report.summary_files = write_summary(out, inputs, rows, settings, warn)
            if "html" in settings.formats:
                index = write_index(out, inputs, rows)
                if index is not None:
                    report.summary_files = list(report.summary_files) + [index]
            _count(rows, report)
            manifest.finish_run(run_id, report.processed, report.failed)
        finally:
            manifest.close()
    return report


def _plan(inputs: list[InputVideo], root: Path, manifest: Manifest, fingerprint: str, retry_failed: bool,
          report: BatchReport) -> list[_Todo]:
    """Which inputs need work; records files that cannot even be read as failed at once."""
    from vidscan.video.base import check_readable_file

    todo: list[_Todo] = []
    for video in inputs:
        name = output_name(video)
        row = manifest.get(video.key)
        try:
            check_readable_file(video.path)
            st = os.stat(video.path)
        except InputError as exc:
            manifest.mark_pending(video.key, video.path, name)
            manifest.mark_failed(video.key, strip_path(str(exc), video.path), settings=fingerprint)
            continue
        unchanged = row is not None and row.size == st.st_size and row.mtime_ns == st.st_mtime_ns and row.settings == fingerprint
        if unchanged and row.state == "done" and row.output == name and (root / name).is_dir() and not (root / name).is_symlink():
            report.up_to_date += 1
            continue
        if unchanged and row.state == "failed" and not retry_failed:
            report.kept_failed += 1
            continue
        manifest.mark_pending(video.key, video.path, name)
        todo.append(_Todo(video, name, st.st_size, st.st_mtime_ns))
    return todo


def _process(todo: list[_Todo], root: Path, manifest: Manifest, settings: BatchSettings, fingerprint: str, run_id: int,
             options: BatchOptions, progress: BatchProgress, report: BatchReport, warn: Warn | None) -> None:
    engine = _make_engine(settings, options, len(todo), warn)
    report.workers = engine.workers
    queue = list(reversed(todo))
    in_flight: dict[str, _Todo] = {}
    progress.start(len(todo), sum(t.size for t in todo), engine.workers)
    try:
        while queue or in_flight:
            while queue and engine.idle():
                item = queue.pop()
                item.staging = _new_staging(root, item.name)
                manifest.mark_running(item.video.key, item.size, item.mtime_ns, fingerprint, run_id)
                item.t0 = time.monotonic()
                engine.submit(item.video.key, VideoJob(item.video.path, str(item.staging)))
                in_flight[item.video.key] = item
            for completion in engine.poll(0.5):
                item = in_flight.pop(completion.token)
                ok = _finish(item, completion.outcome, root, manifest, report)
                progress.advance(item.size, ok, item.video.rel)
            progress.tick()
    except BaseException:
        # Ctrl-C or an engine failure: stop workers, put unfinished videos back to pending.
        engine.close()
        for item in in_flight.values():
            _remove(item.staging)
            manifest.mark_pending(item.video.key, item.video.path, item.name)
        raise
    finally:
        progress.finish()
    engine.close()


def _make_engine(settings: BatchSettings, options: BatchOptions, videos: int, warn: Warn | None) -> Engine:
    """The engine for ``options``, with no more workers than there are ``videos`` to do."""
    workers = min(videos, options.workers) if options.workers else None
    if options.engine == "ray":
        from vidscan.batch.ray_engine import RayEngine

        return RayEngine(settings, workers, options.timeout_per_file, options.address, limit=videos)
    from vidscan.batch.local import LocalEngine

    workers = workers or 1
    if workers > 1 and settings.embedder.on_gpu and _cuda_available():
        if warn:
            warn(f"CLIP runs on the GPU: using 1 worker instead of {workers} (one model per GPU; decoding is threaded inside it)")
        workers = 1
    return LocalEngine(settings, workers, options.timeout_per_file)


def _cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001
        return False


def _finish(item: _Todo, outcome: VideoOutcome, root: Path, manifest: Manifest, report: BatchReport) -> bool:
    key = item.video.key
    report.processed += 1
    if outcome.ok:
        missing = [f for f in outcome.files if not (item.staging / f).is_file()]
        if missing or not outcome.files:
            outcome = VideoOutcome(ok=False, error=f"the worker reported outputs that are not there: {', '.join(missing) or 'none'}")
    if outcome.ok:
        try:
            _put_in_place(item.staging, inside(root, item.name))
        except OSError as exc:
            outcome = VideoOutcome(ok=False, error=f"cannot move the outputs into place: {exc.strerror or exc}", wall_s=outcome.wall_s)
    if not outcome.ok:
        _remove(item.staging)
        manifest.mark_failed(key, outcome.error or "failed", wall_s=outcome.wall_s)
        return False
    wall = time.monotonic() - item.t0
    manifest.mark_done(key, duration_s=outcome.duration_s, segments=outcome.segments, label_seconds=outcome.label_seconds, wall_s=wall)
    report.video_seconds += outcome.duration_s
    return True


def _new_staging(root: Path, name: str) -> Path:
    staging = inside(root, f"{STAGING_PREFIX}{name}-{os.getpid()}-{time.monotonic_ns()}")
    staging.mkdir()
    return staging


def _put_in_place(staging: Path | None, final: Path) -> None:
    """Rename ``staging`` to ``final``; an older ``final`` (or a symlink planted there) is moved aside first."""
    assert staging is not None
    old = None
    if final.exists() or final.is_symlink():
        old = final.with_name(f"{OLD_PREFIX}{final.name}-{os.getpid()}-{time.monotonic_ns()}")
        os.rename(final, old)  # renames a symlink itself, never what it points to
    os.rename(staging, final)
    fsync_dir(final.parent)
    if old is not None:
        _remove(old)


def _remove(path: Path | None) -> None:
    if path is None:
        return
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)


def _sweep_scratch(root: Path) -> None:
    """Remove staging and set-aside folders left by a run that was killed."""
    for entry in root.iterdir():
        if entry.name.startswith((STAGING_PREFIX, OLD_PREFIX)):
            _remove(entry)


def _count(rows: dict[str, VideoRow | None], report: BatchReport) -> None:
    report.done = sum(1 for r in rows.values() if r is not None and r.state == "done")
    report.failed = sum(1 for r in rows.values() if r is not None and r.state == "failed")
    report.failures = [(r.path, r.error or "") for r in rows.values() if r is not None and r.state == "failed"]
