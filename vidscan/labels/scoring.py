"""Scoring frames against labels: zero-shot prompts, few-shot examples, or both.

* Zero-shot: each label's prompts are embedded and averaged (prompt ensembling), and frames
  are scored with the model's own logit scale, softmax over labels.
* Few-shot: a label's examples are kept individually, not averaged: "ad" or "game" covers many
  looks, and a mean of very different examples can sit near none of them. A frame's score
  for a label is a soft nearest-neighbour (log of the mean of exp(scale * cosine) over that
  label's examples), softmax over labels.
* Both: the two log-probabilities are averaged (a product of experts) and renormalised, so a
  label must be plausible both from its description and from its examples.
"""

from __future__ import annotations

import numpy as np

from vidscan.embed.base import Embedder, l2_normalise
from vidscan.errors import UsageError
from vidscan.labels.config import LabelSet


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _logsumexp(z: np.ndarray, axis: int) -> np.ndarray:
    m = z.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))).squeeze(axis)


class LabelScorer:
    """Per-frame label log-probabilities; see the module docstring."""

    def __init__(
        self,
        names: list[str],
        text_prototypes: np.ndarray | None = None,
        examples: dict[str, np.ndarray] | None = None,
        logit_scale: float = 100.0,
        example_scale: float = 20.0,
    ) -> None:
        if text_prototypes is None and not examples:
            raise UsageError("nothing to classify with: give prompts (--labels/--config with a CLIP model) or --examples")
        self.names = list(names)
        self.text = None if text_prototypes is None else l2_normalise(text_prototypes)
        self.examples = None if not examples else [l2_normalise(examples[n]) for n in self.names]
        self.logit_scale = float(logit_scale)
        self.example_scale = float(example_scale)

    @classmethod
    def build(cls, labels: LabelSet, embedder: Embedder, examples: dict[str, np.ndarray] | None = None, use_prompts: bool = True) -> "LabelScorer":
        """Prototypes for ``labels`` with ``embedder`` (prompts need a text tower)."""
        text = None
        if use_prompts and labels.has_prompts:
            if not embedder.has_text:
                embedder.embed_text([])  # raises the "no text tower" usage error
            protos = []
            for spec in labels.labels:
                if not spec.prompts:
                    raise UsageError(f"label {spec.name!r} has no prompts; give prompts for every label or use only --examples")
                protos.append(l2_normalise(embedder.embed_text(spec.prompts)).mean(axis=0))
            text = np.stack(protos)
        return cls(labels.names, text, examples, embedder.logit_scale, getattr(embedder, "example_scale", 20.0))

    @property
    def mode(self) -> str:
        return "+".join(m for m, on in (("zero-shot", self.text is not None), ("few-shot", self.examples is not None)) if on)

    def log_probs(self, frames: np.ndarray) -> np.ndarray:
        """``float64 [N, L]`` log-probabilities of each label for each frame embedding."""
        x = l2_normalise(frames).astype(np.float64)
        parts = []
        if self.text is not None:
            parts.append(log_softmax(self.logit_scale * x @ self.text.T.astype(np.float64)))
        if self.examples is not None:
            scores = np.stack(
                [_logsumexp(self.example_scale * x @ ex.T.astype(np.float64), axis=1) - np.log(len(ex)) for ex in self.examples], axis=1
            )
            parts.append(log_softmax(scores))
        return parts[0] if len(parts) == 1 else log_softmax(np.mean(parts, axis=0))

    def probabilities(self, frames: np.ndarray) -> np.ndarray:
        return np.exp(self.log_probs(frames))
