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
from vidscan.labels import LabelSet
from vidscan.labels.config import label_set_from
from vidscan.batch.registrations import Registrations
from vidscan.options import DecodeSpec, DetectorSpec, EmbedderSpec, LabellingSpec

FORMATS = ("csv", "json")
#: Every output a batch can write per video; "html" adds a report per video and DIR/index.html.
ALL_FORMATS = SCHEMA["batch"]["formats"].choices


@dataclass
class BatchSettings:
    """Per-video work settings, one set for the whole run; picklable, so workers (local or
    Ray) get a copy. The run options are the same typed specs the library takes
    (vidscan.options), so their defaults and checks are written once."""

    labels: LabelSet | None = None
    embedder: EmbedderSpec = EmbedderSpec()
    detector: DetectorSpec = DetectorSpec()
    decode: DecodeSpec = DecodeSpec()
    sampling: str | None = None  # Sampling.describe() text; None = the embedder's default
    labelling: LabellingSpec = LabellingSpec()
    formats: tuple[str, ...] = FORMATS
    cache_dir: str | None = None
    use_cache: bool = True
    #: A trained probe (``NAME.npz`` from train-probe) that labels instead of prompts or
    #: examples; ``labels`` then holds its label names.
    probe: str | None = None
    #: The decoders, embedders and detectors registered when these settings were made,
    #: registered again in every worker (not part of the fingerprint: their names are).
    registrations: Registrations = field(default_factory=Registrations.current)

    def __post_init__(self) -> None:
        """Names as shorthand, as the library's entry points take them: ``embedder="clip"``,
        ``detector="kernel"``, ``decode="coarse"``."""
        if isinstance(self.embedder, str):
            self.embedder = EmbedderSpec(self.embedder)
        if isinstance(self.detector, str):
            self.detector = DetectorSpec(self.detector)
        self.decode = DecodeSpec.of(self.decode)

    def describe(self) -> dict[str, Any]:
        """The settings that affect results (what the fingerprint hashes). The layout is kept
        as it was before the specs, so a record made by an earlier run still matches."""
        out: dict[str, Any] = {
            "vidscan": __version__,
            "embedder": self.embedder.name,
            "sampling": self.sampling,
            "detector": {"name": self.detector.name, "min_scene_len": self.detector.min_scene_len, "penalty": self.detector.penalty},
            "decoder": self.decode.backend,
            "formats": sorted(self.formats),
        }
        if self.decode.strategy != "full":  # absent when full, so records made before the option still match
            out["decode"] = self.decode.strategy
        options = self.embedder.options()
        if options:  # under the embedder's name: {"clip": {"model": ..., ...}} as before the registry
            out[self.embedder.name] = options
        if self.labels is not None:
            spec = self.labelling
            out["labels"] = self.labels.describe()["labels"]
            out["examples"] = {label.name: _folder_fingerprint(label.examples) for label in self.labels.labels if label.examples}
            if self.probe is not None:  # absent without one, so records made before the option still match
                out["probe"] = _files_fingerprint(self.probe)
            out["classify"] = {"per_frame": spec.per_frame, "smooth": spec.smooth if spec.per_frame else None,
                               "min_confidence": spec.min_confidence, "merge": spec.merge, "boundaries": spec.boundaries}
        return out

    def fingerprint(self) -> str:
        text = json.dumps(self.describe(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _files_fingerprint(probe: str) -> str:
    """The bytes of a probe's two files (retraining it changes the results)."""
    from vidscan.labels.probe import probe_paths

    h = hashlib.sha256()
    for p in probe_paths(probe):
        try:
            h.update(p.read_bytes())
        except OSError:
            h.update(b"missing")
    return h.hexdigest()[:16]


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
