"""The local engine: N worker processes (spawn) that can be killed one by one.

``concurrent.futures.ProcessPoolExecutor`` cannot stop one task that overruns, so this is a
small pool of its own: each worker is a spawned process with a pipe; the driver sends one
job at a time to an idle worker and waits on all pipes and process sentinels together. A
worker that overruns ``--timeout-per-file`` is SIGKILLed and replaced; one that dies (a
decoder crash) fails only its own video. Workers ignore Ctrl-C (the driver stops them) and,
on Linux, die with the driver even if it is SIGKILLed (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from vidscan.batch.engine import Completion, SlotCounts, describe_exit, error_with_code, timeout_outcome
from vidscan.batch.reentry import REENTRY_EXIT, UNGUARDED_SCRIPT
from vidscan.batch.settings import BatchSettings
from vidscan.batch.work import VideoJob, VideoOutcome, VideoWorker
from vidscan.errors import UsageError, VidscanError


@dataclass
class _Slot:
    proc: Any
    conn: Connection
    state: str = "starting"  # starting | idle | busy
    token: Any = None
    deadline: float = float("inf")


class LocalEngine(SlotCounts):
    name = "local"

    def __init__(self, settings: BatchSettings, workers: int, timeout_s: float | None = None) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self._ctx = mp.get_context("spawn")
        self._threads = max(1, (os.cpu_count() or 1) // max(1, workers))
        self._slots: list[_Slot] = []
        try:
            for _ in range(workers):
                self._slots.append(self._start())
        except BaseException:
            self.close()
            raise

    @property
    def workers(self) -> int:
        return len(self._slots)

    def _start(self) -> _Slot:
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(target=_worker_main, args=(child, self.settings, os.getpid(), self._threads),
                                 name="vidscan-batch-worker", daemon=True)
        proc.start()
        child.close()
        return _Slot(proc=proc, conn=parent)

    def submit(self, token: Any, job: VideoJob) -> None:
        slot = self._idle_slot()
        slot.conn.send((job,))
        slot.state, slot.token = "busy", token
        slot.deadline = time.monotonic() + self.timeout_s if self.timeout_s else float("inf")

    def poll(self, wait_s: float) -> list[Completion]:
        now = time.monotonic()
        nearest = min((s.deadline for s in self._slots if s.state == "busy"), default=float("inf"))
        timeout = max(0.0, min(wait_s, nearest - now))
        waitables: list[Any] = [s.conn for s in self._slots] + [s.proc.sentinel for s in self._slots]
        wait(waitables, timeout=timeout)
        done: list[Completion] = []
        for i, slot in enumerate(list(self._slots)):
            message = None
            if slot.conn.poll():
                try:
                    message = slot.conn.recv()
                except (EOFError, OSError):
                    message = None
            if message is not None:
                kind = message[0]
                if kind == "ready":
                    slot.state = "idle"
                elif kind == "init_error":
                    raise error_with_code(message[1], message[2])
                elif kind == "done":
                    done.append(Completion(slot.token, message[1]))
                    slot.state, slot.token, slot.deadline = "idle", None, float("inf")
                continue
            if not slot.proc.is_alive():
                reason = describe_exit(slot.proc.exitcode)
                if slot.state == "starting":
                    if slot.proc.exitcode == REENTRY_EXIT:
                        raise UsageError(UNGUARDED_SCRIPT)
                    raise VidscanError(f"a batch worker process exited while starting ({reason})")
                if slot.state == "busy":
                    done.append(Completion(slot.token, VideoOutcome(ok=False, error=f"the worker process died ({reason})")))
                self._replace(i)
            elif slot.state == "busy" and time.monotonic() >= slot.deadline:
                done.append(Completion(slot.token, timeout_outcome(self.timeout_s or 0.0)))
                self._replace(i)
        return done

    def _replace(self, i: int) -> None:
        self._stop(self._slots[i])
        self._slots[i] = self._start()

    @staticmethod
    def _stop(slot: _Slot) -> None:
        if slot.proc.is_alive():
            slot.proc.kill()
        slot.proc.join(timeout=10)
        slot.conn.close()

    def close(self) -> None:
        for slot in self._slots:
            if slot.state != "busy" and slot.proc.is_alive():
                try:
                    slot.conn.send(None)  # polite stop for idle workers
                except OSError:
                    pass
        deadline = time.monotonic() + 2.0
        for slot in self._slots:
            if slot.state != "busy":
                slot.proc.join(timeout=max(0.0, deadline - time.monotonic()))
            self._stop(slot)
        self._slots = []


def _worker_main(conn: Connection, settings: BatchSettings, parent_pid: int, threads: int) -> None:
    """Worker process body: warm up, then run jobs until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent_pid)
    worker = VideoWorker(settings)
    failure = worker.warm()
    if failure is not None:
        conn.send(("init_error", *failure))
        return
    if "torch" in sys.modules:  # a model was loaded: its threads share the CPUs with the other workers
        sys.modules["torch"].set_num_threads(threads)
    conn.send(("ready",))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        (job,) = message
        try:
            conn.send(("done", worker.run(job)))
        except (BrokenPipeError, OSError):
            return


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this worker when the driver dies, so no orphan keeps writing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the driver died before prctl took effect
        os._exit(1)
