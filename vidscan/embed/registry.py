"""The embedder registry, with a factory in the style of open_clip's ``create_model``."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from vidscan.embed.base import Embedder
from vidscan.registry import Registry, lazy

#: The embedder every command uses unless told otherwise (or unless labels call for CLIP).
DEFAULT_EMBEDDER = "features"
#: The command-line options (``--model``, ``--pretrained``, ``--device``, ``--clip-fit``) an
#: embedder may take, by keyword.
EMBEDDER_OPTIONS = frozenset({"model", "pretrained", "device", "fit"})


def _builtin_embedders(registry: Registry[Embedder]) -> None:
    from vidscan.embed.features import FeatureEmbedder

    registry.register("features", FeatureEmbedder)
    registry.register("clip", lazy("vidscan.embed.clip", "ClipEmbedder"), takes=EMBEDDER_OPTIONS)  # torch + open_clip: only when asked


#: Embedders by name; each factory takes keyword options and returns an :class:`Embedder`.
EMBEDDERS: Registry[Embedder] = Registry("embedder", _builtin_embedders)


def register_embedder(name: str, factory: Callable[..., Embedder], takes: Iterable[str] = (), *, replace: bool = False) -> None:
    """Make ``create_embedder(name, ...)`` (and ``--embedder name``) build embedders with
    ``factory``; ``takes`` names the command-line options of :data:`EMBEDDER_OPTIONS` it accepts."""
    EMBEDDERS.register(name, factory, takes=takes, replace=replace)


def available_embedders() -> list[str]:
    """Every embedder name, sorted."""
    return sorted(EMBEDDERS.names())


def create_embedder(name: str = DEFAULT_EMBEDDER, **kwargs: Any) -> Embedder:
    """Build the embedder registered as ``name`` (``features``: weight-free; ``clip``: open_clip)."""
    return EMBEDDERS.create(name, **kwargs)


def embedder_kwargs(name: str, *, model: str | None = None, pretrained: str | None = None, device: str | None = None,
                    fit: str | None = None) -> dict[str, Any]:
    """The command-line options that embedder ``name`` takes, leaving out those not given
    (``features`` takes none, ``clip`` all four, your own those it registered with)."""
    return EMBEDDERS.options(name, model=model, pretrained=pretrained, device=device, fit=fit)
