"""The per-video HTML report: metadata, timeline bar, label totals, score curve, thumbnails.

One self-contained file: thumbnails are base64 JPEG ``data:`` URIs, charts are inline SVG,
the stylesheet is inline; no scripts, fonts or anything else is fetched, so it opens offline
and can be mailed or archived as is.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path


import pandas as pd

from vidscan.atomic import atomic_write_text
from vidscan.report.palette import ALTERNATING, label_colours, segment_colour
from vidscan.report.settings_names import plain_settings
from vidscan.report.style import page
from vidscan.report.svg import score_chart, short_timecode, timeline_bar, totals_chart
from vidscan.report.thumbs import segment_thumbnails
from vidscan.timeline import Segment, Timeline, timecode
from vidscan.plural import plural


def render_report(timeline: Timeline, *, video: str | Path | None = None, totals: pd.DataFrame | None = None,
                  thumbnails: bool = True, thumb_width: int = 160, title: str | None = None, report_dir: str | Path | None = None) -> str:
    """The report as an HTML string.

    ``video`` (default: the timeline's own path) is read for the thumbnails unless
    ``thumbnails`` is False. ``totals`` is :attr:`vidscan.ClassifyResult.totals`; for a
    labelled timeline without it, totals are computed from the segments. Each segment links
    to its moment in the video (``VIDEO#t=SECONDS``), relative to ``report_dir`` (where the
    report will be) when given.
    """
    name = title or Path(timeline.video.path).name
    labelled = timeline.has_labels
    if labelled and totals is None:
        from vidscan.labels.aggregate import label_totals

        totals = label_totals(timeline)
    names = list(totals["label"]) if totals is not None else []
    colours = label_colours(names + [s.label for s in timeline.segments if s.label])
    thumbs = segment_thumbnails(timeline, video or timeline.video.path, thumb_width) if thumbnails else {}
    shot_thumbs = (segment_thumbnails(timeline, video or timeline.video.path, thumb_width, segments=timeline.alternate)
                   if thumbnails and timeline.level == "scene" and timeline.alternate else {})
    body = [
        _header(timeline, name),
        _timeline_section(timeline, colours, labelled, names),
        _totals_section(totals, colours) if labelled and totals is not None else "",
        _score_section(timeline),
        _segments_section(timeline, thumbs, shot_thumbs, colours, labelled, video_link(video or timeline.video.path, report_dir)),
        f"<footer>vidscan {escape(timeline.version)} · one self-contained file, works offline</footer>",
    ]
    return page(f"{name} – vidscan report", "\n".join(part for part in body if part))


def write_report(timeline: Timeline, path: str | Path, *, video: str | Path | None = None, totals: pd.DataFrame | None = None,
                 thumbnails: bool = True, thumb_width: int = 160, title: str | None = None) -> Path:
    """Render the report (see :func:`render_report`) and write it to ``path`` atomically."""
    html = render_report(timeline, video=video, totals=totals, thumbnails=thumbnails, thumb_width=thumb_width, title=title,
                         report_dir=Path(path).parent)
    atomic_write_text(path, html)
    return Path(path)


def _header(timeline: Timeline, name: str) -> str:
    v = timeline.video
    mode = (timeline.settings.get("classify") or {}).get("mode")
    facts = [
        ("Duration", timecode(timeline.duration_s)),
        ("Segments", str(len(timeline.segments))),
        ("Resolution", f"{v.width} × {v.height}"),
        ("Frame rate", f"{v.fps:.3f}".rstrip("0").rstrip(".") + " fps"),
        ("Frames", f"{timeline.frame_count:,}"),
        ("Codec", v.codec + (f" ({v.pixel_format})" if v.pixel_format else "")),
        ("Container", _container(v.container, v.path)),
        ("File size", _size(v.size_bytes)),
    ]
    if v.rotation:
        facts.append(("Rotation", f"{v.rotation}°"))
    if mode:
        facts.append(("Labels", str(mode)))
    facts.append(("vidscan", timeline.version))
    meta = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(val)}</dd></div>" for k, val in facts)
    rows = "".join(f'<div title="{escape(key)}"><dt>{escape(name)}</dt><dd>{escape(_shorten(val))} <code class="key">{escape(key)}</code></dd></div>'
                   for name, val, key in plain_settings(timeline.settings))
    settings = (f'<details class="settings"><summary>Settings: how this timeline was made</summary><dl class="settings">{rows}</dl></details>'
                if rows else "")
    sub = f"{plural(len(timeline.segments), 'segment')} in {timecode(timeline.duration_s)} · {escape(v.path)}"
    return (f"<header><h1>{escape(name)}</h1><p class=\"sub\">{sub}</p></header>"
            f'<section class="video-meta"><h2>Video and settings</h2><dl class="meta">{meta}</dl>{settings}</section>')


def _timeline_section(timeline: Timeline, colours: dict[str, str], labelled: bool, names: list[str]) -> str:
    bar = timeline_bar(timeline.segments, timeline.duration_s, colours, labelled)
    if labelled:
        shown = [n for n in dict.fromkeys(names + [s.label or "unknown" for s in timeline.segments])]
        items = "".join(f'<li><span class="swatch" style="background:{colours.get(n, colours["unknown"])}"></span>{escape(n)}</li>'
                        for n in shown)
    else:
        level = "shot" if timeline.level == "shot" else "scene"
        items = (f'<li><span class="swatch" style="background:{ALTERNATING[0]}"></span>'
                 f'<span class="swatch" style="background:{ALTERNATING[1]}"></span>one block per {level}, from its first frame to the next '
                 f"{level}'s; the two shades only alternate so that neighbours stand apart</li>")
    hint = "block width ∝ duration; hover for times, click for the thumbnail"
    return f'<section><h2>Timeline<span class="hint">{hint}</span></h2>{bar}<ul class="legend">{items}</ul></section>'


def _totals_section(totals: pd.DataFrame, colours: dict[str, str]) -> str:
    rows = [(str(r.label), float(r.seconds), float(r.share), int(r.segments)) for r in totals.itertuples(index=False)]
    return f'<section><h2>Time per label</h2>{totals_chart(rows, colours)}</section>'


def _score_section(timeline: Timeline) -> str:
    curve = timeline.score_curve
    if not curve:
        return ('<section><h2>Boundary score</h2><p class="empty">No boundary score curve for this timeline '
                "(per-frame labelling has none).</p></section>")
    marks = [(s.start_s, s.transition) for s in timeline.segments[1:]]
    chart = score_chart(curve, marks, timeline.duration_s, thresholds=timeline.score_thresholds)
    threshold = ('<li><span class="swatch line" style="background:#59a14f"></span>threshold: a spike above it is a cut '
                 "(unless it is a flash that returns to the same picture)</li>") if timeline.score_thresholds else ""
    legend = ('<ul class="legend"><li><span class="swatch line" style="background:#2f4b7c"></span>change score '
              "(how different each frame is from the one before)</li>"
              f'{threshold}<li><span class="swatch line" style="background:#e15759"></span>cut found</li>'
              '<li><span class="swatch line" style="background:#f28e2b"></span>gradual transition found (dissolve, fade)</li></ul>')
    hint = "how much the picture changes around each sample"
    return f'<section><h2>Boundary score<span class="hint">{hint}</span></h2>{chart}{legend}</section>'


def _segments_section(timeline: Timeline, thumbs: dict[int, str], shot_thumbs: dict[int, str], colours: dict[str, str],
                      labelled: bool, link: str) -> str:
    hours = timeline.duration_s >= 3600
    card = lambda seg: _card(seg, thumbs.get(seg.index), segment_colour(seg, colours, labelled), hours, link, "seg")  # noqa: E731
    hint = "middle frame of each; times link to the moment in the video"
    if not timeline.alternate:
        cards = "".join(card(seg) for seg in timeline.segments)
        return f'<section><h2>Segments<span class="hint">{hint}</span></h2><div class="grid">{cards}</div></section>'
    scenes, shots = (timeline.segments, timeline.alternate) if timeline.level == "scene" else (timeline.alternate, timeline.segments)
    groups = []
    for scene in scenes:
        inside = [shot for shot in shots if scene.start_frame <= shot.start_frame < scene.end_frame]
        head = (f'<summary>Scene {scene.index}: {short_timecode(scene.start_s, hours)} – {short_timecode(scene.end_s, hours)} · '
                f'{plural(len(inside), "shot")}{" · " + escape(scene.label) if scene.label else ""}</summary>')
        if timeline.level == "scene":  # the scene's own card (with its thumbnail), then its shots
            body = f'<div class="grid">{card(scene)}</div><div class="grid shots">{"".join(_card(s, shot_thumbs.get(s.index), segment_colour(s, colours, labelled), hours, link, "shot") for s in inside)}</div>'
        else:
            body = f'<div class="grid">{"".join(card(shot) for shot in inside)}</div>'
        groups.append(f'<details class="scene" id="scene-{scene.index}" open>{head}{body}</details>')
    return (f'<section><h2>Scenes and their shots<span class="hint">{hint}</span></h2>{"".join(groups)}</section>')


def _card(seg: Segment, thumb: str | None, colour: str, hours: bool, link: str, anchor: str) -> str:
    """One segment's card; ``anchor`` prefixes its id (``seg``: a primary row, which the timeline bar links to)."""
    alt = escape(f"{seg.level} {seg.index}, {timecode(seg.start_s)}")
    img = f'<img class="thumb-img" src="{thumb}" alt="{alt}" loading="lazy">' if thumb else ""
    label = ""
    if seg.label:
        conf = "" if seg.confidence is None else f'<span class="conf">{seg.confidence:.2f}</span>'
        label = f'<div class="lab"><span>{escape(seg.label)}</span>{conf}</div>'
    begins = "" if seg.transition == "start" else f'<div class="trans">begins with {escape(seg.transition)}</div>'
    href = escape(f"{link}#t={seg.start_s:.3f}")
    return (
        f'<figure class="card segment {seg.level}" id="{anchor}-{seg.index}" title="{escape(_hover(seg))}">'
        f'<div class="thumb">{img}<span class="num">#{seg.index}</span></div>'
        f'<div class="stripe" style="background:{colour}"></div>'
        f'<figcaption><div class="times"><a class="seek" href="{href}">{short_timecode(seg.start_s, hours)} – '
        f'{short_timecode(seg.end_s, hours)}</a></div>'
        f'<div class="dur">{seg.duration_s:.2f} s · {plural(seg.frames, "frame")} · from frame {seg.start_frame}</div>'
        f'{label}{begins}</figcaption></figure>'
    )


def video_link(video: str | Path, report_dir: str | Path | None) -> str:
    """A URL for ``video`` from a page in ``report_dir``: relative when both are on one tree
    (the report and the video can move together), else an absolute ``file://`` URL."""
    from urllib.parse import quote

    target = Path(video).resolve()
    if report_dir is not None:
        try:
            return quote(os.path.relpath(target, Path(report_dir).resolve()).replace(os.sep, "/"))
        except ValueError:  # another drive (Windows)
            pass
    return target.as_uri()


def _container(name: str, path: str) -> str:
    """FFmpeg names demuxers by family (``mov,mp4,m4a,...``): show the member the file claims."""
    if not name:
        return "–"
    members = name.split(",")
    suffix = Path(path).suffix.lower().lstrip(".")
    return suffix if suffix in members else members[0]


def _hover(seg: Segment) -> str:
    return f"frames {seg.start_frame}–{seg.end_frame - 1}"


def _shorten(text: str) -> str:
    return text if len(text) <= 160 else text[:157] + "..."


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
