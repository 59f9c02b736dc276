"""HTML report and index page: structure (html.parser) and a real render in headless Chromium."""

from __future__ import annotations

import base64
import io
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.browser import run_chromium
from vidscan.embed.registry import create_embedder

from vidscan.labels.aggregate import label_totals
from vidscan.pipeline import detect_scenes
from vidscan.report import IndexEntry, render_report, write_index_page, write_report
from vidscan.report.palette import ALTERNATING
from vidscan.synth import Program, Shot, Transition, render
from vidscan.timeline import Timeline



class Page(HTMLParser):
    """Collects every start tag as (tag, attrs) so tests can count and inspect them."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def with_class(self, name: str, tag: str | None = None) -> list[dict[str, str]]:
        return [a for t, a in self.tags if name in a.get("class", "").split() and (tag is None or t == tag)]

    def urls(self) -> list[str]:
        return [a[k] for _, a in self.tags for k in ("src", "href") if k in a]


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "four <shots> & co.mp4"
    program = Program([Shot("studio", 35, seed=1), Shot("bars", 40, seed=2), Shot("mandelbrot", 45, seed=3), Shot("testsrc", 35, seed=4)],
                      [Transition("cut"), Transition("dissolve", 10), Transition("cut")], width=320, height=180, fps=25)
    render(program, path)
    return path


@pytest.fixture(scope="module")
def timeline(video) -> Timeline:
    tl = detect_scenes(video)
    assert len(tl.segments) == 4
    return tl


@pytest.fixture(scope="module")
def labelled(timeline) -> tuple[Timeline, object]:
    tl = Timeline(timeline.video, [type(s)(**vars(s)) for s in timeline.segments], timeline.settings, timeline.stats, timeline.score_curve)
    for seg, (label, conf) in zip(tl.segments, [("game", 0.91), ("<script>alert(1)</script>", 0.55), ("game", 0.8), ("ad", 0.7)]):
        seg.label, seg.confidence = label, conf
    return tl, label_totals(tl, ["game", "ad", "<script>alert(1)</script>"])


def test_report_structure_and_thumbnails(labelled, video):
    tl, totals = labelled
    html = render_report(tl, totals=totals)
    page = Page(html)
    blocks = page.with_class("seg-block", "rect")
    assert [int(b["data-index"]) for b in blocks] == [0, 1, 2, 3]
    widths = np.array([float(b["width"]) for b in blocks])
    durations = np.array([s.duration_s for s in tl.segments])
    np.testing.assert_allclose(widths / durations, widths.sum() / durations.sum(), rtol=1e-2)  # width ∝ duration
    assert len(page.with_class("segment", "figure")) == 4
    thumbs = page.with_class("thumb-img", "img")
    assert len(thumbs) == 4
    for thumb in thumbs:
        assert thumb["src"].startswith("data:image/jpeg;base64,")
        img = Image.open(io.BytesIO(base64.b64decode(thumb["src"].split(",", 1)[1])))
        assert img.format == "JPEG" and img.size == (160, 90)
    assert len(page.with_class("total-bar", "rect")) == 3
    assert len(page.with_class("boundary", "line")) == 3
    assert len(page.with_class("gradual", "line")) == 1  # the dissolve
    assert page.with_class("score-line", "polyline")
    assert not [u for u in page.urls() if u.lower().startswith(("http:", "https:", "//"))]
    assert not [t for t, _ in page.tags if t in ("script", "link", "iframe")]
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "four &lt;shots&gt; &amp; co.mp4" in html


def test_unlabelled_report_alternates_colours(timeline, tmp_path):
    path = write_report(timeline, tmp_path / "r.html", thumbnails=False)
    page = Page(path.read_text())
    assert [b["fill"] for b in page.with_class("seg-block")] == [ALTERNATING[0], ALTERNATING[1]] * 2
    assert not page.with_class("total-bar") and not page.with_class("thumb-img")
    assert len(page.with_class("segment")) == 4


def test_index_page_links_reports(labelled, timeline, tmp_path):
    tl, totals = labelled
    (tmp_path / "reports").mkdir()
    entries = [IndexEntry.from_timeline(tl, tmp_path / "reports" / "a b.html", totals),
               IndexEntry.from_timeline(timeline, tmp_path / "reports" / "plain.html")]
    path = write_index_page(entries, tmp_path / "index.html")
    html = path.read_text()
    page = Page(html)
    assert [a["href"] for t, a in page.tags if t == "a"] == ["reports/a%20b.html", "reports/plain.html"]
    assert len(page.with_class("entry", "tr")) == 2
    assert "<script>alert" not in html and "four &lt;shots&gt;" in html
    assert len([t for t, _ in page.tags if t == "th"]) == 1 + 3 + 3 + 1  # picture, video, duration, segments, 3 labels, share


def test_report_renders_in_headless_chromium(labelled, tmp_path):
    tl, totals = labelled
    report = write_report(tl, tmp_path / "report.html", totals=totals)
    shot = tmp_path / "shot.png"
    run_chromium(f"--screenshot={shot}", "--window-size=1280,2000", report.as_uri())
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float64)
    assert pixels.shape == (2000, 1280) and pixels.std() > 20  # not a blank page
    dom = Page(run_chromium("--dump-dom", report.as_uri()).stdout)
    assert len(dom.with_class("seg-block")) == len(dom.with_class("segment")) == len(dom.with_class("thumb-img")) == 4


# -- the report explains itself (issue 13) ----------------------------------------------------

def test_settings_are_named_in_plain_words_with_the_raw_key_kept(timeline):
    html = render_report(timeline, thumbnails=False)
    page = Page(html)
    rows = {a["title"] for t, a in page.tags if t == "div" and a.get("title", "").startswith(("detector.", "embedder.", "sampling"))}
    assert {"detector.min_scene_len", "embedder.name", "sampling"} <= rows
    assert "Shortest shot" in html and "0.1 s" in html and "weight-free colour and layout features" in html
    assert create_embedder("features").identity() not in html  # the identity string is not shown as a setting


def test_the_legend_says_what_the_colours_and_lines_mean(timeline):
    html = render_report(timeline, thumbnails=False)
    assert "segments, alternating" not in html
    assert "one block per shot" in html and "threshold: a spike above it is a cut" in html and "cut found" in html


def test_shots_are_nested_in_their_scenes(timeline):
    from vidscan.scene_level import switch_level
    import copy

    for level in ("shot", "scene"):
        tl = switch_level(copy.deepcopy(timeline), level)
        assert tl.alternate, "detect_scenes keeps both levels"
        html = render_report(tl, thumbnails=False)
        scenes, shots = (tl.segments, tl.alternate) if level == "scene" else (tl.alternate, tl.segments)
        # each <details class="scene"> holds exactly the shots that start inside it
        chunks = html.split('<details class="scene"')[1:]
        assert len(chunks) == len(scenes)
        for scene, chunk in zip(scenes, chunks):
            inside = [s.index for s in shots if scene.start_frame <= s.start_frame < scene.end_frame]
            anchor = "shot" if level == "scene" else "seg"
            found = [int(x) for x in __import__("re").findall(rf'class="card segment shot" id="{anchor}-(\d+)"', chunk.split("</details>")[0])]
            assert found == inside


def test_each_segment_links_to_its_moment_in_the_video(timeline, video, tmp_path):
    (tmp_path / "reports").mkdir()
    path = write_report(timeline, tmp_path / "reports" / "r.html", video=video, thumbnails=False)
    page = Page(path.read_text())
    links = [a["href"] for a in page.with_class("seek", "a")]
    assert len(links) == len(timeline.segments)
    for seg, link in zip(timeline.segments, links):
        target, seconds = link.split("#t=")
        assert float(seconds) == pytest.approx(seg.start_s, abs=0.001)
        from urllib.parse import unquote

        assert (path.parent / unquote(target)).resolve() == video.resolve()  # relative to the report: they move together
    assert f"from frame {timeline.segments[1].start_frame}" in path.read_text()


def test_the_chart_and_the_json_carry_the_detectors_threshold(timeline):
    import json

    import jsonschema

    assert len(timeline.score_thresholds) == len(timeline.score_curve) > 0
    raw = timeline.to_dict()
    assert raw["score_curve"]["thresholds"] == timeline.score_thresholds
    schema = json.loads((Path(__file__).resolve().parent.parent / "vidscan" / "schemas" / "timeline-1.schema.json").read_text())
    jsonschema.validate(raw, schema)
    assert Timeline.from_dict(json.loads(json.dumps(raw))).score_thresholds == timeline.score_thresholds
    # every cut found rose above its threshold there
    times = [t for t, _ in timeline.score_curve]
    for seg in timeline.segments[1:]:
        if seg.transition == "cut":
            k = min(range(len(times)), key=lambda i: abs(times[i] - seg.start_s))
            assert timeline.score_curve[k][1] >= timeline.score_thresholds[k]
    page = Page(render_report(timeline, thumbnails=False))
    assert page.with_class("threshold-line", "polyline")


def test_the_batch_index_has_a_thumbnail_per_video_and_a_row_per_failed_file(video, tmp_path):
    from vidscan.cli.main import main

    archive = tmp_path / "archive"
    archive.mkdir()
    shutil.copy(video, archive / "good.mp4")
    (archive / "broken.mp4").write_bytes(video.read_bytes()[:3000])
    assert main(["batch", str(archive), "--out", str(tmp_path / "out"), "--format", "html", "-q", "--no-cache", "--workers", "1"]) == 1
    index = tmp_path / "out" / "index.html"
    page = Page(index.read_text())
    rows = page.with_class("entry", "tr")
    assert len(rows) == 2 and len(page.with_class("failed", "tr")) == 1
    assert "broken.mp4" in index.read_text() and "failed: " in index.read_text()
    thumbs = page.with_class("index-thumb", "img")
    assert len(thumbs) == 1
    picture = Image.open(index.parent / thumbs[0]["src"])
    assert picture.format == "JPEG" and picture.size[0] == 160
