"""The decoders, embedders and detectors a program registered before starting a batch, carried
to the worker processes.

Workers are started afresh (``spawn``) or on other machines (Ray): they import vidscan and
know only its built-ins. Without this, a detector registered in the calling script (inside
its ``if __name__ == "__main__":`` block, as it must be) was "unknown" in every worker and
every video failed.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from typing import Any

from vidscan.detect import DETECTORS
from vidscan.embed.registry import EMBEDDERS
from vidscan.errors import UsageError
from vidscan.registry import Entry, Registry
from vidscan.video.base import BACKENDS

#: The registries whose run-time entries travel with a batch, by the kind they hold.
TRAVELLING: dict[str, Registry[Any]] = {"backend": BACKENDS, "embedder": EMBEDDERS, "detector": DETECTORS}


@dataclass(frozen=True)
class Registrations:
    """A snapshot of the run-time entries of each travelling registry."""

    entries: tuple[tuple[str, Entry[Any]], ...] = field(default_factory=tuple)

    @classmethod
    def current(cls) -> Registrations:
        """What this process has registered beyond the built-ins, now."""
        return cls(tuple((kind, entry) for kind, registry in TRAVELLING.items() for entry in registry.added()))

    def check_sendable(self) -> None:
        """A usage error naming the entry a worker could not receive (a lambda, a class
        defined inside a function): said once, before any video is started."""
        for kind, entry in self.entries:
            try:
                pickle.dumps(entry.factory)
            except Exception as exc:  # noqa: BLE001 - pickling raises several kinds
                raise UsageError(f"the {kind} {entry.name!r} registered in this program cannot be sent to batch workers "
                                 f"({type(exc).__name__}); register a class or function defined at the top level of a module") from None

    def install(self) -> None:
        """Register the snapshot's entries in this (worker) process."""
        for kind, registry in TRAVELLING.items():
            registry.restore(entry for entry_kind, entry in self.entries if entry_kind == kind)
