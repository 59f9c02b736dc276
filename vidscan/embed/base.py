"""The embedder interface: frames in, L2-normalised vectors out."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from vidscan.errors import UsageError


class Embedder(ABC):
    """Turns RGB frames ``uint8 [N, H, W, 3]`` into unit vectors ``float32 [N, D]``.

    Implementations tell the decoder what frame size they want (:meth:`frame_size`), so
    resizing happens once, inside the decoder, instead of per frame in Python.
    """

    #: Registry name (``features``, ``clip``).
    name: str = ""
    #: Whether :meth:`embed_text` works (zero-shot labels need it).
    has_text: bool = False
    #: Scale applied to cosine similarities before a softmax over labels.
    logit_scale: float = 100.0
    #: Preferred number of frames per model call.
    batch_size: int = 64
    #: Cheap enough to embed every frame (about a millisecond a frame on a CPU): commands then
    #: sample every frame by default. A model-sized embedder (CLIP) samples 2 frames/s, and
    #: classify finds its boundaries with a cheap one.
    cheap: bool = False

    @property
    @abstractmethod
    def dim(self) -> int:
        """Length of each embedding."""

    @abstractmethod
    def frame_size(self, width: int, height: int) -> tuple[int, int]:
        """The (width, height) frames should be decoded at for a video of this size."""

    @abstractmethod
    def embed(self, frames: np.ndarray) -> np.ndarray:
        """Embed ``uint8 [N, H, W, 3]`` frames; returns L2-normalised ``float32 [N, dim]``."""

    @abstractmethod
    def identity(self) -> str:
        """A string that changes whenever the embeddings would: used as a cache key."""

    def embed_text(self, texts: list[str]) -> np.ndarray:
        """Embed prompts into the same space as frames (only if :attr:`has_text`)."""
        raise UsageError(
            f"the {self.name!r} embedder has no text tower, so it cannot score text labels; "
            "give example images with --examples DIR, or use a CLIP model (--embedder clip)"
        )

    def describe(self) -> dict:
        """Settings recorded in output JSON for reproducibility."""
        return {"name": self.name, "identity": self.identity(), "dim": self.dim}


def l2_normalise(x: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Row-wise L2 normalisation in float32 (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norms, eps)


def check_frames(frames: np.ndarray) -> np.ndarray:
    """Validate the frame array shape/dtype shared by every embedder."""
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be [N, H, W, 3], got shape {frames.shape}")
    if frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8, got {frames.dtype}")
    return frames
