"""Colours for labels: a fixed palette, so a label keeps its colour across reports."""

from __future__ import annotations

from typing import Iterable

from vidscan.timeline import Segment

#: Tableau 10 (colour-blind friendly enough, pleasant, readable with white text).
PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"]
#: Segments the classifier was not sure about.
UNKNOWN_COLOUR = "#bab0ac"
#: Unlabelled timelines alternate between two tones of one hue.
ALTERNATING = ("#4e79a7", "#a0cbe8")


def label_colours(names: Iterable[str]) -> dict[str, str]:
    """Colour per label, assigned in sorted name order (``unknown`` is always grey)."""
    colours: dict[str, str] = {}
    for i, name in enumerate(sorted({n for n in names if n and n != "unknown"})):
        colours[name] = PALETTE[i % len(PALETTE)]
    colours["unknown"] = UNKNOWN_COLOUR
    return colours


def segment_colour(segment: Segment, colours: dict[str, str], labelled: bool) -> str:
    """The label's colour, or an alternating tone when the timeline has no labels."""
    if not labelled:
        return ALTERNATING[segment.index % 2]
    return colours.get(segment.label or "unknown", UNKNOWN_COLOUR)
