"""Boundary detectors over embedding sequences, behind one interface and a registry."""

from __future__ import annotations

from typing import Any, Callable

from vidscan.detect.adaptive import AdaptiveDetector
from vidscan.detect.base import Boundary, BoundaryDetector
from vidscan.detect.kernel import KernelDetector
from vidscan.errors import UsageError

#: The shot detector every command uses unless told otherwise (chosen on real footage; see
#: vidscan.detect.adaptive).
DEFAULT_DETECTOR = "adaptive"


def _transnet(**params: Any) -> BoundaryDetector:
    from vidscan.detect.transnet import TransNetDetector

    return TransNetDetector(**params)


def _combined(**params: Any) -> BoundaryDetector:
    from vidscan.detect.transnet import CombinedDetector

    return CombinedDetector(**params)


_DETECTORS: dict[str, Callable[..., BoundaryDetector]] = {
    "adaptive": AdaptiveDetector,
    "kernel": KernelDetector,
    "transnetv2": _transnet,
    "combined": _combined,
}
#: Which detectors take the user-facing ``penalty`` / ``min_scene_len`` options.
_TAKES = {"adaptive": {"penalty", "min_scene_len"}, "kernel": {"penalty", "min_scene_len"}, "combined": {"penalty", "min_scene_len"}}


def register_detector(name: str, factory: Callable[..., BoundaryDetector], takes: set[str] | None = None) -> None:
    """Make ``create_detector(name, ...)`` build detectors with ``factory``; ``takes`` names
    the user-facing options (``penalty``, ``min_scene_len``) it accepts."""
    _DETECTORS[name] = factory
    _TAKES[name] = set(takes or ())


def available_detectors() -> list[str]:
    return sorted(_DETECTORS)


def detector_options(name: str, *, penalty: float | None = None, min_scene_len: float | None = None) -> dict[str, Any]:
    """The command-line options that detector ``name`` takes, leaving out those not given
    (so each detector keeps its own defaults)."""
    given = {"penalty": penalty, "min_scene_len": min_scene_len}
    return {k: v for k, v in given.items() if v is not None and k in _TAKES.get(name, set())}


def create_detector(name: str = DEFAULT_DETECTOR, **params: Any) -> BoundaryDetector:
    """Build the detector registered as ``name`` with ``params``."""
    try:
        factory = _DETECTORS[name]
    except KeyError:
        raise UsageError(f"unknown detector {name!r}; choose from {', '.join(sorted(_DETECTORS))}") from None
    return factory(**params)


__all__ = ["AdaptiveDetector", "Boundary", "BoundaryDetector", "DEFAULT_DETECTOR", "KernelDetector", "available_detectors",
           "create_detector", "detector_options", "register_detector"]
