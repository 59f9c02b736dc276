"""The boundary-detector interface (sklearn-style fit/predict, as in ruptures)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any, Callable

import numpy as np

#: ``reader(sample_indices) -> uint8 [K, H, W, 3]``: decoded frames for detectors that read them.
FrameReader = Callable[[np.ndarray], np.ndarray]


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


def refine_kinds(boundaries: list[Boundary], luma: np.ndarray | None, reach: int) -> list[Boundary]:
    """Name each boundary's transition: ``cut``, ``dissolve`` or ``fade`` (a dip to black or
    white), with the frames a fade spans found from the brightness curve.

    A short fade can look like a cut to an embedding detector (the dip takes a few frames);
    brightness tells: a cut jumps from one level to another, a fade passes through black.
    """
    if luma is None or len(luma) == 0:
        return [Boundary(b.index, "dissolve" if b.kind == "gradual" else b.kind, b.start, b.end, b.score) for b in boundaries]
    out = []
    n = len(luma)
    for b in boundaries:
        lo, hi = max(0, min(b.start, b.index) - reach), min(n, max(b.end, b.index) + reach)
        span = _dip_span(luma, lo, hi)
        if span is not None and span[0] <= max(b.end, b.index) and span[1] >= min(b.start, b.index):
            out.append(Boundary(min(max(b.index, span[0] + 1), span[1] - 1), "fade", span[0], span[1], b.score))
        elif b.kind == "gradual":
            out.append(Boundary(b.index, "dissolve", b.start, b.end, b.score))
        else:
            out.append(b)
    return out


def _dip_span(luma: np.ndarray, lo: int, hi: int) -> tuple[int, int] | None:
    """[start, end) of a dip to black (or white) inside luma[lo:hi], if there is one."""
    window = luma[lo:hi]
    if len(window) < 3:
        return None
    for dark in (True, False):
        k = int(np.argmin(window) if dark else np.argmax(window))
        extreme = float(window[k])
        if (dark and extreme >= 32) or (not dark and extreme <= 223):
            continue
        left, right = window[:k], window[k + 1 :]
        if len(left) == 0 or len(right) == 0:
            continue
        level_l, level_r = float(np.median(left[: max(1, len(left) // 3)])), float(np.median(right[-max(1, len(right) // 3) :]))
        if abs(level_l - extreme) < 32 or abs(level_r - extreme) < 32:
            continue
        # The dip spans the frames that have left their side's level by a quarter of the way.
        a = k
        while a > 0 and abs(window[a - 1] - level_l) > 0.25 * abs(level_l - extreme):
            a -= 1
        z = k
        while z + 1 < len(window) and abs(window[z + 1] - level_r) > 0.25 * abs(level_r - extreme):
            z += 1
        return lo + a, lo + z + 1
    return None


class BoundaryDetector(ABC):
    """Finds boundaries in an embedding sequence ``float32 [N, D]``.

    ``samples_per_second`` lets every parameter be given in seconds, so one setting works
    whatever the sampling rate.
    """

    name: str = ""
    #: (width, height) of the decoded frames the detector also reads, or None when the
    #: embeddings (and luma, differences) are all it needs; the pipeline then hands it a
    #: reader through :meth:`attach_frames` before :meth:`fit`.
    needs_frames: tuple[int, int] | None = None
    #: Per-sample boundary score of the last fit (the report's curve); empty when the
    #: detector has none. Detectors assign their own array; this default is never written to.
    scores_: np.ndarray = np.zeros(0, np.float32)
    #: Per-sample level a score had to reach to count as a boundary in the last fit, for the
    #: report's chart (a reader sees why a peak was or was not a cut); empty when the detector
    #: has no such level (a global change-point search).
    thresholds_: np.ndarray = np.zeros(0, np.float32)

    def attach_frames(self, reader: "FrameReader") -> None:
        """Receive ``reader(sample_indices) -> uint8 [K, H, W, 3]`` (frames at
        :attr:`needs_frames`); only detectors that declare :attr:`needs_frames` are given one."""
        raise NotImplementedError(f"the {self.name or type(self).__name__} detector reads no frames")

    @abstractmethod
    def fit(self, signal: np.ndarray, samples_per_second: float, luma: np.ndarray | None = None,
            diffs: np.ndarray | None = None) -> "BoundaryDetector":
        """Analyse the sequence; returns self. ``luma`` (mean brightness 0-255 per sample),
        when given, lets a detector recognise dips to black or white; ``diffs`` (each
        sample's pixel difference to the one before, see :mod:`vidscan.detect.difference`)
        lets it see cuts between shots whose embeddings are alike."""

    @abstractmethod
    def predict(self) -> list[Boundary]:
        """Boundaries found by the last :meth:`fit`, in increasing order."""

    def fit_predict(self, signal: np.ndarray, samples_per_second: float, luma: np.ndarray | None = None,
                    diffs: np.ndarray | None = None) -> list[Boundary]:
        return self.fit(signal, samples_per_second, luma, diffs).predict()

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """Settings, recorded in output JSON."""
