"""Comskip as a peer for ad-break detection, and the two metrics breaks are scored with.

    python benchmarks/comskip_peer.py VIDEO [--workdir DIR] [--ini FILE]

Runs Debian's ``comskip`` (``apt-get install comskip``) on VIDEO and prints the breaks it
finds and how long it took. Comskip runs with its built-in defaults; those write only the
``.txt`` frame list, so unless ``--ini`` is given a one-line ini, ``output_edl=1``, turns the
``.edl`` on too (no detection setting is changed). Passing ``--ini`` always also keeps Comskip
from picking up a stray ``comskip.ini`` from the working directory.

Breaks come from the ``.edl`` (seconds from Comskip's own timestamps; it also drops Comskip's
spans of two frames or fewer, such as the one-frame "break" it writes at the end of a file),
or from the ``.txt`` (``frame / fps``) when an ini turned the ``.edl`` off.

Comskip's defaults expect broadcast lengths: a show segment shorter than
``min_show_segment_length`` (120 s) is counted as advertising, so a video under two minutes
is usually reported as one break from start to end (or, for a few seconds, none: exit code 1),
and a programme needs stretches of over two minutes between breaks to be found as programme.

Metrics (importable: ``from benchmarks.comskip_peer import break_edge_f1, ad_time_error``):

* :func:`break_edge_f1`: each break gives a start edge and an end edge; predicted edges are
  matched one-to-one to true edges of the same kind (start to start, end to end), greedily,
  closest pair first, within ``tol_s``; precision, recall and F1 over edges.
* :func:`ad_time_error`: per hour of video, ``|predicted ad seconds - true ad seconds|`` and
  the seconds labelled wrongly (ad called programme plus programme called ad).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vidscan.export.comskip import frames_to_breaks, read_comskip_edl, read_comskip_txt

Break = tuple[float, float]

#: The ini written when none is given: it only turns on the .edl output.
MINIMAL_INI = "output_edl=1\n"


class ComskipError(RuntimeError):
    """Comskip is missing, failed, or wrote nothing readable."""


@dataclass(frozen=True)
class ComskipResult:
    breaks: list[Break]              # (start_s, end_s), sorted
    wall_s: float                    # comskip's run, wall clock
    txt_path: Path | None            # Comskip's .txt frame list (None if it wrote none)
    edl_path: Path | None            # Comskip's .edl (None if it wrote none)
    frame_pairs: list[tuple[int, int]] = field(default_factory=list)  # the .txt's pairs
    fps: float | None = None         # the .txt header's rate
    returncode: int = 0              # 0: breaks found, 1: none found
    log: str = ""                    # comskip's stdout and stderr


def comskip_exe() -> str:
    """The path of ``comskip``; :class:`ComskipError` with how to install it if it is missing."""
    exe = shutil.which("comskip")
    if exe is None:
        raise ComskipError("comskip is not installed (Debian/Ubuntu: apt-get install comskip)")
    return exe


def run_comskip(video: str | Path, workdir: str | Path, *, ini: str | Path | None = None, timeout_s: float | None = None) -> ComskipResult:
    """Run ``comskip`` on ``video``, its outputs going to ``workdir`` (created if missing).

    ``ini``: a Comskip ini to use; without one, :data:`MINIMAL_INI` is written to
    ``workdir/comskip.ini`` (defaults plus the ``.edl``). Exit code 0 means breaks were
    found, 1 none; anything else raises :class:`ComskipError`.
    """
    exe = comskip_exe()
    video = Path(video).resolve()
    if not video.is_file():
        raise ComskipError(f"no such video: {video}")
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if ini is None:
        ini_path = workdir / "comskip.ini"
        ini_path.write_text(MINIMAL_INI, encoding="utf-8")
    else:
        ini_path = Path(ini).resolve()
    base = workdir / video.stem
    for old in (base.with_suffix(".txt"), base.with_suffix(".edl")):
        old.unlink(missing_ok=True)  # never report an earlier run's files
    cmd = [exe, f"--ini={ini_path}", f"--output={workdir}", str(video)]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, check=False, cwd=workdir, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace", timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise ComskipError(f"comskip ran past {timeout_s} s on {video}") from exc
    wall = time.perf_counter() - start
    log = (proc.stdout or "") + (proc.stderr or "")
    if proc.returncode not in (0, 1):
        raise ComskipError(f"comskip failed (exit {proc.returncode}) on {video}:\n{log[-2000:]}")
    txt = base.with_suffix(".txt")
    edl = base.with_suffix(".edl")
    txt_path = txt if txt.is_file() else None
    edl_path = edl if edl.is_file() else None
    pairs, fps = read_comskip_txt(txt_path) if txt_path else ([], None)
    if edl_path is not None:
        breaks = read_comskip_edl(edl_path)
    elif txt_path is not None and fps:
        breaks = [b for (s, e), b in zip(pairs, frames_to_breaks(pairs, fps)) if e - s > 2]
    else:
        raise ComskipError(f"comskip wrote neither {txt.name} nor {edl.name} in {workdir}:\n{log[-2000:]}")
    return ComskipResult(sorted(breaks), wall, txt_path, edl_path, pairs, fps, proc.returncode, log)


# -- metrics ------------------------------------------------------------------------------

@dataclass(frozen=True)
class EdgeScore:
    matched: int
    n_pred: int      # predicted edges (2 per break)
    n_truth: int     # true edges (2 per break)

    @property
    def precision(self) -> float:
        return self.matched / self.n_pred if self.n_pred else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.n_truth if self.n_truth else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def break_edge_f1(pred: Sequence[Break], truth: Sequence[Break], tol_s: float = 1.0) -> EdgeScore:
    """Score break edges: a start matches only a start, an end only an end; pairs within
    ``tol_s`` (inclusive) are taken closest first, each edge used once. With nothing
    predicted precision is 1, with nothing true recall is 1 (as :class:`vidscan.evaluate.Score`)."""
    matched = 0
    for k in (0, 1):  # 0: start edges, 1: end edges
        p = [float(b[k]) for b in pred]
        t = [float(b[k]) for b in truth]
        pairs = sorted((abs(a - b), i, j) for i, a in enumerate(p) for j, b in enumerate(t) if abs(a - b) <= tol_s)
        used_p: set[int] = set()
        used_t: set[int] = set()
        for _, i, j in pairs:
            if i not in used_p and j not in used_t:
                used_p.add(i)
                used_t.add(j)
                matched += 1
    return EdgeScore(matched, 2 * len(pred), 2 * len(truth))


@dataclass(frozen=True)
class AdTimeError:
    pred_ad_s: float            # predicted ad seconds (overlaps merged, clipped to the video)
    true_ad_s: float
    abs_error_s_per_h: float    # |pred_ad_s - true_ad_s| per hour of video
    wrong_s_per_h: float        # seconds labelled wrongly (either way) per hour of video
    missed_s: float             # true ad seconds called programme
    false_s: float              # programme seconds called ad


def ad_time_error(pred: Sequence[Break], truth: Sequence[Break], duration_s: float) -> AdTimeError:
    """Ad-time errors of ``pred`` against ``truth`` on a video of ``duration_s`` seconds."""
    if not duration_s > 0:
        raise ValueError(f"duration_s must be > 0, got {duration_s!r}")
    p, t = _merged(pred, duration_s), _merged(truth, duration_s)
    p_s, t_s = _length(p), _length(t)
    both = _overlap(p, t)
    missed, false = t_s - both, p_s - both
    per_h = 3600.0 / duration_s
    return AdTimeError(p_s, t_s, abs(p_s - t_s) * per_h, (missed + false) * per_h, missed, false)


def _merged(spans: Sequence[Break], duration_s: float) -> list[Break]:
    clipped = sorted((max(0.0, float(s)), min(duration_s, float(e))) for s, e in spans)
    out: list[list[float]] = []
    for s, e in clipped:
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _length(spans: list[Break]) -> float:
    return sum(e - s for s, e in spans)


def _overlap(a: list[Break], b: list[Break]) -> float:
    total, i, j = 0.0, 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo:
            total += hi - lo
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run comskip on a video; print its breaks and time.")
    parser.add_argument("video", type=Path)
    parser.add_argument("--workdir", type=Path, help="keep comskip's files here (default: a temp folder, removed)")
    parser.add_argument("--ini", type=Path, help="a comskip ini (default: built-in settings plus output_edl=1)")
    args = parser.parse_args(argv)
    try:
        if args.workdir is not None:
            result = run_comskip(args.video, args.workdir, ini=args.ini)
        else:
            with tempfile.TemporaryDirectory(prefix="comskip-") as tmp:
                result = run_comskip(args.video, tmp, ini=args.ini)
    except ComskipError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"comskip: {len(result.breaks)} break(s) in {result.wall_s:.2f} s (exit {result.returncode})")
    for s, e in result.breaks:
        print(f"  {_clock(s)} - {_clock(e)}  ({e - s:.2f} s)")
    if args.workdir is not None:
        print(f"files: {result.txt_path or '-'}  {result.edl_path or '-'}")
    return 0


def _clock(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    h, m = divmod(int(m), 60)
    return f"{h:d}:{m:02d}:{s:05.2f}"


if __name__ == "__main__":
    sys.exit(main())
