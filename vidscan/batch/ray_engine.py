"""The Ray engine: the same batch on a Ray cluster, with the driver keeping the manifest.

Each worker is a Ray actor holding one :class:`~vidscan.batch.work.VideoWorker` (so a CLIP
model is loaded once per actor), asking for one CPU, or one GPU when the batch runs CLIP and
the cluster has GPUs (then there is one actor, and one model, per GPU). Actors decode, embed
and write each video's outputs into its staging folder under the output folder, which must
therefore be on a filesystem every node sees, like the inputs; the driver renames the
folder into place and records the state, exactly as the local engine does. A video that
overruns the timeout gets its actor killed and replaced.

Without ``--address`` a private single-machine Ray instance is started that listens on
loopback only; with ``--address auto`` (or ``HOST:PORT``, ``ray://HOST:10001``) the batch
joins an existing cluster. Every node needs vidscan (and its dependencies) installed.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from vidscan.batch.engine import Completion, SlotCounts, error_with_code, timeout_outcome
from vidscan.batch.settings import BatchSettings
from vidscan.batch.work import VideoJob, VideoOutcome, VideoWorker
from vidscan.errors import UsageError, VidscanError


class BatchWorker:
    """Actor body (made remote lazily, so importing this module does not import ray)."""

    def __init__(self, settings: BatchSettings) -> None:
        self.worker = VideoWorker(settings)

    def warm(self) -> tuple[str, int] | None:
        return self.worker.warm()

    def run(self, job: VideoJob) -> VideoOutcome:
        return self.worker.run(job)


@dataclass
class _Slot:
    actor: Any
    state: str = "starting"  # starting | idle | busy
    ref: Any = None           # warm() while starting, run() while busy
    token: Any = None
    deadline: float = float("inf")


def import_ray(local: bool) -> Any:
    """Import ray; for a private local instance, make its servers bind to loopback only."""
    if local:
        # Ray's single-machine mode (its default on macOS/Windows): every server listens
        # on 127.0.0.1 instead of all interfaces. Must be set before ray is imported.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise UsageError("the Ray engine needs Ray: pip install 'vidscan[ray]'") from None
    return ray


class RayEngine(SlotCounts):
    name = "ray"

    def __init__(self, settings: BatchSettings, workers: int | None, timeout_s: float | None = None,
                 address: str | None = None, limit: int | None = None) -> None:
        """``workers`` actors (default: one per cluster CPU, or per GPU for CLIP), at most ``limit``."""
        self.settings = settings
        self.timeout_s = timeout_s
        self.address = address
        ray = import_ray(local=address is None)
        self._ray = ray
        self._started_ray = False
        if not ray.is_initialized():
            try:
                if address is None:
                    ray.init(address="local", num_cpus=workers or os.cpu_count() or 1, include_dashboard=False,
                             log_to_driver=False, logging_level=logging.ERROR)
                else:
                    ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise UsageError(f"cannot connect to the Ray cluster at {address or 'a new local instance'}: {exc}") from None
            self._started_ray = True
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        use_gpu = settings.embedder.on_gpu and gpus > 0
        count = workers or max(1, int(resources.get("CPU", 1)))
        if use_gpu:
            count = min(count, gpus)
        if limit:
            count = max(1, min(count, limit))
        options = {"num_cpus": 1, "num_gpus": 1 if use_gpu else 0, "max_restarts": 0}
        self._actor_cls = ray.remote(**options)(BatchWorker)
        self._slots = [self._start() for _ in range(count)]

    @property
    def workers(self) -> int:
        return len(self._slots)

    def _start(self) -> _Slot:
        actor = self._actor_cls.remote(self.settings)
        return _Slot(actor=actor, ref=actor.warm.remote())

    def submit(self, token: Any, job: VideoJob) -> None:
        slot = self._idle_slot()
        slot.ref = slot.actor.run.remote(job)
        slot.state, slot.token = "busy", token
        slot.deadline = time.monotonic() + self.timeout_s if self.timeout_s else float("inf")

    def poll(self, wait_s: float) -> list[Completion]:
        ray = self._ray
        refs = [s.ref for s in self._slots if s.ref is not None]
        now = time.monotonic()
        nearest = min((s.deadline for s in self._slots if s.state == "busy"), default=float("inf"))
        timeout = max(0.0, min(wait_s, nearest - now))
        if refs:
            ray.wait(refs, num_returns=1, timeout=timeout)
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        else:
            time.sleep(timeout)
            ready = []
        ready_ids = {r.hex() for r in ready}
        done: list[Completion] = []
        for i, slot in enumerate(list(self._slots)):
            if slot.ref is not None and slot.ref.hex() in ready_ids:
                try:
                    value = ray.get(slot.ref)
                    failed = None
                except ray.exceptions.RayError as exc:
                    value, failed = None, f"the Ray worker died ({type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''})"
                if slot.state == "starting":
                    if failed is not None:
                        raise VidscanError(f"a Ray batch worker failed to start: {failed}")
                    if value is not None:
                        raise error_with_code(*value)
                    slot.state, slot.ref = "idle", None
                    continue
                done.append(Completion(slot.token, value if failed is None else VideoOutcome(ok=False, error=failed)))
                if failed is not None:
                    self._replace(i)
                else:
                    slot.state, slot.ref, slot.token, slot.deadline = "idle", None, None, float("inf")
            elif slot.state == "busy" and time.monotonic() >= slot.deadline:
                done.append(Completion(slot.token, timeout_outcome(self.timeout_s or 0.0)))
                self._replace(i)
        return done

    def _replace(self, i: int) -> None:
        """Kill slot ``i``'s actor, wait (briefly) until it is gone, start a fresh one."""
        slot = self._slots[i]
        try:
            self._ray.kill(slot.actor, no_restart=True)
            if slot.ref is not None:  # resolves (with an error) once the actor is dead,
                self._ray.wait([slot.ref], timeout=10)  # so it cannot write after the driver cleaned up
        except Exception:  # noqa: BLE001 - already dead
            pass
        self._slots[i] = self._start()

    def close(self) -> None:
        for slot in self._slots:
            try:
                self._ray.kill(slot.actor, no_restart=True)
            except Exception:  # noqa: BLE001
                pass
        self._slots = []
        if self._started_ray:
            self._ray.shutdown()
            self._started_ray = False
