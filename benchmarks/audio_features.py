"""Sound features (vidscan.broadcast.audio): speed, class separation, and loudness against ffmpeg.

    python benchmarks/audio_features.py [--out /tmp/audiobench] [--minutes 10] [--seconds 30]

1. **Speed**: read_audio_features on a generated ``--minutes`` long AAC file (a mix of the
   classes below), as a realtime factor (seconds of sound per second of wall time).
2. **Separation**: ``--seconds`` of each class, mixed in numpy at 48 kHz and coded as AAC, as
   the synthetic broadcasts are (vidscan.synth.broadcast): ``speech`` (espeak-ng, pauses of
   0.2-0.7 s), ``crowd`` (the generator's crowd, and ffmpeg's pink ``anoisesrc`` with a slow
   swell), ``crowd+speech`` (speech 2 (the broadcast generator's level), 6 and 12 dB under the crowd's loudness), ``music`` (the
   generator's music beds, and a chord bed built from ffmpeg sines), ``music+speech``
   (a voice-over), ``silence``. Per class: the mean speech / music / noise score, and the
   share of hops whose scores say the right thing (each expected cue >= 0.5, each absent
   cue < 0.5), measured on the hops at least 1 s from the file's edges.
3. **Loudness**: momentary and short-term loudness against ffmpeg's ``ebur128`` filter
   (the median and 95th percentile of |difference| over the audible hops), and the file's
   integrated loudness against pyloudnorm when it is installed.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vidscan.broadcast.audio import read_audio_features  # noqa: E402
from vidscan.ffmpeg_bin import ffmpeg_exe  # noqa: E402
from vidscan.synth import broadcast as synth  # noqa: E402

SR = 48000
#: Class -> the cues that must read high (the others must read low).
EXPECTED = {
    "speech": {"speech"},
    "crowd": {"noise"},
    "crowd+speech": {"noise", "speech"},
    "music": {"music"},
    "music+speech": {"music", "speech"},
    "silence": set(),
}
CUES = ("speech", "music", "noise")


def ffmpeg_source(spec: str, seconds: float) -> np.ndarray:
    """``seconds`` of an ffmpeg lavfi audio source (with filters) as mono float64 at 48 kHz."""
    done = subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", spec, "-t", str(seconds), "-ac", "1", "-ar", str(SR),
                           "-f", "f32le", "-"], capture_output=True, check=True)
    return np.frombuffer(done.stdout, "<f4").astype(np.float64)


def ffmpeg_crowd(seconds: float) -> np.ndarray:
    """Pink noise, band-limited, with a slow swell (0.1 Hz) and a faster 0.7 Hz ripple."""
    return ffmpeg_source("anoisesrc=color=pink:amplitude=0.5:seed=7,highpass=f=150,lowpass=f=6000,"
                         "volume='0.7+0.2*sin(2*PI*0.1*t)+0.1*sin(2*PI*0.7*t)':eval=frame", seconds)


def ffmpeg_music(seconds: float) -> np.ndarray:
    """A chord bed of sines with harmonics (C, F, G, A minor, a chord a second) and a 2 Hz kick."""
    chords = [(261.6, 329.6, 392.0), (349.2, 440.0, 523.3), (392.0, 493.9, 587.3), (220.0, 261.6, 329.6)]
    terms = []
    for k, freqs in enumerate(chords):
        tone = "+".join(f"{a}*sin(2*PI*{f * h}*t)" for f in freqs for h, a in ((1, 0.3), (2, 0.12), (3, 0.06)))
        terms.append(f"(eq(mod(floor(t),4),{k}))*({tone})")
    kick = "0.8*sin(2*PI*55*t)*exp(-mod(t,0.5)/0.06)"
    return ffmpeg_source(f"aevalsrc='({'+'.join(terms)})*0.5+{kick}':s={SR}", seconds)


def speech_track(n: int, seed: int, folder: Path, pauses=(0.2, 0.7), lead_s: float = 0.3) -> np.ndarray:
    speaker = synth._Speech(folder)
    voice = [("en-us", 165, 45), ("en", 175, 50), ("en-gb-x-rp", 160, 40)][seed % 3]
    return speaker.track(n, np.random.default_rng(seed), voice, synth._COMMENTARY + synth._GAME, pauses, lead_s)


def class_signals(seconds: float, folder: Path) -> dict[str, list[np.ndarray]]:
    """Each class's signals (mono, 48 kHz), at the broadcast generator's loudness targets."""
    n = int(seconds * SR)
    loud = synth._to_loudness
    crowds = [loud(synth._crowd(n, np.random.default_rng(1)), -26.0), loud(ffmpeg_crowd(seconds)[:n], -26.0)]
    musics = [loud(synth._music(n, np.random.default_rng(2)), -20.0), loud(synth._music(n, np.random.default_rng(5)), -20.0),
              loud(ffmpeg_music(seconds)[:n], -20.0)]
    out: dict[str, list[np.ndarray]] = {
        "speech": [loud(speech_track(n, 3, folder), -23.0), loud(speech_track(n, 4, folder), -23.0)],
        "crowd": crowds,
        "crowd+speech": [c + loud(speech_track(n, 6 + i, folder, (0.3, 1.0)), -26.0 - gap) for i, c in enumerate(crowds) for gap in (2.0, 6.0, 12.0)],
        "music": musics,
        "music+speech": [m + loud(speech_track(n, 9 + i, folder, (0.3, 1.0)), -21.0) for i, m in enumerate(musics)],
        "silence": [np.zeros(n)],
    }
    return out


def encode(x: np.ndarray, path: Path) -> Path:
    """``x`` as an AAC (m4a) file, as the broadcasts carry their sound."""
    wav = path.with_suffix(".wav")
    synth.write_wav(wav, np.clip(x, -1, 1), SR)
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(wav), "-c:a", "aac", "-b:a", "128k", str(path)], check=True)
    wav.unlink()
    return path


def score_hops(features, expected: set[str], edge_s: float = 1.0) -> tuple[dict[str, float], float, np.ndarray]:
    """Mean score per cue and the share of hops that are right (see the module docstring)."""
    t = features.times
    keep = (t >= t[0] + edge_s) & (t <= t[-1] - edge_s)
    means = {c: float(getattr(features, c)[keep].mean()) for c in CUES}
    right = np.ones(int(keep.sum()), bool)
    for c in CUES:
        v = getattr(features, c)[keep]
        right &= (v >= 0.5) if c in expected else (v < 0.5)
    return means, float(right.mean()), right


def ebur128(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """ffmpeg's ebur128 filter: times, momentary, short-term loudness (every 100 ms), integrated."""
    done = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128", "-f", "null", "-"],
                          capture_output=True, text=True)
    rows = re.findall(r"t:\s*([\d.]+)\s+TARGET:\S+\s+LUFS\s+M:\s*(-?inf|-?nan|-?[\d.]+)\s+S:\s*(-?inf|-?nan|-?[\d.]+)", done.stderr)
    integrated = re.findall(r"I:\s+(-?[\d.]+) LUFS", done.stderr)
    def num(v: str) -> float:
        try:
            return float(v)
        except ValueError:  # "-inf" split oddly, "nan"
            return float("-inf")

    arr = np.array([[num(a), num(b), num(c)] for a, b, c in rows]) if rows else np.zeros((0, 3))
    return arr[:, 0], arr[:, 1], arr[:, 2], float(integrated[-1]) if integrated else float("nan")


def loudness_check(path: Path) -> dict[str, float]:
    """Our momentary/short-term loudness against ebur128's at the same window ends."""
    f = read_audio_features(path)
    t, m, s, integrated = ebur128(path)
    out = {}
    for name, ours, theirs, window in (("momentary", f.loudness_m, m, 0.4), ("short-term", f.loudness_s, s, 3.0)):
        ends = f.times + f.hop_s
        idx = np.searchsorted(ends, t - 1e-6)  # ebur128's value at t covers (t - window, t]
        ok = (idx < len(ends)) & (t >= window + f.times[0]) & (theirs > -50)
        ok[ok] &= np.abs(ends[idx[ok]] - t[ok]) < 0.051
        diff = np.abs(ours[idx[ok]] - theirs[ok])
        out[f"{name} median |d| LU"] = float(np.median(diff))
        out[f"{name} p95 |d| LU"] = float(np.percentile(diff, 95))
    out["ebur128 integrated LUFS"] = integrated
    try:
        import av
        import pyloudnorm

        with av.open(str(path)) as c:
            r = av.AudioResampler(format="flt", layout="mono", rate=SR)
            x = np.concatenate([o.to_ndarray().reshape(-1) for fr in c.decode(audio=0) for o in r.resample(fr)]).astype(np.float64)
        out["pyloudnorm integrated LUFS"] = float(pyloudnorm.Meter(SR).integrated_loudness(x))
    except ImportError:
        pass
    out["ours integrated LUFS (gated)"] = integrated_from_hops(f)
    return out


def integrated_from_hops(f) -> float:
    """BS.1770 integrated loudness from the features' momentary blocks (400 ms, 75% overlap)."""
    z = 10 ** ((f.loudness_m[3:].astype(np.float64) + 0.691) / 10)
    z = z[f.loudness_m[3:] > -70]
    rel = -0.691 + 10 * np.log10(z.mean()) - 10
    return float(-0.691 + 10 * np.log10(z[-0.691 + 10 * np.log10(z) > rel].mean()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="folder for the generated files (default: a temp folder)")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the speed test file")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each class sample")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vidscan-audiobench-") as tmp:
        folder = Path(args.out or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        signals = class_signals(args.seconds, folder)
        results: dict = {"classes": {}}
        print(f"{'class':<14}{'files':>6}{'speech':>8}{'music':>8}{'noise':>8}{'hops right':>12}")
        for name, xs in signals.items():
            means, rights = [], []
            for i, x in enumerate(xs):
                f = read_audio_features(encode(x, folder / f"{name.replace('+', '_')}{i}.m4a"))
                m, _, right = score_hops(f, EXPECTED[name])
                means.append(m)
                rights.append(right)
            mean = {c: float(np.mean([m[c] for m in means])) for c in CUES}
            acc = float(np.concatenate(rights).mean())
            results["classes"][name] = {**mean, "accuracy": acc, "per_file": [float(r.mean()) for r in rights]}
            print(f"{name:<14}{len(xs):>6}{mean['speech']:>8.2f}{mean['music']:>8.2f}{mean['noise']:>8.2f}{acc:>11.1%}"
                  f"   ({', '.join(f'{r.mean():.0%}' for r in rights)})")
        # Speed: a long file made of the classes in turn.
        parts = [x for xs in signals.values() for x in xs]
        n = int(args.minutes * 60 * SR)
        long = np.concatenate([parts[i % len(parts)] for i in range(n // len(parts[0]) + 1)])[:n]
        path = encode(long, folder / "long.m4a")
        t0 = time.perf_counter()
        f = read_audio_features(path)
        wall = time.perf_counter() - t0
        import av

        t0 = time.perf_counter()
        with av.open(str(path)) as c:
            for _ in c.decode(audio=0):
                pass
        decode_only = time.perf_counter() - t0
        results["speed"] = {"seconds": len(f.times) * f.hop_s, "wall_s": wall, "realtime_x": len(f.times) * f.hop_s / wall,
                            "decode_only_realtime_x": len(f.times) * f.hop_s / decode_only}
        print(f"\nspeed: {results['speed']['seconds']:.0f} s of AAC in {wall:.2f} s = {results['speed']['realtime_x']:.0f}x realtime "
              f"(decoding alone: {results['speed']['decode_only_realtime_x']:.0f}x)")
        # Loudness against ffmpeg's ebur128 (and pyloudnorm).
        results["loudness"] = {}
        sine = folder / "sine.m4a"
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "aevalsrc=0.1*sin(2*PI*1000*t):s=48000:d=10",
                        "-c:a", "pcm_s16le", str(sine.with_suffix(".wav"))], check=True)
        for label, p in (("1 kHz sine, -20 dBFS peak", sine.with_suffix(".wav")), ("speech (AAC)", folder / "speech0.m4a"),
                         ("crowd+speech (AAC)", folder / "crowd_speech0.m4a"), ("music+speech (AAC)", folder / "music_speech0.m4a"),
                         ("10 min mix (AAC)", path)):
            results["loudness"][label] = loudness_check(p)
        print(f"\n{'loudness vs ffmpeg ebur128':<28}{'M med':>7}{'M p95':>7}{'S med':>7}{'S p95':>7}{'I ours':>8}{'I ffmpeg':>9}{'I pyln':>8}")
        for label, r in results["loudness"].items():
            print(f"{label:<28}{r['momentary median |d| LU']:>7.2f}{r['momentary p95 |d| LU']:>7.2f}{r['short-term median |d| LU']:>7.2f}"
                  f"{r['short-term p95 |d| LU']:>7.2f}{r['ours integrated LUFS (gated)']:>8.2f}{r['ebur128 integrated LUFS']:>9.2f}"
                  f"{r.get('pyloudnorm integrated LUFS', float('nan')):>8.2f}")
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
