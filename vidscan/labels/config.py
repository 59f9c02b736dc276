"""Label sets: names, prompts and example folders, from ``--labels`` or a TOML config.

Config format (see sample_configs/)::

    [classify]              # optional defaults for the command's options
    min_confidence = 0.4
    merge = true

    [labels.game]
    prompts = ["a wide shot of a football match", "players on a green pitch"]
    examples = "examples/game"      # optional: images/clips of this label

Relative ``examples`` paths are resolved against the config file's folder.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidscan.errors import InputError, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: Prompt templates for a bare label name (CLIP-style prompt ensembling).
DEFAULT_TEMPLATES = (
    "a frame of {}.",
    "a photo of {}.",
    "a screenshot of {} on television.",
    "a still from a video of {}.",
    "a broadcast frame showing {}.",
)
#: Readable phrases for common broadcast labels (used in the templates instead of the bare word).
PHRASES = {
    "ad": "a television advertisement",
    "ads": "a television advertisement",
    "commercial": "a television commercial",
    "game": "a sports game in progress",
    "commentary": "sports commentators in a tv studio",
    "anchor": "a news anchor at a desk",
    "weather": "a weather forecast map",
}
UNKNOWN = "unknown"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.+-]{0,63}$")


@dataclass
class LabelSpec:
    """One label: its prompts (for zero-shot) and/or an examples folder (for few-shot)."""

    name: str
    prompts: list[str] = field(default_factory=list)
    examples: Path | None = None


@dataclass
class LabelSet:
    labels: list[LabelSpec]
    options: dict[str, Any] = field(default_factory=dict)  # [classify] defaults from a config
    source: str = ""

    @property
    def names(self) -> list[str]:
        return [label.name for label in self.labels]

    @property
    def has_prompts(self) -> bool:
        return any(label.prompts for label in self.labels)

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "labels": {lab.name: {"prompts": lab.prompts, "examples": str(lab.examples) if lab.examples else None} for lab in self.labels},
        }


def check_names(names: list[str]) -> None:
    """Reject empty, duplicate, reserved or oddly-spelled label names with one clear line."""
    if not names:
        raise UsageError("the label list is empty; give labels like --labels ad,game,commentary")
    seen: set[str] = set()
    for name in names:
        if not name:
            raise UsageError("empty label in the label list (two commas in a row, or a trailing comma?)")
        if not _NAME.match(name):
            raise UsageError(f"bad label name {name!r}: use letters, digits, spaces, '_', '-', '.', '+' (max 64)")
        if name.lower() == UNKNOWN:
            raise UsageError(f"{UNKNOWN!r} is reserved for low-confidence segments; pick another label name")
        if name.lower() in seen:
            raise UsageError(f"duplicate label {name!r}")
        seen.add(name.lower())
    if len(names) < 2:
        raise UsageError("give at least two labels to choose between")


def default_prompts(name: str) -> list[str]:
    phrase = PHRASES.get(name.lower(), name.replace("_", " "))
    return [t.format(phrase) for t in DEFAULT_TEMPLATES]


def parse_label_list(text: str) -> LabelSet:
    """``"ad,game,commentary"`` -> labels with the default prompt templates."""
    names = [part.strip() for part in text.split(",")]
    check_names(names)
    return LabelSet([LabelSpec(n, default_prompts(n)) for n in names], source="--labels")


def load_config(path: str | Path) -> LabelSet:
    """Read a TOML label config; a syntax error names the line."""
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
    labels_raw = raw.get("labels")
    if not isinstance(labels_raw, dict) or not labels_raw:
        raise UsageError("config has no [labels.NAME] tables", path=str(path))
    labels: list[LabelSpec] = []
    for name, body in labels_raw.items():
        if not isinstance(body, dict):
            raise UsageError(f"[labels.{name}] must be a table with prompts and/or examples", path=str(path))
        prompts = body.get("prompts", [])
        if isinstance(prompts, str):
            prompts = [prompts]
        if not isinstance(prompts, list) or not all(isinstance(x, str) and x.strip() for x in prompts):
            raise UsageError(f"labels.{name}.prompts must be a list of non-empty strings", path=str(path))
        examples = body.get("examples")
        example_path = (p.parent / examples).resolve() if isinstance(examples, str) else None
        if examples is not None and not isinstance(examples, str):
            raise UsageError(f"labels.{name}.examples must be a folder path", path=str(path))
        if not prompts and example_path is None:
            prompts = default_prompts(name)
        labels.append(LabelSpec(name, list(prompts), example_path))
    check_names([lab.name for lab in labels])
    options = raw.get("classify", {})
    if not isinstance(options, dict):
        raise UsageError("[classify] must be a table", path=str(path))
    return LabelSet(labels, options=options, source=str(p))
