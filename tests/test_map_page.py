"""The frame map page: sprite sheets, the embedded data (decoded back here), escaping, and a
real render in headless Chromium (points drawn, the tooltip's thumbnail, 100,000 points)."""

from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.browser import run_chromium

from vidscan.mapping.atlas import build_atlas, tile_size
from vidscan.mapping.data import ClusterSummary, MapData
from vidscan.mapping.page import render_map_page

# a file name cannot hold "/", so "</script>" is in a folder's name (the tooltip's title shows the path)
AWKWARD = ["/media/x </script><script>alert(1)//<!--/it's a \"clip\" <b>.mp4", "/media/café ☕ 日本 & co.mkv"]
TILE = (32, 18)  # w, h


class Page(HTMLParser):
    """Start tags with their attributes, and the text of each <script>."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self._script: dict[str, str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attrs))
        if tag == "script":
            self._script = attrs
            self.scripts.append((attrs, ""))

    def handle_data(self, data):
        if self._script is not None:
            self.scripts[-1] = (self._script, self.scripts[-1][1] + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def by_id(self, name: str) -> dict[str, str]:
        return next(a for _, a in self.tags if a.get("id") == name)


def tile_colour(t: int) -> tuple[int, int, int]:
    return (t * 37) % 256, (t * 91 + 40) % 256, (t * 53 + 90) % 256


def tiles(count: int):
    """A generator, so build_atlas is fed as a stream."""
    for t in range(count):
        yield np.full((TILE[1], TILE[0], 3), tile_colour(t), np.uint8)


def make_map(n: int, *, n_tiles: int = 40, seed: int = 0) -> MapData:
    """Three Gaussian blobs (cluster 0, 1, 2) plus a little noise (-1), over the two awkward videos."""
    rng = np.random.default_rng(seed)
    centres = np.array([[-4.0, 0.0], [3.0, 3.0], [2.0, -4.0]])
    cluster = rng.integers(0, 3, n).astype(np.int32)
    cluster[rng.random(n) < 0.05] = -1
    xy = centres[np.maximum(cluster, 0)] + rng.normal(0, 0.8, (n, 2))
    xy[cluster < 0] = rng.uniform(-8, 8, (int((cluster < 0).sum()), 2))
    video = (np.arange(n) % 2).astype(np.int32)
    frame = (np.arange(n) // 2 * 25).astype(np.int64)
    count = rng.integers(1, 4, n).astype(np.int32)
    label = rng.integers(-1, 2, n).astype(np.int32)
    clusters = []
    for cid, name in [(0, "0: game"), (1, "1: <script>alert(1)</script>"), (2, "cluster 2"), (-1, "noise")]:
        members = np.flatnonzero(cluster == cid)
        clusters.append(ClusterSummary(id=cid, name=name, points=len(members), frames=int(count[members].sum()),
                                       seconds=float(count[members].sum()), share=float(count[members].sum() / max(1, count.sum())),
                                       medoids=[int(m) for m in members[:5]]))
    return MapData(
        x=xy[:, 0].astype(np.float32), y=xy[:, 1].astype(np.float32), video=video, frame=frame,
        time_s=frame / 25.0 + 0.0004, cluster=cluster, count=count,
        thumb=(np.arange(n) % max(1, n_tiles) if n_tiles else np.full(n, -1)).astype(np.int32), videos=list(AWKWARD), clusters=clusters,
        atlas=build_atlas(tiles(n_tiles), columns=8, per_sheet=32),
        label=label, confidence=rng.random(n).astype(np.float32), labels=["game", "ad <b>&amp;"],
        title="Map of <my> \"videos\"", settings={"embedder": {"name": "features", "dim": 64}, "clustering": "hdbscan <auto>"},
    )


@pytest.fixture(scope="module")
def small() -> tuple[MapData, str]:
    data = make_map(300)
    return data, render_map_page(data)


# -- the atlas ------------------------------------------------------------------------------

def test_tile_size_keeps_the_aspect_ratio():
    assert tile_size(1920, 1080) == (96, 54)
    assert tile_size(1080, 1920) == (54, 96)
    assert tile_size(640, 480, long_side=64) == (64, 48)
    assert tile_size(5000, 10) == (96, 1)
    with pytest.raises(ValueError):
        tile_size(0, 10)


def test_atlas_packs_tiles_in_order_on_sheets():
    atlas = build_atlas(tiles(40), columns=8, per_sheet=32, quality=90)
    assert (atlas.count, atlas.columns, atlas.per_sheet, len(atlas.sheets)) == (40, 8, 32, 2)
    assert (atlas.tile_width, atlas.tile_height) == TILE
    sheets = [np.asarray(Image.open(io.BytesIO(s))) for s in atlas.sheets]
    assert sheets[0].shape == (4 * TILE[1], 8 * TILE[0], 3)
    assert sheets[1].shape == (1 * TILE[1], 8 * TILE[0], 3)  # the last sheet holds 8 tiles: one row
    for t in range(40):
        local = t % atlas.per_sheet
        row, col = divmod(local, atlas.columns)
        centre = sheets[t // atlas.per_sheet][row * TILE[1] + TILE[1] // 2, col * TILE[0] + TILE[0] // 2]
        np.testing.assert_allclose(centre, tile_colour(t), atol=12)
    short = build_atlas(np.stack(list(tiles(3))), columns=8)
    assert Image.open(io.BytesIO(short.sheets[0])).size == (3 * TILE[0], TILE[1])
    assert build_atlas(iter(())).count == 0
    with pytest.raises(ValueError):
        build_atlas([np.zeros((18, 32, 3), np.uint8), np.zeros((18, 30, 3), np.uint8)])


# -- the page, read as text -------------------------------------------------------------------

def test_page_is_self_contained_and_escaped(small):
    data, html = small
    page = Page(html)
    assert "http://" not in html and "https://" not in html
    assert not [a for _, a in page.tags if "src" in a or "href" in a]
    assert [t for t, _ in page.tags if t in ("link", "iframe", "img")] == []
    kinds = [a.get("type", "") for a, _ in page.scripts]
    assert kinds == ["application/json", ""]
    assert html.count("</script>") == 2  # the file name's "</script>" is escaped inside the JSON
    assert "<script>alert" not in html and "<b>" not in html and "<!--" not in html
    assert "Map of &lt;my&gt; &quot;videos&quot;" in html
    assert page.by_id("point-count")["data-count"] == "300"
    assert page.by_id("video-count")["data-count"] == "2"
    assert "hdbscan &lt;auto&gt;" in html and "embedder.dim" in html
    options = [a["value"] for t, a in page.tags if t == "option"]
    assert options == ["cluster", "label", "confidence", "video", "time"]
    unlabelled = render_map_page(_unlabelled(make_map(20)))
    assert [a["value"] for t, a in Page(unlabelled).tags if t == "option"] == ["cluster", "video", "time"]


def _unlabelled(data: MapData) -> MapData:
    data.label = data.confidence = None
    data.labels = []
    return data


def test_embedded_arrays_decode_to_the_same_values(small):
    data, html = small
    payload = json.loads(next(text for a, text in Page(html).scripts if a.get("type") == "application/json"))
    assert payload["n"] == 300
    arrays = {name: np.frombuffer(base64.b64decode(e["data"]), np.dtype(e["dtype"]).newbyteorder("<"))
              for name, e in payload["arrays"].items()}
    assert arrays["x"].dtype == np.float32 and arrays["time"].dtype == np.float64
    np.testing.assert_array_equal(arrays["x"], data.x)
    np.testing.assert_array_equal(arrays["y"], data.y)
    np.testing.assert_array_equal(arrays["time"], data.time_s)
    np.testing.assert_array_equal(arrays["confidence"], data.confidence)
    for name, source in [("video", data.video), ("frame", data.frame), ("cluster", data.cluster),
                         ("count", data.count), ("thumb", data.thumb), ("label", data.label)]:
        np.testing.assert_array_equal(arrays[name].astype(np.int64), source)
        assert arrays[name].dtype.itemsize <= 4
    assert arrays["video"].dtype.itemsize == 1  # the smallest type that holds the values
    assert [v["path"] for v in payload["videos"]] == AWKWARD
    assert [v["uri"] for v in payload["videos"]] == [Path(p).as_uri() for p in AWKWARD]
    assert payload["videos"][0]["name"] == "it's a \"clip\" <b>.mp4"
    assert [c["name"] for c in payload["clusters"]][1] == "1: <script>alert(1)</script>"
    assert payload["labels"] == ["game", "ad <b>&amp;"]
    sheets = payload["atlas"]["sheets"]
    assert len(sheets) == 2 and all(s.startswith("data:image/jpeg;base64,") for s in sheets)
    assert base64.b64decode(sheets[0].split(",", 1)[1]) == data.atlas.sheets[0]


def test_mismatched_arrays_are_refused():
    data = make_map(10)
    data.y = data.y[:5]
    with pytest.raises(ValueError, match="y"):
        render_map_page(data)


# -- the page, drawn by a browser ------------------------------------------------------------

#: Appended before </body>: hovers point 0 once the map is ready and its thumbnail is painted,
#: and writes what it saw into <body data-*> for --dump-dom.
HOOK = """<script>
(function () {
  const b = document.body.dataset;
  function ready() {
    if (!window.__mapReady) return setTimeout(ready, 10);
    b.hovered = String(window.__mapHover(0));
    const tip = document.getElementById("tooltip");
    const c = tip.querySelector("[data-tile]");
    b.tipVisible = String(!tip.hidden);
    b.tipTile = c ? c.dataset.tile : "none";
    b.tipText = tip.textContent;
    const times = [];
    for (let k = 0; k < 5; k++) times.push(window.__mapRedraw());
    b.redrawMs = Math.max(...times).toFixed(1);
    painted();
  }
  function painted() {
    const c = document.querySelector("#tooltip [data-tile]");
    if (!c || (c.dataset.tile !== "-1" && !c.dataset.painted)) return setTimeout(painted, 10);
    const px = c.getContext("2d").getImageData(c.width >> 1, c.height >> 1, 1, 1).data;
    b.tipRgb = [px[0], px[1], px[2]].join(",");
    b.legendRows = String(document.querySelectorAll("#legend .row").length);
    b.legendThumbs = String(document.querySelectorAll("#legend .row canvas[data-tile]").length);
    interact();
    b.hookDone = "1";
  }
  function interact() {
    // a click on point 0 opens its video at its time
    window.open = url => { b.opened = url; };
    const [x, y] = window.__mapScreen(0), map = document.getElementById("map");
    for (const type of ["pointerdown", "pointerup"])
      map.dispatchEvent(new PointerEvent(type, {clientX: x, clientY: y, button: 0, pointerId: 1, bubbles: true}));
    // a legend row picks its cluster out, a second click puts it back
    const row = document.querySelector("#legend .row");
    row.click();
    b.picked = row.className + "|" + document.querySelector("#legend .row:nth-child(3)").className;
    row.click();
    b.unpicked = row.className;
    // the wheel zooms in around the centre: fewer points on the canvas
    const r = map.getBoundingClientRect();
    map.dispatchEvent(new WheelEvent("wheel", {deltaY: -800, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true, cancelable: true}));
    window.__mapRedraw();
    b.zoomedVisible = document.body.dataset.visible;
    // another colouring: one legend row per label and the grey "unknown"
    const select = document.getElementById("colour-by");
    select.value = "label";
    select.dispatchEvent(new Event("change"));
    b.labelRows = Array.from(document.querySelectorAll("#legend .row .name"), e => e.textContent).join("|");
  }
  ready();
})();
</script>
"""


def rendered_body(html: str, folder: Path) -> dict[str, str]:
    """The <body>'s attributes after Chromium ran the page with HOOK appended."""
    path = folder / "map.html"
    path.write_text(html.replace("</body>", HOOK + "</body>"), encoding="utf-8")
    dom = run_chromium("--dump-dom", "--window-size=1200,800", "--virtual-time-budget=5000", path.as_uri()).stdout
    return next(a for t, a in Page(dom).tags if t == "body")


def test_map_draws_and_hovers_in_headless_chromium(small, tmp_path):
    data, html = small
    body = rendered_body(html, tmp_path)
    assert body.get("data-drawn") == str(data.size), body
    assert body.get("data-hook-done") == "1", body
    assert body["data-hovered"] == body["data-tip-visible"] == "true"
    assert body["data-tip-tile"] == str(data.thumb[0])
    assert "it's a \"clip\" <b>.mp4" in body["data-tip-text"]  # video 0's name, as text
    assert "00:00:00.000" in body["data-tip-text"]  # point 0 is at 0.0004 s
    cluster = next(c for c in data.clusters if c.id == data.cluster[0])
    assert cluster.name in body["data-tip-text"]
    rgb = [int(v) for v in body["data-tip-rgb"].split(",")]
    np.testing.assert_allclose(rgb, tile_colour(int(data.thumb[0])), atol=16)  # the right tile of the right sheet
    assert body["data-legend-rows"] == "4"
    assert int(body["data-legend-thumbs"]) == 4 * 4  # up to 4 medoid thumbnails per cluster
    assert body["data-opened"] == Path(AWKWARD[0]).as_uri() + "#t=0.000"
    picked, other = body["data-picked"].split("|")
    assert "active" in picked.split() and "dimmed" in other.split()
    assert "active" not in body["data-unpicked"].split()
    assert 0 < int(body["data-zoomed-visible"]) < data.size
    assert body["data-label-rows"] == "game|ad <b>&amp;|unknown"


def test_hundred_thousand_points(tmp_path):
    n = 100_000
    data = make_map(n, n_tiles=64, seed=1)
    html = render_map_page(data)
    size = len(html.encode("utf-8"))
    print(f"\n100k-point map page: {size / 1e6:.2f} MB")
    assert size < 60 * n  # ~4.3 MB of base64 arrays; no JSON lists of numbers
    body = rendered_body(html, tmp_path)
    print(f"first draw done {body.get('data-first-draw-ms')} ms after navigation start (script {body.get('data-script-ms')} ms, "
          f"of which parse+decode {body.get('data-decode-ms')} ms); "
          f"one draw {body.get('data-draw-ms')} ms; slowest of 5 redraws {body.get('data-redraw-ms')} ms")
    assert body.get("data-drawn") == str(n)
    assert body.get("data-hook-done") == "1"


def test_empty_map_and_no_thumbnails_still_render(tmp_path):
    empty = make_map(0, n_tiles=0)
    assert empty.atlas.count == 0 and empty.atlas.sheets == []
    html = render_map_page(empty)
    assert Page(html).by_id("point-count")["data-count"] == "0"
    body = rendered_body(html.replace("</body>", "<script>window.__mapHover(0);</script></body>"), tmp_path)
    assert body.get("data-drawn") == "0"
    bare = make_map(50, n_tiles=0)
    body = rendered_body(render_map_page(bare), tmp_path)
    assert body.get("data-drawn") == "50" and body.get("data-hook-done") == "1"
    assert body["data-tip-tile"] == "-1"
