"""The boundary-detector interface (sklearn-style fit/predict, as in ruptures)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass
class Boundary:
    """A boundary in a sequence of samples (sampled frames).

    ``index`` is the first sample of the new segment. Gradual transitions also give the
    samples they span, [``start``, ``end``); for a cut ``start == end == index``.
    ``score`` is the distance between the embeddings either side (0..2 on unit vectors).
    """

    index: int
    kind: str = "cut"
    start: int = -1
    end: int = -1
    score: float = 0.0

    def __post_init__(self) -> None:
        if self.start < 0:
            self.start = self.index
        if self.end < 0:
            self.end = self.index

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class BoundaryDetector(ABC):
    """Finds boundaries in an embedding sequence ``float32 [N, D]``.

    ``samples_per_second`` lets every parameter be given in seconds, so one setting works
    whatever the sampling rate.
    """

    name: str = ""

    @abstractmethod
    def fit(self, signal: np.ndarray, samples_per_second: float, luma: np.ndarray | None = None) -> "BoundaryDetector":
        """Analyse the sequence; returns self. ``luma`` (mean brightness 0-255 per sample),
        when given, lets a detector recognise dips to black or white."""

    @abstractmethod
    def predict(self) -> list[Boundary]:
        """Boundaries found by the last :meth:`fit`, in increasing order."""

    def fit_predict(self, signal: np.ndarray, samples_per_second: float, luma: np.ndarray | None = None) -> list[Boundary]:
        return self.fit(signal, samples_per_second, luma).predict()

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """Settings, recorded in output JSON."""
