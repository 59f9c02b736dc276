"""Counts in words that read right: ``plural(1, "segment")`` is "1 segment", not "1 segments"."""

from __future__ import annotations


def plural(count: int | float, noun: str, many: str | None = None) -> str:
    """``"<count> <noun>"`` with the noun in the plural unless ``count`` is 1 (``many`` for irregular plurals)."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"
