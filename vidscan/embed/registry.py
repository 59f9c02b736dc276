"""A factory over a registry of embedders, in the style of open_clip's ``create_model``."""

from __future__ import annotations

from typing import Any, Callable

from vidscan.embed.base import Embedder
from vidscan.errors import UsageError

_REGISTRY: dict[str, Callable[..., Embedder]] = {}


def register_embedder(name: str, factory: Callable[..., Embedder]) -> None:
    """Make ``create_embedder(name, ...)`` build embedders with ``factory``."""
    _REGISTRY[name] = factory


def _builtin() -> None:
    if "features" in _REGISTRY:
        return
    from vidscan.embed.features import FeatureEmbedder

    def clip_factory(**kwargs: Any) -> Embedder:
        from vidscan.embed.clip import ClipEmbedder  # imports torch + open_clip: only when asked

        return ClipEmbedder(**kwargs)

    register_embedder("features", FeatureEmbedder)
    register_embedder("clip", clip_factory)


def available_embedders() -> list[str]:
    _builtin()
    return sorted(_REGISTRY)


def create_embedder(name: str = "features", **kwargs: Any) -> Embedder:
    """Build the embedder registered as ``name`` (``features``: weight-free; ``clip``: open_clip)."""
    _builtin()
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise UsageError(f"unknown embedder {name!r}; choose from {', '.join(sorted(_REGISTRY))}") from None
    return factory(**kwargs)
