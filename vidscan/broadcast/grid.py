"""Every broadcast cue on one time grid: what the break finder and the label fusion read.

The picture cues come at the picture meter's samples, the audio features at their hops and
the cuts from the shot detector; each is resampled here onto cells of ``step_s`` seconds
(max-pooled where a short event must survive, e.g. a 4-frame black separator; averaged
elsewhere), so the consumers never deal with three clocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Width of one grid cell, seconds: fine enough to place break edges (they are then snapped
#: to the exact black run or cut), coarse enough that an hour is only 18,000 cells.
GRID_STEP_S = 0.2


@dataclass
class CueGrid:
    """Broadcast cues on cells ``[times[i], times[i] + step_s)``. Absent cues are None:
    a file without sound has no audio rows; footage without a station logo has no ``logo``."""

    step_s: float
    duration_s: float
    times: np.ndarray  # float64 [G] cell starts
    black: np.ndarray  # bool [G] a black (or white) frame was seen in the cell
    black_runs: list[tuple[float, float]]  # exact (start, end) of each run of black/white frames
    cuts: np.ndarray  # float64 [C] times of shot boundaries (first frame of the new shot)
    logo: np.ndarray | None = None  # float32 [G] 0..1 station logo presence (NaN on black cells)
    aspect: np.ndarray | None = None  # float32 [G] aspect ratio of the active picture
    loudness: np.ndarray | None = None  # float32 [G] short-term loudness, LUFS
    silence: np.ndarray | None = None  # bool [G] most of the cell is silent
    speech: np.ndarray | None = None  # float32 [G] 0..1
    music: np.ndarray | None = None  # float32 [G] 0..1
    noise: np.ndarray | None = None  # float32 [G] 0..1 broadband background (crowd)
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.times)

    @property
    def has_audio(self) -> bool:
        return self.loudness is not None

    def cell_of(self, t: float | np.ndarray) -> np.ndarray:
        """The cell index holding time ``t`` (clipped to the grid)."""
        return np.clip((np.asarray(t, np.float64) / self.step_s).astype(np.int64), 0, max(0, self.size - 1))

    def at(self, values: np.ndarray, times: np.ndarray) -> np.ndarray:
        """``values`` (a per-cell array) read at arbitrary ``times`` (nearest cell)."""
        return values[self.cell_of(times)]


def grid_times(duration_s: float, step_s: float = GRID_STEP_S) -> np.ndarray:
    """Cell start times covering ``[0, duration_s)``."""
    return np.arange(max(1, int(np.ceil(duration_s / step_s))), dtype=np.float64) * step_s


def pooled_mean(times: np.ndarray, values: np.ndarray, grid: np.ndarray, step_s: float) -> np.ndarray:
    """Mean of ``values`` (at ``times``) per cell; cells without a sample take the nearest
    sample's value (so sparse samples still cover every cell)."""
    values = np.asarray(values, np.float64)
    out = np.full(len(grid), np.nan)
    if len(times) == 0:
        return out.astype(np.float32)
    cells = np.clip((np.asarray(times) / step_s).astype(np.int64), 0, len(grid) - 1)
    ok = np.isfinite(values)
    sums = np.bincount(cells[ok], weights=values[ok], minlength=len(grid))
    counts = np.bincount(cells[ok], minlength=len(grid))
    have = counts > 0
    out[have] = sums[have] / counts[have]
    if not have.all() and have.any():
        centres = grid + step_s / 2
        nearest = np.interp(centres, np.asarray(times)[ok], values[ok])
        out[~have] = nearest[~have]
    return out.astype(np.float32)


def pooled_any(times: np.ndarray, mask: np.ndarray, grid: np.ndarray, step_s: float) -> np.ndarray:
    """Whether any sample in each cell is True (a short event survives pooling)."""
    out = np.zeros(len(grid), bool)
    if len(times):
        cells = np.clip((np.asarray(times) / step_s).astype(np.int64), 0, len(grid) - 1)
        out[cells[np.asarray(mask, bool)]] = True
    return out


def pooled_share(times: np.ndarray, mask: np.ndarray, grid: np.ndarray, step_s: float) -> np.ndarray:
    """Share of each cell's samples that are True (nearest sample where a cell has none)."""
    return pooled_mean(times, np.asarray(mask, np.float64), grid, step_s)
