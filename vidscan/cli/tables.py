"""Console output of the commands: the segments table, notes and warnings, what was written (the HTML report is vidscan.report)."""

from __future__ import annotations

import click

from vidscan.timeline import Timeline, timecode
from vidscan.plural import plural


def console_for_tables():
    """At most 100 columns (wider detail goes to the files written); 100 when piped (rich would squeeze tables into 80)."""
    from rich.console import Console

    console = Console()
    return Console(width=min(console.width, 100)) if console.is_terminal else Console(width=100)


def print_summary(timeline: Timeline, written: str, max_rows: int = 40) -> None:
    """Segments table (first/last rows when long), damage warnings and the file written."""
    from rich.table import Table

    console = console_for_tables()
    table = Table(title=f"{plural(len(timeline.segments), 'segment')} in {timecode(timeline.duration_s)}", title_justify="left")
    for col, justify in (("#", "right"), ("start", "left"), ("end", "left"), ("duration", "right"), ("frames", "right"), ("begins with", "left")):
        table.add_column(col, justify=justify)
    labelled = timeline.has_labels
    if labelled:
        table.add_column("label")
        table.add_column("conf.", justify="right")
    segs = timeline.segments
    shown = segs if len(segs) <= max_rows else segs[: max_rows // 2] + [None] + segs[-max_rows // 2 :]
    for s in shown:
        if s is None:
            table.add_row("…", "", "", "", "", "", *([""] * 2 if labelled else []))
            continue
        row = [str(s.index), timecode(s.start_s), timecode(s.end_s), f"{s.duration_s:.2f}s", f"{s.start_frame}-{s.end_frame - 1}", s.transition]
        if labelled:
            row += [s.label or "", "" if s.confidence is None else f"{s.confidence:.2f}"]
        table.add_row(*row)
    console.print(table)
    for note in timeline.stats.get("notes") or []:
        click.echo(f"vidscan: note: {note}", err=True)
    damaged = timeline.stats.get("damaged_ranges_s") or []
    if damaged:
        spans = ", ".join(f"{timecode(a)}-{timecode(b)}" for a, b in damaged)
        click.echo(f"vidscan: warning: could not decode {spans} (damaged, or a gap in the timestamps); those stretches are included in the timeline as-is", err=True)
    t = timeline.stats.get("timings_s", {})
    total = t.get("total_s") or 0
    speed = f", {timeline.duration_s / total:.1f}x realtime" if total else ""
    console.print(f"wrote {written} ({plural(timeline.stats.get('frames_decoded', 0), 'frame')}{speed}{how_decoded(timeline)})")


def how_decoded(timeline: Timeline) -> str:
    """``; keyframes first (31% of frames decoded): a keyframe every 1.00 s ...``, or "" when
    the strategy was not chosen per file and every frame was decoded."""
    coarse = timeline.stats.get("coarse")
    choice = timeline.stats.get("decode_choice")
    if coarse is not None:
        share = coarse.get("decoded_share", coarse.get("full_rate_fraction"))
        text = f"keyframes first, {share:.0%} of frames decoded" if share is not None else "keyframes first"
    elif choice is not None:
        text = "every frame decoded"
    else:
        return ""
    return f"; {text}" + (f": {choice['reason'].split(':')[0]}" if choice else "")


def print_totals(totals, duration_s: float) -> None:
    """Per-label totals: time, share of runtime, segments, longest segment."""
    from rich.table import Table

    table = Table(title=f"time per label (of {timecode(duration_s)})", title_justify="left")
    for col in ("label", "total", "share", "segments", "longest"):
        table.add_column(col, justify="left" if col == "label" else "right")
    for row in totals.itertuples(index=False):
        table.add_row(str(row.label), timecode(row.seconds), f"{100 * row.share:.1f}%", str(row.segments), f"{row.longest_s:.1f}s")
    console_for_tables().print(table)


def print_breaks(document: dict) -> None:
    """Ad breaks with their spots' lengths, then programme and ad time."""
    from rich.table import Table

    duration = document["duration_s"]
    table = Table(title=f"ad breaks (of {timecode(duration)})", title_justify="left")
    for col in ("break", "start", "end", "length", "spots", "found by"):
        table.add_column(col, justify="right" if col in ("break", "length") else "left")
    for i, b in enumerate(document["breaks"]):
        spots = " + ".join(f"{s['duration_s']:.4g}" for s in b["spots"])
        table.add_row(str(i + 1), timecode(b["start_s"]), timecode(b["end_s"]), f"{b['duration_s']:.1f}s",
                      f"{len(b['spots'])}: {spots} s", ", ".join(b["cues"]) or "-")
    console = console_for_tables()
    console.print(table)
    share = document["ad_s"] / duration if duration else 0.0
    console.print(f"ads {timecode(document['ad_s'])} ({100 * share:.1f}%), programme {timecode(document['programme_s'])}")
