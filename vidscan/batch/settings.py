"""What a batch computes, one set for the whole run, and its fingerprint.

The fingerprint hashes everything that changes a video's outputs (labels and their prompts,
the example images, embedder and model, sampling, detector and classify options, output
formats, the vidscan version) and nothing that does not (workers, timeout, engine, cache,
progress), so a rerun redoes exactly the videos whose results would differ.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidscan._version import __version__
from vidscan.config import SCHEMA, read_config
from vidscan.detect import DEFAULT_DETECTOR
from vidscan.embed.registry import DEFAULT_EMBEDDER, EMBEDDERS
from vidscan.labels import LabelSet
from vidscan.labels.config import label_set_from
from vidscan.video.base import DEFAULT_BACKEND

FORMATS = ("csv", "json")
#: Every output a batch can write per video; "html" adds a report per video and DIR/index.html.
ALL_FORMATS = SCHEMA["batch"]["formats"].choices


@dataclass
class BatchSettings:
    """Per-video work settings; picklable, so workers (local or Ray) get a copy."""

    labels: LabelSet | None = None
    embedder: str = DEFAULT_EMBEDDER
    model: str = "ViT-B-32"
    pretrained: str = "laion2b_s34b_b79k"
    device: str = "auto"
    clip_fit: str = "squash"
    sampling: str | None = None  # Sampling.describe() text; None = the embedder's default
    per_frame: bool = False
    smooth: float = 2.0
    min_confidence: float = 0.0
    merge: bool = False
    detector: str = DEFAULT_DETECTOR
    min_scene_len: float | None = None  # None: the detector's own default (vidscan.detect)
    penalty: float | None = None
    boundaries: str = "frames"
    decoder: str = DEFAULT_BACKEND
    decode: str = "full"  # or "coarse": keyframes first (see vidscan.video.coarse)
    formats: tuple[str, ...] = FORMATS
    cache_dir: str | None = None
    use_cache: bool = True

    @property
    def labelled(self) -> bool:
        return self.labels is not None

    @property
    def wants_gpu_model(self) -> bool:
        return self.embedder_kwargs().get("device", "cpu") != "cpu"

    def embedder_kwargs(self) -> dict[str, Any]:
        """The model options the embedder takes: none for features, all four for clip (a None
        kept: ``pretrained=None`` means random weights)."""
        given = {"model": self.model, "pretrained": self.pretrained, "device": self.device, "fit": self.clip_fit}
        return {key: value for key, value in given.items() if key in EMBEDDERS.takes(self.embedder)}

    def describe(self) -> dict[str, Any]:
        """The settings that affect results (what the fingerprint hashes)."""
        out: dict[str, Any] = {
            "vidscan": __version__,
            "embedder": self.embedder,
            "sampling": self.sampling,
            "detector": {"name": self.detector, "min_scene_len": self.min_scene_len, "penalty": self.penalty},
            "decoder": self.decoder,
            "formats": sorted(self.formats),
        }
        if self.decode != "full":  # absent when full, so records made before the option still match
            out["decode"] = self.decode
        options = self.embedder_kwargs()
        if options:  # under the embedder's name: {"clip": {"model": ..., ...}} as before the registry
            out[self.embedder] = options
        if self.labels is not None:
            out["labels"] = self.labels.describe()["labels"]
            out["examples"] = {spec.name: _folder_fingerprint(spec.examples) for spec in self.labels.labels if spec.examples}
            out["classify"] = {"per_frame": self.per_frame, "smooth": self.smooth if self.per_frame else None,
                               "min_confidence": self.min_confidence, "merge": self.merge, "boundaries": self.boundaries}
        return out

    def fingerprint(self) -> str:
        text = json.dumps(self.describe(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _folder_fingerprint(folder: Path) -> str:
    """Names, sizes and modification times of every file under an examples folder."""
    h = hashlib.sha256()
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            p = Path(root) / name
            try:
                st = p.stat()
            except OSError:
                continue
            h.update(f"{p.relative_to(folder)}|{st.st_size}|{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:16]


@dataclass
class BatchConfig:
    """A config file read for a batch: labels (optional), [classify] and [batch] tables."""

    labels: LabelSet | None = None
    classify: dict[str, Any] = field(default_factory=dict)
    workers: int | None = None
    timeout_per_file: float | None = None
    formats: tuple[str, ...] | None = None


def load_batch_config(path: str | Path) -> BatchConfig:
    """Read a config (checked against the one schema, vidscan.config, as for ``classify``):
    labels, ``[classify]`` and ``[batch]``. Without ``[labels.*]`` tables the batch runs ``scenes``."""
    config = read_config(path)
    batch = config.get("batch", {})
    return BatchConfig(
        labels=label_set_from(config, path) if config.get("labels") else None,
        classify=dict(config.get("classify", {})),
        workers=batch.get("workers"),
        timeout_per_file=batch.get("timeout_per_file"),
        formats=tuple(batch["formats"]) if "formats" in batch else None,
    )
