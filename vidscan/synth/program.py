"""What to render, and the exact ground truth that rendering it produces."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

GRADUAL = ("dissolve", "fadeblack", "wipe")


@dataclass
class Event:
    """Something inside a shot that must *not* count as a boundary.

    ``kind``: ``flash`` (a burst of white frames), ``sweep`` (a large object crossing the frame
    fast). ``start``/``length`` are in frames from the start of the shot.
    """

    kind: str
    start: int
    length: int


@dataclass
class Shot:
    look: str
    frames: int
    seed: int = 0
    label: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)


@dataclass
class Transition:
    """How one shot gives way to the next: ``cut`` or a gradual ``dissolve``/``fadeblack``/``wipe``
    lasting ``frames`` frames (the shots overlap by that many frames)."""

    kind: str = "cut"
    frames: int = 0


@dataclass
class Program:
    shots: list[Shot]
    transitions: list[Transition]
    width: int = 320
    height: int = 180
    fps: int = 25

    def __post_init__(self) -> None:
        if len(self.transitions) != max(0, len(self.shots) - 1):
            raise ValueError("need exactly one transition between consecutive shots")
        for t in self.transitions:
            if t.kind != "cut" and t.frames < 2:
                raise ValueError(f"gradual transition {t.kind} needs at least 2 frames")


@dataclass
class TrueBoundary:
    """A boundary in the rendered video. A cut at frame k has ``start == end == k`` (k is the
    first frame of the new shot); a gradual transition covers frames [start, end)."""

    kind: str
    start: int
    end: int

    @property
    def frame(self) -> int:
        """The frame a detector should report: the first new frame, or the transition's middle."""
        return self.start if self.kind == "cut" else (self.start + self.end) // 2


@dataclass
class GroundTruth:
    fps: int
    frame_count: int
    width: int
    height: int
    boundaries: list[TrueBoundary]
    #: (kind, start, end) stretches that must not produce a boundary.
    negatives: list[tuple[str, int, int]]
    #: (label, start, end) content spans, split at the middle of gradual transitions.
    labels: list[tuple[str, int, int]]

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.fps

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    def save(self, path: str | Path) -> None:
        from vidscan.atomic import atomic_write_text

        atomic_write_text(path, self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> "GroundTruth":
        raw = json.loads(Path(path).read_text())
        raw["boundaries"] = [TrueBoundary(**b) for b in raw["boundaries"]]
        raw["negatives"] = [tuple(n) for n in raw["negatives"]]
        raw["labels"] = [tuple(lab) for lab in raw["labels"]]
        return cls(**raw)

    def label_seconds(self) -> dict[str, float]:
        """Seconds of content per label."""
        out: dict[str, float] = {}
        for label, start, end in self.labels:
            out[label] = out.get(label, 0.0) + (end - start) / self.fps
        return out


def truth_of(program: Program) -> GroundTruth:
    """Frame-exact ground truth of ``program`` as :func:`render` lays it out."""
    boundaries: list[TrueBoundary] = []
    negatives: list[tuple[str, int, int]] = []
    labels: list[tuple[str, int, int]] = []
    position = 0  # output frame where the current shot starts
    label_start = 0
    for i, shot in enumerate(program.shots):
        for ev in shot.events:
            negatives.append((ev.kind, position + ev.start, position + ev.start + ev.length))
        if i == len(program.shots) - 1:
            end = position + shot.frames
            labels.append((shot.label or shot.look, label_start, end))
            position = end
            break
        t = program.transitions[i]
        overlap = 0 if t.kind == "cut" else t.frames
        next_start = position + shot.frames - overlap
        if t.kind == "cut":
            boundaries.append(TrueBoundary("cut", next_start, next_start))
            split = next_start
        else:
            boundaries.append(TrueBoundary(t.kind, next_start, next_start + overlap))
            split = next_start + overlap // 2
        labels.append((shot.label or shot.look, label_start, split))
        label_start = split
        position = next_start
    return GroundTruth(program.fps, position, program.width, program.height, boundaries, negatives, merged_spans(labels))


def merged_spans(spans: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """(label, start, end) spans with neighbours of the same label joined."""
    merged: list[tuple[str, int, int]] = []
    for lab in spans:
        if merged and merged[-1][0] == lab[0]:
            merged[-1] = (lab[0], merged[-1][1], lab[2])
        else:
            merged.append(lab)
    return merged
