"""The TOML config file of ``classify --config`` and ``batch --config``: its schema, declared
once as data, and the one reader that checks a file against it before any work starts.

A config that parses but holds the wrong thing (``min_confidence = "high"``, ``merge = "no"``,
``sample_fps = [1]``, a misspelt ``min_confidnce``) is one usage error (exit 2) naming the
file, the key with its table and what was expected, the same in every command, instead of a
crash, a silent default or a failure per video.
"""

from __future__ import annotations

import difflib
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidscan.errors import InputError, UsageError
from vidscan.broadcast.names import CUE_NAMES
from vidscan.formats import FORMATS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: Upper bound of every duration setting, in seconds (a week), on the command line and in a
#: config: longer is meaningless for one video, and near float's maximum a duration
#: overflows to inf once multiplied by the frame rate.
MAX_SECONDS = 7 * 24 * 3600

#: What each kind of value must be, as the error messages say it.
KINDS = {
    "bool": "true or false (a TOML boolean, without quotes)",
    "integer": "a whole number",
    "number": "a finite number",
    "text": "a quoted text",
    "texts": "a text or a list of non-empty texts",
    "choices": "a list (or a comma-separated text) of",
}


@dataclass(frozen=True)
class Field:
    """One key of a config table: the kind of value, its range or choices, and what it is for."""

    kind: str
    help: str
    min: float | None = None
    max: float | None = None
    min_open: bool = False
    choices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:  # a typo in SCHEMA would otherwise check nothing
            raise ValueError(f"unknown kind {self.kind!r}; one of {', '.join(KINDS)}")

    def expected(self) -> str:
        """What a value must be, e.g. ``a finite number > 0 and <= 604800``."""
        if self.kind == "choices":
            return f"{KINDS['choices']} {', '.join(self.choices[:-1])} and/or {self.choices[-1]}"
        bounds = []
        if self.min is not None:
            bounds.append(f"{'>' if self.min_open else '>='} {self.min:g}")
        if self.max is not None:
            bounds.append(f"<= {self.max:g}")
        return " ".join([KINDS[self.kind], " and ".join(bounds)]).strip()


#: Every table and key a config may hold. ``labels.*`` is each ``[labels.NAME]`` table.
SCHEMA: dict[str, dict[str, Field]] = {
    "classify": {
        "min_confidence": Field("number", "segments whose top label scores below this are 'unknown'", min=0, max=1),
        "merge": Field("bool", "join adjacent segments that got the same label"),
        "sample_fps": Field("number", "frames per second to label", min=0, min_open=True),
    },
    "batch": {
        "workers": Field("integer", "worker processes", min=1),
        "timeout_per_file": Field("number", "seconds one video may take before it is recorded as failed",
                                  min=0, min_open=True, max=MAX_SECONDS),
        "formats": Field("choices", "per-video outputs", choices=(*FORMATS, "html")),
    },
    "labels.*": {
        "prompts": Field("texts", "text prompts for zero-shot labelling"),
        "examples": Field("text", "folder of example images or clips (relative to the config file)"),
        "cues": Field("choices", "broadcast cues this label needs (vidscan.broadcast.names)", choices=CUE_NAMES),
        "without": Field("choices", "broadcast cues this label must not have", choices=CUE_NAMES),
    },
}


def read_config(path: str | Path) -> dict[str, Any]:
    """Parse the TOML file at ``path`` and check it against :data:`SCHEMA`; returns its tables
    with values normalised (numbers as float, texts as lists). A syntax error names the line."""
    p = Path(path)
    if not p.is_file():
        raise InputError("config file not found", path=str(path))
    try:
        text = p.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc).replace("(at end of document)", f"(at line {text.count(chr(10)) + 1}, the end of the file)")
        raise UsageError(f"config does not parse: {reason}", path=str(path)) from None
    except UnicodeDecodeError:
        raise UsageError("config is not UTF-8 text", path=str(path)) from None
    return validate_config(raw, str(path))


def validate_config(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """Check parsed TOML against :data:`SCHEMA` (known tables and keys, types, finite numbers,
    ranges); raise one :class:`UsageError` for the first problem, else return normalised tables."""
    out: dict[str, Any] = {}
    for name, body in raw.items():
        if f"{name}.*" in SCHEMA:  # a table of tables, e.g. [labels.NAME]
            if not isinstance(body, dict) or not all(isinstance(sub, dict) for sub in body.values()):
                raise UsageError(f"[{name}] must hold [{name}.NAME] tables", path=source)
            out[name] = {sub: _check_table(table, f"{name}.{sub}", SCHEMA[f"{name}.*"], source) for sub, table in body.items()}
        elif name in SCHEMA:
            if not isinstance(body, dict):
                raise UsageError(f"[{name}] must be a table", path=source)
            out[name] = _check_table(body, name, SCHEMA[name], source)
        else:
            raise UsageError(_unknown(name, None, None, isinstance(body, dict)), path=source)
    return out


def _check_table(body: dict[str, Any], table: str, fields: dict[str, Field], source: str) -> dict[str, Any]:
    checked = {}
    for key, value in body.items():
        if key not in fields:
            raise UsageError(_unknown(key, table, fields, isinstance(value, dict)), path=source)
        normal = _normal(value, fields[key])
        if normal is None:
            raise UsageError(f"[{table}].{key} must be {fields[key].expected()}, got {_show(value)}", path=source)
        checked[key] = normal
    return checked


def _normal(value: Any, field: Field) -> Any:
    """``value`` normalised for ``field``, or None when it does not fit."""
    if field.kind == "bool":
        return value if isinstance(value, bool) else None
    if field.kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int if field.kind == "integer" else (int, float)):
            return None
        if not math.isfinite(value):
            return None
        low = field.min is not None and (value <= field.min if field.min_open else value < field.min)
        high = field.max is not None and value > field.max
        return None if low or high else (value if field.kind == "integer" else float(value))
    if field.kind == "text":
        return value if isinstance(value, str) else None
    items = value if isinstance(value, list) else [value]
    if field.kind == "choices" and isinstance(value, str):
        items = value.split(",")
    if not all(isinstance(item, str) and item.strip() for item in items):
        return None
    if field.kind == "texts":
        return list(items)
    chosen = [item.strip().lower() for item in items]
    return list(dict.fromkeys(chosen)) if chosen and all(c in field.choices for c in chosen) else None


def _unknown(key: str, table: str | None, fields: dict[str, Field] | None, is_table: bool) -> str:
    """``unknown key [classify].min_confidnce (did you mean min_confidence?)`` and the like;
    ``table`` and ``fields`` are None at the top level of the file."""
    if fields is None:
        homes = {k: name.replace("*", "NAME") for name, body in SCHEMA.items() for k in body}
        close = difflib.get_close_matches(key, homes, n=1)
        if close and not is_table:  # a key of a table written above the table's header
            return f"unknown top-level key {key} (did you mean [{homes[close[0]]}].{close[0]}?)"
        known = sorted({name.split(".")[0] for name in SCHEMA})
        what = f"unknown table [{key}]" if is_table else f"unknown top-level key {key}"
        shown = [f"[{k}]" for k in known]
    else:
        known = sorted(fields)
        what, shown = f"unknown key [{table}].{key}", known
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {shown[known.index(close[0])]}?" if close else f"known: {', '.join(shown)}"
    return f"{what} ({hint})"


def _show(value: Any) -> str:
    """``value`` as it looks in TOML (``"no"``, ``[1]``, ``inf``), cut short if long."""
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, str):
        text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif isinstance(value, list):
        text = "[" + ", ".join(_show(v) for v in value) + "]"
    elif isinstance(value, dict):
        text = "a table"
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."
