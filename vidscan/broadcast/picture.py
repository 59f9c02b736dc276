"""Broadcast cues from the picture, without a model: black and white frames, letterbox and
pillarbox bars (the active picture's aspect ratio), and the station logo that vanishes during
ad breaks (the cues Comskip uses).

Two halves:

* :class:`PictureMeter` rides the shared decode pass like an embedder (it is *not* registered
  as a user-facing embedder). Its rows are **measurements, not unit vectors**: never compare
  them by cosine similarity. Each row has :data:`DIM` float32 columns (layout below).
* :func:`picture_cues` turns the measured rows of a whole video into per-sample cues
  (:class:`PictureCues`), finding the logo from the rows alone.

Row layout (luma is Rec.601 ``0.299 R + 0.587 G + 0.114 B``, 0-255):

=====================  ===================================================================
column(s)              meaning
=====================  ===================================================================
:data:`COL_MEAN`       mean luma of the frame
:data:`COL_STD`        luma standard deviation
:data:`COL_DARK`       fraction of pixels with R, G and B all below :data:`DARK_LEVEL`
:data:`COL_BAR_TOP`    fraction of the frame's rows, from the top, that are uniformly dark
:data:`COL_BAR_BOTTOM` same from the bottom
:data:`COL_BAR_LEFT`   fraction of the columns, from the left, that are uniformly dark
:data:`COL_BAR_RIGHT`  same from the right
:data:`EDGE_START` ..  4 corners (:data:`CORNERS` order) x :data:`GRID_ROWS` x :data:`GRID_COLS`
                       block means of the luma gradient magnitude over the corner region
                       (:data:`CORNER_SHARE` of the width and of the height), in luma levels
                       per 1/:data:`REF_WIDTH` of the frame width (so independent of the
                       decode size)
:data:`LUMA_START` ..  the same grid of mean luma
=====================  ===================================================================

A row is :data:`DIM` = 7 + 2 x 4 x 144 = 1159 float32 = 4,636 bytes: at 5 samples/s that is
18,000 rows, about 83 MB, per hour of video (42 MB at float16, which loses nothing that
matters here).

Bars are measured on the central half of the frame only (rows: over the middle 50% of the
columns; columns: over the middle 50% of the rows), so a station logo or a bug in a corner,
often drawn over the letterbox bar, does not shorten the bar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidscan.embed.base import Embedder, check_frames
from vidscan.embed.features import block_means

# ---------------------------------------------------------------- row layout
#: Corner regions measured for the station logo, in row order.
CORNERS: tuple[str, ...] = ("top-left", "top-right", "bottom-left", "bottom-right")
#: Share of the frame width and height each corner region covers.
CORNER_SHARE = 0.25
#: Coarse grid per corner (rows x columns): 9 x 16 cells, ~3 x 3 px at 192 x 108.
GRID_ROWS, GRID_COLS = 9, 16
CELLS = GRID_ROWS * GRID_COLS
COL_MEAN, COL_STD, COL_DARK = 0, 1, 2
COL_BAR_TOP, COL_BAR_BOTTOM, COL_BAR_LEFT, COL_BAR_RIGHT = 3, 4, 5, 6
N_STATS = 7
EDGE_START = N_STATS
LUMA_START = EDGE_START + len(CORNERS) * CELLS
DIM = LUMA_START + len(CORNERS) * CELLS

#: Decode width (the height keeps the aspect); also the unit of the edge columns.
REF_WIDTH = 192
#: A pixel is "dark" when all of R, G, B are below this (black is 0-16 after a limited-range
#: conversion, plus compression noise; luma alone would call saturated blue, luma 29, dark).
DARK_LEVEL = 32.0
#: A row (column) of the central band belongs to a bar when this share of its pixels is dark.
BAR_DARK_SHARE = 0.97

# ---------------------------------------------------------------- black / white frames
#: Black frame: mean luma at most this (Comskip's default is ~20 on 16-235 video), ...
BLACK_MEAN = 24.0
#: ... and either a small spread or nearly every pixel dark (a dim caption is allowed).
BLACK_STD = 12.0
BLACK_DARK_SHARE = 0.97
#: White (flash) frame: mean at least this and a small spread.
WHITE_MEAN = 225.0
WHITE_STD = 12.0
#: Frames flatter than this luma spread (a uniform colour card) carry no logo information.
FLAT_STD = 4.0
#: Bars covering more than this share of the height (width) leave no measurable picture.
MAX_BAR_SHARE = 0.9

# ---------------------------------------------------------------- logo finding
#: A logo cell's edge energy must typically be at least this (luma levels / px at 192 wide;
#: the drawn edge of a semi-opaque box over video measures 15-60, flat areas and noise < 2).
LOGO_EDGE_MIN = 6.0
#: A sample's cell value is "the logo's" when within this relative (+ absolute) tolerance of
#: the cell's reference: a semi-opaque logo's edges vary with the picture behind it.
LOGO_TOL_REL = 0.3
LOGO_TOL_ABS = 2.0
#: Candidate reference values per cell: these quantiles of its values over time (the
#: reference is the one most samples agree with: the mode, not the median, so a logo
#: present only 30% of the time is still found).
LOGO_QUANTILES = np.linspace(0.05, 0.95, 19)
#: A logo must be present (all its cells near their reference) in at least this share of the
#: usable samples; anything rarer is reported as no logo.
LOGO_MIN_PRESENT = 0.25
#: A logo must be seen for at least this long (seconds) to be reported: a station logo holds
#: for minutes, while a still corner of a short clip (a wall, the floor under a fixed camera)
#: also holds for its few seconds. Measured on the 31 real clips of the development set
#: (2-40 s each, no logos): without this gate a "logo" was reported in 18 of them; over 5
#: minutes of the same footage joined, none.
LOGO_MIN_SECONDS = 45.0
#: A logo cell's stable share must exceed the typical (median) stable share b of the textured
#: cells elsewhere by this share of what is left above it, LOGO_CONTRAST * (1 - b): the logo
#: is static while the rest of the picture is not. (A fixed margin of 0.25 missed the logo of
#: a generated broadcast with long static studio shots: b = 0.45, logo cells 0.64.)
LOGO_CONTRAST = 0.4
#: Nearly static video: when the median corner cell keeps its mean luma (within
#: :data:`STILL_TOL_REL` / :data:`STILL_TOL_ABS` of its most common value) in more than this
#: share of samples, a logo cannot be told from the scene, and none is reported. (Edges alone
#: would miss a static scene of flat areas that a small object crosses now and then.)
STATIC_MAX = 0.6
STILL_TOL_REL = 0.05
STILL_TOL_ABS = 4.0
#: Fewer textured cells than this (over all four corners) cannot show that the picture
#: changes around the logo: no logo reported.
MIN_BACKGROUND_CELLS = 48
#: A logo covers between this many cells and this share of its corner (a whole static corner
#: is scenery or a bar, not a logo).
LOGO_MIN_CELLS = 3
LOGO_MAX_SHARE = 0.7
#: A sample shows the logo (for the template) when this share of its cells match.
LOGO_MATCH_SHARE = 0.6
#: A row (column) of cells that is a candidate across this share of both horizontally
#: (vertically) opposite corners is a frame-wide line (a letterbox edge), not a logo.
LINE_SHARE = 0.75
#: Statistics use at most this many evenly spread samples (bounded cost on hours of video).
MAX_STAT_SAMPLES = 4000
#: Fewest usable samples for a logo search.
MIN_LOGO_SAMPLES = 20

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _leading(mask: np.ndarray) -> np.ndarray:
    """Per row of ``mask [N, L]``, how many leading entries are True."""
    first_false = np.argmin(mask, axis=1)
    return np.where(mask.all(axis=1), mask.shape[1], first_false)


def _band(n: int) -> slice:
    """The middle half of ``n`` positions."""
    return slice(n // 4, max(n // 4 + 1, n - n // 4))


def corner_slices(h: int, w: int) -> list[tuple[slice, slice]]:
    """(rows, cols) of each corner region of an ``h x w`` frame, in :data:`CORNERS` order."""
    ch = min(h, max(GRID_ROWS, round(h * CORNER_SHARE)))
    cw = min(w, max(GRID_COLS, round(w * CORNER_SHARE)))
    top, bottom = slice(0, ch), slice(h - ch, h)
    left, right = slice(0, cw), slice(w - cw, w)
    return [(top, left), (top, right), (bottom, left), (bottom, right)]


class PictureMeter(Embedder):
    """Measures broadcast picture cues on the shared decode pass (see the module docstring).

    Not a user-facing embedder: rows are measurements (luma statistics, bar sizes, corner
    edge and luma maps), **not** L2-normalised vectors. Any frame size works (the shared
    pass may decode at another embedder's size); edge values are scaled to a
    :data:`REF_WIDTH`-wide frame.
    """

    name = "picture-cues"
    cheap = True
    has_text = False
    batch_size = 128

    @property
    def dim(self) -> int:
        return DIM

    def frame_size(self, width: int, height: int) -> tuple[int, int]:
        h = REF_WIDTH * height / max(1, width)
        return REF_WIDTH, max(2 * GRID_ROWS, round(h / 2) * 2)

    def identity(self) -> str:
        return (f"picture-cues-v1:w{REF_WIDTH}:grid{GRID_ROWS}x{GRID_COLS}:corner{CORNER_SHARE:g}"
                f":dark{DARK_LEVEL:g}:bar{BAR_DARK_SHARE:g}")

    def embed(self, frames: np.ndarray) -> np.ndarray:
        """Measure ``uint8 [N, H, W, 3]`` frames; returns ``float32 [N, DIM]`` (see layout)."""
        frames = check_frames(frames)
        n, h, w, _ = frames.shape
        if n == 0:
            return np.zeros((0, DIM), np.float32)
        y = frames.astype(np.float32) @ _LUMA  # [N, H, W]
        out = np.empty((n, DIM), np.float32)
        flat = y.reshape(n, -1)
        out[:, COL_MEAN] = flat.mean(axis=1, dtype=np.float64)
        out[:, COL_STD] = flat.std(axis=1, dtype=np.float64)
        # Every channel dark: pure blue (luma 29) is not black. Three comparisons, not a max
        # over the 3-long channel axis (a reduction numpy does slowly: 10x the time here).
        dark = (frames[..., 0] < DARK_LEVEL) & (frames[..., 1] < DARK_LEVEL) & (frames[..., 2] < DARK_LEVEL)
        out[:, COL_DARK] = dark.reshape(n, -1).mean(axis=1)
        row_dark = dark[:, :, _band(w)].mean(axis=2) >= BAR_DARK_SHARE  # [N, H]
        col_dark = dark[:, _band(h), :].mean(axis=1) >= BAR_DARK_SHARE  # [N, W]
        out[:, COL_BAR_TOP] = _leading(row_dark) / h
        out[:, COL_BAR_BOTTOM] = _leading(row_dark[:, ::-1]) / h
        out[:, COL_BAR_LEFT] = _leading(col_dark) / w
        out[:, COL_BAR_RIGHT] = _leading(col_dark[:, ::-1]) / w
        # Forward differences (zero at the last row/column), scaled to a REF_WIDTH-wide frame.
        gx = np.zeros_like(y)
        gy = np.zeros_like(y)
        np.subtract(y[:, :, 1:], y[:, :, :-1], out=gx[:, :, :-1])
        np.subtract(y[:, 1:, :], y[:, :-1, :], out=gy[:, :-1, :])
        mag = np.sqrt(gx * gx + gy * gy)
        mag *= w / REF_WIDTH
        for k, (rs, cs) in enumerate(corner_slices(h, w)):  # 4 corners, not a per-frame loop
            e0 = EDGE_START + k * CELLS
            l0 = LUMA_START + k * CELLS
            out[:, e0:e0 + CELLS] = block_means(mag[:, rs, cs], GRID_ROWS, GRID_COLS).reshape(n, CELLS)
            out[:, l0:l0 + CELLS] = block_means(y[:, rs, cs], GRID_ROWS, GRID_COLS).reshape(n, CELLS)
        return out


def corner_maps(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The corner maps of measured rows: edges and luma, each ``float32 [N, 4, GRID_ROWS, GRID_COLS]``."""
    rows = np.asarray(rows, np.float32)
    n = len(rows)
    edges = rows[:, EDGE_START:LUMA_START].reshape(n, len(CORNERS), GRID_ROWS, GRID_COLS)
    luma = rows[:, LUMA_START:DIM].reshape(n, len(CORNERS), GRID_ROWS, GRID_COLS)
    return edges, luma


# ---------------------------------------------------------------- analysis


@dataclass
class PictureCues:
    """Per-sample picture cues of one video (see :func:`picture_cues`)."""

    times: np.ndarray  # float64 [N] seconds
    black: np.ndarray  # bool [N]
    white: np.ndarray  # bool [N]
    luma: np.ndarray  # float32 [N] mean luma 0-255
    active_aspect: np.ndarray  # float32 [N] aspect of the picture inside black bars; NaN on black/blank frames
    logo: np.ndarray  # float32 [N] 0..1 station-logo presence; NaN everywhere when no logo was found
    logo_corner: str | None = None  # "top-right", ... or None
    logo_cells: np.ndarray | None = None  # bool [GRID_ROWS, GRID_COLS]: the logo's cells in its corner
    logo_box: tuple[float, float, float, float] | None = None  # (x0, y0, x1, y1) in frame fractions
    logo_share: float = 0.0  # share of usable samples showing the logo (0 when none found)
    logo_note: str = ""  # why no logo was reported, when none was


@dataclass
class Logo:
    """A found station logo: where it is and its edge template."""

    corner: int  # index into CORNERS
    cells: np.ndarray  # bool [GRID_ROWS, GRID_COLS]
    region: tuple[slice, slice]  # grid rows/cols compared with the template (cells' bbox + 1 cell)
    template: np.ndarray  # float32 edge map over ``region``
    luma_template: np.ndarray  # float32 luma map over ``region``
    share: float  # share of usable samples showing it


def true_runs(mask: np.ndarray, times: np.ndarray) -> list[tuple[float, float]]:
    """``(start, end)`` seconds of each run of True in ``mask``. A run ends where the next
    sample starts (the sample after its last True); a run reaching the end of the video ends
    one median sample step after its last sample."""
    mask = np.asarray(mask, bool)
    times = np.asarray(times, np.float64)
    if mask.size == 0:
        return []
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    d = np.diff(padded)
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)  # ends: index after the last True
    step = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
    out = []
    for s, e in zip(starts, ends):
        end = float(times[e]) if e < len(times) else float(times[-1]) + step
        out.append((float(times[s]), end))
    return out


def active_aspect(rows: np.ndarray, frame_aspect: float) -> np.ndarray:
    """Aspect ratio of the picture inside black bars, per row (NaN where bars leave none).

    Bars come in pairs (letterbox: top and bottom; pillarbox: left and right), so each pair
    counts as twice its thinner bar: dark content along one edge of the picture (a night
    sky, a dark wall) is not a bar."""
    rows = np.asarray(rows, np.float32)
    hs = 1.0 - 2.0 * np.minimum(rows[:, COL_BAR_TOP], rows[:, COL_BAR_BOTTOM])
    ws = 1.0 - 2.0 * np.minimum(rows[:, COL_BAR_LEFT], rows[:, COL_BAR_RIGHT])
    ok = (hs > 1.0 - MAX_BAR_SHARE) & (ws > 1.0 - MAX_BAR_SHARE)
    with np.errstate(divide="ignore", invalid="ignore"):
        aspect = np.where(ok, float(frame_aspect) * ws / hs, np.nan)
    return aspect.astype(np.float32)


def stable_shares(values: np.ndarray, *, tol_rel: float, tol_abs: float, min_ref: float = -np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Per column of ``values [n, C]``: the reference value (at least ``min_ref``) most
    samples agree with, among :data:`LOGO_QUANTILES` of the column (its mode, not its
    median), and the share of samples within ``tol_rel * ref + tol_abs`` of it (0 for a
    column never reaching ``min_ref``)."""
    refs = np.quantile(values, LOGO_QUANTILES, axis=0).astype(np.float32)  # [Q, C]
    support = np.zeros_like(refs)
    for q in range(len(refs)):  # a few quantiles, each vectorised over samples x cells
        tol = tol_rel * refs[q] + tol_abs
        support[q] = (np.abs(values - refs[q]) <= tol).mean(axis=0)
    support[refs < min_ref] = 0.0
    best = np.argmax(support, axis=0)
    cols = np.arange(values.shape[1])
    return refs[best, cols], support[best, cols]


def _largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected component of a small boolean grid."""
    seen = np.zeros_like(mask)
    best = np.zeros_like(mask)
    for start in zip(*np.nonzero(mask)):
        if seen[start]:
            continue
        comp = np.zeros_like(mask)
        stack = [start]
        seen[start] = True
        while stack:
            r, c = stack.pop()
            comp[r, c] = True
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if 0 <= rr < mask.shape[0] and 0 <= cc < mask.shape[1] and mask[rr, cc] and not seen[rr, cc]:
                        seen[rr, cc] = True
                        stack.append((rr, cc))
        if comp.sum() > best.sum():
            best = comp
    return best


def _drop_lines(cand: np.ndarray) -> np.ndarray:
    """Remove frame-wide lines from ``cand [4, R, C]``: rows candidate across both top (or both
    bottom) corners, columns across both left (or both right) corners (bar edges, not logos)."""
    cand = cand.copy()
    row_full = cand.mean(axis=2) >= LINE_SHARE  # [4, R]
    col_full = cand.mean(axis=1) >= LINE_SHARE  # [4, C]
    for a, b in ((0, 1), (2, 3)):  # horizontally opposite corners
        both = row_full[a] & row_full[b]
        cand[a][both] = False
        cand[b][both] = False
    for a, b in ((0, 2), (1, 3)):  # vertically opposite corners
        both = col_full[a] & col_full[b]
        cand[a][:, both] = False
        cand[b][:, both] = False
    return cand


def find_logo(edges: np.ndarray, luma: np.ndarray, usable: np.ndarray) -> tuple[Logo | None, str]:
    """Find the station logo in corner edge and luma maps ``[N, 4, GRID_ROWS, GRID_COLS]``.

    Per cell, the share of usable samples whose edge energy sits near the cell's most common
    strong value ("stable share"). Logo cells are strong and stable clearly more often than
    the textured cells elsewhere (:data:`LOGO_CONTRAST`); the corner with the largest cluster
    of such cells wins, and the logo must show in :data:`LOGO_MIN_PRESENT` of the samples.

    A static scene makes every cell static, so first the picture must be seen to change:
    when the typical lit corner cell keeps its brightness most of the time
    (:data:`STATIC_MAX`), or the corners are black or flat, no logo is reported, even if
    there is one (an all-static video with a logo gives "no logo": it cannot be told from
    the scenery). Frame-wide lines (letterbox edges) are not logos. ``usable``: the samples
    to learn from (not black, white or flat). Returns the logo (or None) and a note saying
    why none was found.
    """
    idx = np.flatnonzero(usable)
    if len(idx) < MIN_LOGO_SAMPLES:
        return None, f"too few usable samples ({len(idx)}) to look for a logo"
    if len(idx) > MAX_STAT_SAMPLES:
        idx = idx[np.linspace(0, len(idx) - 1, MAX_STAT_SAMPLES).astype(int)]
    # Cells that are mostly black (letterbox bars, a black backdrop) say nothing about motion.
    luma_ref, still = stable_shares(luma[idx].reshape(len(idx), -1), tol_rel=STILL_TOL_REL, tol_abs=STILL_TOL_ABS)
    lit = luma_ref >= DARK_LEVEL
    if lit.sum() < MIN_BACKGROUND_CELLS:
        return None, "the corners are black most of the time: a logo cannot be told from the scene"
    stillness = float(np.median(still[lit]))
    if stillness > STATIC_MAX:
        return None, (f"nearly static video (the typical corner cell keeps its brightness in {stillness:.0%} of samples): "
                      "a logo cannot be told from the scene")
    # Only a persistent *edge* can be a logo: flat stretches do not count as stable.
    values = edges[idx].reshape(len(idx), -1)
    refs, stable = stable_shares(values, tol_rel=LOGO_TOL_REL, tol_abs=LOGO_TOL_ABS, min_ref=LOGO_EDGE_MIN)
    textured = np.quantile(values, 0.9, axis=0) >= LOGO_EDGE_MIN
    if textured.sum() < MIN_BACKGROUND_CELLS:
        return None, "too little texture in the corners to tell a logo from the scene"
    background = float(np.median(stable[textured]))
    # The margin shrinks as the background gets steadier (long static shots): a logo shown
    # 60% of the time must still stand out when the scenery holds still half the time.
    threshold = max(LOGO_MIN_PRESENT, background + LOGO_CONTRAST * (1.0 - background))
    cand = (stable >= threshold).reshape(len(CORNERS), GRID_ROWS, GRID_COLS)
    cand = _drop_lines(cand)
    comps = [_largest_component(c) for c in cand]
    sizes = [int(c.sum()) for c in comps]
    k = int(np.argmax(sizes))
    if sizes[k] < LOGO_MIN_CELLS:
        return None, "no corner has a static edge pattern while the picture changes"
    if sizes[k] > LOGO_MAX_SHARE * CELLS:
        return None, f"the static area in the {CORNERS[k]} corner is too large for a logo"
    rows_, cols_ = np.nonzero(comps[k])
    region = (slice(max(0, rows_.min() - 1), min(GRID_ROWS, rows_.max() + 2)),
              slice(max(0, cols_.min() - 1), min(GRID_COLS, cols_.max() + 2)))
    # The logo's cells: the candidates within the bounding box of the largest cluster.
    cells = np.zeros_like(cand[k])
    box = (slice(rows_.min(), rows_.max() + 1), slice(cols_.min(), cols_.max() + 1))
    cells[box] = cand[k][box]
    # Samples showing the logo: most of its cells near their reference values.
    ref_map = refs.reshape(len(CORNERS), GRID_ROWS, GRID_COLS)[k][cells]
    vals = edges[:, k][:, cells]  # [N, m]
    match = (np.abs(vals - ref_map) <= LOGO_TOL_REL * ref_map + LOGO_TOL_ABS).mean(axis=1) >= LOGO_MATCH_SHARE
    match &= usable
    share = float(match.sum() / max(1, usable.sum()))
    if share < LOGO_MIN_PRESENT:
        return None, f"a static pattern in the {CORNERS[k]} corner shows in only {share:.0%} of samples"
    template = np.median(edges[match, k][:, region[0], region[1]], axis=0).astype(np.float32)
    luma_template = np.median(luma[match, k][:, region[0], region[1]], axis=0).astype(np.float32)
    return Logo(k, cells, region, template, luma_template, share), ""


def _correlation(maps: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Normalised (zero-mean) correlation of each ``maps[i]`` with ``template``; 0 for a flat map."""
    x = maps.reshape(len(maps), -1).astype(np.float64)
    t = template.reshape(-1).astype(np.float64)
    x = x - x.mean(axis=1, keepdims=True)
    t = t - t.mean()
    denom = np.linalg.norm(x, axis=1) * np.linalg.norm(t)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 1e-6, (x @ t) / np.where(denom > 1e-6, denom, 1.0), 0.0)


def logo_presence(edges: np.ndarray, luma: np.ndarray, logo: Logo) -> np.ndarray:
    """Per sample, how much the logo's region (its cells' box + 1 cell) looks like the
    template: the mean of the normalised correlations of the edge map and of the luma map
    with theirs, clipped to 0..1 (0 on a flat region, such as a black frame).

    Both halves are needed (measured on the test broadcast: 92% of ad samples under 0.3 with
    edges alone, 95% with luma alone, 100% with their mean, programme samples all above 0.5):
    edges ignore the picture's brightness behind a semi-opaque logo, luma ignores texture
    behind it that happens to line up with the logo's edges."""
    rs, cs = logo.region
    r_edge = _correlation(edges[:, logo.corner, rs, cs], logo.template)
    r_luma = _correlation(luma[:, logo.corner, rs, cs], logo.luma_template)
    return np.clip(0.5 * (r_edge + r_luma), 0.0, 1.0).astype(np.float32)


def _span_s(times: np.ndarray) -> float:
    """Seconds the samples at ``times`` stand for (their count times the typical spacing)."""
    if len(times) < 2:
        return 0.0
    return float(len(times) * np.median(np.diff(times)))


def picture_cues(times: np.ndarray, rows: np.ndarray, *, frame_aspect: float) -> PictureCues:
    """Per-sample picture cues from :class:`PictureMeter` rows of a whole video.

    ``frame_aspect``: the display aspect ratio of the full frame (width / height, pixel
    aspect included). Black and white frames count as logo-absent; a logo is only reported
    when the video's picture changes around it (see :func:`find_logo`); otherwise ``logo``
    is NaN throughout and ``logo_note`` says why.
    """
    times = np.asarray(times, np.float64)
    rows = np.asarray(rows, np.float32)
    if rows.ndim != 2 or rows.shape[1] != DIM or len(rows) != len(times):
        raise ValueError(f"rows must be [N, {DIM}] with N = len(times); got {rows.shape} for {len(times)} times")
    mean, std = rows[:, COL_MEAN], rows[:, COL_STD]
    black = (mean <= BLACK_MEAN) & ((std <= BLACK_STD) | (rows[:, COL_DARK] >= BLACK_DARK_SHARE))
    white = (mean >= WHITE_MEAN) & (std <= WHITE_STD)
    blank = black | white | (std < FLAT_STD)
    aspect = active_aspect(rows, frame_aspect)
    aspect[blank] = np.nan
    edges, luma = corner_maps(rows)
    logo, note = find_logo(edges, luma, ~blank)
    seen_s = logo.share * _span_s(times[~blank]) if logo is not None else 0.0
    if logo is not None and seen_s < LOGO_MIN_SECONDS:
        logo, note = None, (f"a static pattern in the {CORNERS[logo.corner]} corner is seen for only {seen_s:.0f} s: "
                            f"a station logo holds for minutes (at least {LOGO_MIN_SECONDS:g} s)")
    if logo is None:
        return PictureCues(times, black, white, mean.copy(), aspect, np.full(len(times), np.nan, np.float32), logo_note=note)
    presence = logo_presence(edges, luma, logo)
    presence[blank] = 0.0
    rs, cs = np.nonzero(logo.cells)
    x0 = (0.0 if logo.corner in (0, 2) else 1.0 - CORNER_SHARE) + CORNER_SHARE * cs.min() / GRID_COLS
    y0 = (0.0 if logo.corner in (0, 1) else 1.0 - CORNER_SHARE) + CORNER_SHARE * rs.min() / GRID_ROWS
    box = (round(x0, 4), round(y0, 4), round(x0 + CORNER_SHARE * (cs.max() - cs.min() + 1) / GRID_COLS, 4),
           round(y0 + CORNER_SHARE * (rs.max() - rs.min() + 1) / GRID_ROWS, 4))
    return PictureCues(times, black, white, mean.copy(), aspect, presence, logo_corner=CORNERS[logo.corner],
                       logo_cells=logo.cells, logo_box=box, logo_share=logo.share)
