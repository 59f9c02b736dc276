"""Batch progress: files done (and failed) with an overall ETA weighted by file size.

A rich bar on a terminal; off a terminal (logs, CI, nohup) one plain line every
``interval`` seconds and at the end, since rich would draw nothing until it finished.
"""

from __future__ import annotations
from vidscan.plural import plural

import sys
import time
from typing import Protocol


class BatchProgress(Protocol):
    def start(self, files: int, total_bytes: int, workers: int) -> None: ...

    def advance(self, nbytes: int, ok: bool, name: str) -> None: ...

    def tick(self) -> None: ...

    def finish(self) -> None: ...


class NullBatchProgress:
    def start(self, files: int, total_bytes: int, workers: int) -> None:
        pass

    def advance(self, nbytes: int, ok: bool, name: str) -> None:
        pass

    def tick(self) -> None:
        pass

    def finish(self) -> None:
        pass


class ConsoleBatchProgress:
    def __init__(self, console=None, interval: float = 10.0) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self.interval = interval
        self._bar = None
        self._task = None
        self.files = self.done = self.failed = 0
        self.total_bytes = self.done_bytes = 0
        self._t0 = self._last = 0.0

    def start(self, files: int, total_bytes: int, workers: int) -> None:
        self.files, self.total_bytes = files, max(1, total_bytes)
        self._t0 = self._last = time.monotonic()
        if self.console.is_terminal:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("[bold]batch[/]"), BarColumn(), TextColumn("{task.fields[files]}"),
                                 TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=self.console, transient=True)
            self._bar.start()
            self._task = self._bar.add_task("batch", total=self.total_bytes, files=self._files_text())
        else:
            print(f"batch: {plural(files, 'video')} to process with {plural(workers, 'worker')}", file=sys.stderr, flush=True)

    def _files_text(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{self.done}/{plural(self.files, 'file')}{failed}"

    def advance(self, nbytes: int, ok: bool, name: str) -> None:
        self.done += 1
        self.failed += 0 if ok else 1
        self.done_bytes += nbytes
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done_bytes, files=self._files_text())

    def tick(self) -> None:
        now = time.monotonic()
        if self._bar is None and now - self._last >= self.interval:
            self._last = now
            self._print_line(now)

    def _print_line(self, now: float) -> None:
        elapsed = now - self._t0
        frac = self.done_bytes / self.total_bytes
        eta = f", ETA {_hms(elapsed * (1 - frac) / frac)}" if 0 < frac < 1 else ""
        print(f"batch: {self._files_text()} ({100 * frac:.0f}% of the data), elapsed {_hms(elapsed)}{eta}", file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _hms(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
