"""Label sets: names, prompts and example folders, from ``--labels`` or a TOML config.

Config format (see sample_configs/)::

    [classify]              # optional defaults for the command's options
    min_confidence = 0.4
    merge = true

    [labels.game]
    prompts = ["a wide shot of a football match", "players on a green pitch"]
    examples = "examples/game"      # optional: images/clips of this label

Relative ``examples`` paths are resolved against the config file's folder. Every key, its
type and range are declared once, in :data:`vidscan.config.SCHEMA`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidscan.config import read_config
from vidscan.errors import UsageError

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
    #: Broadcast cues the label needs / must not have (vidscan.broadcast.fusion).
    cues: list[str] = field(default_factory=list)
    without: list[str] = field(default_factory=list)


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

    @property
    def has_cues(self) -> bool:
        """Whether any label is defined (also) by broadcast cues: classify then reads them."""
        return any(label.cues or label.without for label in self.labels)

    @property
    def has_visual(self) -> bool:
        """Whether any label has prompts or examples (something to score pictures with)."""
        return any(label.prompts or label.examples for label in self.labels)

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "labels": {lab.name: {"prompts": lab.prompts, "examples": str(lab.examples) if lab.examples else None,
                                  **({"cues": lab.cues, "without": lab.without} if lab.cues or lab.without else {})} for lab in self.labels},
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
    """Read a TOML label config, checked against the one config schema (vidscan.config)."""
    return label_set_from(read_config(path), path)


def label_set_from(config: dict[str, Any], path: str | Path) -> LabelSet:
    """The label set of a config already read by :func:`vidscan.config.read_config` (``path``
    resolves relative ``examples`` folders); its ``[classify]`` table becomes the options."""
    tables = config.get("labels")
    if not tables:
        raise UsageError("config has no [labels.NAME] tables", path=str(path))
    labels: list[LabelSpec] = []
    for name, body in tables.items():
        prompts = body.get("prompts", [])
        examples = (Path(path).parent / body["examples"]).resolve() if "examples" in body else None
        cues, without = list(body.get("cues", [])), list(body.get("without", []))
        if not prompts and examples is None and not cues and not without:
            prompts = default_prompts(name)
        labels.append(LabelSpec(name, list(prompts), examples, cues, without))
    check_names([lab.name for lab in labels])
    return LabelSet(labels, options=dict(config.get("classify", {})), source=str(path))
