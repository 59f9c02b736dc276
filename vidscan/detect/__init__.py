"""Boundary detectors over embedding sequences, behind one interface and a registry."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from vidscan.detect.adaptive import AdaptiveDetector
from vidscan.detect.base import Boundary, BoundaryDetector
from vidscan.detect.kernel import KernelDetector
from vidscan.registry import Registry, lazy

#: The shot detector every command uses unless told otherwise (chosen on real footage; see
#: vidscan.detect.adaptive).
DEFAULT_DETECTOR = "adaptive"


#: The user-facing options (``--penalty``, ``--min-scene-len``) a detector may take, by keyword.
DETECTOR_OPTIONS = frozenset({"penalty", "min_scene_len"})


def _builtin_detectors(registry: Registry[BoundaryDetector]) -> None:
    """Best first: the command line lists them in this order."""
    registry.register("adaptive", AdaptiveDetector, takes=DETECTOR_OPTIONS)
    registry.register("kernel", KernelDetector, takes=DETECTOR_OPTIONS)
    registry.register("combined", lazy("vidscan.detect.transnet", "CombinedDetector"), takes=DETECTOR_OPTIONS)  # torch: only when asked
    registry.register("transnetv2", lazy("vidscan.detect.transnet", "TransNetDetector"))


#: Boundary detectors by name; each factory takes keyword parameters.
DETECTORS: Registry[BoundaryDetector] = Registry("detector", _builtin_detectors)


def register_detector(name: str, factory: Callable[..., BoundaryDetector], takes: Iterable[str] | None = None, *,
                      replace: bool = False) -> None:
    """Make ``create_detector(name, ...)`` (and ``--detector name``) build detectors with
    ``factory``; ``takes`` names the user-facing options of :data:`DETECTOR_OPTIONS` it accepts."""
    DETECTORS.register(name, factory, takes=takes or (), replace=replace)


def available_detectors() -> list[str]:
    """Every detector name, sorted."""
    return sorted(DETECTORS.names())


def detector_options(name: str, *, penalty: float | None = None, min_scene_len: float | None = None) -> dict[str, Any]:
    """The command-line options that detector ``name`` takes, leaving out those not given
    (so each detector keeps its own defaults)."""
    return DETECTORS.options(name, penalty=penalty, min_scene_len=min_scene_len)


def create_detector(name: str = DEFAULT_DETECTOR, **params: Any) -> BoundaryDetector:
    """Build the detector registered as ``name`` with ``params``."""
    return DETECTORS.create(name, **params)


__all__ = ["AdaptiveDetector", "Boundary", "BoundaryDetector", "DEFAULT_DETECTOR", "DETECTORS", "DETECTOR_OPTIONS", "KernelDetector",
           "available_detectors", "create_detector", "detector_options", "register_detector"]
