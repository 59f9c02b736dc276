"""Argument checks shared by the library's entry points (detectors, classify, search, scenes).

The command line checks its options with click (vidscan.cli.common.FiniteFloat) and config
files with vidscan.config; a library call gets the same guard here. ``not x >= 0`` style
checks let nan through every comparison and inf through every open-ended one, and those then
crash deep in the pipeline or give a silently wrong timeline.
"""

from __future__ import annotations

import math
import numbers

from vidscan.errors import UsageError


def finite_number(name: str, value: object, *, min: float | None = None, max: float | None = None,
                  min_open: bool = False, max_open: bool = False) -> float:
    """``value`` as a float when it is a finite real number within the bounds (``min_open`` /
    ``max_open``: the bound itself is excluded); else a :class:`UsageError` (exit 2) naming
    ``name`` and what it must be."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok and min is not None:
        ok = value > min if min_open else value >= min
    if ok and max is not None:
        ok = value < max if max_open else value <= max
    if not ok:
        bounds = [f"{'>' if min_open else '>='} {min:g}"] if min is not None else []
        bounds += [f"{'<' if max_open else '<='} {max:g}"] if max is not None else []
        raise UsageError(f"{name} must be a finite number{' ' + ' and '.join(bounds) if bounds else ''}, got {value!r}")
    return float(value)  # type: ignore[arg-type]
