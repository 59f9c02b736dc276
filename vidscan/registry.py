"""One registry class for every swappable stage: decoder backends, embedders, detectors.

Each kind keeps its entries in a :class:`Registry`, so adding one (built in or your own)
works the same way everywhere: ``register(name, factory)``, and the name is then accepted by
the library (``create``) and by the command line (its choices come from ``names``).

Built-ins are registered by a loader the first time the registry is used, whichever comes
first: a lookup or a user's own ``register``. Built-in factories import their heavy
libraries (torch, open_clip, torchcodec, transnetv2) only when called, so listing names stays
cheap enough for ``--help``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from vidscan.errors import UsageError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered implementation.

    ``takes`` names the user-facing options (command-line values) it accepts, so a command can
    pass each implementation only what it understands. ``replaced`` is the entry it overrode,
    put back by :meth:`Registry.unregister`.
    """

    name: str
    factory: Callable[..., T]
    takes: frozenset[str] = frozenset()
    replaced: "Entry[T] | None" = None


def lazy(module: str, attribute: str) -> Callable[..., Any]:
    """A factory that imports ``module`` only when called, then calls ``module.attribute``:
    registering a built-in must not load torch or open_clip."""

    def factory(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), attribute)(*args, **kwargs)

    factory.__qualname__ = f"lazy({module}.{attribute})"
    return factory


class Registry(Generic[T]):
    """Named factories of one ``kind`` (used in messages: "decoder backend", "embedder", ...)."""

    def __init__(self, kind: str, builtins: Callable[["Registry[T]"], None]) -> None:
        self.kind = kind
        self._builtins: Callable[[Registry[T]], None] | None = builtins
        self._entries: dict[str, Entry[T]] = {}
        self._builtin_entries: dict[str, Entry[T]] = {}

    def register(self, name: str, factory: Callable[..., T], *, takes: Iterable[str] = (), replace: bool = False) -> None:
        """Make ``name`` build with ``factory``. Overriding an existing name (a built-in
        included) must be asked for with ``replace=True``, so a typo cannot hide one."""
        self._load()
        old = self._entries.get(name)
        if old is not None and not replace:
            raise ValueError(f"{self.kind} {name!r} is already registered; pass replace=True to override it")
        self._entries[name] = Entry(name, factory, frozenset(takes), old)

    def unregister(self, name: str) -> None:
        """Undo :meth:`register`: the entry goes, and the one it replaced (if any) comes back."""
        self._load()
        entry = self._entries.get(name)
        if entry is None:
            raise KeyError(f"{self.kind} {name!r} is not registered")
        if entry.replaced is not None:
            self._entries[name] = entry.replaced  # in its old place in the listing
        else:
            del self._entries[name]

    def names(self) -> list[str]:
        """Every registered name, built-ins first in the order their loader lists them."""
        self._load()
        return list(self._entries)

    def get(self, name: str) -> Entry[T]:
        """The entry registered as ``name``; an unknown name is a usage error listing the choices."""
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            raise UsageError(f"unknown {self.kind} {name!r}; choose from {', '.join(sorted(self._entries))}") from None

    def create(self, name: str, *args: Any, **kwargs: Any) -> T:
        """Build the implementation registered as ``name``."""
        return self.get(name).factory(*args, **kwargs)

    def takes(self, name: str) -> frozenset[str]:
        """The user-facing options ``name`` accepts (none for an unknown name)."""
        self._load()
        entry = self._entries.get(name)
        return entry.takes if entry is not None else frozenset()

    def options(self, name: str, **given: Any) -> dict[str, Any]:
        """Those of ``given`` that ``name`` takes, leaving out values not given (None), so
        each implementation keeps its own defaults."""
        takes = self.takes(name)
        return {key: value for key, value in given.items() if value is not None and key in takes}

    def added(self) -> list[Entry[T]]:
        """The entries registered at run time, in order (a built-in replaced included): what a
        worker process started afresh must register again to know them."""
        self._load()
        return [entry for name, entry in self._entries.items() if self._builtin_entries.get(name) is not entry]

    def restore(self, entries: Iterable[Entry[T]]) -> None:
        """Register ``entries`` (from :meth:`added` in another process) here, replacing any
        of the same name."""
        for entry in entries:
            self.register(entry.name, entry.factory, takes=entry.takes, replace=True)

    def _load(self) -> None:
        """Register the built-ins once, before anything else, so user entries never hide them."""
        if self._builtins is not None:
            load, self._builtins = self._builtins, None
            load(self)
            self._builtin_entries = dict(self._entries)
