"""Boundary detectors over embedding sequences, behind one interface and a registry."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from importlib import import_module
from typing import TYPE_CHECKING

from vidscan.errors import UsageError
from vidscan.registry import Registry, lazy

#: The shot detector every command uses unless told otherwise (chosen on real footage; see
#: vidscan.detect.adaptive).
DEFAULT_DETECTOR = "adaptive"


#: The user-facing options (``--penalty``, ``--min-scene-len``) a detector may take, by keyword.
DETECTOR_OPTIONS = frozenset({"penalty", "min_scene_len"})
#: Where a detector that runs a network runs it (``--device``); given only to those that take it.
RUNS_ON = frozenset({"device"})


def _builtin_detectors(registry: "Registry[BoundaryDetector]") -> None:
    """Best first: the command line lists them in this order."""
    registry.register("adaptive", lazy("vidscan.detect.adaptive", "AdaptiveDetector"), takes=DETECTOR_OPTIONS)  # ruptures/scipy: on first use
    registry.register("kernel", lazy("vidscan.detect.kernel", "KernelDetector"), takes=DETECTOR_OPTIONS)
    registry.register("combined", lazy("vidscan.detect.transnet", "CombinedDetector"), takes=DETECTOR_OPTIONS | RUNS_ON)  # torch: only when asked
    registry.register("transnetv2", lazy("vidscan.detect.transnet", "TransNetDetector"), takes=RUNS_ON)


#: Boundary detectors by name; each factory takes keyword parameters.
DETECTORS: "Registry[BoundaryDetector]" = Registry("detector", _builtin_detectors)


def register_detector(name: str, factory: Callable[..., "BoundaryDetector"], takes: Iterable[str] | None = None, *,
                      replace: bool = False) -> None:
    """Make ``create_detector(name, ...)`` (and ``--detector name``) build detectors with
    ``factory``; ``takes`` names the user-facing options of :data:`DETECTOR_OPTIONS` it accepts."""
    DETECTORS.register(name, factory, takes=takes or (), replace=replace)


def available_detectors() -> list[str]:
    """Every detector name, sorted."""
    return sorted(DETECTORS.names())


def detector_options(name: str, *, penalty: float | None = None, min_scene_len: float | None = None,
                     device: str | None = None) -> dict[str, Any]:
    """The command-line options for detector ``name``, leaving out those not given (so each
    detector keeps its own defaults). A tuning option the detector does not take is a
    :class:`UsageError`, never silently dropped; ``device`` goes only to detectors that run a
    network."""
    tuning = {"penalty": penalty, "min_scene_len": min_scene_len}
    takes = DETECTORS.takes(name)
    refused = [key for key, value in tuning.items() if value is not None and key not in takes]
    if refused:
        flags = " and ".join("--" + key.replace("_", "-") for key in refused)
        raise UsageError(f"{flags} {'do' if len(refused) > 1 else 'does'} not apply to the {name} detector")
    return DETECTORS.options(name, **tuning, device=device)


def create_detector(name: str = DEFAULT_DETECTOR, **params: Any) -> "BoundaryDetector":
    """Build the detector registered as ``name`` with ``params``."""
    return DETECTORS.create(name, **params)


#: The built-in detector classes, importable from here; loaded on first use (they pull in
#: ruptures and scipy, which the command line's start-up should not pay for).
_CLASSES = {"AdaptiveDetector": "vidscan.detect.adaptive", "KernelDetector": "vidscan.detect.kernel",
            "Boundary": "vidscan.detect.base", "BoundaryDetector": "vidscan.detect.base"}

if TYPE_CHECKING:
    from vidscan.detect.base import Boundary, BoundaryDetector
    from vidscan.detect.adaptive import AdaptiveDetector
    from vidscan.detect.kernel import KernelDetector


def __getattr__(name: str) -> Any:
    if name not in _CLASSES:
        raise AttributeError(f"module 'vidscan.detect' has no attribute {name!r}")
    return getattr(import_module(_CLASSES[name]), name)


__all__ = ["AdaptiveDetector", "Boundary", "BoundaryDetector", "DEFAULT_DETECTOR", "DETECTORS", "DETECTOR_OPTIONS", "KernelDetector", "RUNS_ON",
           "available_detectors", "create_detector", "detector_options", "register_detector"]
