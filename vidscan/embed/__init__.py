"""Embedders: frames to unit vectors, behind one interface and a registry."""

from vidscan.embed.base import Embedder, l2_normalise
from vidscan.embed.registry import available_embedders, create_embedder, register_embedder

__all__ = ["Embedder", "available_embedders", "create_embedder", "l2_normalise", "register_embedder"]
