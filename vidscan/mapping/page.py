"""The frame map as one self-contained HTML page: a canvas scatter, a legend, thumbnails on hover.

Everything is inside the file (point arrays as base64 typed arrays, thumbnails as JPEG
sprite sheets in ``data:`` URIs, the script and the style), so it opens offline from
``file://`` and can be mailed or archived as it is. Nothing the page shows is put into
markup unescaped: text from the data (file names, cluster and label names, settings) goes
through :func:`html.escape` or into a ``<script type="application/json">`` block with
``<`` escaped, and the script only ever sets ``textContent``.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from vidscan.mapping.data import MapData

#: Colours for clusters, labels and videos: 20 hues that stay apart on the dark map.
PALETTE = [
    "#e6194b", "#3cb44b", "#ffe119", "#4f7df9", "#f58231", "#b45ee8", "#42d4f4", "#f032e6", "#bfef45", "#fabed4",
    "#46b3a9", "#dcbeff", "#c08a4a", "#fffac8", "#aaffc3", "#a3a31a", "#ffd8b1", "#ffffff", "#9e1f63", "#8fa3ff",
]
#: Points no cluster took (id -1) and points with no (or an unknown) label.
NOISE_COLOUR = "#6b7078"
#: A sequential ramp (luminance rising from blue to yellow) for confidence and time.
RAMP = ["#2c5fb6", "#0091c8", "#00bcb8", "#62d98c", "#c4ec6e", "#fff27a"]


def render_map_page(data: MapData) -> str:
    """The whole page as one HTML string (see the module docstring for what it holds)."""
    _check(data)
    n = data.size
    payload = {
        "n": n,
        "videos": [_video_entry(p) for p in data.videos],
        "clusters": [
            {"id": int(c.id), "name": str(c.name), "points": int(c.points), "frames": int(c.frames),
             "seconds": _finite(c.seconds), "share": _finite(c.share), "medoids": [int(m) for m in c.medoids]}
            for c in data.clusters
        ],
        "labels": [str(name) for name in data.labels],
        "atlas": {
            "sheets": ["data:image/jpeg;base64," + base64.b64encode(s).decode("ascii") for s in data.atlas.sheets],
            "tileWidth": int(data.atlas.tile_width), "tileHeight": int(data.atlas.tile_height),
            "columns": int(data.atlas.columns), "perSheet": int(data.atlas.per_sheet), "count": int(data.atlas.count),
        },
        "palette": PALETTE, "noise": NOISE_COLOUR, "ramp": RAMP,
        "arrays": {name: encode_array(values, kind) for name, (values, kind) in _arrays(data).items()},
    }
    frames = int(np.asarray(data.count, dtype=np.int64).sum()) if n else 0
    videos = len(data.videos)
    title = html.escape(data.title)
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n",
        "<header>\n",
        f"<h1>{title}</h1>\n<div class=\"stats\">",
        f"<span id=\"point-count\" data-count=\"{n}\">{n:,} {'point' if n == 1 else 'points'}</span>",
        f" · <span id=\"video-count\" data-count=\"{videos}\">{videos:,} {'video' if videos == 1 else 'videos'}</span>",
        f" · <span id=\"frame-count\" data-count=\"{frames}\">{frames:,} sampled {'frame' if frames == 1 else 'frames'}</span>",
        "</div>\n<label class=\"colour-by\">colour by <select id=\"colour-by\">",
        "".join(f"<option value=\"{value}\">{text}</option>" for value, text in _colourings(data)),
        "</select></label>\n<button id=\"reset-view\" type=\"button\" title=\"fit all points (or double-click the map)\">reset view</button>\n",
        "</header>\n<main>\n<div id=\"map\">",
        "<canvas id=\"points\"></canvas><canvas id=\"overlay\"></canvas>",
        "<div id=\"tooltip\" hidden></div>",
        "<div id=\"hint\">drag to pan · wheel to zoom · hover a point for its frame · click to open the video there</div>",
        "</div>\n<aside id=\"legend\"></aside>\n</main>\n",
        _settings_block(data.settings),
        "<script type=\"application/json\" id=\"map-data\">", json_for_script(payload), "</script>\n",
        f"<script>{_JS}</script>\n</body>\n</html>\n",
    ])


def encode_array(values: np.ndarray, kind: str) -> dict[str, str]:
    """``{"dtype", "data"}``: the array as base64 of little-endian bytes, in the smallest type that holds it.

    ``kind`` is ``"int"`` (signed integers: int8/16/32, float64 past int32), ``"float32"``
    or ``"float64"``; the page decodes ``data`` into the typed array named by ``dtype``.
    """
    values = np.asarray(values)
    if kind == "int":
        values = values.astype(np.int64, copy=False)
        lo, hi = (int(values.min()), int(values.max())) if values.size else (0, 0)
        for dtype in ("int8", "int16", "int32"):
            info = np.iinfo(dtype)
            if info.min <= lo and hi <= info.max:
                break
        else:
            dtype = "float64"  # exact up to 2**53, and a JS number either way
    elif kind in ("float32", "float64"):
        dtype = kind
    else:
        raise ValueError(f"unknown array kind {kind!r}")
    raw = values.astype(np.dtype(dtype).newbyteorder("<"), copy=False).tobytes()
    return {"dtype": dtype, "data": base64.b64encode(raw).decode("ascii")}


def json_for_script(value: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``: no ``<`` (so no ``</script>``
    or ``<!--``), no ``>``/``&``, and ASCII only (file names with lone surrogates survive too)."""
    text = json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _finite(value: float) -> float | None:
    """JSON has no NaN: a missing number is null, shown as "–"."""
    value = float(value)
    return value if math.isfinite(value) else None


def _check(data: MapData) -> None:
    n = data.size
    for name in ("y", "video", "frame", "time_s", "cluster", "count", "thumb"):
        if len(getattr(data, name)) != n:
            raise ValueError(f"MapData.{name} has {len(getattr(data, name))} entries, x has {n}")
    if (data.label is None) != (data.confidence is None):
        raise ValueError("MapData.label and MapData.confidence come together")
    if data.label is not None and (len(data.label) != n or len(data.confidence) != n):
        raise ValueError("MapData.label and MapData.confidence need one entry per point")
    if n and (int(np.min(data.video)) < 0 or int(np.max(data.video)) >= len(data.videos)):
        raise ValueError("MapData.video indexes past MapData.videos")
    if n and int(np.max(data.thumb)) >= data.atlas.count:
        raise ValueError("MapData.thumb indexes past the atlas")


def _arrays(data: MapData) -> dict[str, tuple[np.ndarray, str]]:
    arrays = {
        "x": (data.x, "float32"), "y": (data.y, "float32"), "video": (data.video, "int"), "frame": (data.frame, "int"),
        "time": (data.time_s, "float64"), "cluster": (data.cluster, "int"), "count": (data.count, "int"),
        "thumb": (data.thumb, "int"),
    }
    if data.label is not None:
        arrays["label"] = (data.label, "int")
        arrays["confidence"] = (data.confidence, "float32")
    return arrays


def _video_entry(path: str) -> dict[str, str]:
    """Name, path and a ``file://`` URI the page opens (with ``#t=`` appended) on a click."""
    p = Path(path)
    try:
        uri = p.absolute().as_uri()
    except ValueError:  # not expressible as a file URI: the click does nothing
        uri = ""
    return {"name": p.name or str(path), "path": str(path), "uri": uri}


def _colourings(data: MapData) -> list[tuple[str, str]]:
    options = [("cluster", "cluster")]
    if data.label is not None and data.labels:
        options.append(("label", "label"))
    if data.confidence is not None:
        options.append(("confidence", "confidence"))
    options += [("video", "video"), ("time", "time in its video")]
    return options


def _settings_block(settings: dict) -> str:
    """The settings as a small table in a ``<details>`` footer, nested keys dotted."""
    rows = "".join(
        f"<tr><th>{html.escape(key)}</th><td>{html.escape(value)}</td></tr>" for key, value in _flatten(settings)
    )
    body = f"<table>{rows}</table>" if rows else "<p>none recorded</p>"
    return f"<footer><details id=\"settings\"><summary>settings</summary>{body}</details></footer>\n"


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        out: list[tuple[str, str]] = []
        for key, inner in value.items():
            out += _flatten(inner, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(value, float) and math.isfinite(value):
        return [(prefix, f"{value:g}")]
    return [(prefix, str(value))]


_CSS = """
:root { color-scheme: dark; --bg: #121418; --panel: #1b1e24; --line: #2c313a; --text: #e4e6ea; --muted: #9aa1ad; }
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; background: var(--bg); color: var(--text);
  font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
body { display: flex; flex-direction: column; }
header { display: flex; align-items: baseline; gap: 16px; padding: 8px 14px; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
h1 { font-size: 17px; margin: 0; font-weight: 600; }
.stats { color: var(--muted); }
.colour-by { margin-left: auto; color: var(--muted); }
select, button { background: var(--panel); color: var(--text); border: 1px solid var(--line); border-radius: 4px; padding: 2px 6px; font: inherit; }
main { flex: 1; display: flex; min-height: 0; }
#map { position: relative; flex: 1; min-width: 0; overflow: hidden; cursor: crosshair; }
#map.dragging { cursor: grabbing; }
#map > canvas { position: absolute; left: 0; top: 0; width: 100%; height: 100%; }
#overlay { pointer-events: none; }
#hint { position: absolute; left: 8px; bottom: 6px; color: var(--muted); font-size: 11px; pointer-events: none; }
#tooltip { position: absolute; z-index: 2; pointer-events: none; background: rgba(27, 30, 36, 0.96); border: 1px solid var(--line);
  border-radius: 6px; padding: 6px; max-width: 280px; box-shadow: 0 4px 16px rgba(0, 0, 0, 0.5); }
#tooltip[hidden] { display: none; }
#tooltip canvas { display: block; border-radius: 3px; margin-bottom: 4px; background: #000; }
#tooltip .name { font-weight: 600; word-break: break-all; }
#tooltip .muted, .legend-note { color: var(--muted); }
#legend { width: 340px; overflow-y: auto; border-left: 1px solid var(--line); padding: 8px 10px; }
#legend h2 { font-size: 13px; margin: 2px 0 8px; font-weight: 600; }
.row { display: grid; grid-template-columns: 14px 1fr auto; gap: 2px 8px; align-items: center; padding: 5px 4px;
  border-radius: 4px; cursor: pointer; }
.row:hover { background: var(--panel); }
.row.active { background: #26303d; outline: 1px solid #3d4b5e; }
.row.dimmed { opacity: 0.45; }
.swatch { width: 12px; height: 12px; border-radius: 2px; }
.row .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.row .num { color: var(--muted); font-variant-numeric: tabular-nums; text-align: right; white-space: nowrap; }
.row .thumbs { grid-column: 2 / 4; display: flex; gap: 3px; }
.row .thumbs canvas { border-radius: 2px; background: #000; }
.ramp { height: 12px; border-radius: 2px; margin: 4px 0 2px; }
.ramp-ticks { display: flex; justify-content: space-between; color: var(--muted); }
footer { border-top: 1px solid var(--line); padding: 4px 14px; color: var(--muted); font-size: 12px; }
footer table { border-collapse: collapse; margin: 4px 0; }
footer th { text-align: left; font-weight: normal; padding: 0 12px 0 0; }
footer td { font-family: ui-monospace, monospace; }
"""

_JS = r"""
"use strict";
(function () {
const t0 = performance.now();
const D = JSON.parse(document.getElementById("map-data").textContent);
const N = D.n;
const TYPES = {int8: Int8Array, int16: Int16Array, int32: Int32Array, float32: Float32Array, float64: Float64Array};
function decode(entry) {
  // base64 -> bytes -> a typed array (little-endian: the byte order of every platform browsers run on). A plain loop, not
  // Uint8Array.from(atob(s), c => c.charCodeAt(0)): same bytes, ~20x faster on megabytes.
  const text = atob(entry.data), bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return new TYPES[entry.dtype](bytes.buffer);
}
const A = {};
for (const name in D.arrays) A[name] = decode(D.arrays[name]);
document.body.dataset.decodeMs = (performance.now() - t0).toFixed(1);  // JSON.parse + base64, for the record
const X = A.x, Y = A.y;
const hasLabels = !!A.label;

const mapEl = document.getElementById("map");
const canvas = document.getElementById("points");
const overlay = document.getElementById("overlay");
const ctx = canvas.getContext("2d", {alpha: false});
const octx = overlay.getContext("2d");
const tooltip = document.getElementById("tooltip");
const legend = document.getElementById("legend");
const select = document.getElementById("colour-by");

// ---- bounds, view (data -> device pixels: sx = (x - cx) * scale + W / 2, y up) -------------
let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
for (let i = 0; i < N; i++) {
  const x = X[i], y = Y[i];
  if (!(x - x === 0 && y - y === 0)) continue;  // NaN or infinite: not on the map
  if (x < minX) minX = x; if (x > maxX) maxX = x;
  if (y < minY) minY = y; if (y > maxY) maxY = y;
}
if (!(minX <= maxX)) { minX = minY = -1; maxX = maxY = 1; }
if (maxX - minX < 1e-9) { minX -= 1; maxX += 1; }
if (maxY - minY < 1e-9) { minY -= 1; maxY += 1; }
let dpr = 1, W = 1, H = 1, cx = 0, cy = 0, scale = 1, baseScale = 1;
function fit() {
  cx = (minX + maxX) / 2; cy = (minY + maxY) / 2;
  scale = baseScale = Math.min(W / (maxX - minX), H / (maxY - minY)) * 0.92;
}

// ---- uniform grid over the data bounds, for the nearest point under the cursor ------------
const G = Math.max(1, Math.min(1024, Math.ceil(Math.sqrt(N / 4))));
const cellW = (maxX - minX) / G, cellH = (maxY - minY) / G;
const cellStart = new Int32Array(G * G + 1), cellItems = new Int32Array(N), cellOf = new Int32Array(N);
(function () {
  for (let i = 0; i < N; i++) {
    const x = X[i], y = Y[i];
    if (!(x - x === 0 && y - y === 0)) { cellOf[i] = -1; continue; }
    const gx = Math.min(G - 1, Math.floor((x - minX) / cellW)), gy = Math.min(G - 1, Math.floor((y - minY) / cellH));
    cellOf[i] = gy * G + gx; cellStart[cellOf[i] + 1]++;
  }
  for (let c = 0; c < G * G; c++) cellStart[c + 1] += cellStart[c];
  const fill = cellStart.slice(0, G * G);
  for (let i = 0; i < N; i++) if (cellOf[i] >= 0) cellItems[fill[cellOf[i]]++] = i;
})();

// ---- colourings: a category per point, with a colour (and a dimmed one) per category --------
const BACKGROUND = "#121418";
const videos = D.videos, clusters = D.clusters, labels = D.labels;
const clusterById = new Map(clusters.map(c => [c.id, c]));
const pal = k => D.palette[((k % D.palette.length) + D.palette.length) % D.palette.length];
function hex(c) { return [1, 3, 5].map(i => parseInt(c.slice(i, i + 2), 16)); }
function rampColour(t) {
  const r = D.ramp, f = Math.max(0, Math.min(1, t)) * (r.length - 1), i = Math.min(r.length - 2, Math.floor(f)), u = f - i;
  const a = hex(r[i]), b = hex(r[i + 1]);
  return "#" + a.map((v, j) => Math.round(v + (b[j] - v) * u).toString(16).padStart(2, "0")).join("");
}
const BINS = 32;
function categorical(keyOf, cats) {
  // cats: [{key, name, colour, grey}], keyOf(i) -> key; unknown keys get a category of their own.
  const index = new Map(cats.map((c, k) => [c.key, k]));
  const cat = new Uint16Array(N);
  for (let i = 0; i < N; i++) {
    const key = keyOf(i);
    let k = index.get(key);
    if (k === undefined) { k = cats.length; index.set(key, k); cats.push({key, name: String(key), colour: pal(key), grey: false}); }
    cat[i] = k;
  }
  return cat;
}
function ramp(valueOf) {
  const cats = [];
  for (let b = 0; b < BINS; b++) cats.push({key: b, colour: rampColour(b / (BINS - 1)), grey: false});
  cats.push({key: "none", colour: D.noise, grey: true});
  const cat = new Uint16Array(N);
  for (let i = 0; i < N; i++) {
    const v = valueOf(i);
    cat[i] = v === v && v >= 0 ? Math.min(BINS - 1, Math.floor(v * BINS)) : BINS;
  }
  return {cat, cats};
}
function colouring(mode) {
  let cat, cats, kind = "categories";
  if (mode === "label") {
    cats = labels.map((name, k) => ({key: k, name, colour: pal(k), grey: name === "unknown"}));
    cats.forEach(c => { if (c.grey) c.colour = D.noise; });
    cats.push({key: -1, name: "unknown", colour: D.noise, grey: true});
    cat = categorical(i => (A.label[i] >= 0 && A.label[i] < labels.length ? A.label[i] : -1), cats);
  } else if (mode === "video") {
    cats = videos.map((v, k) => ({key: k, name: v.name, title: v.path, colour: pal(k), grey: false}));
    cat = categorical(i => A.video[i], cats);
  } else if (mode === "confidence") {
    ({cat, cats} = ramp(i => A.label[i] >= 0 ? A.confidence[i] : NaN)); kind = "ramp";
  } else if (mode === "time") {
    const end = new Float64Array(videos.length);
    for (let i = 0; i < N; i++) if (A.time[i] > end[A.video[i]]) end[A.video[i]] = A.time[i];
    ({cat, cats} = ramp(i => end[A.video[i]] > 0 ? A.time[i] / end[A.video[i]] : 0)); kind = "ramp";
  } else {
    cats = clusters.map(c => ({key: c.id, name: c.name, colour: c.id < 0 ? D.noise : pal(c.id), grey: c.id < 0, summary: c}));
    cat = categorical(i => A.cluster[i], cats);
    cats.forEach(c => { if (c.key < 0) { c.colour = D.noise; c.grey = true; } });
  }
  const K = cats.length, points = new Int32Array(K), frames = new Float64Array(K);
  for (let i = 0; i < N; i++) { points[cat[i]]++; frames[cat[i]] += A.count[i]; }
  const colours = new Uint32Array(K), dimmed = new Uint32Array(K), grey = new Uint8Array(K), ground = hex(BACKGROUND);
  cats.forEach((c, k) => {
    c.points = points[k]; c.frames = frames[k];
    const rgb = hex(c.colour);
    colours[k] = rgba32(rgb);
    dimmed[k] = rgba32(rgb.map((v, j) => Math.round(ground[j] + (v - ground[j]) * 0.16)));
    grey[k] = c.grey ? 1 : 0;
  });
  return {mode, kind, cat, cats, colours, dimmed, grey};
}
const cache = {};
let C = null, highlight = -1;

// ---- drawing -----------------------------------------------------------------------------
function pointSize() {
  const base = N < 2000 ? 5 : N < 20000 ? 4 : N < 200000 ? 3 : 2;
  return Math.max(1, Math.round(Math.min(base * Math.pow(scale / baseScale, 0.35), 10) * dpr));
}
let firstDrawn = false, pending = false, image = null, pixels = null;
const BG = rgba32(hex(BACKGROUND));
function rgba32([r, g, b]) { return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0; }  // little-endian RGBA
// One fixed shuffled order for every draw: where categories overlap, none hides the others just
// because it came last (drawing one colour after another would paint the last one on top).
const shuffled = new Int32Array(N);
(function () {
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  for (let i = 0; i < N; i++) shuffled[i] = i;
  for (let i = N - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)), t = shuffled[i]; shuffled[i] = shuffled[j]; shuffled[j] = t; }
})();
function draw() {
  // Squares written straight into the canvas's pixels: ~15x faster than 100k fillRect calls on a
  // software canvas, with the same look (opaque squares on a flat ground), so no batching by colour
  // is needed. Two layers: grey points (no cluster, no label) - or, with a highlight, everything
  // else, dimmed - first; the rest on top.
  const t = performance.now();
  if (!image || image.width !== W || image.height !== H) { image = ctx.createImageData(W, H); pixels = new Uint32Array(image.data.buffer); }
  pixels.fill(BG);
  const s = pointSize(), h = s / 2, ox = W / 2 - h, oy = H / 2 - h, sc = scale;
  const {cat, colours, dimmed, grey} = C, hl = highlight;
  let count = 0;
  for (let layer = 0; layer < 2; layer++) {
    for (let j = 0; j < N; j++) {
      const i = shuffled[j], k = cat[i];
      if ((hl < 0 ? 1 - grey[k] : (k === hl ? 1 : 0)) !== layer) continue;
      const fx = (X[i] - cx) * sc + ox, fy = oy - (Y[i] - cy) * sc;
      if (!(fx > -s && fy > -s && fx < W && fy < H)) continue;  // off the canvas, or NaN
      const colour = hl < 0 || k === hl ? colours[k] : dimmed[k];
      const x0 = fx | 0, y0 = fy | 0;
      const xa = x0 < 0 ? 0 : x0, xb = x0 + s > W ? W : x0 + s, yb = y0 + s > H ? H : y0 + s;
      for (let y = y0 < 0 ? 0 : y0; y < yb; y++) {
        const row = y * W;
        for (let x = xa; x < xb; x++) pixels[row + x] = colour;
      }
      count++;
    }
  }
  ctx.putImageData(image, 0, 0);
  document.body.dataset.visible = String(count);  // points on the canvas now (fewer when zoomed in)
  const ms = performance.now() - t;
  document.body.dataset.drawMs = ms.toFixed(1);
  if (!firstDrawn) {
    firstDrawn = true;
    document.body.dataset.firstDrawMs = performance.now().toFixed(1);  // since the page began to load
    document.body.dataset.scriptMs = (performance.now() - t0).toFixed(1);  // of which this script
    document.body.dataset.drawn = String(count);
    window.__mapReady = true;
  }
  drawMarker();
}
function schedule() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; draw(); });
}
function resize() {
  dpr = window.devicePixelRatio || 1;
  const r = mapEl.getBoundingClientRect();
  const w = Math.max(1, Math.round(r.width * dpr)), h = Math.max(1, Math.round(r.height * dpr));
  const ratio = W > 1 ? scale / baseScale : 1;
  canvas.width = overlay.width = W = w;
  canvas.height = overlay.height = H = h;
  const keep = {cx, cy};
  fit();
  if (firstDrawn) { scale = baseScale * ratio; cx = keep.cx; cy = keep.cy; }
}

// ---- thumbnails from the sprite sheets (each sheet decoded once, when first needed) ---------
const atlas = D.atlas, sheets = [];
function sheet(n) {
  if (!sheets[n]) {
    const img = new Image();
    sheets[n] = {img, ready: false, waiting: []};
    img.onload = () => { sheets[n].ready = true; sheets[n].waiting.splice(0).forEach(f => f()); };
    img.src = atlas.sheets[n];
  }
  return sheets[n];
}
function thumbCanvas(tile, width) {
  const c = document.createElement("canvas");
  const w = Math.round(width), h = Math.max(1, Math.round(width * (atlas.tileHeight || 9) / (atlas.tileWidth || 16)));
  c.width = Math.round(w * dpr); c.height = Math.round(h * dpr);
  c.style.width = w + "px"; c.style.height = h + "px";
  c.dataset.tile = String(tile);
  if (tile < 0 || tile >= atlas.count) return c;
  const n = Math.floor(tile / atlas.perSheet), local = tile % atlas.perSheet;
  const sx = (local % atlas.columns) * atlas.tileWidth, sy = Math.floor(local / atlas.columns) * atlas.tileHeight;
  const paint = () => {
    c.getContext("2d").drawImage(sheets[n].img, sx, sy, atlas.tileWidth, atlas.tileHeight, 0, 0, c.width, c.height);
    c.dataset.painted = "1";
  };
  const s = sheet(n);
  if (s.ready) paint(); else s.waiting.push(paint);
  return c;
}

// ---- tooltip, hover, click -----------------------------------------------------------------
function timecode(t) {
  const ms = Math.max(0, Math.round(t * 1000));
  const p = (v, n) => String(v).padStart(n, "0");
  return p(Math.floor(ms / 3600000), 2) + ":" + p(Math.floor(ms / 60000) % 60, 2) + ":" + p(Math.floor(ms / 1000) % 60, 2) + "." + p(ms % 1000, 3);
}
function line(text, cls) { const d = document.createElement("div"); d.textContent = text; if (cls) d.className = cls; return d; }
let hovered = -1;
function screenOf(i) { return [((X[i] - cx) * scale + W / 2) / dpr, (H / 2 - (Y[i] - cy) * scale) / dpr]; }
function showTooltip(i) {
  hovered = i;
  if (i < 0) { tooltip.hidden = true; drawMarker(); return; }
  const v = videos[A.video[i]] || {name: "?", path: ""};
  const c = clusterById.get(A.cluster[i]);
  tooltip.replaceChildren(thumbCanvas(A.thumb[i], Math.min(240, Math.max(120, atlas.tileWidth * 1.5))));
  const name = line(v.name, "name"); name.title = v.path; tooltip.append(name);
  tooltip.append(line(timecode(A.time[i]) + "  ·  frame " + A.frame[i], "muted"));
  tooltip.append(line(c ? c.name : (A.cluster[i] < 0 ? "no cluster" : "cluster " + A.cluster[i])));
  if (hasLabels && A.label[i] >= 0 && A.label[i] < labels.length)
    tooltip.append(line(labels[A.label[i]] + "  " + Math.round(A.confidence[i] * 100) + "%"));
  if (A.count[i] > 1) tooltip.append(line("× " + A.count[i] + " frames", "muted"));
  tooltip.dataset.index = String(i);
  tooltip.hidden = false;
  const [px, py] = screenOf(i), r = mapEl.getBoundingClientRect(), b = tooltip.getBoundingClientRect();
  let left = px + 14, top = py + 14;
  if (left + b.width > r.width) left = px - 14 - b.width;
  if (top + b.height > r.height) top = py - 14 - b.height;
  tooltip.style.left = Math.max(0, left) + "px"; tooltip.style.top = Math.max(0, top) + "px";
  drawMarker();
}
function drawMarker() {
  octx.clearRect(0, 0, W, H);
  if (hovered < 0) return;
  const sx = (X[hovered] - cx) * scale + W / 2, sy = H / 2 - (Y[hovered] - cy) * scale;
  octx.strokeStyle = "#ffffff"; octx.lineWidth = 2 * dpr;
  octx.beginPath(); octx.arc(sx, sy, 6 * dpr, 0, 2 * Math.PI); octx.stroke();
}
function nearest(px, py) {
  // px, py in device pixels; searches the grid cells within a few pixels of the cursor
  const r = 8 * dpr / scale, qx = (px - W / 2) / scale + cx, qy = (H / 2 - py) / scale + cy;
  const gx0 = Math.max(0, Math.floor((qx - r - minX) / cellW)), gx1 = Math.min(G - 1, Math.floor((qx + r - minX) / cellW));
  const gy0 = Math.max(0, Math.floor((qy - r - minY) / cellH)), gy1 = Math.min(G - 1, Math.floor((qy + r - minY) / cellH));
  let best = -1, bestD = r * r;
  for (let gy = gy0; gy <= gy1; gy++) for (let gx = gx0; gx <= gx1; gx++) {
    const c = gy * G + gx;
    for (let j = cellStart[c], e = cellStart[c + 1]; j < e; j++) {
      const i = cellItems[j];
      if (highlight >= 0 && C.cat[i] !== highlight) continue;
      const dx = X[i] - qx, dy = Y[i] - qy, d = dx * dx + dy * dy;
      if (d <= bestD) { bestD = d; best = i; }
    }
  }
  return best;
}
function openPoint(i) {
  const v = videos[A.video[i]];
  if (v && v.uri) window.open(v.uri + "#t=" + Math.max(0, A.time[i]).toFixed(3), "_blank");
}
let drag = null;
function local(e) { const r = mapEl.getBoundingClientRect(); return [(e.clientX - r.left) * dpr, (e.clientY - r.top) * dpr]; }
mapEl.addEventListener("pointerdown", e => {
  if (e.button !== 0) return;
  try { mapEl.setPointerCapture(e.pointerId); } catch (err) { /* a synthetic event's pointer */ }
  drag = {x: e.clientX, y: e.clientY, cx, cy, moved: false};
});
mapEl.addEventListener("pointermove", e => {
  if (drag) {
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!drag.moved && dx * dx + dy * dy < 16) return;
    if (!drag.moved) { drag.moved = true; mapEl.classList.add("dragging"); showTooltip(-1); }
    cx = drag.cx - dx * dpr / scale; cy = drag.cy + dy * dpr / scale;
    schedule();
    return;
  }
  const [px, py] = local(e), i = nearest(px, py);
  if (i !== hovered) showTooltip(i);
});
mapEl.addEventListener("pointerup", e => {
  if (!drag) return;
  const wasDrag = drag.moved;
  drag = null; mapEl.classList.remove("dragging");
  if (!wasDrag) { const [px, py] = local(e), i = nearest(px, py); if (i >= 0) openPoint(i); }
});
mapEl.addEventListener("pointerleave", () => { if (!drag) showTooltip(-1); });
mapEl.addEventListener("wheel", e => {
  e.preventDefault();
  const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
  const f = Math.exp(-e.deltaY * unit * 0.0015);
  const next = Math.max(baseScale * 0.2, Math.min(baseScale * 5000, scale * f));
  const [px, py] = local(e);
  const qx = (px - W / 2) / scale + cx, qy = (H / 2 - py) / scale + cy;  // keep the point under the cursor still
  scale = next; cx = qx - (px - W / 2) / scale; cy = qy - (H / 2 - py) / scale;
  showTooltip(-1);
  schedule();
}, {passive: false});
function resetView() { fit(); showTooltip(-1); schedule(); }
mapEl.addEventListener("dblclick", resetView);
document.getElementById("reset-view").addEventListener("click", resetView);

// ---- legend --------------------------------------------------------------------------------
const fmt = n => Math.round(n).toLocaleString("en-US");
function renderLegend() {
  legend.replaceChildren();
  const heading = document.createElement("h2");
  legend.append(heading);
  if (C.kind === "ramp") {
    heading.textContent = C.mode === "confidence" ? "confidence of the label" : "time in each video";
    const bar = document.createElement("div");
    bar.className = "ramp";
    bar.style.background = "linear-gradient(to right, " + D.ramp.join(", ") + ")";
    const ticks = document.createElement("div");
    ticks.className = "ramp-ticks";
    const ends = C.mode === "confidence" ? ["0%", "50%", "100%"] : ["start", "middle", "end"];
    ends.forEach(t => ticks.append(line(t)));
    legend.append(bar, ticks);
    const grey = C.cats[C.cats.length - 1];
    if (grey.points) legend.append(line(fmt(grey.points) + " points with no value: grey", "legend-note"));
    legend.append(line(C.mode === "confidence" ? "how sure the classifier was of each frame's label"
                                                 : "each video runs from its start (blue) to its last sampled frame (yellow)", "legend-note"));
    return;
  }
  heading.textContent = {cluster: "clusters", label: "labels", video: "videos"}[C.mode] + " (click one to pick it out)";
  const rows = [];
  const keys = [...C.cats.keys()].filter(k => C.cats[k].points > 0 || C.mode === "cluster");
  for (const k of keys) {
    const c = C.cats[k], s = c.summary;
    const row = document.createElement("div");
    row.className = "row"; row.dataset.category = String(k);
    if (C.mode === "cluster") row.dataset.cluster = String(c.key);
    const sw = document.createElement("span");
    sw.className = "swatch"; sw.style.background = c.colour;
    const name = line(c.name, "name"); name.title = c.title || c.name;
    let nums;
    if (s) nums = fmt(s.points) + " pts · " + fmt(s.frames) + " fr · " + (s.share === null ? "–" : (s.share * 100).toFixed(1) + "%");
    else nums = fmt(c.points) + " pts · " + fmt(c.frames) + " fr";
    row.append(sw, name, line(nums, "num"));
    if (s && s.medoids.length) {
      const thumbs = document.createElement("div");
      thumbs.className = "thumbs";
      s.medoids.slice(0, 4).forEach(m => { if (m >= 0 && m < N && A.thumb[m] >= 0) thumbs.append(thumbCanvas(A.thumb[m], 64)); });
      row.append(thumbs);
    }
    row.addEventListener("click", () => setHighlight(highlight === k ? -1 : k));
    rows.push(row);
  }
  legend.append(...rows);
  markRows();
}
function markRows() {
  for (const row of legend.querySelectorAll(".row")) {
    const k = Number(row.dataset.category);
    row.classList.toggle("active", highlight === k);
    row.classList.toggle("dimmed", highlight >= 0 && highlight !== k);
  }
}
function setHighlight(k) { highlight = k; markRows(); showTooltip(-1); schedule(); }
function setMode(mode) {
  C = cache[mode] || (cache[mode] = colouring(mode));
  highlight = -1;
  renderLegend();
}
select.addEventListener("change", () => { setMode(select.value); schedule(); });

// ---- start ---------------------------------------------------------------------------------
window.addEventListener("resize", () => { resize(); draw(); });
resize();
setMode(select.value || "cluster");
draw();
window.__mapHover = i => { showTooltip(i >= 0 && i < N ? i : -1); return !tooltip.hidden; };
window.__mapScreen = i => { const r = mapEl.getBoundingClientRect(), [x, y] = screenOf(i); return [r.left + x, r.top + y]; };
window.__mapRedraw = () => { const t = performance.now(); draw(); return performance.now() - t; };
})();
"""
