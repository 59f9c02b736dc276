"""Longer real-footage files for speed work, in the sizes and keyframe styles users have.

    python benchmarks/realset/build.py --out bench_out/realset        # the clips first
    python benchmarks/realset/speedset.py --realset bench_out/realset --out bench_out/speedset
    python benchmarks/throughput.py bench_out/speedset/*.mp4             # time every method on them

The 31 clips of the real-footage development set (5 minutes at 25 fps, every boundary known
to the frame) are joined end to end and encoded at 1080p, 720p, 360p and 160x90, each in the
two keyframe styles the decode strategy has to handle:

* ``broadcast``: a keyframe every second, never at cuts (``-g 25 -sc_threshold 0``), as
  broadcast and streaming encoders write;
* ``web``: x264's defaults (keyframes at most cuts, at most every 250 frames), as a camera
  upload or a web encode has.

Each ``NAME.mp4`` gets ``NAME.truth.json``: the clips' boundaries shifted to their place, and
a cut at every join where the two pictures visibly differ (the set's own rule).
``--group real-negatives`` joins only the unedited recordings (long takes, cuts only at the
joins: 134 s, 10 cuts), the content keyframes-first decoding is made for. The clips
were made at 384x216, so the larger files are upscaled footage: real content and real
edits, with less fine detail (and so fewer bits to decode) than a camera original.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from build import VISIBLE, H, W, visible_change  # noqa: E402

from vidscan.synth import GroundTruth, TrueBoundary  # noqa: E402

SIZES = {"1080p": (1920, 1080), "720p": (1280, 720), "360p": (640, 360), "90p": (160, 90)}
STYLES = {
    "broadcast": ["-g", "25", "-keyint_min", "25", "-sc_threshold", "0"],
    "web": [],
}


def edge_frames(video: Path) -> tuple[np.ndarray, np.ndarray]:
    """First and last frame of a clip of the set, RGB at the set's size (``visible_change`` wants it)."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3)
    return frames[0], frames[-1]


def joined_truth(clips: list[tuple[Path, GroundTruth]]) -> GroundTruth:
    """One truth for the clips played back to back."""
    boundaries: list[TrueBoundary] = []
    negatives: list = []
    labels: list = []
    offset = 0
    previous_last = None
    for video, truth in clips:
        first, last = edge_frames(video)
        if previous_last is not None and visible_change(previous_last, first) >= VISIBLE:
            boundaries.append(TrueBoundary(kind="cut", start=offset, end=offset))
        boundaries += [dataclasses.replace(b, start=b.start + offset, end=b.end + offset) for b in truth.boundaries]
        negatives += [(kind, a + offset, b + offset) for kind, a, b in truth.negatives]
        labels += [(label, a + offset, b + offset) for label, a, b in truth.labels]
        offset += truth.frame_count
        previous_last = last
    w, h = clips[0][1].width, clips[0][1].height
    return GroundTruth(fps=clips[0][1].fps, frame_count=offset, width=w, height=h,
                       boundaries=boundaries, negatives=negatives, labels=labels)


def encode(clips: list[Path], out: Path, size: tuple[int, int], style: list[str], frames: int) -> None:
    listing = out.with_suffix(".txt")
    listing.write_text("".join(f"file '{p.resolve()}'\n" for p in clips))
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
                    "-frames:v", str(frames), "-vf", f"scale={size[0]}:{size[1]}:flags=bicubic",
                    "-c:v", "libx264", "-preset", "fast", "-crf", "20", "-pix_fmt", "yuv420p", *style,
                    "-an", str(out)], check=True)
    listing.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--realset", type=Path, default=Path("bench_out/realset"))
    parser.add_argument("--out", type=Path, default=Path("bench_out/speedset"))
    parser.add_argument("--sizes", default=",".join(SIZES), help=f"any of {', '.join(SIZES)}")
    parser.add_argument("--styles", default=",".join(STYLES), help=f"any of {', '.join(STYLES)}")
    parser.add_argument("--seconds", type=float, default=None, help="keep only the first SECONDS (all by default)")
    parser.add_argument("--group", default=None,
                        help="join only the clips of this group of the set (e.g. real-negatives: long unedited takes)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    names = [c["name"] for c in json.loads((args.realset / "manifest.json").read_text())["clips"]
             if args.group is None or c["group"] == args.group]
    clips = [(args.realset / f"{n}.mp4", GroundTruth.load(args.realset / f"{n}.truth.json")) for n in names]
    truth = joined_truth(clips)
    if args.seconds:
        keep = min(truth.frame_count, int(round(args.seconds * truth.fps)))
        truth = dataclasses.replace(
            truth, frame_count=keep,
            boundaries=[b for b in truth.boundaries if b.end < keep],
            negatives=[(k, a, min(b, keep)) for k, a, b in truth.negatives if a < keep],
            labels=[(k, a, min(b, keep)) for k, a, b in truth.labels if a < keep])
    for size_name in args.sizes.split(","):
        for style_name in args.styles.split(","):
            out = args.out / (f"real_{size_name}_{style_name}" + (f"_{args.group}" if args.group else "") + ".mp4")
            if not out.exists():
                print(f"encoding {out} ...", file=sys.stderr)
                encode([p for p, _ in clips], out, SIZES[size_name], STYLES[style_name], truth.frame_count)
            w, h = SIZES[size_name]
            dataclasses.replace(truth, width=w, height=h).save(out.with_suffix(".truth.json"))
    print(f"{truth.frame_count} frames, {len(truth.boundaries)} boundaries per file, in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
