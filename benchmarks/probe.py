"""Few-shot soft nearest neighbour vs a linear probe trained on the same examples (weight-free embedder, offline).

    python benchmarks/probe.py [--videos 6] [--minutes 1] [--per-label 8]

Two groups, scored in the same run:

* ``synthetic``: generated sports broadcasts (ad / game / commentary, exact truth per frame);
  the examples are frames of the same looks drawn with other seeds (``write_examples``), as
  in ``benchmarks/labels.py``.
* ``real``: the real recordings in ``benchmarks/realset/sources`` in three labels (sport,
  sign language, everyday scenes), leave-one-recording-out: the examples are frames of the
  other recordings, the test is every sampled frame of the one left out, so a label must be
  recognised in a recording never seen.

For each: the share of sampled frames labelled right, and the per-label total error (the
sum over labels of |predicted seconds - true seconds|, as a share of the runtime: what a
totals table would get wrong). Also the probe's fit time, and the time to score 100k frames.
A benchmark: nothing asserts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vidscan.embed.registry import create_embedder  # noqa: E402
from vidscan.extract import embed_video  # noqa: E402
from vidscan.labels.examples import embed_examples  # noqa: E402
from vidscan.labels.probe import fit_probe  # noqa: E402
from vidscan.options import PROBE_C  # noqa: E402
from vidscan.labels.scoring import LabelScorer  # noqa: E402
from vidscan.synth import GroundTruth, render  # noqa: E402
from vidscan.synth.corpus import broadcast_program, write_examples  # noqa: E402
from vidscan.video import Sampling  # noqa: E402

SOURCES = Path(__file__).resolve().parent / "realset" / "sources"
REAL_LABELS = {
    "sport": ("armwrestling", "basketball", "pool"),
    "signing": ("asl_book", "asl_sister", "asl_walk"),
    "everyday": ("bottles", "cars", "makeup", "pancake", "person", "two_people"),
}
SAMPLING = Sampling.per_second(5.0)


def scores(truth: list[str], predicted: list[str], names: list[str]) -> tuple[float, float]:
    """(share of samples right, per-label total error as a share of the samples)."""
    t, p = np.array(truth), np.array(predicted)
    total_error = sum(abs(int((p == n).sum()) - int((t == n).sum())) for n in names) / 2
    return float((t == p).mean()), total_error / len(t)


def methods(examples: dict[str, np.ndarray], names: list[str], embedder, c: float) -> dict[str, object]:
    """The two labellers built from the same examples."""
    few = LabelScorer(names, examples=examples, example_scale=getattr(embedder, "example_scale", 20.0))
    vectors = np.concatenate([examples[n] for n in names])
    labels = [n for n in names for _ in range(len(examples[n]))]
    t0 = time.perf_counter()
    probe = fit_probe(vectors, labels, names=names, embedder=embedder.describe(), c=c, folds=2)
    fit_s = time.perf_counter() - t0
    return {"few-shot": few, f"probe C={c:g}": probe, "_fit_s": fit_s}


def predict(scorer, vectors: np.ndarray, names: list[str]) -> list[str]:
    return [names[i] for i in np.argmax(scorer.log_probs(vectors), axis=1)]


def synthetic(out: Path, videos: int, minutes: float, per_label: int, cs: list[float], embedder) -> dict[str, list[tuple[float, float]]]:
    import shutil

    shutil.rmtree(out / "examples", ignore_errors=True)  # a larger earlier run's extra images would stay otherwise
    write_examples(out / "examples", per_label=per_label)
    names = ["ad", "commentary", "game"]
    examples = {n: embed_examples(out / "examples" / n, embedder, n) for n in names}
    results: dict[str, list[tuple[float, float]]] = {}
    for v in range(videos):
        path = out / f"broadcast{v}.mp4"
        if not path.exists():
            render(broadcast_program(seed=500 + v, minutes=minutes, width=320, height=180), path, truth_path=path.with_suffix(".truth.json"))
        truth = GroundTruth.load(path.with_suffix(".truth.json"))
        video = embed_video(path, embedder, SAMPLING)
        by_frame = np.empty(truth.frame_count, object)
        for label, a, b in truth.labels:
            by_frame[a:b] = label
        want = [str(by_frame[i]) for i in video.indices]
        for c in cs:
            for name, scorer in methods(examples, names, embedder, c).items():
                if not name.startswith("_"):
                    results.setdefault(name, []).append(scores(want, predict(scorer, video.embeddings, names), names))
    return results


def real(per_label: int, cs: list[float], embedder) -> dict[str, list[tuple[float, float]]]:
    names = list(REAL_LABELS)
    label_of = {rec: label for label, recs in REAL_LABELS.items() for rec in recs}
    frames = {rec: embed_video(SOURCES / f"{rec}.mp4", embedder, SAMPLING).embeddings for rec in label_of}
    results: dict[str, list[tuple[float, float]]] = {}
    for held in label_of:
        examples: dict[str, list[np.ndarray]] = {n: [] for n in names}
        for rec, vecs in frames.items():
            if rec != held:  # per_label frames spread over each label's recordings, evenly in time
                share = max(1, per_label // len([r for r in REAL_LABELS[label_of[rec]] if r != held]))
                examples[label_of[rec]].append(vecs[np.linspace(0, len(vecs) - 1, share).round().astype(int)])
        stacked = {n: np.concatenate(v) for n, v in examples.items()}
        want = [label_of[held]] * len(frames[held])
        for c in cs:
            for name, scorer in methods(stacked, names, embedder, c).items():
                if not name.startswith("_"):
                    results.setdefault(name, []).append(scores(want, predict(scorer, frames[held], names), names))
    return results


def scale_timing(out: Path, n: int, embedder) -> None:
    """Training and scoring time at ``n`` labelled frames: every frame of the generated
    broadcasts, drawn with replacement up to ``n`` and jittered slightly (the time depends on
    the number and size of the vectors, not on how many distinct frames there are)."""
    vectors, labels = [], []
    for path in sorted(out.glob("broadcast*.mp4")):
        truth = GroundTruth.load(path.with_suffix(".truth.json"))
        video = embed_video(path, embedder, Sampling.all_frames())
        by_frame = np.empty(truth.frame_count, object)
        for label, a, b in truth.labels:
            by_frame[a:b] = label
        vectors.append(video.embeddings)
        labels += [str(by_frame[i]) for i in video.indices]
    x, y = np.concatenate(vectors), np.array(labels)
    rng = np.random.default_rng(0)
    pick = rng.integers(0, len(x), n)
    xs = x[pick] + rng.normal(scale=0.01, size=(n, x.shape[1])).astype(np.float32)
    groups = [f"v{i % 20}" for i in range(n)]
    t0 = time.perf_counter()
    probe = fit_probe(xs, y[pick].tolist(), groups=groups, embedder=embedder.describe())
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    probe.log_probs(xs)
    print(f"probe at {n:,} labelled frames: train {fit_s:.1f} s (5-fold cv, calibration, fit; cv accuracy "
          f"{probe.report.accuracy:.3f}), score {time.perf_counter() - t0:.3f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="bench_out/probe")
    parser.add_argument("--videos", type=int, default=6)
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--per-label", type=int, default=8)
    parser.add_argument("--c", type=float, nargs="+", default=[1.0, 10.0, 100.0])
    parser.add_argument("--scale", type=int, nargs="*", default=[10_000, 100_000],
                        help="also time training (5-fold cv + calibration + fit) and scoring at these numbers of labelled frames")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    embedder = create_embedder("features")
    groups = {"synthetic": synthetic(out, args.videos, args.minutes, args.per_label, args.c, embedder),
              "real": real(args.per_label * 3, args.c, embedder)}
    print(f"{'group':10} {'method':16} {'accuracy':>9} {'total err':>10}  (mean over {args.videos} broadcasts / 12 held-out recordings)")
    for group, results in groups.items():
        for name, rows in results.items():
            acc, err = np.mean(rows, axis=0)
            print(f"{group:10} {name:16} {100 * acc:8.1f}% {100 * err:9.1f}%")
    for n in args.scale:
        scale_timing(out, n, embedder)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100_000, embedder.dim)).astype(np.float32)
    ex = {n: rng.normal(size=(args.per_label, embedder.dim)).astype(np.float32) for n in ("a", "b", "c")}
    built = methods(ex, ["a", "b", "c"], embedder, PROBE_C)
    for name in ("few-shot", f"probe C={PROBE_C:g}"):
        t0 = time.perf_counter()
        built[name].log_probs(x)
        print(f"scoring 100k frames: {name} {time.perf_counter() - t0:.3f} s")
    print(f"probe fit on {3 * args.per_label} examples (with 2-fold cv): {built['_fit_s']:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
