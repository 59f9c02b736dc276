"""A linear probe: labels distilled into a small classifier over an embedder's vectors.

Why: few-shot soft nearest neighbour (:mod:`vidscan.labels.scoring`) compares every frame
with every example, weighs all embedding dimensions alike and cannot learn that, say,
"ad" differs from "game" in three colour bins and nowhere else. A logistic regression
trained on the same examples learns those directions, costs one matrix product per frame
however many examples it saw, and is a file small enough to share.

The file is two parts, neither of them pickle: ``NAME.npz`` (the weights and bias, loaded
with ``allow_pickle=False``) and ``NAME.json`` beside it (labels, the embedder's identity and
settings, the sampling it was trained at, the cross-validated accuracy). A probe only makes
sense for the embeddings it was trained on, so :meth:`LinearProbe.check_embedder` refuses
any other embedder with one line.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vidscan.atomic import atomic_write_bytes, atomic_write_text, output_group
from vidscan.embed.base import Embedder, l2_normalise
from vidscan.errors import InputError, UsageError
from vidscan.labels.config import check_names
from vidscan.options import PROBE_C, PROBE_FOLDS

PROBE_FORMAT = "vidscan-probe-1"
DEFAULT_C, DEFAULT_FOLDS = PROBE_C, PROBE_FOLDS  # measured and explained in vidscan.options


@dataclass
class ProbeReport:
    """How well the probe labels examples it did not see (cross-validated)."""

    examples: dict[str, int]  # training examples per label
    accuracy: float | None  # overall share of held-out examples labelled right (None: too few to cross-validate)
    per_label: dict[str, float | None]  # recall per label: share of that label's held-out examples labelled right
    folds: int
    grouped_by: str | None  # "video" (or "segment") when folds never split one (no leak between folds); None when not
    held_out: dict[str, Any] = field(default_factory=dict)  # accuracy on a validation split, when one was given
    scale: float = 1.0  # the calibration factor applied to the logits (1: not calibrated)

    def to_dict(self) -> dict[str, Any]:
        return {"examples": self.examples, "cv_accuracy": self.accuracy, "cv_per_label": self.per_label, "folds": self.folds,
                "grouped_by": self.grouped_by, "held_out": self.held_out, "calibration_scale": self.scale}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ProbeReport":
        return cls(dict(d.get("examples") or {}), d.get("cv_accuracy"), dict(d.get("cv_per_label") or {}), int(d.get("folds") or 0),
                   d.get("grouped_by"), dict(d.get("held_out") or {}), float(d.get("calibration_scale") or 1.0))


@dataclass
class LinearProbe:
    """Multinomial logistic regression over L2-normalised embeddings."""

    names: list[str]
    weights: np.ndarray  # float64 [L, D]
    bias: np.ndarray  # float64 [L]
    embedder: dict[str, Any]  # the embedder's describe(): name, identity, dim, model settings
    sampling: str | None = None  # the sampling the training frames came from (informational)
    report: ProbeReport | None = None
    source: str | None = None  # the file it was read from

    @property
    def dim(self) -> int:
        return int(self.weights.shape[1])

    @property
    def mode(self) -> str:
        """How labels are scored, as classify's settings name it."""
        return "probe"

    def log_probs(self, vectors: np.ndarray) -> np.ndarray:
        """``float64 [N, L]`` log-probabilities of each label for each embedding."""
        x = l2_normalise(vectors).astype(np.float64)
        if x.shape[-1] != self.dim:
            raise UsageError(f"the probe expects {self.dim}-dimensional embeddings, got {x.shape[-1]}")
        z = x @ self.weights.T + self.bias
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    def predict(self, vectors: np.ndarray) -> list[str]:
        return [self.names[i] for i in np.argmax(self.log_probs(vectors), axis=1)]

    def check_embedder(self, embedder: Embedder, source: str = "the probe") -> None:
        """Refuse an embedder whose vectors the probe was not trained on (one line, exit 2)."""
        trained, given = self.embedder.get("identity"), embedder.identity()
        if trained != given:
            raise UsageError(f"{source} was trained on {self.embedder.get('name')} embeddings ({trained}); this run embeds with "
                             f"{embedder.name} ({given}): drop --embedder/--model to use the probe's own, or train a probe for this embedder")

    def embedder_options(self) -> dict[str, Any]:
        """The embedder settings to rebuild the probe's embedder with (name and model options)."""
        spec = dict(self.embedder.get("spec") or {})
        spec.setdefault("name", self.embedder.get("name"))
        return spec

    def metadata(self) -> dict[str, Any]:
        return {"format": PROBE_FORMAT, "labels": self.names, "dim": self.dim, "embedder": self.embedder, "sampling": self.sampling,
                "model": "multinomial logistic regression on L2-normalised embeddings (scikit-learn)",
                "training": self.report.to_dict() if self.report else None}


def fit_probe(vectors: np.ndarray, labels: list[str] | np.ndarray, *, names: list[str] | None = None, groups: list[str] | np.ndarray | None = None,
              embedder: dict[str, Any], sampling: str | None = None, c: float = DEFAULT_C, folds: int = DEFAULT_FOLDS, seed: int = 0,
              validation: tuple[np.ndarray, list[str]] | None = None, group_kind: str = "video") -> LinearProbe:
    """Train a probe on ``vectors [N, D]`` with one label each; cross-validate it first.

    ``groups`` (e.g. the video each frame came from; ``group_kind`` names it) keeps each group within one fold, so
    near-identical frames of one video cannot sit on both sides of a fold and inflate the
    accuracy. Class weights are balanced: a label with few examples is not drowned out.
    ``validation`` (vectors, labels) is scored after fitting and reported as ``held_out``.
    """
    from sklearn.linear_model import LogisticRegression

    x = l2_normalise(np.asarray(vectors)).astype(np.float64)
    y_names = [str(v) for v in labels]
    names = list(names) if names is not None else sorted(set(y_names))
    check_names(names)
    if len(x) != len(y_names):
        raise UsageError(f"{len(x)} embeddings but {len(y_names)} labels")
    unknown = sorted(set(y_names) - set(names))
    if unknown:
        raise UsageError(f"label(s) {', '.join(unknown)} are not among {', '.join(names)}")
    y = np.array([names.index(v) for v in y_names], np.int64)
    counts = {n: int((y == k).sum()) for k, n in enumerate(names)}
    empty = [n for n, k in counts.items() if k == 0]
    if empty:
        raise UsageError(f"no training examples for label(s) {', '.join(empty)}")
    if not (c > 0 and math.isfinite(c)):
        raise UsageError(f"the regularisation C must be a positive number, got {c}")

    def model() -> LogisticRegression:
        return LogisticRegression(C=c, class_weight="balanced", max_iter=2000)

    report = _cross_validate(model, x, y, names, groups, folds, seed, group_kind)
    report.examples = counts
    fitted = model().fit(x, y)
    weights, bias = np.asarray(fitted.coef_, np.float64), np.asarray(fitted.intercept_, np.float64)
    if len(names) == 2:  # scikit-learn keeps one row for two classes: log-odds of the second
        weights = np.vstack([-weights[0] / 2, weights[0] / 2])
        bias = np.array([-bias[0] / 2, bias[0] / 2])
    weights, bias = weights * report.scale, bias * report.scale  # calibrated (see _calibrate)
    probe = LinearProbe(names, weights, bias, embedder, sampling, report)
    if validation is not None and len(validation[0]):
        truth = [str(v) for v in validation[1]]
        predicted = probe.predict(validation[0])
        report.held_out = {"examples": len(truth), "accuracy": _share(predicted, truth),
                           "per_label": {n: _share([p for p, t in zip(predicted, truth) if t == n], [n] * truth.count(n)) for n in names}}
    return probe


def _share(predicted: list[str], truth: list[str]) -> float | None:
    return round(float(np.mean([p == t for p, t in zip(predicted, truth)])), 6) if truth else None


def _cross_validate(model, x: np.ndarray, y: np.ndarray, names: list[str], groups, folds: int, seed: int, group_kind: str) -> ProbeReport:
    """Stratified k-fold (grouped when ``groups`` name at least two per label); None scores when
    some label has too few examples (or groups) to hold any out. Also finds the probe's
    temperature from the held-out logits (:func:`_calibrate`)."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    per_label_count = np.bincount(y, minlength=len(names))
    grouped_by = None
    if groups is not None:
        g = np.asarray([str(v) for v in groups])
        groups_per_label = min(len(set(g[y == k])) for k in range(len(names)))
        k = min(folds, groups_per_label)
        splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed) if k >= 2 else None
        grouped_by = group_kind if splitter is not None else None
    else:
        g = None
        k = min(folds, int(per_label_count.min()))
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed) if k >= 2 else None
    if splitter is None:
        return ProbeReport({}, None, {n: None for n in names}, 0, None)
    logits = np.zeros((len(y), len(names)))
    for train, test in splitter.split(x, y, g):
        logits[test] = _logits(model().fit(x[train], y[train]), x[test], len(names))
    right = logits.argmax(axis=1) == y
    per_label = {n: round(float(right[y == k].mean()), 6) for k, n in enumerate(names)}
    return ProbeReport({}, round(float(right.mean()), 6), per_label, k, grouped_by, scale=_calibrate(logits, y))


#: A label a training fold never saw gets this logit for the held-out rows (far below any real one).
_UNSEEN_LOGIT = -30.0


def _logits(fitted, x: np.ndarray, labels: int) -> np.ndarray:
    """``[N, labels]`` logits of a fitted scikit-learn model, columns in label order."""
    raw = fitted.decision_function(x)
    classes = list(fitted.classes_)
    if raw.ndim == 1:  # two classes seen: the log-odds of the second
        raw = np.stack([-raw / 2, raw / 2], axis=1)
    out = np.full((len(x), labels), _UNSEEN_LOGIT)
    out[:, classes] = raw
    return out


def _calibrate(logits: np.ndarray, y: np.ndarray) -> float:
    """The factor on the logits that best predicts the held-out labels (temperature scaling).

    Why: a regularised logistic regression on few examples gives soft probabilities (0.5 for
    a label it gets right), and classify's smoothing and scene grouping weigh evidence by
    them: uncalibrated, a 5-second ad at 0.5 loses to the game around it. Chosen on a grid
    of factors from 0.1 to 300 by the held-out negative log-likelihood.
    """
    best, best_nll = 1.0, np.inf
    for factor in np.logspace(-1, np.log10(300), 61):
        z = factor * logits
        z = z - z.max(axis=1, keepdims=True)
        nll = -float((z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1))).mean())
        if nll < best_nll - 1e-12:
            best, best_nll = float(factor), nll
    return round(best, 6)


def probe_paths(path: str | Path) -> tuple[Path, Path]:
    """``(NAME.npz, NAME.json)`` for a probe named by either file (or by ``NAME``)."""
    p = Path(path)
    stem = p.with_suffix("") if p.suffix.lower() in (".npz", ".json") else p
    return stem.with_name(stem.name + ".npz"), stem.with_name(stem.name + ".json")


def save_probe(probe: LinearProbe, path: str | Path) -> tuple[Path, Path]:
    """Write ``NAME.npz`` and ``NAME.json`` (both or neither); returns their paths."""
    import io

    weights_path, meta_path = probe_paths(path)
    buffer = io.BytesIO()
    np.savez(buffer, weights=probe.weights.astype(np.float64), bias=probe.bias.astype(np.float64))
    meta = probe.metadata()
    meta["weights_file"] = weights_path.name
    with output_group([weights_path, meta_path]):
        atomic_write_bytes(weights_path, buffer.getvalue())
        atomic_write_text(meta_path, json.dumps(meta, indent=2) + "\n")
    return weights_path, meta_path


def load_probe(path: str | Path) -> LinearProbe:
    """Read a probe written by :func:`save_probe` (from either of its two files); one-line
    :class:`InputError` for anything else."""
    weights_path, meta_path = probe_paths(path)
    for p in (meta_path, weights_path):
        if not p.is_file():
            raise InputError(f"probe file missing ({p.name}; a probe is NAME.npz + NAME.json, written by vidscan train-probe)", path=str(p))
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"probe description cannot be read ({type(exc).__name__})", path=str(meta_path)) from None
    if not isinstance(meta, dict) or meta.get("format") != PROBE_FORMAT:
        raise InputError(f"not a vidscan probe (expected format {PROBE_FORMAT!r})", path=str(meta_path))
    try:
        with np.load(weights_path, allow_pickle=False) as arrays:
            weights, bias = np.asarray(arrays["weights"], np.float64), np.asarray(arrays["bias"], np.float64)
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise InputError(f"probe weights cannot be read ({type(exc).__name__})", path=str(weights_path)) from None
    names = [str(n) for n in meta.get("labels", [])]
    if weights.ndim != 2 or weights.shape[0] != len(names) or bias.shape != (len(names),) or not np.isfinite(weights).all():
        raise InputError(f"probe weights do not match its {len(names)} labels", path=str(weights_path))
    check_names(names)
    embedder = meta.get("embedder") or {}
    if not isinstance(embedder, dict) or "identity" not in embedder:
        raise InputError("probe description names no embedder identity", path=str(meta_path))
    training = meta.get("training")
    report = ProbeReport.from_dict(training) if isinstance(training, dict) else None
    return LinearProbe(names, weights, bias, embedder, meta.get("sampling"), report, source=str(weights_path))


__all__ = ["DEFAULT_C", "DEFAULT_FOLDS", "PROBE_FORMAT", "LinearProbe", "ProbeReport", "fit_probe", "load_probe", "probe_paths", "save_probe"]
