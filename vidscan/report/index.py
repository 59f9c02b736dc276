"""An index page linking several reports (one row per video), for batch runs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Sequence
from urllib.parse import quote

import pandas as pd

from vidscan.atomic import atomic_write_text
from vidscan.report.palette import label_colours
from vidscan.report.style import page
from vidscan.report.svg import share_strip, short_timecode
from vidscan.timeline import Timeline, timecode
from vidscan.plural import plural


@dataclass
class IndexEntry:
    """One video on the index page: its name, numbers, per-label seconds and its report."""

    name: str
    report: str | Path | None
    duration_s: float
    segments: int
    #: label -> seconds (empty for unlabelled timelines)
    totals: dict[str, float] = field(default_factory=dict)
    #: A small picture of the video (a file beside the index or below it), if there is one.
    thumbnail: str | Path | None = None
    #: Why the video has no report (it failed, or was not processed); None when it has one.
    error: str | None = None

    @classmethod
    def from_timeline(cls, timeline: Timeline, report: str | Path, totals: pd.DataFrame | None = None) -> "IndexEntry":
        seconds = {str(r.label): float(r.seconds) for r in totals.itertuples(index=False)} if totals is not None else {}
        return cls(Path(timeline.video.path).name, report, timeline.duration_s, len(timeline.segments), seconds)


def render_index_page(entries: Sequence[IndexEntry], base: str | Path = ".", title: str = "vidscan reports") -> str:
    """The index as HTML; report links are made relative to the folder ``base``."""
    labels = sorted({name for e in entries for name in e.totals}, key=lambda n: (n == "unknown", n))
    colours = label_colours(labels)
    head = "".join(f'<th class="num"><span class="swatch" style="background:{colours[n]}"></span> {escape(n)}</th>' for n in labels)
    hours = any(e.duration_s >= 3600 for e in entries)
    rows = []
    for e in entries:
        picture = (f'<img class="index-thumb" src="{escape(quote(_relative(e.thumbnail, base).replace(os.sep, "/")))}" alt="" loading="lazy">'
                   if e.thumbnail else "")
        if e.report is None:  # failed or not processed: the reason where the numbers would be
            rows.append(f'<tr class="entry failed"><td>{picture}</td><td>{escape(e.name)}</td>'
                        f'<td class="error" colspan="{2 + len(labels) + (1 if labels else 0)}">{escape(e.error or "no report")}</td></tr>')
            continue
        href = quote(_relative(e.report, base).replace(os.sep, "/"))
        total = sum(e.totals.values()) or e.duration_s or 1.0
        cells = "".join(f'<td class="num">{_seconds_cell(e.totals.get(n), e.duration_s, hours)}</td>' for n in labels)
        strip = share_strip([(n, e.totals.get(n, 0.0) / total) for n in labels], colours) if labels else ""
        rows.append(
            f'<tr class="entry"><td>{picture}</td><td><a href="{escape(href)}">{escape(e.name)}</a></td>'
            f'<td class="num">{short_timecode(e.duration_s, hours)}</td><td class="num">{e.segments}</td>{cells}'
            f"{'<td>' + strip + '</td>' if labels else ''}</tr>"
        )
    done = [e for e in entries if e.report is not None]
    total_s = sum(e.duration_s for e in done)
    failed = len(entries) - len(done)
    table = (f'<table class="index"><thead><tr><th></th><th>video</th><th class="num">duration</th><th class="num">segments</th>{head}'
             f"{'<th>share</th>' if labels else ''}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    sub = f"{plural(len(entries), 'video')} · {timecode(total_s)} in all" + (f" · {failed} without a report (reasons below)" if failed else "")
    body = (f"<header><h1>{escape(title)}</h1><p class=\"sub\">{sub}</p></header>"
            f"<section>{table}</section><footer>vidscan</footer>")
    return page(title, body)


def write_index_page(entries: Sequence[IndexEntry], path: str | Path, title: str = "vidscan reports") -> Path:
    """Write the index page to ``path`` atomically, linking each entry's report relative to it."""
    target = Path(path)
    atomic_write_text(target, render_index_page(entries, target.parent, title))
    return target


def _relative(report: str | Path, base: str | Path) -> str:
    try:
        return os.path.relpath(Path(report).resolve(), Path(base).resolve())
    except ValueError:  # another drive on Windows
        return Path(report).resolve().as_uri()


def _seconds_cell(seconds: float | None, duration_s: float, hours: bool) -> str:
    if not seconds:
        return "–"
    share = f" ({100 * seconds / duration_s:.0f}%)" if duration_s else ""
    return escape(short_timecode(seconds, hours)) + share
