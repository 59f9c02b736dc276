"""Shot-boundary accuracy on a generated corpus: vidscan against PySceneDetect, one run.

    pip install -e ".[bench]" && python benchmarks/accuracy.py [--out bench_out] [--videos-per-group 3]
    python benchmarks/accuracy.py --gop 25 --detectors vidscan,vidscan-coarse   # coarse-to-fine F1 change

Builds (once, then reuses) a synthetic corpus with exact ground truth, in four groups:
hard cuts, gradual transitions (dissolves, dips to black, wipes), negatives (flashes, fast
pans, objects sweeping through the frame, zooms, busy automata) and a sports-broadcast mix.
Every detector runs on the same files in the same process; boundaries are scored one-to-one
at +-2 frames (a gradual transition matches anywhere inside it), micro-averaged per group.
Prints a table and writes bench_out/accuracy.json. This is a benchmark, not a test: nothing
here asserts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vidscan.evaluate import Score, match_boundaries  # noqa: E402
from vidscan.synth import GroundTruth, render  # noqa: E402
from vidscan.synth.corpus import accuracy_programs  # noqa: E402

Detector = Callable[[Path], list[int]]


def build_corpus(folder: Path, videos_per_group: int, size: tuple[int, int], gop: int | None = None) -> list[tuple[str, Path, GroundTruth]]:
    """Render the corpus into ``folder`` (skipping files already there); ``gop`` fixes the
    keyframe interval as broadcast encoders do (no keyframes at cuts)."""
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for group, programs in accuracy_programs(width=size[0], height=size[1], videos_per_group=videos_per_group).items():
        for i, program in enumerate(programs):
            video, truth_file = folder / f"{group}{i}.mp4", folder / f"{group}{i}.truth.json"
            if video.exists() and truth_file.exists():
                truth = GroundTruth.load(truth_file)
            else:
                truth = render(program, video, truth_path=truth_file, gop=gop)
            items.append((group, video, truth))
    return items


def real_items(folder: Path) -> list[tuple[str, Path, GroundTruth]]:
    """The real-footage development set built by benchmarks/realset/build.py: every
    ``NAME.mp4`` with its ``NAME.truth.json``, grouped by the set's manifest.json (group
    ``real`` when a clip is not listed)."""
    manifest = folder / "manifest.json"
    groups: dict[str, str] = {}
    if manifest.exists():
        raw = json.loads(manifest.read_text())
        for clip in raw.get("clips", raw) if isinstance(raw, dict) else raw:
            groups[clip["name"]] = clip["group"]
    items = []
    for truth_file in sorted(folder.glob("*.truth.json")):
        name = truth_file.name[: -len(".truth.json")]
        video = folder / f"{name}.mp4"
        if video.exists():
            items.append((groups.get(name, "real"), video, GroundTruth.load(truth_file)))
    return items


def vidscan_detector(**options) -> Detector:
    import vidscan

    def detect(path: Path) -> list[int]:
        timeline = vidscan.detect_scenes(path, **options)
        return [s.start_frame for s in timeline.segments[1:]]

    return detect


def pyscenedetect_detector(kind: str = "adaptive") -> Detector:
    from scenedetect import AdaptiveDetector, ContentDetector, detect

    factory = {"adaptive": AdaptiveDetector, "content": ContentDetector}[kind]

    def run(path: Path) -> list[int]:
        scenes = detect(str(path), factory())
        return [start.frame_num for start, _ in scenes[1:]]

    return run


def available_detectors() -> dict[str, Callable[[], Detector]]:
    """Name -> factory; extend here to compare more detectors."""
    return {
        "vidscan": lambda: vidscan_detector(),
        "vidscan-kernel": lambda: vidscan_detector(detector="kernel"),
        "vidscan-full": lambda: vidscan_detector(decode="full"),
        "vidscan-coarse": lambda: vidscan_detector(decode="coarse"),
        "vidscan-combined": lambda: vidscan_detector(detector="combined"),
        "transnetv2": lambda: vidscan_detector(detector="transnetv2"),
        "pyscenedetect-adaptive": lambda: pyscenedetect_detector("adaptive"),
        "pyscenedetect-content": lambda: pyscenedetect_detector("content"),
    }


def evaluate(items, detectors: dict[str, Detector]) -> dict:
    results: dict = {}
    for name, detect in detectors.items():
        per_group: dict[str, Score] = {}
        seconds = frames = 0.0
        for group, video, truth in items:
            t = time.perf_counter()
            found = detect(video)
            seconds += time.perf_counter() - t
            frames += truth.frame_count
            score = match_boundaries(found, [(b.start, b.end) for b in truth.boundaries], tolerance=2)
            per_group[group] = per_group.get(group, Score()) + score
        total = sum(per_group.values(), Score())
        families = {family: sum((s for g, s in per_group.items() if _family(g) == family), Score())
                    for family in dict.fromkeys(_family(g) for g in per_group)}
        results[name] = {
            "groups": {g: _score_dict(s) for g, s in per_group.items()},
            "families": {f: _score_dict(s) for f, s in families.items()},
            "all": _score_dict(total),
            "seconds": round(seconds, 3),
            "frames_per_second": round(frames / seconds, 1) if seconds else None,
        }
    return results


def scene_level(videos) -> dict:
    """Scene-level scores on broadcasts whose true scenes are the programme blocks (studio,
    game, ad break): boundary F1 at +-1 s, and the share of the duration that lies in the
    right scene (purity: each predicted scene credited with its main true scene; coverage:
    each true scene credited with its main predicted scene)."""
    import numpy as np

    import vidscan

    out = {}
    for name, kwargs in (("vidscan scenes (colour)", {}), ("vidscan classify scenes (few-shot labels)", {"classify": True})):
        total, purity, coverage, weight = Score(), 0.0, 0.0, 0
        for video, truth in videos:
            if kwargs.get("classify"):
                from vidscan.synth.corpus import write_examples

                examples = video.parent / "examples"
                if not examples.exists():
                    write_examples(examples)
                timeline = vidscan.classify(video, examples=examples).timeline
            else:
                timeline = vidscan.detect_scenes(video, level="scene")
            spans = [(s.start_frame, s.end_frame) for s in timeline.segments]
            total = total + match_boundaries([a for a, _ in spans[1:]], [(a, a) for _, a, _ in truth.labels[1:]], tolerance=truth.fps)
            true_id = np.empty(truth.frame_count, int)
            for k, (_, a, b) in enumerate(truth.labels):
                true_id[a:b] = k
            pred_id = np.empty(truth.frame_count, int)
            for k, (a, b) in enumerate(spans):
                pred_id[a:b] = k
            purity += sum(np.bincount(true_id[a:b]).max() for a, b in spans if b > a)
            coverage += sum(np.bincount(pred_id[a:b]).max() for _, a, b in truth.labels if b > a)
            weight += truth.frame_count
        out[name] = {"boundary_f1_1s": round(total.f1, 4), "purity": round(purity / weight, 4), "coverage": round(coverage / weight, 4)}
    return out


def _family(group: str) -> str:
    """``real`` for the real-footage groups, ``synthetic`` for the generated corpus."""
    return "real" if group.startswith("real") else "synthetic"


def _score_dict(s: Score) -> dict:
    return {"tp": s.tp, "fp": s.fp, "fn": s.fn, "precision": round(s.precision, 4), "recall": round(s.recall, 4), "f1": round(s.f1, 4)}


def print_table(results: dict, items) -> None:
    from rich.console import Console
    from rich.table import Table

    groups = list(dict.fromkeys(g for g, _, _ in items))
    counts = {g: sum(len(t.boundaries) for gg, _, t in items if gg == g) for g in groups}
    table = Table(title="Shot-boundary F1 at +-2 frames (precision / recall in the last columns)")
    table.add_column("detector")
    for g in groups:
        table.add_column(f"{g} ({counts[g]})", justify="right")
    families = list(dict.fromkeys(_family(g) for g in groups))
    for f in families:
        table.add_column(f"{f} F1 (P/R)", justify="right")
    table.add_column("frames/s", justify="right")
    for name, r in results.items():
        fam = [f"{r['families'][f]['f1']:.3f} ({r['families'][f]['precision']:.2f}/{r['families'][f]['recall']:.2f})" for f in families]
        cells = [f"{r['groups'][g]['f1']:.3f}" if counts[g] else f"{r['groups'][g]['fp']} FP" for g in groups]
        table.add_row(name, *cells, *fam, f"{r['frames_per_second']:.0f}")
    Console(width=160).print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="bench_out", help="folder for the corpus and results")
    parser.add_argument("--videos-per-group", type=int, default=3)
    parser.add_argument("--size", default="320x180", help="frame size of the corpus, WxH")
    parser.add_argument("--detectors", default="vidscan,vidscan-combined,transnetv2,pyscenedetect-adaptive,pyscenedetect-content")
    parser.add_argument("--scenes", action="store_true", help="also score the scene level on the broadcast group")
    parser.add_argument("--real", default=None, metavar="DIR",
                        help="also score the real-footage set in DIR (python benchmarks/realset/build.py --out DIR builds it)")
    parser.add_argument("--only-real", action="store_true", help="score the real-footage set only (needs --real)")
    parser.add_argument("--gop", type=int, default=None,
                        help="encode the corpus with this fixed keyframe interval (e.g. 25: broadcast-style, for vidscan-coarse)")
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.split("x"))
    out = Path(args.out)
    folder = out / (f"corpus-{args.size}" + (f"-gop{args.gop}" if args.gop else ""))
    items = [] if args.only_real else build_corpus(folder, args.videos_per_group, size, gop=args.gop)  # type: ignore[arg-type]
    if args.real:
        items = real_items(Path(args.real)) + items
    factories = available_detectors()
    chosen = {name: factories[name]() for name in args.detectors.split(",")}
    results = evaluate(items, chosen)
    print_table(results, items)
    payload = {"corpus": {"videos": len(items), "frames": sum(t.frame_count for _, _, t in items), "size": args.size, "gop": args.gop},
               "results": results}
    if args.scenes:
        payload["scenes"] = scene_level([(v, t) for g, v, t in items if g == "broadcast"])
        print("scene level on the broadcast group:", json.dumps(payload["scenes"]))
    result_file = out / ("accuracy.json" if not args.gop else f"accuracy-gop{args.gop}.json")
    out.mkdir(parents=True, exist_ok=True)
    result_file.write_text(json.dumps(payload, indent=2))
    print(f"wrote {result_file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
