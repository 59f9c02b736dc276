"""Thumbnails for the map page, packed into JPEG sprite sheets.

One image per thumbnail would mean tens of thousands of ``data:`` URIs in one page; a few
sheets of 1024 tiles each keep the page small and let the browser decode once per sheet.
"""

from __future__ import annotations

import io
import math
from typing import Iterable

import numpy as np
from PIL import Image

from vidscan.mapping.data import ThumbnailAtlas

#: JPEG cannot be larger than this on either side.
_JPEG_MAX_SIDE = 65_500


def tile_size(width: int, height: int, long_side: int = 96) -> tuple[int, int]:
    """The thumbnail size for a ``width`` x ``height`` frame: its long side ``long_side``, same aspect ratio."""
    if width <= 0 or height <= 0:
        raise ValueError(f"a frame size must be positive, got {width}x{height}")
    if long_side <= 0:
        raise ValueError(f"long_side must be positive, got {long_side}")
    if width >= height:
        return long_side, max(1, round(height * long_side / width))
    return max(1, round(width * long_side / height)), long_side


def build_atlas(tiles: Iterable[np.ndarray] | np.ndarray, *, columns: int = 32, per_sheet: int = 1024,
                quality: int = 70) -> ThumbnailAtlas:
    """Pack RGB tiles (``[h, w, 3]`` uint8, all one size) into JPEG sheets, in order.

    Streams: ``tiles`` may be a generator; only one sheet of pixels is held at a time, so a
    collection's thumbnails never have to be in memory together.
    """
    if columns < 1 or per_sheet < 1:
        raise ValueError(f"columns and per_sheet must be at least 1, got {columns} and {per_sheet}")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be in 1..100, got {quality}")
    columns = min(columns, per_sheet)
    rows = math.ceil(per_sheet / columns)
    sheets: list[bytes] = []
    sheet: np.ndarray | None = None
    tile_h = tile_w = 0
    count = 0
    used = 0  # tiles on the sheet being filled
    for tile in tiles:
        tile = np.asarray(tile)
        if tile.ndim != 3 or tile.shape[2] != 3 or tile.dtype != np.uint8:
            raise ValueError(f"tile {count}: expected [h, w, 3] uint8, got {tile.shape} {tile.dtype}")
        if sheet is None:
            tile_h, tile_w = tile.shape[:2]
            if max(rows * tile_h, columns * tile_w) > _JPEG_MAX_SIDE:
                raise ValueError(f"a sheet of {columns}x{rows} tiles of {tile_w}x{tile_h} is too large for JPEG")
            sheet = np.zeros((rows * tile_h, columns * tile_w, 3), np.uint8)
        elif tile.shape[:2] != (tile_h, tile_w):
            raise ValueError(f"tile {count} is {tile.shape[1]}x{tile.shape[0]}, the first was {tile_w}x{tile_h}")
        row, col = divmod(used, columns)
        sheet[row * tile_h:(row + 1) * tile_h, col * tile_w:(col + 1) * tile_w] = tile
        used += 1
        count += 1
        if used == per_sheet:
            sheets.append(_encode(sheet, used, columns, tile_w, tile_h, quality))
            sheet.fill(0)  # no pixels of this sheet in the unused corner of the next
            used = 0
    if sheet is not None and used:
        sheets.append(_encode(sheet, used, columns, tile_w, tile_h, quality))
    return ThumbnailAtlas(sheets=sheets, tile_width=tile_w, tile_height=tile_h, columns=columns,
                          per_sheet=per_sheet, count=count)


def _encode(sheet: np.ndarray, used: int, columns: int, tile_w: int, tile_h: int, quality: int) -> bytes:
    """One sheet as JPEG, cropped to the tiles it holds (a last, partial sheet is smaller)."""
    rows_used = math.ceil(used / columns)
    width = columns * tile_w if rows_used > 1 else used * tile_w
    buf = io.BytesIO()
    Image.fromarray(sheet[:rows_used * tile_h, :width]).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
