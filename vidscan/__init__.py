"""vidscan: turn hours of video into timelines.

The library API under the ``vidscan`` command::

    import vidscan
    timeline = vidscan.detect_scenes("match.mp4")
    timeline.to_dataframe()

Heavy dependencies (torch, open_clip) load only when a CLIP embedder is created.
"""

from vidscan._version import __version__
from vidscan.classify import ClassifyResult, classify
from vidscan.detect import BoundaryDetector, create_detector
from vidscan.embed.base import Embedder
from vidscan.embed.registry import create_embedder
from vidscan.errors import InputError, ModelUnavailableError, OutputError, UsageError, VidscanError
from vidscan.extract import embed_video
from vidscan.pipeline import detect_scenes
from vidscan.timeline import Segment, Timeline
from vidscan.video import Sampling, VideoInfo, open_video, probe

__all__ = [
    "BoundaryDetector",
    "ClassifyResult",
    "Embedder",
    "InputError",
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
    "open_video",
    "probe",
]
