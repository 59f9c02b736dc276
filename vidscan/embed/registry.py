"""The embedder registry, with a factory in the style of open_clip's ``create_model``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable

from vidscan.registry import Registry, lazy

if TYPE_CHECKING:  # numpy: not needed to list or choose embedders (the CLI's start-up)
    from vidscan.embed.base import Embedder

#: The embedder every command uses unless told otherwise (or unless labels call for CLIP).
DEFAULT_EMBEDDER = "features"
#: What ``--embedder clip`` loads unless told otherwise: open_clip's ViT-B/32 trained on LAION-2B.
DEFAULT_CLIP_MODEL = "ViT-B-32"
DEFAULT_CLIP_PRETRAINED = "laion2b_s34b_b79k"
#: How a wide frame becomes CLIP's square input; squash (the first) keeps the edges, where
#: broadcast graphics live.
CLIP_FITS = ("squash", "crop", "pad")
#: Where a model runs; auto picks CUDA when present.
DEVICES = ("auto", "cpu", "cuda")
#: The command-line options (``--model``, ``--pretrained``, ``--device``, ``--clip-fit``) an
#: embedder may take, by keyword.
EMBEDDER_OPTIONS = frozenset({"model", "pretrained", "device", "fit"})


def _builtin_embedders(registry: Registry[Embedder]) -> None:
    registry.register("features", lazy("vidscan.embed.features", "FeatureEmbedder"))
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
