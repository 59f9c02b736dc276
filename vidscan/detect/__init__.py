"""Boundary detectors over embedding sequences, behind one interface and a registry."""

from __future__ import annotations

from typing import Any, Callable

from vidscan.detect.base import Boundary, BoundaryDetector
from vidscan.detect.kernel import KernelDetector
from vidscan.errors import UsageError

def _transnet(**params: Any) -> BoundaryDetector:
    from vidscan.detect.transnet import TransNetDetector

    return TransNetDetector(**params)


def _combined(**params: Any) -> BoundaryDetector:
    from vidscan.detect.transnet import CombinedDetector

    return CombinedDetector(**params)


_DETECTORS: dict[str, Callable[..., BoundaryDetector]] = {"kernel": KernelDetector, "transnetv2": _transnet, "combined": _combined}


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
