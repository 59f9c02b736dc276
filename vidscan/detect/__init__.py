"""Boundary detectors over embedding sequences, behind one interface and a registry."""

from __future__ import annotations

from typing import Any, Callable

from vidscan.detect.base import Boundary, BoundaryDetector
from vidscan.detect.kernel import KernelDetector
from vidscan.errors import UsageError

_DETECTORS: dict[str, Callable[..., BoundaryDetector]] = {"kernel": KernelDetector}


def register_detector(name: str, factory: Callable[..., BoundaryDetector]) -> None:
    """Make ``create_detector(name, ...)`` build detectors with ``factory``."""
    _DETECTORS[name] = factory


def available_detectors() -> list[str]:
    return sorted(_DETECTORS)


def create_detector(name: str = "kernel", **params: Any) -> BoundaryDetector:
    """Build the detector registered as ``name`` with ``params``."""
    try:
        factory = _DETECTORS[name]
    except KeyError:
        raise UsageError(f"unknown detector {name!r}; choose from {', '.join(sorted(_DETECTORS))}") from None
    return factory(**params)


__all__ = ["Boundary", "BoundaryDetector", "KernelDetector", "available_detectors", "create_detector", "register_detector"]
