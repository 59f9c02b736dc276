"""What the batch driver needs from an engine (local process pool or Ray), and shared bits.

An engine runs :class:`~vidscan.batch.work.VideoWorker` s somewhere and enforces the
per-file timeout by killing the worker that overran it (then starting a fresh one). The
driver only ever hands a job to an idle worker, so at most ``workers`` videos are in flight.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from typing import Any, Protocol

from vidscan.batch.work import VideoJob, VideoOutcome
from vidscan.errors import InputError, ModelUnavailableError, OutputError, UsageError, VidscanError


@dataclass
class Completion:
    """A finished (or failed, or timed-out) job, with the driver's token for it."""

    token: Any
    outcome: VideoOutcome


class Engine(Protocol):
    name: str

    @property
    def workers(self) -> int: ...

    def idle(self) -> int:
        """How many jobs can be submitted right now."""

    def busy(self) -> int:
        """How many jobs are in flight."""

    def submit(self, token: Any, job: VideoJob) -> None: ...

    def poll(self, wait_s: float) -> list[Completion]:
        """Wait up to ``wait_s`` for jobs to finish; kills and reports timed-out ones."""

    def close(self) -> None:
        """Stop every worker (killing any still busy)."""


class SlotCounts:
    """``idle()``/``busy()`` for engines that keep their workers in ``self._slots``, each with
    a ``state`` of ``"idle"`` or ``"busy"``."""

    _slots: list[Any]

    def idle(self) -> int:
        return sum(1 for s in self._slots if s.state == "idle")

    def busy(self) -> int:
        return sum(1 for s in self._slots if s.state == "busy")

    def _idle_slot(self) -> Any:
        return next(s for s in self._slots if s.state == "idle")


def error_with_code(message: str, code: int) -> VidscanError:
    """Rebuild a worker's start-up error in the driver, keeping its exit code."""
    for cls in (UsageError, InputError, ModelUnavailableError, OutputError):
        if cls.exit_code == code:
            return cls(message)
    return VidscanError(message)


def describe_exit(code: int | None) -> str:
    """``-9`` -> ``"killed by SIGKILL"``; ``1`` -> ``"exit code 1"``."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def timeout_outcome(timeout_s: float) -> VideoOutcome:
    return VideoOutcome(ok=False, error=f"timed out after {timeout_s:g} s (--timeout-per-file); the worker was stopped", wall_s=timeout_s)
