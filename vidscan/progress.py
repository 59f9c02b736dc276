"""Progress reporting: a rich bar on a terminal, plain periodic lines elsewhere, or nothing.

rich draws nothing until the end when output is not a terminal (logs and CI would see no
progress at all), so off a terminal this prints one plain line every few seconds instead.
"""

from __future__ import annotations

import sys
import time
from typing import Protocol


class Progress(Protocol):
    """What the pipeline calls while it works (``total`` may be 0 when unknown)."""

    def start(self, description: str, total: float) -> None: ...

    def update(self, completed: float) -> None: ...

    def finish(self) -> None: ...


class NullProgress:
    """Reports nothing (library default, and ``--quiet``)."""

    def start(self, description: str, total: float) -> None:
        pass

    def update(self, completed: float) -> None:
        pass

    def finish(self) -> None:
        pass


class ConsoleProgress:
    """A rich progress bar on a terminal; periodic plain lines on stderr otherwise."""

    def __init__(self, console=None, interval: float = 5.0, unit: str = "s of video") -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self.interval = interval
        self.unit = unit
        self._bar = None
        self._task = None
        self._total = 0.0
        self._started = 0.0
        self._last_print = 0.0
        self._description = ""
        self._completed = 0.0

    def start(self, description: str, total: float) -> None:
        self._description, self._total = description, float(total or 0)
        self._started = self._last_print = time.monotonic()
        self._completed = 0.0
        if self.console.is_terminal:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(bar_width=24),
                TextColumn("{task.percentage:>3.0f}%"),
                TextColumn("{task.fields[speed]}"),
                TextColumn("elapsed"),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(description, total=self._total or None, speed="")

    def update(self, completed: float) -> None:
        self._completed = completed
        now = time.monotonic()
        speed = completed / max(now - self._started, 1e-6)
        if self._bar is not None:
            self._bar.update(self._task, completed=completed, speed=f"{speed:.1f}x realtime" if self.unit.startswith("s") else "")
        elif now - self._last_print >= self.interval:
            self._last_print = now
            print(plain_line(self._description, completed, self._total, self.unit, now - self._started), file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def plain_line(description: str, completed: float, total: float, unit: str, elapsed_s: float) -> str:
    """One progress line for a log: what, how far, how fast, and the time spent and left, each labelled."""
    speed = completed / max(elapsed_s, 1e-6)
    pct = f" ({100 * completed / total:.0f}%)" if total else ""
    left = f", left {clock(elapsed_s * (total - completed) / completed)}" if total and completed > 0 else ""
    pace = f", {speed:.1f}x realtime" if unit.startswith("s") else ""
    return f"{description}: {completed:.0f}/{total:.0f} {unit}{pct}{pace}, elapsed {clock(elapsed_s)}{left}"


def clock(seconds: float) -> str:
    """``H:MM:SS`` (as rich's time columns show it)."""
    whole = int(max(0.0, seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
