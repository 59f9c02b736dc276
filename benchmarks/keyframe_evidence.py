"""How far keyframe positions and packet sizes locate cuts, without decoding (issue 17, item 2).

    python benchmarks/realset/speedset.py --realset bench_out/realset --out bench_out/speedset --styles web
    python benchmarks/keyframe_evidence.py bench_out/speedset/*_web.mp4

A keyframes-plus-candidates pass would decode only the keyframes and the GOPs holding a
candidate frame (a packet much larger than its neighbours: an intra-coded picture at a cut
that came too soon after a keyframe for the encoder to start a new GOP), and take every
other keyframe-to-keyframe stretch as one shot. For each file with ``NAME.truth.json`` (see
vidscan.bench.truth_for) this reports: how many cuts land exactly on a keyframe, how many fall
inside a GOP, and for each packet-size rule how many of those inside cuts it flags (within 2
frames), how many other frames it flags, and the share of the frames lying in flagged GOPs,
which is what such a pass would have to decode. Reads packets only (no decoding); nothing
asserts. Writes bench_out/keyframe_evidence.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vidscan.bench import truth_for  # noqa: E402

#: A non-key packet is a candidate when its size is above threshold x the median of the 8 packets before it (in decode order)...
RECENT_RULES = (1.5, 2.0, 3.0)
#: ...or above threshold x the size of its GOP's keyframe.
KEYFRAME_RULES = (0.3, 0.5, 0.7)
TOLERANCE = 2


def packets(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(display-order frame index, size, is keyframe) of every video packet, in decode order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rows = [(int(p.pts), int(p.size), bool(p.is_keyframe)) for p in container.demux(stream) if p.pts is not None and p.size > 0]
    pts = np.array([r[0] for r in rows], np.int64)
    order = np.searchsorted(np.unique(pts), pts)
    return order, np.array([r[1] for r in rows], np.float64), np.array([r[2] for r in rows], bool)


def recent_rule(sizes: np.ndarray, keys: np.ndarray, ratio: float, window: int = 8) -> np.ndarray:
    flagged = np.zeros(len(sizes), bool)
    for j in range(3, len(sizes)):
        flagged[j] = not keys[j] and sizes[j] > ratio * np.median(sizes[max(0, j - window) : j])
    return flagged


def keyframe_rule(frame_of: np.ndarray, sizes: np.ndarray, keys: np.ndarray, ratio: float) -> np.ndarray:
    by_frame = np.empty(len(sizes)); by_frame[frame_of] = sizes
    key_frames = np.sort(frame_of[keys])
    owner = key_frames[np.clip(np.searchsorted(key_frames, frame_of, side="right") - 1, 0, len(key_frames) - 1)]
    return ~keys & (sizes > ratio * by_frame[owner])


def analyse(path: Path) -> dict:
    truth = truth_for(path)
    frame_of, sizes, keys = packets(path)
    n = int(frame_of.max()) + 1
    key_frames = np.sort(frame_of[keys])
    cuts = sorted({b.start for b in truth.boundaries if b.kind == "cut"}) if truth is not None else []
    inside = [c for c in cuts if c not in set(key_frames.tolist())]
    ends = np.append(key_frames, n)

    def gop(frames: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(key_frames, frames, side="right") - 1, 0, len(key_frames) - 1)

    rules = {**{f"size > {r:g} x median of last 8": recent_rule(sizes, keys, r) for r in RECENT_RULES},
             **{f"size > {r:g} x its keyframe": keyframe_rule(frame_of, sizes, keys, r) for r in KEYFRAME_RULES}}
    out = {"file": path.name, "frames": n, "keyframes": len(key_frames), "cuts": len(cuts),
           "cuts_on_keyframes": len(cuts) - len(inside), "cuts_inside_gops": len(inside), "rules": []}
    for name, flagged in rules.items():
        at = np.sort(frame_of[flagged])
        found = sum(bool(len(at)) and bool(np.any(np.abs(at - c) <= TOLERANCE)) for c in inside)
        near_cut = np.array([bool(np.any(np.abs(np.asarray(cuts) - f) <= TOLERANCE)) for f in at], bool) if cuts else np.zeros(len(at), bool)
        flagged_gops = np.unique(gop(at))
        out["rules"].append({"rule": name, "inside_cuts_found": int(found), "other_frames_flagged": int((~near_cut).sum()),
                             "gops_flagged": len(flagged_gops), "share_decoded": round(float(sum(ends[g + 1] - ends[g] for g in flagged_gops) / n), 3)})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("bench_out"))
    args = parser.parse_args(argv)
    reports = [analyse(p) for p in args.paths]
    for r in reports:
        print(f"{r['file']}: {r['frames']} frames, {r['keyframes']} keyframes, {r['cuts']} cuts "
              f"({r['cuts_on_keyframes']} on a keyframe, {r['cuts_inside_gops']} inside a GOP)")
        for rule in r["rules"]:
            print(f"  {rule['rule']:<34} inside cuts found {rule['inside_cuts_found']:>3}/{r['cuts_inside_gops']:<3} "
                  f"other frames flagged {rule['other_frames_flagged']:>5}  GOPs flagged {rule['gops_flagged']:>4}/{r['keyframes']:<4} "
                  f"decoded {rule['share_decoded']:.0%}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "keyframe_evidence.json").write_text(json.dumps(reports, indent=1))
    print(f"wrote {args.out / 'keyframe_evidence.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
