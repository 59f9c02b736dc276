"""The page shell and its stylesheet (inline: the report is one file that opens offline)."""

from __future__ import annotations

from html import escape

CSS = """
:root { --ink:#1f2430; --muted:#5d6676; --line:#e3e6eb; --bg:#f5f6f8; --card:#fff; --accent:#e15759; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","Liberation Sans",Arial,sans-serif; }
main { max-width:1240px; margin:0 auto; padding:28px 24px 48px; }
header h1 { margin:0 0 2px; font-size:26px; font-weight:650; word-break:break-all; }
.sub { margin:0 0 18px; color:var(--muted); font-size:15px; }
section { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:18px 20px 20px; margin:0 0 18px; }
h2 { margin:0 0 12px; font-size:17px; font-weight:650; }
h2 .hint { font-weight:400; color:var(--muted); font-size:13px; margin-left:8px; }
.meta { display:grid; grid-template-columns:repeat(auto-fill,minmax(180px,1fr)); gap:10px 18px; margin:0; }
.meta div { min-width:0; }
.meta dt { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.meta dd { margin:0; font-weight:550; overflow-wrap:anywhere; }
h3 { margin:16px 0 6px; font-size:12px; font-weight:500; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
dl.settings { display:grid; grid-template-columns:repeat(auto-fill,minmax(340px,1fr)); gap:0 24px; margin:0; font-size:13px; }
dl.settings div { display:flex; gap:10px; padding:3px 0; border-top:1px solid var(--line); min-width:0; }
dl.settings dt { color:var(--muted); flex:0 0 auto; }
dl.settings dd { margin:0; overflow-wrap:anywhere; min-width:0; }
dl.settings code.key { display:block; color:var(--muted); font-size:10px; font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace; }
details.settings > summary { cursor:pointer; color:var(--muted); margin:10px 0 6px; }
details.scene { margin:10px 0; border:1px solid var(--line); border-radius:6px; padding:6px 10px; }
details.scene > summary { cursor:pointer; font-weight:600; }
a.seek { color:inherit; }
svg { display:block; width:100%; height:auto; font-family:inherit; }
svg text.axis { font-size:12px; fill:var(--muted); }
svg line.tick, svg line.axis-line { stroke:#9aa3b0; stroke-width:1; }
svg line.grid { stroke:var(--line); stroke-width:1; }
svg line.edge { stroke:#fff; stroke-width:1.2; pointer-events:none; }
svg rect.seg-block:hover { opacity:.8; }
svg line.boundary { stroke:var(--accent); stroke-width:1.3; opacity:.75; }
svg line.boundary.gradual { stroke:#f28e2b; stroke-dasharray:4 3; opacity:.8; }
svg .score-line { fill:none; stroke:#2f4b7c; stroke-width:1.5; stroke-linejoin:round; }
svg .score-area { fill:#4e79a7; opacity:.14; }
svg .threshold-line { fill:none; stroke:#59a14f; stroke-width:1.3; stroke-dasharray:5 3; }
svg text.bar-label { font-size:15px; font-weight:600; fill:var(--ink); }
svg text.bar-value { font-size:14px; fill:var(--muted); }
.legend { display:flex; flex-wrap:wrap; gap:6px 16px; margin:10px 0 0; padding:0; list-style:none; font-size:13px; color:var(--muted); }
.legend li { display:flex; align-items:center; gap:6px; }
.swatch { display:inline-block; width:12px; height:12px; border-radius:3px; }
.swatch.line { height:2px; border-radius:0; }
.grid { display:grid; grid-template-columns:repeat(auto-fill,minmax(176px,1fr)); gap:14px; }
.card { margin:0; border:1px solid var(--line); border-radius:8px; overflow:hidden; background:#fff; }
.card:target { outline:3px solid var(--accent); }
.card .thumb { position:relative; background:#222; aspect-ratio:16/9; display:flex; align-items:center; justify-content:center; }
.card .thumb img { display:block; width:100%; height:100%; object-fit:contain; }
.card .num { position:absolute; left:6px; top:6px; background:rgba(0,0,0,.62); color:#fff; font-size:12px; font-weight:600;
             padding:1px 7px; border-radius:10px; }
.card .stripe { height:5px; }
.card figcaption { padding:7px 9px 9px; font-size:13px; }
.card .times { font-variant-numeric:tabular-nums; }
.card .dur { color:var(--muted); }
.card .lab { margin-top:3px; font-weight:600; display:flex; justify-content:space-between; gap:6px; }
.card .lab span.conf { color:var(--muted); font-weight:500; font-variant-numeric:tabular-nums; }
.card .trans { color:var(--muted); font-size:12px; }
.empty { color:var(--muted); font-style:italic; margin:0; }
table.index { border-collapse:collapse; width:100%; font-size:14px; }
table.index th, table.index td { text-align:left; padding:7px 12px 7px 0; border-top:1px solid var(--line); vertical-align:middle; }
table.index th { color:var(--muted); font-weight:500; font-size:12px; text-transform:uppercase; letter-spacing:.04em; border-top:0; }
table.index .num { text-align:right; font-variant-numeric:tabular-nums; }
table.index th .swatch { vertical-align:-1px; }
table.index a { color:#2f5f9e; font-weight:600; text-decoration:none; }
table.index a:hover { text-decoration:underline; }
table.index img.index-thumb { width:96px; border-radius:4px; display:block; }
table.index tr.failed td.error { color:#b3261e; }
footer { color:var(--muted); font-size:12px; text-align:center; margin-top:8px; }
"""


def page(title: str, body: str) -> str:
    """A complete, self-contained HTML document (``body`` is trusted markup built by the caller)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="vidscan">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
