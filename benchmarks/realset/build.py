"""Build the real-footage development set for shot-boundary detection, with exact truth.

    python benchmarks/realset/build.py [--out bench_out/realset] [--force]
    python benchmarks/realset/build.py --replan    # choose the pieces afresh (rewrites manifest.json)
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

Which frames of which recording go where is frozen in ``benchmarks/realset/manifest.json``
(chosen once by ``--replan`` with a seeded generator under the rules in ``Planner``), so the
set is the same whatever ffmpeg decodes the sources; the build only reads ``sources/`` and
that file, and writes to ``--out``.
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
MANIFEST = HERE / "manifest.json"  # every clip's pieces, frozen (see --replan)
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
        self.truth().save(out / f"{self.name}.truth.json")

    def truth(self) -> GroundTruth:
        return GroundTruth(FPS, self.length, W, H, self.boundaries, self.negatives, self.labels)

    def built(self, out: Path) -> bool:
        """Whether ``out`` already holds this clip, truth and all (a clip built from an
        older manifest is built again)."""
        video, truth = out / f"{self.name}.mp4", out / f"{self.name}.truth.json"
        return video.exists() and truth.exists() and truth.read_text() == self.truth().to_json()


# Moments inside a recording that look abrupt but are no cut, checked by eye on the original
# frames (see SOURCES.md): wherever a clip shows them they are listed as negatives.
SOURCE_EVENTS: dict[str, list[tuple[str, int, int]]] = {
    "armwrestling": [("camera_jerk", 53, 55), ("camera_jerk", 87, 89)],  # handheld jolts, frames dropped
}
MIN_JUMP = 40  # frames of source time between the two sides of a join within one recording


class Planner:
    """Chooses the pieces with a seeded random generator (``--replan``); the choices are
    frozen in manifest.json, so building never depends on how this ffmpeg decodes.

    A join inside one recording must be a real discontinuity: the next piece does not
    overlap the previous one and starts at least ``MIN_JUMP`` frames (1.6 s) away from
    where the previous one is left (a 1-frame skip in a whip pan is visibly "different"
    but is no cut). Across every join the last frame before it and the first frame after
    it visibly differ (``VISIBLE``; twice that for dissolves and fades, which are
    invisible between two nearly equal pictures)."""

    def __init__(self, src: dict[str, np.ndarray], seed: int = 2026) -> None:
        self.rng = random.Random(seed)
        self.src = src

    def piece(self, name: str, length: int, prev: dict | None, join: str = "cut", span: int = 0) -> dict:
        frames = self.src[name]
        for _ in range(500):
            a = self.rng.randrange(0, len(frames) - length + 1)
            shot = {"source": name, "start": a, "end": a + length, "join": join, "span": span}
            if prev is None:
                return shot
            before = self.src[prev["source"]][prev["end"] - span - 1]
            if prev["source"] == name:
                left = prev["end"] - span  # where the previous piece is left
                if a < prev["end"] and a + length > prev["start"]:
                    continue
                if abs(a - left) < MIN_JUMP or abs(a - prev["end"]) < MIN_JUMP:
                    continue
            if visible_change(before, frames[a + span]) >= VISIBLE * (1 if join == "cut" else 2):
                return shot
        raise RuntimeError(f"no suitable piece of {name} of {length} frames")

    def shots(self, plan: list[tuple[str, int, str, int]]) -> list[dict]:
        """``plan``: (source, frames, join, span) per shot."""
        out: list[dict] = []
        for source, length, join, span in plan:
            out.append(self.piece(source, length, out[-1] if out else None, join, span))
        return out


def replan(src: dict[str, np.ndarray]) -> list[dict]:
    """Every clip of the set: name, group, description, shots (and flashes, negatives)."""
    p = Planner(src)
    moving = ["pancake", "basketball", "pool", "makeup", "armwrestling", "person"]
    everything = sorted(src)
    clips: list[dict] = []

    def clip(name: str, group: str, description: str, shots: list[dict], **extra) -> None:
        clips.append({"name": name, "group": group, "description": description, "shots": shots, **extra})

    # Same palette: one room, one camera, recordings of signers; and recordings against themselves.
    clip("asl_one_room", "real-cuts", "signers filmed in one room by one camera, cut together",
         p.shots([(s, 30, "cut", 0) for s in ("asl_book", "asl_walk", "asl_sister") * 2]))
    for name in moving:
        clip(f"self_{name}", "real-cuts", f"{name} cut against other moments of itself (6 shots, same palette)",
             p.shots([(name, p.rng.randint(20, 45), "cut", 0) for _ in range(6)]))
    for k in range(3):
        clip(f"cross_{k}", "real-cuts", "cuts between different recordings",
             p.shots([(p.rng.choice(everything), p.rng.randint(25, 60), "cut", 0) for _ in range(7)]))
    for k, first in enumerate((6, 12, 20)):
        a, c = p.rng.sample(moving, 2)
        clip(f"early_{k}", "real-cuts", f"a cut {first} frames in", p.shots([(a, first, "cut", 0), (c, 60, "cut", 0), (a, 40, "cut", 0)]))
    # Short shots of 3-12 frames.
    for k in range(4):
        plan = []
        for _ in range(4):
            plan.append((p.rng.choice(moving), p.rng.randint(30, 50), "cut", 0))
            plan.append((p.rng.choice(everything), p.rng.choice([3, 4, 5, 6, 8, 10, 12]), "cut", 0))
        plan.append((p.rng.choice(moving), 40, "cut", 0))
        clip(f"short_{k}", "real-short", "shots of 3-12 frames between longer ones", p.shots(plan))
    # Gradual transitions.
    for k, joins in enumerate((["dissolve", "cut", "dissolve", "dissolve"], ["fadeblack", "cut", "fadewhite", "dissolve"],
                               ["dissolve", "fadeblack", "cut", "fadeblack"])):
        plan = [(p.rng.choice(moving), 50, "cut", 0)]
        for join in joins:
            plan.append((p.rng.choice(everything), p.rng.randint(55, 70), join, 0 if join == "cut" else p.rng.randint(10, 25)))
        clip(f"gradual_{k}", "real-gradual", "dissolves, dips to black and white, and cuts", p.shots(plan))
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
        whole = {"source": name, "start": 0, "end": len(src[name]), "join": "cut", "span": 0}
        clip(f"negative_{name}", "real-negatives", note, [whole], negatives=[["continuous", 0, len(src[name])]])
    for name in ("pool", "basketball"):
        whole = {"source": name, "start": 0, "end": len(src[name]), "join": "cut", "span": 0}
        clip(f"flash_{name}", "real-negatives", f"{name} with white flashes of 1 and 2 frames (a photographer's strobe)",
             [whole], flashes=[[60, 1], [150, 2]])
    return clips


def assemble(spec: dict, src: dict[str, np.ndarray]) -> Clip:
    """The clip a manifest entry describes."""
    clip = Clip(spec["name"], spec["group"], spec["description"])
    for shot in spec["shots"]:
        frames = src[shot["source"]]
        if shot["end"] > len(frames):
            raise RuntimeError(f"{spec['name']}: {shot['source']} has {len(frames)} frames, not {shot['end']}")
        piece = frames[shot["start"] : shot["end"]]
        if spec.get("flashes"):
            piece = piece.copy()
            for at, length in spec["flashes"]:
                piece[at : at + length] = np.clip(piece[at : at + length].astype(np.float32) * 0.15 + 255 * 0.85, 0, 255).astype(np.uint8)
                clip.negatives.append(("flash", at, at + length))
        clip.add(shot["source"], piece, shot["join"], shot["span"])
        at = clip.labels[-1][1]  # where the piece's first frame sits in the clip
        for kind, a, z in SOURCE_EVENTS.get(shot["source"], []):
            if shot["start"] <= a and z <= shot["end"]:
                clip.negatives.append((kind, at + a - shot["start"], at + z - shot["start"]))
    clip.negatives.extend(tuple(n) for n in spec.get("negatives", []))
    return clip


def build(out: Path, force: bool = False, replan_manifest: bool = False) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    src = {p.stem: load(p.stem) for p in sorted(SOURCES.glob("*.mp4"))}
    if replan_manifest or not MANIFEST.exists():
        MANIFEST.write_text(json.dumps({"clips": replan(src)}, indent=1) + "\n")
    specs = json.loads(MANIFEST.read_text())["clips"]
    manifest = []
    for spec in specs:
        clip = assemble(spec, src)
        if force or not clip.built(out):
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
    parser.add_argument("--replan", action="store_true",
                        help="choose the pieces afresh (seeded) and rewrite benchmarks/realset/manifest.json; implies --force")
    parser.add_argument("--fixtures", metavar="DIR", help="write the test suite's four real clips to DIR instead (tests/data/real)")
    args = parser.parse_args(argv)
    if args.fixtures:
        print(fixtures(Path(args.fixtures)))
        return 0
    manifest = build(Path(args.out), args.force or args.replan, args.replan)
    groups: dict[str, list[int]] = {}
    for clip in manifest:
        groups.setdefault(clip["group"], []).append(clip["boundaries"])
    for group, counts in groups.items():
        print(f"{group}: {len(counts)} clips, {sum(counts)} boundaries")
    print(f"wrote {len(manifest)} clips to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
