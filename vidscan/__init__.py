"""vidscan: turn hours of video into timelines.

The library API under the ``vidscan`` command::

    import vidscan
    timeline = vidscan.detect_scenes("match.mp4")
    timeline.to_dataframe()

Heavy dependencies (torch, open_clip) load only when a CLIP embedder is created.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from vidscan._version import __version__

#: Where each public name lives. Imported on first use (PEP 562), so ``vidscan --help`` and
#: ``import vidscan`` do not pay for pandas, ruptures or torch until a task runs.
_PUBLIC = {
    "ClassifyResult": "vidscan.classification",
    "classify": "vidscan.classification",
    "BoundaryDetector": "vidscan.detect",
    "create_detector": "vidscan.detect",
    "Embedder": "vidscan.embed.base",
    "create_embedder": "vidscan.embed.registry",
    "InputError": "vidscan.errors",
    "ModelUnavailableError": "vidscan.errors",
    "OutputError": "vidscan.errors",
    "UsageError": "vidscan.errors",
    "VidscanError": "vidscan.errors",
    "embed_video": "vidscan.extract",
    "LinearProbe": "vidscan.labels.probe",
    "load_probe": "vidscan.labels.probe",
    "train_probe": "vidscan.training",
    "map": "vidscan.mapping.build",
    "make_dataset": "vidscan.dataset",
    "find_ad_breaks": "vidscan.broadcast.table",
    "FrameMap": "vidscan.mapping.build",
    "DecodeSpec": "vidscan.options",
    "DetectorSpec": "vidscan.options",
    "EmbedderSpec": "vidscan.options",
    "LabellingSpec": "vidscan.options",
    "detect_scenes": "vidscan.pipeline",
    "Segment": "vidscan.timeline",
    "Timeline": "vidscan.timeline",
    "Sampling": "vidscan.video",
    "VideoInfo": "vidscan.video",
    "open_video": "vidscan.video",
    "probe": "vidscan.video",
}

if TYPE_CHECKING:  # what static checkers and IDEs see
    from vidscan.classification import ClassifyResult, classify
    from vidscan.detect import BoundaryDetector, create_detector
    from vidscan.embed.base import Embedder
    from vidscan.embed.registry import create_embedder
    from vidscan.errors import InputError, ModelUnavailableError, OutputError, UsageError, VidscanError
    from vidscan.extract import embed_video
    from vidscan.labels.probe import LinearProbe, load_probe
    from vidscan.training import train_probe
    from vidscan.mapping.build import FrameMap, map
    from vidscan.dataset import make_dataset
    from vidscan.broadcast.table import find_ad_breaks
    from vidscan.options import DecodeSpec, DetectorSpec, EmbedderSpec, LabellingSpec
    from vidscan.pipeline import detect_scenes
    from vidscan.timeline import Segment, Timeline
    from vidscan.video import Sampling, VideoInfo, open_video, probe


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'vidscan' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "DecodeSpec",
    "DetectorSpec",
    "EmbedderSpec",
    "LabellingSpec",
    "BoundaryDetector",
    "ClassifyResult",
    "Embedder",
    "FrameMap",
    "InputError",
    "LinearProbe",
    "ModelUnavailableError",
    "OutputError",
    "Sampling",
    "Segment",
    "Timeline",
    "UsageError",
    "VideoInfo",
    "VidscanError",
    "__version__",
    "classify",
    "create_detector",
    "create_embedder",
    "detect_scenes",
    "embed_video",
    "find_ad_breaks",
    "load_probe",
    "make_dataset",
    "map",
    "open_video",
    "probe",
    "train_probe",
]
