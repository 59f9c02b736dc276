"""Build the real-footage development set for shot-boundary detection, with exact truth.

    python benchmarks/realset/build.py [--out bench_out/realset] [--force]
    python benchmarks/accuracy.py --real bench_out/realset        # score every detector on it
    python benchmarks/realset/build.py --fixtures tests/data/real  # the test suite's real clips

Real recordings (benchmarks/realset/sources/, see SOURCES.md) are decoded to 25 fps RGB at
384x216 and re-edited in numpy, so every boundary is known to the frame:

* ``real-cuts``: a clip cut against other moments of itself (same palette, same place,
  other framing or moment), four signers filmed in one room by one camera, cuts between
  different recordings, and cuts in the first second;
* ``real-short``: shots of 3-12 frames between longer ones;
* ``real-gradual``: dissolves (linear blends), dips to black and to white, with cuts mixed in;
* ``real-negatives``: unedited continuous recordings (handheld camera, whip pans, people
  walking in and out of frame and up to the lens, cars crossing, a 10 fps recording shown
  at 25 fps) and white flashes of 1-2 frames inside a shot: no boundary at all.

A cut is only placed where the two frames visibly differ (mean absolute RGB difference of at
least ``VISIBLE`` at 96x54); a cut between two identical pictures is not a cut anyone could
see. Each clip gets ``NAME.mp4`` (x264, CRF 18, yuv420p, 25 fps) and ``NAME.truth.json``
(vidscan.synth.GroundTruth); ``manifest.json`` lists the clips with their group.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
W, H, FPS = 384, 216, 25
VISIBLE = 6.0

sys.path.insert(0, str(HERE.parent.parent))
from vidscan.ffmpeg_bin import ffmpeg_exe  # noqa: E402
from vidscan.synth import GroundTruth, TrueBoundary  # noqa: E402


def load(name: str) -> np.ndarray:
    """Every frame of sources/NAME.mp4 as uint8 [N, H, W, 3]."""
    cmd = [ffmpeg_exe(), "-v", "error", "-i", str(SOURCES / f"{name}.mp4"), "-vf", f"fps={FPS},scale={W}:{H}",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3)


def visible_change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute RGB difference of two frames at 96x54."""
    small = lambda f: f.reshape(54, 4, 96, 4, 3).mean(axis=(1, 3))  # noqa: E731
    return float(np.abs(small(a) - small(b)).mean())


@dataclass
class Clip:
    """A clip being assembled: frames, and what happens where."""

    name: str
    group: str
    description: str
    frames: list[np.ndarray] = field(default_factory=list)
    boundaries: list[TrueBoundary] = field(default_factory=list)
    negatives: list[tuple[str, int, int]] = field(default_factory=list)
    labels: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def length(self) -> int:
        return sum(len(f) for f in self.frames)

    def add(self, label: str, piece: np.ndarray, join: str = "cut", span: int = 0) -> None:
        """Append a shot, joined to what is there by a cut, ``dissolve``, ``fadeblack`` or
        ``fadewhite`` of ``span`` frames (taken from the end of the previous shot and the
        start of this one)."""
        start = self.length
        if not self.frames:
            self.frames.append(piece)
        elif join == "cut":
            self.boundaries.append(TrueBoundary("cut", start, start))
            self.frames.append(piece)
        else:
            prev = self.frames[-1]
            tail, head = prev[-span:].astype(np.float32), piece[:span].astype(np.float32)
            self.frames[-1] = prev[:-span]
            start = self.length
            alpha = (np.arange(1, span + 1, dtype=np.float32) / (span + 1))[:, None, None, None]
            if join == "dissolve":
                mixed = tail * (1 - alpha) + head * alpha
            else:
                level = 0.0 if join == "fadeblack" else 255.0
                depth = 1 - np.abs(2 * alpha - 1)  # 0 -> 1 (all black/white) -> 0
                source = np.where(alpha < 0.5, tail, head)
                mixed = source * (1 - depth) + level * depth
            self.frames.append(np.clip(np.rint(mixed), 0, 255).astype(np.uint8))
            self.frames.append(piece[span:])
            self.boundaries.append(TrueBoundary("dissolve" if join == "dissolve" else "fade", start, start + span))
        self.labels.append((label, start, self.length))

    def write(self, out: Path) -> None:
        frames = np.concatenate(self.frames)
        cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-r", str(FPS),
               "-i", "-", "-c:v", "libx264", "-preset", "medium", "-crf", "18", "-pix_fmt", "yuv420p", str(out / f"{self.name}.mp4")]
        subprocess.run(cmd, input=np.ascontiguousarray(frames).tobytes(), check=True)
        truth = GroundTruth(FPS, len(frames), W, H, self.boundaries, self.negatives, self.labels)
        truth.save(out / f"{self.name}.truth.json")


class Builder:
    """Picks pieces of the sources with a seeded random generator (reproducible)."""

    def __init__(self, seed: int = 2026) -> None:
        self.rng = random.Random(seed)
        self.src = {p.stem: load(p.stem) for p in sorted(SOURCES.glob("*.mp4"))}

    def piece(self, name: str, length: int, after: np.ndarray | None = None, avoid: tuple[int, int] | None = None) -> np.ndarray:
        """``length`` frames of source ``name`` whose first frame visibly differs from
        ``after`` (the last frame so far) and, with ``avoid``, lies outside that range."""
        frames = self.src[name]
        for _ in range(200):
            a = self.rng.randrange(0, len(frames) - length + 1)
            if avoid and a < avoid[1] and a + length > avoid[0]:
                continue
            if after is None or visible_change(after, frames[a]) >= VISIBLE:
                return frames[a : a + length]
        raise RuntimeError(f"no visibly different piece of {name} of {length} frames")

    def self_cuts(self, name: str, pieces: int) -> Clip:
        clip = Clip(f"self_{name}", "real-cuts", f"{name} cut against other moments of itself ({pieces} shots)")
        for k in range(pieces):
            last = clip.frames[-1][-1] if clip.frames else None
            clip.add(name, self.piece(name, self.rng.randint(20, 45), last))
        return clip

    def mixed(self, name: str, group: str, description: str, plan: list[tuple[str, int, str, int]]) -> Clip:
        """``plan``: (source, frames, join, span) per shot."""
        clip = Clip(name, group, description)
        for source, length, join, span in plan:
            last = clip.frames[-1][-1] if clip.frames else None
            clip.add(source, self.piece(source, length, last), join, span)
        return clip


def build(out: Path, force: bool = False) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    b = Builder()
    moving = ["pancake", "basketball", "pool", "makeup", "armwrestling", "person"]
    clips: list[Clip] = []
    # Same palette: one room, one camera, four recordings of signers; and clips against themselves.
    clips.append(b.mixed("asl_one_room", "real-cuts", "signers filmed in one room by one camera, cut together",
                         [("asl_book", 30, "cut", 0), ("asl_walk", 30, "cut", 0), ("asl_sister", 30, "cut", 0),
                          ("asl_book", 30, "cut", 0), ("asl_walk", 30, "cut", 0), ("asl_sister", 30, "cut", 0)]))
    for name in moving:
        clips.append(b.self_cuts(name, 6))
    everything = sorted(b.src)
    for k in range(3):
        plan = [(b.rng.choice(everything), b.rng.randint(25, 60), "cut", 0) for _ in range(7)]
        clips.append(b.mixed(f"cross_{k}", "real-cuts", "cuts between different recordings", plan))
    for k, first in enumerate((6, 12, 20)):
        a, c = b.rng.sample(moving, 2)
        clips.append(b.mixed(f"early_{k}", "real-cuts", f"a cut {first} frames in",
                             [(a, first, "cut", 0), (c, 60, "cut", 0), (a, 40, "cut", 0)]))
    # Short shots of 3-12 frames.
    for k in range(4):
        plan = []
        for _ in range(4):
            plan.append((b.rng.choice(moving), b.rng.randint(30, 50), "cut", 0))
            plan.append((b.rng.choice(everything), b.rng.choice([3, 4, 5, 6, 8, 10, 12]), "cut", 0))
        plan.append((b.rng.choice(moving), 40, "cut", 0))
        clips.append(b.mixed(f"short_{k}", "real-short", "shots of 3-12 frames between longer ones", plan))
    # Gradual transitions.
    for k, joins in enumerate((["dissolve", "cut", "dissolve", "dissolve"], ["fadeblack", "cut", "fadewhite", "dissolve"],
                               ["dissolve", "fadeblack", "cut", "fadeblack"])):
        plan = [(b.rng.choice(moving), 50, "cut", 0)]
        for join in joins:
            plan.append((b.rng.choice(everything), b.rng.randint(55, 70), join, 0 if join == "cut" else b.rng.randint(10, 25)))
        clips.append(b.mixed(f"gradual_{k}", "real-gradual", "dissolves, dips to black and white, and cuts", plan))
    # Negatives: whole recordings, unedited, and flashes.
    notes = {
        "pancake": "handheld kitchen scene; a person walks up to the lens at the end",
        "basketball": "gym, camera pans and follows players",
        "pool": "handheld, strong camera motion over water",
        "makeup": "close-up, a hand moving across the face",
        "armwrestling": "handheld with whip pans and motion blur",
        "person": "static camera, people walk in and out of frame (10 fps recording shown at 25 fps: repeated frames)",
        "cars": "overhead static camera, cars cross the frame",
        "bottles": "static camera, bottles appear and disappear",
        "two_people": "static camera, two people moving",
    }
    for name, note in notes.items():
        clip = Clip(f"negative_{name}", "real-negatives", note)
        clip.add(name, b.src[name])
        clip.negatives.append(("continuous", 0, clip.length))
        clips.append(clip)
    for name in ("pool", "basketball"):
        frames = b.src[name].copy()
        clip = Clip(f"flash_{name}", "real-negatives", f"{name} with white flashes of 1 and 2 frames (a photographer's strobe)")
        for at, length in ((60, 1), (150, 2)):
            frames[at : at + length] = np.clip(frames[at : at + length].astype(np.float32) * 0.15 + 255 * 0.85, 0, 255).astype(np.uint8)
            clip.negatives.append(("flash", at, at + length))
        clip.add(name, frames)
        clips.append(clip)
    manifest = []
    for clip in clips:
        if force or not (out / f"{clip.name}.mp4").exists() or not (out / f"{clip.name}.truth.json").exists():
            clip.write(out)
        manifest.append({"name": clip.name, "group": clip.group, "description": clip.description,
                         "boundaries": len(clip.boundaries), "frames": clip.length})
    (out / "manifest.json").write_text(json.dumps({"clips": manifest}, indent=1))
    return manifest


def fixtures(out: Path) -> dict[str, list[int]]:
    """The four short real clips the test suite uses (tests/data/real/), with their cuts."""
    src = {name: load(name) for name in ("asl_book", "asl_walk", "pool", "makeup", "pancake", "basketball")}
    plans = {
        "same_palette_cut": [("asl_book", 0, 45), ("asl_walk", 20, 70)],  # one room, one camera, one signer
        "short_shot": [("pool", 0, 40), ("makeup", 10, 15), ("pool", 120, 170)],  # a 5-frame shot
        "early_cut": [("pancake", 0, 12), ("pancake", 150, 220)],  # a cut at frame 12 (0.48 s)
        "camera_move": [("basketball", 150, 250)],  # a pan following players: no boundary
    }
    out.mkdir(parents=True, exist_ok=True)
    truth: dict[str, list[int]] = {}
    for name, plan in plans.items():
        clip = Clip(name, "fixture", "")
        for source, a, z in plan:
            clip.add(source, src[source][a:z])
        frames = np.concatenate(clip.frames)
        cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-r", str(FPS),
               "-i", "-", "-c:v", "libx264", "-preset", "slow", "-crf", "23", "-pix_fmt", "yuv420p", str(out / f"{name}.mp4")]
        subprocess.run(cmd, input=np.ascontiguousarray(frames).tobytes(), check=True)
        truth[name] = [b.start for b in clip.boundaries]
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    return truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="bench_out/realset")
    parser.add_argument("--force", action="store_true", help="rebuild clips that are already there")
    parser.add_argument("--fixtures", metavar="DIR", help="write the test suite's four real clips to DIR instead (tests/data/real)")
    args = parser.parse_args(argv)
    if args.fixtures:
        print(fixtures(Path(args.fixtures)))
        return 0
    manifest = build(Path(args.out), args.force)
    groups: dict[str, list[int]] = {}
    for clip in manifest:
        groups.setdefault(clip["group"], []).append(clip["boundaries"])
    for group, counts in groups.items():
        print(f"{group}: {len(counts)} clips, {sum(counts)} boundaries")
    print(f"wrote {len(manifest)} clips to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
