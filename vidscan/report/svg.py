"""Inline SVG charts for the report, drawn in Python (no JavaScript, no external files).

Every chart uses a fixed ``viewBox`` and scales to the page width; every string taken
from the data is escaped.
"""

from __future__ import annotations

import math
from html import escape
from typing import Iterable, Sequence

from vidscan.report.palette import segment_colour
from vidscan.timeline import Segment, timecode

#: Candidate tick steps in seconds, smallest first.
_STEPS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600]


def clock(seconds: float) -> str:
    """Short axis label: ``m:ss``, ``h:mm:ss``, or ``s.s`` below ten seconds when needed."""
    whole = int(round(seconds))
    if abs(seconds - whole) > 1e-6:
        return f"{seconds:.1f}s"
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def short_timecode(seconds: float, hours: bool = False) -> str:
    """``m:ss.mmm`` (``h:mm:ss.mmm`` when ``hours``): a timecode without the leading zeros."""
    hh, mm, rest = timecode(seconds).split(":")
    return f"{int(hh)}:{mm}:{rest}" if hours else f"{int(hh) * 60 + int(mm)}:{rest}"


def tick_step(duration_s: float, target: int = 10) -> float:
    """A round step giving about ``target`` ticks over ``duration_s``."""
    for step in _STEPS:
        if duration_s / step <= target:
            return step
    return _STEPS[-1]


def nice_max(value: float, steps: int = 4) -> tuple[float, float]:
    """A round axis top at or above ``value`` and its step (1, 2, 2.5 or 5 times a power of ten)."""
    if not value > 0:
        return 1.0, 1.0 / steps
    raw = value / steps
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw - 1e-12)
    return step * math.ceil(value / step - 1e-9), step


def ticks(duration_s: float, target: int = 10) -> list[float]:
    step = tick_step(duration_s, target)
    n = int(duration_s / step + 1e-9)
    return [round(k * step, 6) for k in range(n + 1)]


def describe_segment(seg: Segment) -> str:
    """Hover text: number, times, duration, label."""
    text = f"#{seg.index}  {timecode(seg.start_s)} – {timecode(seg.end_s)}  ({seg.duration_s:.2f} s)"
    if seg.label:
        text += f"  {seg.label}"
        if seg.confidence is not None:
            text += f" {seg.confidence:.2f}"
    return text


def timeline_bar(segments: Sequence[Segment], duration_s: float, colours: dict[str, str], labelled: bool,
                 width: int = 1200, bar_height: int = 44) -> str:
    """One block per segment, width proportional to its duration, linking to its card."""
    duration_s = duration_s or 1.0
    scale = width / duration_s
    height = bar_height + 22
    out = [f'<svg class="timeline-bar" viewBox="0 0 {width} {height}" role="img" aria-label="timeline of segments">']
    for seg in segments:
        x, w = seg.start_s * scale, max(0.0, seg.duration_s * scale)
        fill = segment_colour(seg, colours, labelled)
        out.append(
            f'<a href="#seg-{seg.index}"><rect class="seg-block" data-index="{seg.index}" x="{x:.2f}" y="0" '
            f'width="{w:.2f}" height="{bar_height}" fill="{fill}"><title>{escape(describe_segment(seg))}</title></rect></a>'
        )
    for seg in segments[1:]:
        x = seg.start_s * scale
        out.append(f'<line class="edge" x1="{x:.2f}" y1="0" x2="{x:.2f}" y2="{bar_height}"/>')
    for t in ticks(duration_s):
        x = t * scale
        anchor = "start" if t == 0 else ("end" if x > width - 20 else "middle")
        out.append(f'<line class="tick" x1="{x:.2f}" y1="{bar_height}" x2="{x:.2f}" y2="{bar_height + 5}"/>')
        out.append(f'<text class="axis" x="{x:.2f}" y="{bar_height + 18}" text-anchor="{anchor}">{clock(t)}</text>')
    out.append("</svg>")
    return "".join(out)


def totals_chart(rows: Iterable[tuple[str, float, float, int]], colours: dict[str, str], width: int = 1200) -> str:
    """Horizontal bars of seconds per label; ``rows`` are (label, seconds, share, segments)."""
    rows = list(rows)
    hours = any(r[1] >= 3600 for r in rows)
    label_w, row_h, pad = 170, 34, 8
    longest = max((r[1] for r in rows), default=0.0) or 1.0
    bar_area = width - label_w - 260
    height = len(rows) * row_h + pad
    out = [f'<svg class="totals-chart" viewBox="0 0 {width} {height}" role="img" aria-label="time per label">']
    for i, (label, seconds, share, count) in enumerate(rows):
        y = pad / 2 + i * row_h
        w = bar_area * seconds / longest
        fill = colours.get(label, colours.get("unknown", "#bab0ac"))
        name = escape(label)
        short = escape(label if len(label) <= 16 else label[:15] + "…")
        out.append(f'<text class="bar-label" x="{label_w - 12}" y="{y + row_h / 2 + 5:.1f}" text-anchor="end">'
                   f'<title>{name}</title>{short}</text>')
        out.append(f'<rect class="total-bar" x="{label_w}" y="{y + 5:.1f}" width="{w:.2f}" height="{row_h - 10}" rx="3" fill="{fill}">'
                   f'<title>{name}: {timecode(seconds)} ({100 * share:.1f}%)</title></rect>')
        value = f"{short_timecode(seconds, hours)}  ·  {100 * share:.1f}%  ·  {count} segment{'s' if count != 1 else ''}"
        out.append(f'<text class="bar-value" x="{label_w + w + 10:.1f}" y="{y + row_h / 2 + 5:.1f}">{escape(value)}</text>')
    out.append("</svg>")
    return "".join(out)


def score_chart(curve: Sequence[tuple[float, float]], boundaries: Sequence[tuple[float, str]], duration_s: float,
                width: int = 1200, height: int = 230, thresholds: Sequence[float] = ()) -> str:
    """The boundary-score curve over time, with the detected boundaries as vertical lines and,
    when given (one per point of ``curve``), the level a score had to reach as a dashed line."""
    left, right, top, bottom = 52, 14, 14, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    duration_s = duration_s or max((t for t, _ in curve), default=1.0) or 1.0
    peak = max((v for _, v in curve), default=0.0)
    if len(thresholds) == len(curve) and thresholds:  # keep the line in view where it matters, not its rare heights
        peak = max(peak, sorted(thresholds)[int(0.9 * (len(thresholds) - 1))])
    y_max, y_step = nice_max(peak * 1.02)

    def px(t: float) -> float:
        return left + plot_w * min(max(t / duration_s, 0.0), 1.0)

    def py(v: float) -> float:
        return top + plot_h * (1.0 - min(max(v / y_max, 0.0), 1.0))

    out = [f'<svg class="score-chart" viewBox="0 0 {width} {height}" role="img" aria-label="boundary score over time">']
    for k in range(int(round(y_max / y_step)) + 1):  # horizontal grid
        v = k * y_step
        y = py(v)
        out.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}"/>')
        out.append(f'<text class="axis" x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
    for t in ticks(duration_s):
        x = px(t)
        out.append(f'<line class="tick" x1="{x:.1f}" y1="{top + plot_h}" x2="{x:.1f}" y2="{top + plot_h + 5}"/>')
        anchor = "start" if t == 0 else ("end" if x > width - right - 20 else "middle")
        out.append(f'<text class="axis" x="{x:.1f}" y="{height - 10}" text-anchor="{anchor}">{clock(t)}</text>')
    for t, kind in boundaries:
        x = px(t)
        css = "boundary gradual" if kind in ("gradual", "dissolve", "fade") else "boundary"
        out.append(f'<line class="{css}" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}">'
                   f'<title>{escape(kind)} at {timecode(t)}</title></line>')
    if curve:
        pts = " ".join(f"{px(t):.1f},{py(v):.1f}" for t, v in curve)
        base = top + plot_h
        area = f"{px(curve[0][0]):.1f},{base:.1f} {pts} {px(curve[-1][0]):.1f},{base:.1f}"
        out.append(f'<polygon class="score-area" points="{area}"/>')
        out.append(f'<polyline class="score-line" points="{pts}"/>')
    if curve and len(thresholds) == len(curve):
        line = " ".join(f"{px(t):.1f},{py(v):.1f}" for (t, _), v in zip(curve, thresholds))
        out.append(f'<polyline class="threshold-line" points="{line}"><title>the level a spike must pass to be a cut</title></polyline>')
    out.append(f'<line class="axis-line" x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}"/>')
    out.append("</svg>")
    return "".join(out)


def share_strip(shares: Sequence[tuple[str, float]], colours: dict[str, str], width: int = 240, height: int = 14) -> str:
    """A small stacked bar of label shares (index page)."""
    out = [f'<svg class="share-strip" viewBox="0 0 {width} {height}" width="{width}" height="{height}">']
    x = 0.0
    for label, share in shares:
        w = width * max(0.0, share)
        out.append(f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="{height}" fill="{colours.get(label, "#bab0ac")}">'
                   f'<title>{escape(label)}: {100 * share:.1f}%</title></rect>')
        x += w
    out.append("</svg>")
    return "".join(out)
