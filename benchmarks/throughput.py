"""Throughput on broadcast-like 1080p video: vidscan's paths against PySceneDetect, one run.

    pip install -e ".[bench]" && python benchmarks/throughput.py            # generates the video
    python benchmarks/throughput.py PATH...  [--methods ...]                  # your own files

Without PATH it renders (once) a 5-minute 1080p 25 fps H.264 synthetic sports broadcast with a
fixed 1-second GOP (as broadcast encoders do; ``--gop``, ``--minutes``, ``--seed`` change it)
plus its ground truth, then times every method
on it in separate processes: per-stage seconds, frames/s, x realtime, peak RSS, GPU memory
when there is a GPU, the speed ratio to PySceneDetect detect-adaptive and both F1 figures.
Writes bench_out/throughput.json. A benchmark: nothing asserts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vidscan.bench import METHODS, benchmark, print_report, save  # noqa: E402


def default_video(out: Path, minutes: float, size: tuple[int, int], gop: int = 25, seed: int = 21) -> Path:
    from vidscan.synth import render
    from vidscan.synth.corpus import broadcast_program

    name = f"broadcast{size[1]}_{minutes:g}min_gop{gop}" + (f"_seed{seed}" if seed != 21 else "")
    path = out / f"{name}.mp4"
    if not path.exists():
        print(f"rendering {path} (once; minutes at 1080p) ...", file=sys.stderr)
        render(broadcast_program(seed=seed, minutes=minutes, width=size[0], height=size[1]), path, gop=gop,
               truth_path=path.with_suffix(".truth.json"))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=Path("bench_out"))
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--gop", type=int, default=25, help="keyframe interval of the generated video (frames)")
    parser.add_argument("--seed", type=int, default=21, help="seed of the generated programme")
    parser.add_argument("--methods", default="scenes,scenes-coarse,clip-2fps,classify,classify-coarse,pyscenedetect")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    size = tuple(int(v) for v in args.size.split("x"))
    paths = args.paths or [default_video(args.out, args.minutes, size, args.gop, args.seed)]  # type: ignore[arg-type]
    methods = [m for m in args.methods.split(",") if m in METHODS]
    report = benchmark(paths, methods, args.device, log=lambda m: print(m, file=sys.stderr))
    print_report(report)
    save(report, args.out / "throughput.json")
    print(f"wrote {args.out / 'throughput.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
