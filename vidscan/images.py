"""Still images in and out: query images for search, exported frames for search and collect.

Outputs go through :mod:`vidscan.atomic` (encode in memory, then an atomic rename), so an
interrupted export never leaves a truncated JPEG under a final name.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from vidscan.atomic import atomic_write_bytes
from vidscan.errors import InputError, UsageError
from vidscan.timeline import timecode

IMAGE_FORMATS = {"jpg": "JPEG", "png": "PNG"}


def load_image(path: str | Path) -> np.ndarray:
    """An image file as upright ``uint8 [H, W, 3]`` RGB; one-line :class:`InputError` if unreadable."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    p = Path(path)
    if not p.is_file():
        raise InputError("no such image file", path=str(path))
    try:
        with Image.open(p) as img:
            img = ImageOps.exif_transpose(img)  # phone photos: honour the orientation tag
            return np.asarray(img.convert("RGB"), np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InputError(f"image cannot be read ({type(exc).__name__})", path=str(path)) from None


def resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize ``[H, W, 3]`` to ``size`` = (width, height); area averaging when shrinking, as the decoder does."""
    from PIL import Image

    if (rgb.shape[1], rgb.shape[0]) == tuple(size):
        return rgb
    img = Image.fromarray(rgb)
    shrink = img.width > size[0] or img.height > size[1]
    return np.asarray(img.resize(size, Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR), np.uint8)


def frame_filename(stem: str, frame: int, time_s: float, fmt: str, prefix: str = "") -> str:
    """``<prefix><stem>_<HH-MM-SS.mmm>_f<frame>.<fmt>``: sorts by time, safe on every file system."""
    return f"{prefix}{stem}_{timecode(time_s).replace(':', '-')}_f{frame:07d}.{fmt}"


_FRAME_NAME = re.compile(r"^(?P<stem>.+)_\d{2,}-\d{2}-\d{2}\.\d{3}_f\d+$")


def video_stem_of(name: str) -> str | None:
    """The video stem in a name made by :func:`frame_filename` (``match_00-01-02.040_f0000051.png``
    -> ``match``), or None for any other name: lets training tell frames of one video apart
    from another's without a manifest."""
    m = _FRAME_NAME.match(Path(name).stem)
    return m.group("stem") if m else None


def write_image(path: str | Path, rgb: np.ndarray, fmt: str = "jpg", quality: int = 92) -> Path:
    """Encode ``uint8 [H, W, 3]`` as JPEG or PNG and write it atomically."""
    from PIL import Image

    if fmt not in IMAGE_FORMATS:
        raise UsageError(f"image format must be one of {', '.join(IMAGE_FORMATS)}, got {fmt!r}")
    buffer = io.BytesIO()
    options = {"quality": quality} if fmt == "jpg" else {"compress_level": 6}
    Image.fromarray(np.ascontiguousarray(rgb)).save(buffer, IMAGE_FORMATS[fmt], **options)
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)
