"""What a run is asked to do, as small typed specs: which embedder, which detector, how to
decode, how to label.

A spec is built once (from the command line, a config file or Python), checks its values when
it is made (so a bad one is one usage error before any decoding), and is handed unchanged to
the library and to batch workers (specs are frozen and picklable). The defaults of every run
option are written here, on the spec's fields, and nowhere else: the command line reads its
defaults and choices from these classes and from the registries.

Light on purpose: importing this module pulls in no numpy, so ``vidscan --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from vidscan.checks import finite_number
from vidscan.config import MAX_SECONDS
from vidscan.detect import DEFAULT_DETECTOR, DETECTORS, detector_options
from vidscan.embed.registry import CLIP_FITS, DEFAULT_CLIP_MODEL, DEFAULT_CLIP_PRETRAINED, DEFAULT_EMBEDDER, DEVICES, EMBEDDERS
from vidscan.errors import UsageError
from vidscan.video.base import BACKENDS, DEFAULT_BACKEND

if TYPE_CHECKING:
    from vidscan.detect.base import BoundaryDetector
    from vidscan.embed.base import Embedder

#: How every-frame embeddings are obtained: ``full`` decodes every frame; ``coarse`` decodes
#: keyframes first and every frame only where they differ (vidscan.video.coarse); ``auto`` (the
#: default) chooses per file from its keyframe layout (vidscan.video.strategy): coarse for fixed,
#: short keyframe spacing (broadcast-style encodes), full otherwise.
DECODE_STRATEGIES = ("auto", "full", "coarse")
#: Where ``classify`` finds its boundaries: ``frames`` (the weight-free features on every
#: frame: exact cuts) or ``samples`` (the labelling embedder's own samples: no every-frame pass).
BOUNDARY_SOURCES = ("frames", "samples")
#: The backend coarse-to-fine decoding is built on (it reads PyAV's packet index).
COARSE_BACKEND = "pyav"

#: Penalty per second of evidence for a scene change, and shortest scene (seconds), when
#: shots are grouped into scenes by their embeddings (``--level scenes``).
#: Measured on 8 generated broadcasts (weight-free features; scene boundary F1 at +-1 s,
#: purity = share of each predicted scene in its main true scene, coverage = share of each
#: true scene in its main predicted scene): penalty 0.4 -> F1 0.54 (over-split: purity 0.99,
#: coverage 0.54), 1.6 -> 0.72, 2.0 -> 0.79 (purity 0.97, coverage 0.83), 3.2 -> 0.72,
#: 6.4 -> 0.11 (everything one scene); minimum length 3 s > 4 s > 2 s.
SCENE_PENALTY = 2.0
MIN_SCENE_LEN = 3.0
#: The penalty when ``classify`` groups shots by their label probabilities (square-rooted, so
#: distances are Hellinger distances, at most sqrt(2)) instead of by embeddings: a smaller
#: space than unit embeddings of 176-512 dimensions, so a smaller penalty. Set with the
#: labelled broadcast tests (tests/test_classify.py), not measured as SCENE_PENALTY was.
LABEL_SCENE_PENALTY = 1.0
#: Inverse regularisation strength (scikit-learn's ``C``) of ``train-probe``'s logistic
#: regression. Measured with benchmarks/probe.py (weight-free features, 8 examples a label):
#: real recordings, a label recognised in a recording never seen: C=0.1 42.6%, 0.3 51.5%,
#: 1 58.6%, 3 58.2%, 10 55.4% of frames right; generated broadcasts: 93.5, 94.2, 95.3, 95.4, 95.4%.
PROBE_C = 1.0
#: collect and dataset: a frame is kept only if its cosine similarity to every frame kept so
#: far (for its label) is below this, and its picture still looks the same this many seconds later.
COLLECT_MAX_SIMILARITY = 0.9
COLLECT_HOLD_S = 0.2
#: dataset: a frame is kept only if its label's probability is at least this (not tuned on
#: footage: a label the scorer is unsure of is one a trainer would learn wrong); images per
#: label over the whole dataset; train/val/test shares of the videos.
DATASET_MIN_CONFIDENCE = 0.6
DATASET_PER_LABEL = 1000
DATASET_SPLITS = (0.8, 0.1, 0.1)
#: Cross-validation folds of the probe's accuracy report (fewer when a label has fewer examples or videos).
PROBE_FOLDS = 5


def check_choice(what: str, value: str, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else a usage error naming them."""
    if value not in choices:
        raise UsageError(f"{what} must be one of {', '.join(choices)}, got {value!r}")
    return value


@dataclass(frozen=True)
class EmbedderSpec:
    """Which embedder turns frames into vectors, with the model options it takes.

    ``features`` (weight-free colour/layout, the default) takes none; ``clip`` takes all four;
    an embedder you register takes those it names (vidscan.embed.registry). Options an
    embedder does not take are kept here but never passed on.
    """

    name: str = DEFAULT_EMBEDDER
    model: str = DEFAULT_CLIP_MODEL
    pretrained: str | None = DEFAULT_CLIP_PRETRAINED
    device: str = DEVICES[0]
    fit: str = CLIP_FITS[0]

    def __post_init__(self) -> None:
        EMBEDDERS.get(self.name)  # an unknown name is a usage error listing the choices
        check_choice("device", self.device, DEVICES)
        check_choice("fit", self.fit, CLIP_FITS)

    def options(self) -> dict[str, Any]:
        """The model options this embedder takes (a ``pretrained=None`` kept: random weights)."""
        given = {"model": self.model, "pretrained": self.pretrained, "device": self.device, "fit": self.fit}
        return {key: value for key, value in given.items() if key in EMBEDDERS.takes(self.name)}

    @property
    def random_weights(self) -> bool:
        """Will this load a model with random weights (``--pretrained none``; testing only)?"""
        options = self.options()
        return "pretrained" in options and str(options["pretrained"]).lower() in ("none", "random")

    @property
    def on_gpu(self) -> bool:
        """Might the model run on a GPU (a batch then uses fewer worker processes)?"""
        return self.options().get("device", "cpu") != "cpu"

    def build(self) -> Embedder:
        from vidscan.embed.registry import create_embedder

        return create_embedder(self.name, **self.options())


@dataclass(frozen=True)
class DetectorSpec:
    """Which detector finds the shot boundaries, with its tuning (None: the detector's own default).

    A tuning option the detector does not take is a usage error when the spec is made, never
    silently dropped; ``device`` reaches only detectors that run a network.
    """

    name: str = DEFAULT_DETECTOR
    penalty: float | None = None
    min_scene_len: float | None = None
    device: str = DEVICES[0]

    def __post_init__(self) -> None:
        DETECTORS.get(self.name)
        check_choice("device", self.device, DEVICES)
        if self.penalty is not None:
            finite_number("penalty", self.penalty, min=0, min_open=True)
        if self.min_scene_len is not None:
            finite_number("min_scene_len", self.min_scene_len, min=0, max=MAX_SECONDS)
        self.options()

    def options(self) -> dict[str, Any]:
        """The keyword arguments this detector is built with."""
        return detector_options(self.name, penalty=self.penalty, min_scene_len=self.min_scene_len, device=self.device)

    def build(self) -> BoundaryDetector:
        from vidscan.detect import create_detector

        return create_detector(self.name, **self.options())


@dataclass(frozen=True)
class DecodeSpec:
    """How frames are read: which registered backend, and the every-frame strategy."""

    backend: str = DEFAULT_BACKEND
    strategy: str = DECODE_STRATEGIES[0]

    def __post_init__(self) -> None:
        BACKENDS.get(self.backend)
        check_choice("decode", self.strategy, DECODE_STRATEGIES)
        if self.strategy == "coarse" and self.backend != COARSE_BACKEND:
            raise UsageError(f"coarse-to-fine decoding works with the {COARSE_BACKEND} decoder")

    @classmethod
    def of(cls, value: DecodeSpec | str | None) -> DecodeSpec:
        """A spec from a spec, a strategy name (``"auto"``, ``"full"``, ``"coarse"``) or None (the defaults)."""
        if isinstance(value, DecodeSpec):
            return value
        return cls() if value is None else cls(strategy=value)


@dataclass(frozen=True)
class LabellingSpec:
    """How ``classify`` turns label scores into a timeline.

    ``per_frame``: label every sampled frame and smooth over time (``smooth``: the cost of a
    label switch in seconds of evidence) instead of labelling detected shots and scenes;
    ``min_confidence``: below it a segment is ``unknown``; ``merge``: join neighbours with
    the same label; ``boundaries``: see :data:`BOUNDARY_SOURCES`; ``scene_penalty`` and
    ``scene_min_len``: how shots are grouped into labelled scenes.
    """

    per_frame: bool = False
    smooth: float = 2.0
    min_confidence: float = 0.0
    merge: bool = False
    boundaries: str = BOUNDARY_SOURCES[0]
    scene_penalty: float = LABEL_SCENE_PENALTY
    scene_min_len: float = MIN_SCENE_LEN

    def __post_init__(self) -> None:
        finite_number("min_confidence", self.min_confidence, min=0, max=1)
        finite_number("smooth", self.smooth, min=0, max=MAX_SECONDS)
        finite_number("scene penalty", self.scene_penalty, min=0, min_open=True)
        finite_number("scene min_scene_len", self.scene_min_len, min=0, max=MAX_SECONDS)
        check_choice("boundaries", self.boundaries, BOUNDARY_SOURCES)

    def replaced(self, **given: Any) -> LabellingSpec:
        """A copy with those of ``given`` that are not None (a command line's unset options)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(given) - known)
        if unknown:
            raise UsageError(f"unknown labelling option(s) {', '.join(unknown)}")
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update({key: value for key, value in given.items() if value is not None})
        return LabellingSpec(**values)


def default_of(spec: type, name: str) -> Any:
    """The default of field ``name`` of a spec class: what the command line shows and uses."""
    for f in fields(spec):
        if f.name == name:
            return f.default
    raise KeyError(name)


def built_embedder(embedder: str | EmbedderSpec | Embedder) -> Embedder:
    """An embedder from a name, a spec, or an embedder (returned as it is): what the library's
    entry points accept."""
    from vidscan.embed.base import Embedder

    if isinstance(embedder, Embedder):
        return embedder
    return (EmbedderSpec(embedder) if isinstance(embedder, str) else embedder).build()


def built_detector(detector: str | DetectorSpec | BoundaryDetector) -> BoundaryDetector:
    """A detector from a name, a spec, or a detector (returned as it is)."""
    from vidscan.detect.base import BoundaryDetector

    if isinstance(detector, BoundaryDetector):
        return detector
    return (DetectorSpec(detector) if isinstance(detector, str) else detector).build()
