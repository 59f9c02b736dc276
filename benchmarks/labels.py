"""Few-shot labelling accuracy on generated sports broadcasts (weight-free embedder, offline).

    python benchmarks/labels.py [--videos 5] [--minutes 2]

For each broadcast (a different seed each), examples are drawn from *other* seeds of the same
looks; prints the share of the duration labelled right and each label's total against the
truth, for scene mode and per-frame mode. A benchmark: nothing asserts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vidscan.classification import classify  # noqa: E402
from vidscan.options import LabellingSpec  # noqa: E402
from vidscan.synth import GroundTruth, render  # noqa: E402
from vidscan.synth.corpus import broadcast_program, write_examples  # noqa: E402


def labelled_share(timeline, truth: GroundTruth) -> float:
    predicted = np.empty(truth.frame_count, object)
    for seg in timeline.segments:
        predicted[seg.start_frame : seg.end_frame] = seg.label
    return sum(int((predicted[a:b] == label).sum()) for label, a, b in truth.labels) / truth.frame_count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="bench_out")
    parser.add_argument("--videos", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=2.0)
    args = parser.parse_args(argv)
    folder = Path(args.out) / "labels"
    examples = folder / "examples"
    if not examples.exists():
        write_examples(examples, per_label=8)
    rows = []
    for seed in range(args.videos):
        video = folder / f"broadcast{seed}.mp4"
        truth_path = folder / f"broadcast{seed}.truth.json"
        truth = GroundTruth.load(truth_path) if video.exists() and truth_path.exists() else render(
            broadcast_program(seed=100 + seed, minutes=args.minutes), video, truth_path=truth_path)
        for mode in ("scenes", "per-frame"):
            t = time.perf_counter()
            result = classify(video, examples=examples, labelling=LabellingSpec(per_frame=mode == "per-frame"),
                              sampling="fps:5" if mode == "per-frame" else None)
            totals = result.totals.set_index("label")["seconds"].to_dict()
            errors = {k: round(totals.get(k, 0.0) - v, 2) for k, v in truth.label_seconds().items()}
            rows.append({"video": video.name, "mode": mode, "duration_s": truth.duration_s, "accuracy": round(labelled_share(result.timeline, truth), 4),
                         "total_error_s": errors, "seconds": round(time.perf_counter() - t, 2)})
            print(f"{video.name:16s} {mode:9s} labelled right {100 * rows[-1]['accuracy']:.1f}%  total errors (s) {errors}")
    for mode in ("scenes", "per-frame"):
        sel = [r for r in rows if r["mode"] == mode]
        acc = sum(r["accuracy"] * r["duration_s"] for r in sel) / sum(r["duration_s"] for r in sel)
        worst = max(abs(e) for r in sel for e in r["total_error_s"].values())
        print(f"{mode}: duration-weighted accuracy {100 * acc:.1f}%, worst per-label total error {worst:.2f} s")
    (Path(args.out) / "labels.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
