"""The house plan, checked: no import circles, no private names across modules, no import
that runs from a lower layer back up (issue 16). Read from the source with ``ast``, so a
function-level import counts as much as a top-level one."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "vidscan"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, list[tuple[str, list[str]]]]:
    """module -> [(imported vidscan module, names imported from it)]."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    out: dict[str, list[tuple[str, list[str]]]] = {}
    for name, path in modules.items():
        found = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vidscan"):
                names = [a.name for a in node.names]
                # "from vidscan.video import coarse" imports a module, not a name
                for n in names:
                    if f"{node.module}.{n}" in modules:
                        found.append((f"{node.module}.{n}", []))
                found.append((node.module, [n for n in names if f"{node.module}.{n}" not in modules]))
            elif isinstance(node, ast.Import):
                found += [(a.name, []) for a in node.names if a.name.startswith("vidscan")]
        out[name] = found
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles():
    imports = _imports()
    # A package's __init__ re-exporting its modules is not a circle of its own.
    graph = {m: {t for t, _ in deps if t in imports and t != m and not m.startswith(t + ".")} for m, deps in imports.items()}
    assert _cycles(graph) == []


def test_no_private_name_is_imported_from_another_module():
    offenders = [f"{m} imports {n} from {t}" for m, deps in _imports().items() for t, names in deps for n in names
                 if n.startswith("_") and n != "__version__" and t != m]
    assert offenders == []


def test_the_video_layer_does_not_import_the_tasks_above_it():
    """vidscan.video decodes; it may use an embedder it is handed (coarse-to-fine) but never
    reaches up to the pipeline, the tasks or the command line."""
    above = ("vidscan.pipeline", "vidscan.extract", "vidscan.segment", "vidscan.classification", "vidscan.search", "vidscan.collect",
             "vidscan.batch", "vidscan.cli", "vidscan.report", "vidscan.export")
    offenders = [f"{m} imports {t}" for m, deps in _imports().items() if m.startswith("vidscan.video") for t, _ in deps
                 if t.startswith(above)]
    assert offenders == []
