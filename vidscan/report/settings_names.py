"""Plain words for the settings a timeline records, for the report: a reader sees "Shortest
shot: 0.1 s", not ``detector.min_scene_len = 0.1``. The raw key stays on each row (a tooltip and
small print), so nothing is hidden; a key without a name here is shown as it is."""

from __future__ import annotations

import re
from typing import Any, Iterator

#: Flattened setting key (``a.b``, ``*`` for any one part) -> (plain name, unit or "").
NAMES: dict[str, tuple[str, str]] = {
    "sampling": ("Frames looked at", ""),
    "backend": ("Decoder", ""),
    "embedder.name": ("Picture features", ""),
    "embedder.dim": ("Feature size", "numbers per frame"),
    "embedder.model": ("CLIP model", ""),
    "embedder.weights": ("CLIP weights", ""),
    "embedder.fit": ("Frame fitted to the model by", ""),
    "embedder.device": ("Model runs on", ""),
    "embedder.fp16": ("Half precision", ""),
    "detector.detector": ("Shot detector", ""),
    "detector.ratio": ("A cut's change, at least", "x its neighbours'"),
    "detector.min_score": ("A cut's change, in any case at least", ""),
    "detector.min_scene_len": ("Shortest shot", "s"),
    "detector.still": ("Change counted as a still picture, below", ""),
    "detector.reach": ("Neighbours looked at, within", "s"),
    "detector.transient": ("Flashes dropped, up to", "s"),
    "detector.return_ratio": ("A flash returns to a picture this close", "(of the jump)"),
    "detector.kernel_cut": ("A change point counts as a cut from", ""),
    "detector.flash_brightening": ("A flash brightens by", "levels"),
    "detector.gradual_score": ("A dissolve or fade changes the picture by at least", ""),
    "detector.level": ("Neighbours' change measured as", ""),
    "detector.penalty": ("Change-point penalty (higher: fewer boundaries)", ""),
    "detector.threshold": ("Transition probability, at least", ""),
    "detector.*.detector": ("Gradual transitions found by", ""),
    "detector.*.penalty": ("Gradual transitions: penalty (higher: fewer)", ""),
    "detector.*.min_scene_len": ("Gradual transitions: shortest shot", "s"),
    "detector.*.smoothing": ("Gradual transitions: smoothing", "s"),
    "detector.*.max_transition": ("Longest dissolve or fade", "s"),
    "detector.*.merge_ratio": ("Gradual transitions: merged when closer than", "(of a transition)"),
    "detector.*.kernel": ("Gradual transitions: kernel", ""),
    "scenes.penalty": ("Scenes: grouping penalty (higher: fewer scenes)", ""),
    "scenes.min_scene_len": ("Shortest scene", "s"),
    "classify.mode": ("Labelling", ""),
    "classify.per_frame": ("Labels per frame (then runs)", ""),
    "classify.smooth_s": ("Label smoothing", "s"),
    "classify.min_confidence": ("Below this confidence: unknown", ""),
    "classify.merge": ("Neighbours with the same label merged", ""),
    "classify.label_sampling": ("Frames labelled", ""),
    "classify.label_embedder.name": ("Label features", ""),
    "classify.label_embedder.dim": ("Label feature size", "numbers per frame"),
    "classify.label_embedder.*": ("Label features:", ""),
    "classify.source": ("Labels from", ""),
    "classify.labels.*.prompts": ("prompts", ""),
    "classify.labels.*.examples": ("examples", ""),
}
#: Raw values that read better in words.
VALUES = {"all": "every frame", "pyav": "PyAV (exact)", "features": "weight-free colour and layout features", "adaptive": "adaptive (spikes + change points)",
          "kernel": "change points (kernel)", "few-shot": "few-shot, from example images", "zero-shot": "zero-shot, from text prompts",
          "True": "yes", "False": "no", "None": "off", "mean": "mean"}
#: Keys not worth a row (an identity string the other rows already spell out).
HIDDEN = re.compile(r"(^|\.)identity$")


def plain_name(key: str) -> str:
    """The plain name of a flattened key (``classify.labels.ad.examples`` -> "ad: examples")."""
    for pattern, (name, _) in NAMES.items():
        if _matches(pattern, key):
            label = key.split(".")[2] if pattern.startswith("classify.labels.") else None
            return f"{label}: {name}" if label else name
    return key


def plain_value(key: str, value: Any) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    if text == "" or text == "[]":
        text = "none"
    text = VALUES.get(text, text)
    match = re.fullmatch(r"fps:([\d.]+)|every:(\d+)", text)
    if match:
        text = f"{match.group(1)} per second" if match.group(1) else f"every {match.group(2)}th frame"
    unit = next((u for pattern, (_, u) in NAMES.items() if _matches(pattern, key)), "")
    return f"{text} {unit}".strip() if unit and text not in ("none", "off") else text


def plain_settings(settings: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(plain name, plain value, raw key) for every setting, in the recorded order."""
    for key, value in _flatten(settings):
        if not HIDDEN.search(key):
            yield plain_name(key), plain_value(key, value), key


def _matches(pattern: str, key: str) -> bool:
    parts, keys = pattern.split("."), key.split(".")
    return len(parts) == len(keys) and all(p in ("*", k) for p, k in zip(parts, keys))


def _flatten(settings: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in settings.items():
        if isinstance(value, dict) and value:
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value
