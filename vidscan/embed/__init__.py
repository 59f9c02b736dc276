"""Embedders: frames to unit vectors, behind one interface and a registry."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from vidscan.embed.registry import available_embedders, create_embedder, register_embedder

if TYPE_CHECKING:
    from vidscan.embed.base import Embedder, l2_normalise


def __getattr__(name: str) -> Any:
    """``Embedder`` and ``l2_normalise`` on first use (numpy; the CLI's start-up lists embedders without it)."""
    if name not in ("Embedder", "l2_normalise"):
        raise AttributeError(f"module 'vidscan.embed' has no attribute {name!r}")
    return getattr(import_module("vidscan.embed.base"), name)


__all__ = ["Embedder", "available_embedders", "create_embedder", "l2_normalise", "register_embedder"]
