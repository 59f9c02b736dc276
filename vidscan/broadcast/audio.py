"""The sound track, measured without a model: loudness, silence, speech, music and crowd.

The first audio stream is demuxed on its own (PyAV), resampled to mono at
:data:`SAMPLE_RATE` and measured chunk by chunk, carrying the filter state across chunks:
memory holds a few numbers per 20 ms frame (about 4 MB an hour), never the samples.

* **Loudness** (ITU-R BS.1770): the K-weighting pre-filter (a high shelf and a high pass, the
  standard's analogue parameters turned into biquads for the sample rate), mean square per
  100 ms hop, momentary (400 ms) and short-term (3 s) loudness in LUFS. Measured on the
  mono mix: a stereo programme reads up to 3 LU lower than a meter summing the channels; the
  break finder only compares loudness within one file, so the offset cancels.
* **Silence**: the hop's own level (100 ms, K-weighted) below :data:`SILENCE_LUFS`: a
  momentary (400 ms) level would hide a 0.2 s silence at a break edge.
* **Speech / music / crowd**, on the second around each hop, from 20 ms frames:
  speech rises and falls with syllables and pauses (a wide spread of frame levels and a low
  floor relative to its peaks, or syllabic swings over a background); music holds steady
  tonal peaks (spectral peaks that persist from frame to frame); a crowd is a broadband
  background that never goes away (a high, spectrally flat floor: the quietest frames of the
  second are still loud and noise-like). Each is a 0..1 score from documented constants,
  measured on generated speech (espeak-ng), music beds and crowd noise (tests/test_audio.py,
  benchmarks/audio_features.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vidscan.errors import InputError
from vidscan.progress import NullProgress, Progress

#: Analysis sample rate: speech and music cues live below 8 kHz, and K-weighting's shelf
#: (1.7 kHz) and high pass (38 Hz) are well inside it.
SAMPLE_RATE = 16000
#: Hop between measurements, seconds (BS.1770's gating step for momentary loudness).
HOP_S = 0.1
#: Frame for the spectral measures, seconds.
FRAME_S = 0.02
#: Context the speech/music/crowd scores are measured over, seconds (centred on the hop).
CONTEXT_S = 1.0
#: Loudness floor, LUFS (BS.1770's absolute gate).
FLOOR_LUFS = -70.0
#: A hop quieter than this (100 ms, K-weighted) is silent.
SILENCE_LUFS = -50.0
#: Speech: spread (dB) between the loud and quiet frames of a second (90th - 10th
#: percentile) at which the score is one half, and its scale; clean speech spreads 25-40 dB,
#: a crowd 3-8, a music bed 5-12.
SPEECH_SPREAD_DB = 14.0
SPEECH_SPREAD_SCALE = 3.0
#: Speech over a background: syllabic swing (standard deviation of the frame level in dB
#: after removing its 1 s trend) at which the score is one half, and its scale.
SPEECH_SWING_DB = 4.0
SPEECH_SWING_SCALE = 1.0
#: Music: share of spectral peaks that are still peaks one frame later at which the score
#: is one half, and its scale (sustained notes persist, 0.65-0.9 in music beds; noise and
#: speech harmonics move, 0.35-0.55).
MUSIC_PERSISTENCE = 0.6
MUSIC_PERSISTENCE_SCALE = 0.05
#: Crowd: a broadband floor that never goes away. The quiet frames' level (10th percentile,
#: dB re full scale) above CROWD_FLOOR_DB (not near silence: a crowd under a broadcast sits
#: at -45..-25); their spectral flatness (100-7000 Hz) above CROWD_FLATNESS (pink-ish noise
#: 0.15-0.35, a music bed 0.01-0.03); and a spread between loud and quiet frames under
#: CROWD_SPREAD_DB (a crowd 2-8 dB, with a voice 10 dB over it 13, clean speech 19 and more:
#: its pauses drop to the room's quiet).
CROWD_FLOOR_DB = -55.0
CROWD_FLOOR_SCALE = 3.0
CROWD_FLATNESS = 0.08
CROWD_FLATNESS_SCALE = 0.02
CROWD_SPREAD_DB = 17.0
CROWD_SPREAD_SCALE = 2.0
#: Samples decoded per processing chunk (about 4 s): the memory bound.
CHUNK_SAMPLES = 64000
#: BS.1770 momentary and short-term windows, seconds.
MOMENTARY_S = 0.4
SHORT_TERM_S = 3.0
#: A jump in the audio timestamps longer than this (lost or damaged packets) is filled with silence.
MAX_GAP_S = 0.05
#: Bands for the syllabic modulation (log-spaced between these, Hz).
BANDS = 12
BAND_LOW_HZ = 150.0
BAND_HIGH_HZ = 6000.0
#: Speech over a crowd: mean of the SPEECH_BANDS_TOP largest per-band modulations (dB, see
#: :func:`band_modulation`) at which the score is one half, and its scale. Measured (5/50/95th
#: percentile of hops): pink-noise crowds 1.8/2.1/2.4; speech 6 dB under the crowd 2.0/2.6/3.6,
#: 12 dB under 1.9/2.2/2.5 (not separable); a voice over the crowd 6.7/7.6/8.8; clean speech 16-36.
SPEECH_BANDS_TOP = 4
SPEECH_BAND_MOD_DB = 2.6
SPEECH_BAND_MOD_SCALE = 0.12


@dataclass
class AudioFeatures:
    """Per-hop measurements of one file's first audio track (see the module docstring)."""

    hop_s: float
    times: np.ndarray  # float64 [M] start of each hop, seconds from the file's start
    loudness_m: np.ndarray  # float32 [M] momentary loudness (400 ms ending at the hop's end), LUFS
    loudness_s: np.ndarray  # float32 [M] short-term loudness (3 s ending at the hop's end), LUFS
    silence: np.ndarray  # bool [M]
    speech: np.ndarray  # float32 [M] 0..1
    music: np.ndarray  # float32 [M] 0..1
    noise: np.ndarray  # float32 [M] 0..1 broadband background (crowd)
    sample_rate: int = SAMPLE_RATE
    stream: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return float(len(self.times) * self.hop_s)


def k_weighting(rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """BS.1770's two pre-filter stages as (b, a) biquads for ``rate`` (the standard gives them
    at 48 kHz; these are the same analogue filters, a high shelf of +4 dB above 1.68 kHz
    and a 38 Hz high pass, through the bilinear transform)."""
    out = []
    # Stage 1: high shelf.
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = np.tan(np.pi * f0 / rate)
    vh = 10 ** (gain_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    b = np.array([vh + vb * k / q + k * k, 2 * (k * k - vh), vh - vb * k / q + k * k]) / a0
    a = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    out.append((b, a))
    # Stage 2: high pass.
    f0, q = 38.13547087602444, 0.5003270373238773
    k = np.tan(np.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    out.append((np.array([1.0, -2.0, 1.0]), np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])))
    return out


def lufs(mean_square: np.ndarray) -> np.ndarray:
    """BS.1770 loudness of a mean square (one channel, weight 1), floored at :data:`FLOOR_LUFS`."""
    with np.errstate(divide="ignore"):
        return np.maximum(FLOOR_LUFS, -0.691 + 10 * np.log10(np.maximum(mean_square, 1e-12))).astype(np.float32)


class _Meter:
    """Streams samples in; keeps per-hop K-weighted mean squares and per-frame measures."""

    def __init__(self, rate: int) -> None:
        from scipy.signal import lfilter, lfilter_zi

        self._lfilter = lfilter
        self.filters = k_weighting(rate)
        self.state = [lfilter_zi(b, a) * 0.0 for b, a in self.filters]
        self.frame = int(round(FRAME_S * rate))
        self.nfft = 1 << (self.frame - 1).bit_length()
        self.window = np.hanning(self.frame).astype(np.float32)
        freqs = np.fft.rfftfreq(self.nfft, 1 / rate)
        self.band = (freqs >= 100) & (freqs <= 7000)
        edges = np.geomspace(BAND_LOW_HZ, BAND_HIGH_HZ, BANDS + 1)
        self.band_of = np.clip(np.searchsorted(edges, freqs, side="right") - 1, -1, BANDS)  # -1 / BANDS: outside
        inside = (self.band_of >= 0) & (self.band_of < BANDS)
        self.band_matrix = np.zeros((len(freqs), BANDS), np.float32)
        self.band_matrix[np.flatnonzero(inside), self.band_of[inside]] = 1.0
        self.pending = np.zeros(0, np.float32)
        self.frame_ms: list[np.ndarray] = []
        self.frame_db: list[np.ndarray] = []
        self.frame_flat: list[np.ndarray] = []
        self.frame_persist: list[np.ndarray] = []
        self.frame_bands: list[np.ndarray] = []
        self.prev_peaks: np.ndarray | None = None

    def feed(self, samples: np.ndarray, final: bool = False) -> None:
        x = np.concatenate([self.pending, samples.astype(np.float32)])
        if final and len(x) % self.frame:  # the last partial frame, padded with silence
            x = np.concatenate([x, np.zeros(self.frame - len(x) % self.frame, np.float32)])
        usable = len(x) - len(x) % self.frame  # whole frames
        block, self.pending = x[:usable], x[usable:]
        if not len(block):
            return
        y = block.astype(np.float64)
        for k, (b, a) in enumerate(self.filters):
            y, self.state[k] = self._lfilter(b, a, y, zi=self.state[k])
        self.frame_ms.append((y.reshape(-1, self.frame) ** 2).mean(axis=1))
        self._frames(block.reshape(-1, self.frame))

    def _frames(self, frames: np.ndarray) -> None:
        power = np.abs(np.fft.rfft(frames * self.window, n=self.nfft, axis=1)) ** 2
        band = power[:, self.band] + 1e-12
        self.frame_bands.append((10 * np.log10(power.astype(np.float32) @ self.band_matrix + 1e-10)).astype(np.float32))
        self.frame_db.append((10 * np.log10((frames.astype(np.float64) ** 2).mean(axis=1) + 1e-12)).astype(np.float32))
        flatness = np.exp(np.log(band).mean(axis=1)) / band.mean(axis=1)
        self.frame_flat.append(np.where(band.mean(axis=1) > 1e-9, flatness, 0.0).astype(np.float32))  # digital silence is not noise
        # Tonal peaks: local maxima standing 10 dB over the frame's median in the band.
        logp = 10 * np.log10(band)
        peak = (logp[:, 1:-1] > logp[:, :-2]) & (logp[:, 1:-1] >= logp[:, 2:]) & (logp[:, 1:-1] > np.median(logp, axis=1, keepdims=True) + 10)
        peak = np.pad(peak, ((0, 0), (1, 1)))
        near = peak | np.roll(peak, 1, axis=1) | np.roll(peak, -1, axis=1)  # a peak may drift by one bin
        prev = np.vstack([self.prev_peaks[None] if self.prev_peaks is not None else np.zeros((1, peak.shape[1]), bool), near[:-1]])
        counts = peak.sum(axis=1)
        kept = (peak & prev).sum(axis=1)
        self.frame_persist.append(np.where(counts > 0, kept / np.maximum(counts, 1), 0.0).astype(np.float32))
        self.prev_peaks = near[-1]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))).astype(np.float32)


def _windows(values: np.ndarray, per_hop: int, hops: int, context: int) -> np.ndarray:
    """``[hops, context, ...]`` frames around each hop's centre (edge frames repeated)."""
    centres = np.arange(hops) * per_hop + per_hop // 2
    idx = np.clip(centres[:, None] + np.arange(context)[None, :] - context // 2, 0, max(0, len(values) - 1))
    return values[idx] if len(values) else np.zeros((hops, context) + values.shape[1:], np.float32)


def _moving_mean(x: np.ndarray, n: int) -> np.ndarray:
    """Centred moving mean over ``n`` frames along axis 0 (edges: mean of what is there)."""
    if len(x) == 0:
        return x
    c = np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(x, axis=0, dtype=np.float64)])
    i = np.arange(len(x))
    lo, hi = np.maximum(0, i - n // 2), np.minimum(len(x), i + n - n // 2)
    shape = (-1,) + (1,) * (x.ndim - 1)
    return ((c[hi] - c[lo]) / (hi - lo).reshape(shape)).astype(np.float32)


def band_modulation(frame_bands: np.ndarray) -> np.ndarray:
    """Per frame and band: the band's level (dB, smoothed over 3 frames = 60 ms, so a noise's
    frame-to-frame jitter averages out) minus its 0.5 s trend (so a crowd's swell and a cheer's
    rise go): what is left is the syllabic (2-8 Hz) movement speech puts into each band."""
    if len(frame_bands) == 0:
        return frame_bands
    power = 10 ** (frame_bands.astype(np.float64) / 10)
    level = 10 * np.log10(_moving_mean(power, 3) + 1e-10)
    return (level - _moving_mean(level, 25)).astype(np.float32)


def scores(frame_db: np.ndarray, frame_flat: np.ndarray, frame_persist: np.ndarray, hops: int, per_hop: int, context: int,
           frame_bands: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Speech, music and crowd scores per hop from the 20 ms frame measures."""
    db = _windows(frame_db, per_hop, hops, context)
    flat = _windows(frame_flat, per_hop, hops, context)
    persist = _windows(frame_persist, per_hop, hops, context)
    lo, hi = np.percentile(db, 10, axis=1), np.percentile(db, 90, axis=1)
    spread = hi - lo
    trend = _moving_mean(frame_db, 25)
    swing = _windows(frame_db - trend, per_hop, hops, context).std(axis=1)
    audible = hi > SILENCE_LUFS + 0.7
    quiet = db <= lo[:, None] + 1.0
    floor_flat = np.where(quiet, flat, np.nan)
    floor_flat = np.nanmean(np.where(np.isnan(floor_flat).all(axis=1, keepdims=True), flat, floor_flat), axis=1)
    median = np.median(db, axis=1)
    crowd = (_sigmoid((lo - CROWD_FLOOR_DB) / CROWD_FLOOR_SCALE) * _sigmoid((floor_flat - CROWD_FLATNESS) / CROWD_FLATNESS_SCALE)
             * _sigmoid((CROWD_SPREAD_DB - (np.percentile(db, 90, axis=1) - lo)) / CROWD_SPREAD_SCALE))
    music = _sigmoid((persist.mean(axis=1) - MUSIC_PERSISTENCE) / MUSIC_PERSISTENCE_SCALE)
    speech = np.maximum(_sigmoid((spread - SPEECH_SPREAD_DB) / SPEECH_SPREAD_SCALE), _sigmoid((swing - SPEECH_SWING_DB) / SPEECH_SWING_SCALE))
    if frame_bands is not None and len(frame_bands):
        # Speech over a crowd: the bands that move most, beyond what the crowd's own texture moves.
        mod = _windows(band_modulation(frame_bands), per_hop, hops, context).std(axis=1)
        top = np.sort(mod, axis=1)[:, -SPEECH_BANDS_TOP:].mean(axis=1)
        over_crowd = _sigmoid((top - SPEECH_BAND_MOD_DB) / SPEECH_BAND_MOD_SCALE) * crowd
        speech = np.maximum(speech * (1 - crowd), over_crowd)
    return speech * audible, music * audible, crowd * audible


class _Stopped(Exception):
    pass


def read_audio_features(path: str | os.PathLike, *, hop_s: float = HOP_S, progress: Progress | None = None) -> AudioFeatures | None:
    """Measure the first audio track of ``path`` (None when it has none). Damaged packets are
    skipped (what decodes is measured; a gap in the timestamps is filled with silence, so later
    hops keep their times); a file that cannot be opened raises InputError.

    ``hop_s`` must be a whole number of 20 ms frames (0.02, 0.04, 0.1, 0.2 ...): momentary and
    short-term loudness are then the mean square over the 400 ms / 3 s ending at the hop's end
    (rounded to whole hops)."""
    import av

    per_hop = int(round(hop_s / FRAME_S))
    if per_hop < 1 or abs(per_hop * FRAME_S - hop_s) > 1e-9:
        raise ValueError(f"hop_s must be a positive multiple of {FRAME_S} s, not {hop_s}")
    progress = progress or NullProgress()
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise InputError(f"cannot read the sound track: {exc}", path=str(path)) from None
    with container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        info: dict[str, Any] = {"codec": ctx.name, "channels": ctx.channels, "sample_rate": ctx.sample_rate,
                                "duration_s": float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None}
        # Time zero: the video stream's start (as the picture's timestamps count from it), else the file's.
        video = container.streams.video[0] if container.streams.video else None
        if video is not None and video.start_time is not None and video.time_base:
            origin = float(video.start_time * video.time_base)
        elif stream.start_time is not None and stream.time_base:
            origin = float(stream.start_time * stream.time_base)
        else:
            origin = container.start_time / 1e6 if container.start_time is not None else 0.0
        if info["duration_s"] is None and container.duration:
            info["duration_s"] = container.duration / 1e6
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        meter = _Meter(SAMPLE_RATE)
        start_s: float | None = None
        buffered: list[np.ndarray] = []
        held = fed = 0
        expected_end: float | None = None  # where the next decoded frame should start, seconds
        errors = 0
        progress.start(f"measuring the sound of {os.path.basename(str(path))}", info["duration_s"] or 0.0)
        try:
            packets = container.demux(stream)
            while True:
                try:
                    packet = next(packets)
                except StopIteration:
                    break
                except av.FFmpegError:  # a damaged container: keep what was read
                    errors += 1
                    break
                try:
                    frames = packet.decode()
                except (av.FFmpegError, ValueError):
                    errors += 1
                    continue  # a damaged packet: measure what decodes
                for frame in frames:
                    t = float(frame.time) - origin if frame.time is not None else None
                    if start_s is None:
                        start_s = t if t is not None else 0.0
                    elif t is not None and expected_end is not None and t - expected_end > MAX_GAP_S:
                        gap = int(round((t - expected_end) * SAMPLE_RATE))  # lost packets: silence keeps the clock
                        buffered.append(np.zeros(gap, np.float32))
                        held += gap
                    if t is not None and frame.sample_rate:
                        expected_end = t + frame.samples / frame.sample_rate
                    try:
                        outs = resampler.resample(frame)
                    except (av.FFmpegError, ValueError):
                        errors += 1
                        continue
                    for out in outs:
                        buffered.append(out.to_ndarray().reshape(-1))
                        held += out.samples
                if held >= CHUNK_SAMPLES:
                    meter.feed(np.concatenate(buffered))
                    fed += held
                    buffered, held = [], 0
                    progress.update(fed / SAMPLE_RATE)
            try:
                for out in resampler.resample(None):
                    buffered.append(out.to_ndarray().reshape(-1))
            except (av.FFmpegError, ValueError):
                pass
            meter.feed(np.concatenate(buffered) if buffered else np.zeros(0, np.float32), final=True)
        finally:
            progress.finish()
    frame_ms = np.concatenate(meter.frame_ms) if meter.frame_ms else np.zeros(0)
    hops = len(frame_ms) // per_hop
    if hops == 0:
        return None
    info["damaged_packets"] = errors
    hop_ms = frame_ms[: hops * per_hop].reshape(hops, per_hop).mean(axis=1)
    times = (start_s or 0.0) + np.arange(hops) * hop_s

    def level(seconds: float) -> np.ndarray:
        window = max(1, int(round(seconds / hop_s)))
        c = np.concatenate([[0.0], np.cumsum(hop_ms)])
        ends = np.arange(1, hops + 1)
        begins = np.maximum(0, ends - window)
        return lufs((c[ends] - c[begins]) / (ends - begins))

    def joined(parts: list[np.ndarray], dtype=np.float32) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype)

    speech, music, noise = scores(joined(meter.frame_db), joined(meter.frame_flat), joined(meter.frame_persist), hops, per_hop,
                                  int(round(CONTEXT_S / FRAME_S)), joined(meter.frame_bands))
    return AudioFeatures(hop_s, times, level(MOMENTARY_S), level(SHORT_TERM_S), lufs(hop_ms) < SILENCE_LUFS, speech, music, noise,
                         SAMPLE_RATE, info)
