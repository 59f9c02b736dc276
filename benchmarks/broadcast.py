"""Ad, game and commentary time on synthetic broadcasts with sound, against Comskip, same run.

    python benchmarks/broadcast.py --out /tmp/bcast [--minutes 10] [--per-group 2] [--size 320x180]

Renders broadcasts (vidscan.synth.broadcast: programme blocks of studio commentary and game,
ad breaks of 10/15/20/30 s spots, a station logo during programme only, speech / crowd /
music sound) in three groups, ``black`` (black frames + silence at every break and spot edge),
``none`` (modern playout: straight cuts, no separators) and ``hard`` (no separators, no
station logo, ads no louder than the programme), then per file:

* Comskip (Debian's ``comskip``, default settings; benchmarks/comskip_peer.py);
* ``vidscan breaks`` with every cue, and with cue families left out (the ablation);
* ``vidscan classify --config sample_configs/sports_broadcast.toml`` (ad / game /
  commentary time), with every cue and with the same ablations.

Scores: break-edge F1 within +-1 s, ad-time error in seconds per hour (|predicted - true|,
and seconds labelled wrongly), and for classify each label's time error as a share of the
runtime. Decoding is shared between variants through vidscan's cache (--out/cache), so the
timings column is the first (uncached) run of each file only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.comskip_peer import ad_time_error, break_edge_f1, run_comskip  # noqa: E402
from vidscan.broadcast.breaks import CUE_FAMILIES  # noqa: E402
from vidscan.broadcast.table import find_ad_breaks  # noqa: E402
from vidscan.cache import EmbeddingCache  # noqa: E402
from vidscan.classification import classify  # noqa: E402
from vidscan.synth.broadcast import BroadcastTruth, broadcast_plan, render_broadcast  # noqa: E402

CONFIG = Path(__file__).resolve().parent.parent / "sample_configs" / "sports_broadcast.toml"
LABELS = ("ad", "game", "commentary")
#: Variant name -> (cue families the break finder reads, whether the sound is read at all: the
#: labels' speech and crowd cues need it even where the break finder ignores it).
VARIANTS: dict[str, tuple[tuple[str, ...], bool]] = {
    "all cues": (CUE_FAMILIES, True),
    "no sound": (CUE_FAMILIES, False),
    "no logo": (tuple(f for f in CUE_FAMILIES if f != "logo"), True),
    "no separators": (tuple(f for f in CUE_FAMILIES if f not in ("separators", "structure")), True),
    "logo only": (("logo", "cuts"), True),
    # A channel without a logo whose ads are loudness-normalised (EBU R128): music, the voice
    # and the break structure are left.
    "no logo or loudness step": (("music", "speech", "structure", "separators", "cuts"), True),
    "sound only": (("loudness", "music", "speech", "cuts"), True),
    "separators only": (("structure", "separators", "cuts"), True),
}


#: Group -> how its broadcasts are made: black separators at every edge; none (modern
#: playout); hard: no separators, no station logo, and ads at the programme's loudness (a
#: loudness-normalised channel), so music, the voice and the pictures' rhythm are left.
GROUPS = {"black": dict(separators="black"), "none": dict(separators="none"),
          "hard": dict(separators="none", with_logo=False, ad_lufs=-23.0)}


def make_corpus(out: Path, minutes: float, per_group: int, size: tuple[int, int]) -> list[tuple[str, Path, BroadcastTruth]]:
    files = []
    for g, (group, options) in enumerate(GROUPS.items()):
        for k in range(per_group):
            path = out / f"{group}_{k}.mp4"
            truth_path = path.with_suffix(".truth.json")
            if path.exists() and truth_path.exists():
                truth = BroadcastTruth.load(truth_path)
            else:
                t = time.perf_counter()
                plan = broadcast_plan(seed=100 * g + k, minutes=minutes, width=size[0], height=size[1], **options)
                truth = render_broadcast(plan, path, truth_path=truth_path)
                print(f"rendered {path.name} ({truth.duration_s:.0f} s) in {time.perf_counter() - t:.0f} s", flush=True)
            files.append((group, path, truth))
    return files


def true_breaks(truth: BroadcastTruth) -> list[tuple[float, float]]:
    return [(b.start_s, b.end_s) for b in truth.breaks]


def score_breaks(pred: list[tuple[float, float]], truth: BroadcastTruth) -> dict:
    edges = break_edge_f1(pred, true_breaks(truth), tol_s=1.0)
    err = ad_time_error(pred, true_breaks(truth), truth.duration_s)
    return {"matched": edges.matched, "n_pred": edges.n_pred, "n_truth": edges.n_truth,
            "ad_err_s_per_h": err.abs_error_s_per_h, "wrong_s_per_h": err.wrong_s_per_h}


def label_errors(totals, truth: BroadcastTruth) -> dict[str, float]:
    """Each label's |predicted - true| time as a share of the runtime."""
    got = {row.label: float(row.seconds) for row in totals.itertuples(index=False)}
    want = truth.label_seconds()
    return {name: abs(got.get(name, 0.0) - want.get(name, 0.0)) / truth.duration_s for name in LABELS}


def micro(rows: list[dict]) -> dict:
    m = sum(r["matched"] for r in rows)
    p = sum(r["n_pred"] for r in rows)
    t = sum(r["n_truth"] for r in rows)
    prec, rec = (m / p if p else 1.0), (m / t if t else 1.0)
    return {"f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0, "precision": prec, "recall": rec,
            "ad_err_s_per_h": sum(r["ad_err_s_per_h"] for r in rows) / len(rows),
            "wrong_s_per_h": sum(r["wrong_s_per_h"] for r in rows) / len(rows)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--per-group", type=int, default=2)
    ap.add_argument("--size", default="320x180")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of: " + ", ".join(VARIANTS))
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    size = tuple(int(v) for v in args.size.split("x"))
    variants = [v.strip() for v in args.variants.split(",")]
    cache = EmbeddingCache(args.out / "cache")
    files = make_corpus(args.out, args.minutes, args.per_group, size)  # type: ignore[arg-type]
    results: list[dict] = []
    for group, path, truth in files:
        row: dict = {"file": path.name, "group": group, "duration_s": truth.duration_s, "true_breaks": len(truth.breaks)}
        comskip = run_comskip(path, args.out / "comskip" / path.stem)
        row["comskip"] = {**score_breaks(comskip.breaks, truth), "wall_s": comskip.wall_s}
        for name in variants:
            families, sound = VARIANTS[name]
            t = time.perf_counter()
            found = find_ad_breaks(path, cache=cache, cue_families=families, audio=sound)
            wall = time.perf_counter() - t
            pred = [(b["start_s"], b["end_s"]) for b in found.timeline.stats.get("breaks", [])]
            labelled = classify(path, config=CONFIG, cache=cache, cue_families=families, audio=sound,
                                labelling=_config_labelling())
            row[name] = {**score_breaks(pred, truth), "wall_s": wall, "labels": label_errors(labelled.totals, truth)}
        results.append(row)
        print(json.dumps({k: row[k] for k in ("file", "comskip", "all cues") if k in row}), flush=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    report(results, variants)
    return 0


def _config_labelling():
    """The sample config's [classify] settings, as the command would apply them."""
    from vidscan.labels.config import load_config
    from vidscan.options import LabellingSpec

    options = load_config(CONFIG).options
    return LabellingSpec().replaced(**{k: options[k] for k in ("min_confidence", "merge") if k in options})


def report(results: list[dict], variants: list[str]) -> None:
    print("\n| group | method | break-edge F1 (±1 s) | P | R | ad-time error s/h | wrongly labelled s/h | "
          "ad / game / commentary time error (% of runtime, worst file) |")
    print("|---|---|---|---|---|---|---|---|")
    for group in sorted({r["group"] for r in results}):
        rows = [r for r in results if r["group"] == group]
        for method in ["comskip", *variants]:
            m = micro([r[method] for r in rows])
            labels = ""
            if method != "comskip":
                worst = {name: max(r[method]["labels"][name] for r in rows) for name in LABELS}
                labels = " / ".join(f"{100 * worst[n]:.2f}" for n in LABELS)
            print(f"| {group} | {'Comskip' if method == 'comskip' else 'vidscan ' + method} | {m['f1']:.3f} | {m['precision']:.2f} | "
                  f"{m['recall']:.2f} | {m['ad_err_s_per_h']:.1f} | {m['wrong_s_per_h']:.1f} | {labels} |")


if __name__ == "__main__":
    raise SystemExit(main())
