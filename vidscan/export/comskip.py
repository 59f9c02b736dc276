"""Comskip's own output files, written (and read) by vidscan: the ``.txt`` frame list and the
``.edl`` that Kodi and MPlayer use to skip ad breaks.

Both layouts are copied from what Comskip 0.82 itself writes (Debian's ``comskip``)::

    FILE PROCESSING COMPLETE   8326 FRAMES AT  2500
    -------------------
    3763	4567

that is ``"FILE PROCESSING COMPLETE %6li FRAMES AT %5i\\n"`` (the frame count right-aligned in
6 columns, the frame rate times 100, truncated to an integer, in 5), a line of 19 dashes, then
one ``start<TAB>end`` line of frame numbers per break. Kodi and tvheadend read the frame rate
from the header (dividing by 100) and turn a frame number into seconds as ``frame / fps``.

The ``.edl`` (Comskip's ``output_edl=1``; it is off in Comskip's built-in defaults)::

    150.48	182.64	0

one ``start<TAB>end<TAB>action`` line per break, seconds with two decimals. Comskip writes
action ``0`` by default (its ``edl_skip_field``): in Kodi and MPlayer ``0`` is a cut (skipped
and left out of the playing time); ``3`` (:data:`EDL_COMMERCIAL`) makes Kodi treat the span as
a commercial break (skipped automatically, shown on the seek bar). vidscan writes ``0`` unless
told otherwise, as Comskip does.

Breaks are ``(start_s, end_s)`` in seconds; frame numbers are ``round(t * fps)``. Files are
written with ``\\n`` line ends, as Comskip writes them on Linux; the readers accept ``\\r\\n``,
blank lines and a UTF-8 byte order mark.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import Path

from vidscan.atomic import atomic_write_text

#: The start of the first line of Comskip's ``.txt`` (Kodi checks for it).
TXT_HEADER = "FILE PROCESSING COMPLETE"
#: The line under the header: 19 dashes, as Comskip writes it.
TXT_RULE = "-" * 19
#: EDL action codes (Kodi/MPlayer): 0 cut (Comskip's default), 1 mute, 2 scene marker, 3 commercial break.
EDL_CUT = 0
EDL_COMMERCIAL = 3

_HEADER_RE = re.compile(r"^FILE PROCESSING COMPLETE\s+(-?\d+)\s+FRAMES(?:\s+AT\s+(\d+(?:\.\d*)?))?", re.IGNORECASE)

Break = tuple[float, float]


def comskip_fps_field(fps: float) -> int:
    """The header's rate field: ``(int)(fps * 100)`` as Comskip writes it (29.97 -> 2997,
    23.976 -> 2397: truncated, not rounded; a 1e-6 nudge keeps 29.97 from becoming 2996)."""
    _check_fps(fps)
    return int(fps * 100 + 1e-6)


def comskip_txt(breaks: Iterable[Break], fps: float, frame_count: int | None = None) -> str:
    """The ``.txt`` document: header, dashes, one ``start<TAB>end`` frame pair per break.

    ``frame_count`` fills the header's frame count (Comskip puts the number of the last frame
    it processed there, a few frames under what ffprobe counts; readers only check it is a
    number). Without it, the last break's end frame is written. Breaks are sorted by start.
    """
    pairs = [(round(s * fps), round(e * fps)) for s, e in _checked(breaks)]
    if frame_count is None:
        frame_count = max((e for _, e in pairs), default=0)
    if frame_count < 0:
        raise ValueError(f"frame_count must be >= 0, got {frame_count}")
    lines = [f"{TXT_HEADER} {int(frame_count):6d} FRAMES AT {comskip_fps_field(fps):5d}", TXT_RULE]
    lines += [f"{s}\t{e}" for s, e in pairs]
    return "\n".join(lines) + "\n"


def write_comskip_txt(path: str | Path, breaks: Iterable[Break], fps: float, frame_count: int | None = None) -> Path:
    """Write :func:`comskip_txt` to ``path`` atomically."""
    atomic_write_text(path, comskip_txt(breaks, fps, frame_count))
    return Path(path)


def comskip_edl(breaks: Iterable[Break], action: int = EDL_CUT) -> str:
    """The ``.edl`` document: ``start<TAB>end<TAB>action`` per break, seconds to 2 decimals.

    ``action`` defaults to ``0`` (cut), what Comskip writes; ``3`` marks commercial breaks for
    Kodi. No breaks give an empty file, as Comskip's. Breaks are sorted by start.
    """
    if action not in (0, 1, 2, 3):
        raise ValueError(f"EDL action must be 0 (cut), 1 (mute), 2 (scene) or 3 (commercial), got {action!r}")
    return "".join(f"{s:.2f}\t{e:.2f}\t{action}\n" for s, e in _checked(breaks))


def write_comskip_edl(path: str | Path, breaks: Iterable[Break], action: int = EDL_CUT) -> Path:
    """Write :func:`comskip_edl` to ``path`` atomically."""
    atomic_write_text(path, comskip_edl(breaks, action))
    return Path(path)


def read_comskip_txt(path: str | Path) -> tuple[list[tuple[int, int]], float | None]:
    """The frame pairs of a Comskip ``.txt`` and its frame rate (``None`` when the header has
    none, as in Comskip's oldest files). Raises ``ValueError`` on a line that is neither."""
    pairs: list[tuple[int, int]] = []
    fps: float | None = None
    for n, line in _lines(path):
        header = _HEADER_RE.match(line)
        if header:
            fps = float(header.group(2)) / 100 if header.group(2) else None
            continue
        if set(line) == {"-"}:
            continue
        fields = line.split()
        try:
            if len(fields) != 2:
                raise ValueError
            start, end = int(fields[0]), int(fields[1])
        except ValueError:
            raise ValueError(f"{path}:{n}: not a Comskip frame pair: {line!r}") from None
        pairs.append((start, end))
    return pairs, fps


def read_comskip_edl(path: str | Path) -> list[Break]:
    """The ``(start_s, end_s)`` spans of a Kodi/MPlayer ``.edl`` (the action field, when
    present, is not returned). Raises ``ValueError`` on a malformed line."""
    spans: list[Break] = []
    for n, line in _lines(path):
        fields = line.split()
        try:
            if len(fields) not in (2, 3):
                raise ValueError
            start, end = float(fields[0]), float(fields[1])
            if len(fields) == 3:
                int(fields[2])
            if not (math.isfinite(start) and math.isfinite(end)):
                raise ValueError
        except ValueError:
            raise ValueError(f"{path}:{n}: not an EDL line (start end [action]): {line!r}") from None
        spans.append((start, end))
    return spans


def frames_to_breaks(pairs: Iterable[tuple[int, int]], fps: float) -> list[Break]:
    """Frame pairs (from :func:`read_comskip_txt`) as ``(start_s, end_s)``: ``frame / fps``."""
    _check_fps(fps)
    return [(s / fps, e / fps) for s, e in pairs]


def _checked(breaks: Iterable[Break]) -> list[Break]:
    out = []
    for item in breaks:
        start, end = float(item[0]), float(item[1])
        if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end < start:
            raise ValueError(f"a break must be (start_s, end_s) with 0 <= start_s <= end_s, got {item!r}")
        out.append((start, end))
    return sorted(out)


def _check_fps(fps: float) -> None:
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps!r}")


def _lines(path: str | Path) -> Iterable[tuple[int, str]]:
    """(1-based line number, stripped line) of the non-blank lines: CRLF, CR and a BOM accepted."""
    text = Path(path).read_bytes().decode("utf-8-sig", errors="replace")
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line:
            yield n, line
