"""Coarse-to-fine decoding: look at keyframes first, decode every frame only where it matters.

Decoding every frame of a 1080p broadcast is the bottleneck on a CPU, while decoding only
the keyframes is about seven times cheaper. So:

1. **Index + keyframes.** One demux pass reads every packet's presentation time (no
   decoding), which gives the exact index of every frame (edit-list packets flagged
   "discard" are left out, exactly as the decoder drops them); the keyframes it meets are
   decoded on the side, one per core, and embedded.
2. **Candidates.** Where two consecutive keyframes differ by more than ``threshold``, the
   GOP between them may hold a boundary (or a camera move) and is decoded at full rate, one
   GOP-long piece per task, on one single-threaded decoder per core. A piece stops early
   once its frames look like its closing keyframe: a cut a third of the way into a GOP
   costs a third of a GOP. GOPs whose end keyframes agree are stationary.
3. **Same detector.** A full-rate sequence is assembled: real embeddings where frames were
   decoded, straight lines between keyframes (or from the last decoded frame to the
   closing keyframe) elsewhere. The usual detector then runs with its usual settings, so
   boundaries land on the same exact frames as after a full decode wherever something
   actually changes.

What it cannot see: a change that returns to the same picture before the next keyframe
(a shot A -> B -> A shorter than one GOP), and flashes inside stationary stretches (which
should not count anyway). Files with keyframes at every cut (x264's default scene-cut
keyframes) gain nothing: every GOP differs from the next, so everything is decoded.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import av
import av.error
import numpy as np

from vidscan.detect.difference import THUMBNAIL_SIZE, DifferenceTracker, frame_differences, thumbnail
from vidscan.embed.base import Embedder
from vidscan.embedded import EmbeddedVideo
from vidscan.errors import CoarseNotWorthIt, CoarseUnavailable, InputError
from vidscan.progress import NullProgress, Progress
from vidscan.video.base import DecodeStats
from vidscan.video.container import open_container, video_stream
from vidscan.video.convert import FrameConverter
from vidscan.video.cost import DecodeCost
from vidscan.video.deblocking import configure_deblocking
from vidscan.video.gop import GopDecoder, default_workers
from vidscan.video.packets import PacketIndex, PacketScan, demux_tolerantly, index_packets
from vidscan.video.pyav_backend import PyAVSource
from vidscan.video.sampling import Sampling

#: Keyframe-to-keyframe distance (unit embeddings) above which a stretch is decoded in full.
#: Measured on the accuracy corpus re-encoded with a fixed 1 s GOP (benchmarks/throughput.py
#: --corpus): F1 stayed equal to a full decode (0.970) for thresholds 0.15-0.35 while the
#: share of frames decoded fell 0.56 -> 0.35; at 0.5 F1 fell to 0.962.
DEFAULT_THRESHOLD = 0.3
#: Keyframe-to-keyframe thumbnail difference (vidscan.detect.difference) above which a
#: stretch is decoded in full too: cuts between shots of one palette (the same place from
#: another angle) change pixels, not colours. Measured on the real-footage set re-encoded
#: with a fixed 1 s GOP (31 clips, 103 boundaries) and the synthetic corpus (gop 25), F1 /
#: share of frames decoded: 20 -> real 0.870 / 62%, synthetic 0.989 / 72%; 12 -> 0.901 / 69%,
#: 0.993 / 79%; 10 -> 0.907 / 71%, 0.993 / 81%; 8 -> 0.907 / 73%. A full decode scores 0.906
#: and 0.993: at 10 keyframes-first finds what decoding every frame finds.
PIXEL_THRESHOLD = 10.0
#: Keyframe pairs looked at, spread evenly over a file, before ``auto`` reads all of its
#: keyframes (see :func:`sampled_pairs`). From the pairs that differ, the cost model
#: (vidscan.video.cost) predicts what keyframes first would cost against decoding every frame.
SAMPLED_PAIRS = 16
#: Predicted cost of keyframes first, as a share of a full decode's, under which it is chosen.
#: Measured (``vidscan bench --repeat 3``, one run, keyframe pass included; medians): 1.00x a
#: full decode at 81% of the frames decoded (real 1080p, a cut every 1.4 s), 0.99x at 71%
#: (real 720p), 0.85x on the grainy synthetic 1080p broadcast (74%), 0.83x on real 1080p long
#: takes (58%); from the stretches actually decoded the model predicts 0.94, 0.88, 0.83 and
#: 0.68. It is optimistic by up to 0.15 on real footage (the keyframe pass's demuxing and
#: each run's fixed costs are not in it), so this line sits near the measured break-even.
COARSE_PAYS_BELOW = 0.95
#: A first look that predicts this much or more decodes every frame at once (when all 16
#: pairs of the real 1080p file cut every 1.4 s differ, it predicts 1.02: the model counts a
#: tenth of each differing stretch as skipped by the early stop)...
FIRST_LOOK_GIVE_UP = 1.0
#: ...one that predicts less than this reads the keyframes, and one in between gets a second
#: look at SECOND_LOOK_PAIRS pairs, judged against COARSE_PAYS_BELOW. Only on files with at
#: least 4 x 46 keyframes, where sampling is clearly cheaper than reading them all (the
#: 5-minute 720p real broadcast: 303 keyframes, 1.1-1.5 s to read; 48 pairs, 0.4 s). 46 pairs
#: spaced evenly hold the first look's 16 (3 x 15 + 1), whose keyframes are not decoded again;
#: the keyframe pass then reuses every keyframe either look decoded. Simulated on the packets
#: of the real 720p file with pairs differing at random, the looks decode every frame at once
#: in 3% of samples when 70% of the pairs differ, 51% at 85%, 99% at 95%.
SECOND_LOOK_FROM = 0.75
SECOND_LOOK_PAIRS = 46


@dataclass
class CoarseStats:
    keyframes: int = 0
    frames: int = 0
    decoded_full_rate: int = 0
    candidate_stretches: int = 0
    pieces: int = 0
    workers: int = 1
    timings: dict[str, float] = field(default_factory=dict)
    #: Which frames were decoded and embedded (the rest come from keyframes).
    decoded: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    #: The fine pass's cost as predicted before it ran, as a share of a full decode's
    #: (vidscan.video.cost): kept so the model can be checked against the stage seconds.
    predicted_fine_cost: float = 0.0

    @property
    def full_rate_fraction(self) -> float:
        return self.decoded_full_rate / self.frames if self.frames else 0.0

    @property
    def decoded_share(self) -> float:
        """Share of the frames that were decoded (keyframes included)."""
        return float(self.decoded[: self.frames].mean()) if self.frames and len(self.decoded) else 0.0


def keyframe_pass(path: str, size: tuple[int, int], turns: int, embed: "FrameEmbedder", workers: int = 1,
                  progress: Progress | None = None, pictures: Mapping[int, np.ndarray] | None = None,
                  ) -> tuple[PacketIndex, list[int], np.ndarray, np.ndarray, np.ndarray]:
    """Index every packet, decode and embed the keyframes; returns (index, keyframe pts,
    their embeddings, their mean brightness, their thumbnails). Only embeddings and 32x18
    thumbnails are kept, not pictures, so memory stays small on long videos. ``pictures``:
    keyframes already decoded at ``size`` (pts -> RGB, by ``auto``'s sampled pairs), embedded
    without decoding them again.

    One thread demuxes; ``workers`` decoders each decode one keyframe at a time from a
    clean state (drained and flushed after every picture). Fed only keyframes, a decoder
    that kept its state would hold pictures back for reordering, and in an open-GOP stream
    (keyframes that are not IDR) FFmpeg's H.264 decoder then never outputs most of them.
    """
    progress = progress or NullProgress()
    known = pictures or {}
    container = open_container(path)
    jobs: queue.Queue = queue.Queue(maxsize=2 * workers)
    decoded: dict[int, tuple[np.ndarray, float]] = {}
    failures: list[BaseException] = []

    def decode_keyframes() -> None:
        own = open_container(path)  # a codec context configured exactly like the stream's
        try:
            ctx = video_stream(own).codec_context
            ctx.thread_count = 1
            configure_deblocking(ctx, size)
            converter = FrameConverter(size, turns)
            while (job := jobs.get()) is not None:
                pts, packet = job
                if pts in known:
                    rgb = known[pts]
                else:
                    try:
                        frames = list(ctx.decode(packet)) + list(ctx.decode(None))
                    except av.error.FFmpegError:
                        frames = []
                    ctx.flush_buffers()
                    if not frames:
                        continue
                    rgb = converter.rgb(frames[0])
                    pts = int(frames[0].pts) if frames[0].pts is not None else pts
                decoded[pts] = (embed(rgb), float(rgb.mean(dtype=np.float32)), thumbnail(rgb))
        except BaseException as exc:  # reported by the demuxing thread
            failures.append(exc)
            while jobs.get() is not None:  # keep the demuxer from blocking
                pass
        finally:
            own.close()

    threads = [threading.Thread(target=decode_keyframes, name=f"vidscan-keyframes-{i}", daemon=True) for i in range(workers)]
    for thread in threads:
        thread.start()
    scan = PacketScan()
    try:
        stream = video_stream(container)
        tb = stream.time_base
        start = int(stream.start_time) if stream.start_time is not None else None
        reorders = bool(stream.codec_context.has_b_frames)
        progress.start(f"scanning keyframes {Path(path).name}", max(1.0, float(stream.duration * tb)) if stream.duration else 1.0)
        for packet in demux_tolerantly(container, stream):
            scan.add(packet)
            if packet.is_keyframe and packet.pts is not None:
                jobs.put((int(packet.pts), packet))
                if start is not None:
                    progress.update(float((packet.pts - start) * tb))
    finally:
        for _ in threads:
            jobs.put(None)
        for thread in threads:
            thread.join()
        container.close()
        progress.finish()
    if failures:
        raise failures[0]
    index = scan.index(tb, start, keys=sorted(decoded), reorders=reorders)
    if index is None:
        if scan.without_pts:
            raise CoarseUnavailable("its packets carry no timestamps (a raw elementary stream)")
        raise InputError("video stream has no frames", path=path)
    if not index.ordered:
        raise CoarseUnavailable("its timestamps are out of order, so frames are read in one sequential decode")
    shown = set(index.pts.tolist())
    broken = frozenset(p for p in scan.keys if p in shown and p not in decoded)  # shown keyframes that did not decode
    if broken:
        index = dataclasses.replace(index, damaged_pts=index.damaged_pts | broken)
    ordered = index.key_pts.tolist()  # decoded and displayed
    vectors = np.stack([decoded[p][0] for p in ordered]).astype(np.float32) if ordered else np.zeros((0, 0), np.float32)
    luma = np.array([decoded[p][1] for p in ordered], np.float32)
    thumbs = np.stack([decoded[p][2] for p in ordered]) if ordered else np.zeros((0, THUMBNAIL_SIZE[1], THUMBNAIL_SIZE[0], 3), np.uint8)
    return index, ordered, vectors, luma, thumbs


#: A piece's decoding stops once this many consecutive frames look like its closing keyframe...
ARRIVED_FRAMES = 3
#: ...and at most this many frames are left before it. Further out, a shot that looks like the
#: closing keyframe may still cut away and back (A -> B -> A) before it: on real clips with
#: 10 s GOPs an unbounded early stop lost a fifth of the cuts (real-set cut F1 0.862, full
#: decode 0.975).
EARLY_STOP_REACH = 25
#: Thumbnail difference under which a decoded frame counts as looking like the closing
#: keyframe (besides its embedding being near it).
ALIKE_PIXELS = 10.0


class FrameEmbedder:
    """One frame at a time through an embedder shared by several decoding threads (a lock
    keeps embedders that are not thread-safe, such as a torch model, safe)."""

    def __init__(self, embedder: Embedder, lock: threading.Lock) -> None:
        self.embedder, self.lock = embedder, lock

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        with self.lock:
            return self.embedder.embed(frame[None])[0]


@dataclass
class _Signal:
    """The full-rate signal being filled in: one row per frame, written by several threads
    (each piece writes only its own frames)."""

    embeddings: np.ndarray
    luma: np.ndarray
    diffs: np.ndarray
    key_idx: np.ndarray
    key_emb: np.ndarray
    key_thumbs: np.ndarray
    decoded: np.ndarray


class _Seams:
    """The closing keyframe's difference where two decoded pieces meet.

    A piece decoded to its end needs its closing keyframe's picture for that keyframe's
    frame difference (a cut right on a keyframe, where most encoders put one). When the next
    GOP is a piece too, its decoder decodes that keyframe first anyway: the two pictures are
    paired here instead of decoding the keyframe once more. Measured on 134 s of real 1080p
    long takes with a 1 s GOP (80 pieces, 69 of them followed by another), the extra
    keyframe decodes were 9% of the fine pass. Each picture waits only until its partner
    piece, running on another thread at about the same time, gets there.
    """

    def __init__(self, pieces: list[int], diffs: np.ndarray, key_idx: np.ndarray) -> None:
        self.opened = set(pieces)  # keyframe k opens piece k
        self.diffs, self.key_idx = diffs, key_idx
        self.lock = threading.Lock()
        self.before: dict[int, np.ndarray | None] = {}
        self.after: dict[int, np.ndarray] = {}

    def pairs_at(self, key: int) -> bool:
        """Whether the piece opening at keyframe ``key`` will bring that keyframe's picture."""
        return key in self.opened

    def closing(self, key: int, last: np.ndarray | None) -> None:
        """The piece ending at keyframe ``key`` got there with ``last`` as its final picture
        (None: it stopped early, so no difference is wanted at the keyframe)."""
        with self.lock:
            if key in self.after:
                self._pair(key, last, self.after.pop(key))
            else:
                self.before[key] = last

    def opening(self, key: int, picture: np.ndarray) -> None:
        """The piece opening at keyframe ``key`` decoded its picture."""
        with self.lock:
            if key in self.before:
                self._pair(key, self.before.pop(key), picture)
            else:
                self.after[key] = picture

    def _pair(self, key: int, last: np.ndarray | None, picture: np.ndarray) -> None:
        if last is not None:
            self.diffs[int(self.key_idx[key])] = frame_differences(picture[None], last)[0]


def _decode_piece(decoder: GopDecoder, embed: FrameEmbedder, signal: _Signal, k: int, seams: _Seams) -> int:
    """Decode and embed the frames between keyframe ``k`` and ``k + 1`` (``k = -1``: the frames
    before the first keyframe) in place; returns the number of frames embedded.

    Decoding stops as soon as ``ARRIVED_FRAMES`` frames in a row look like the closing
    keyframe (the change is over: a cut halfway through a GOP costs half a GOP, not a whole
    one); the frames left are filled in between the last decoded frame and that keyframe.
    """
    index, key_idx, key_emb = decoder.index, signal.key_idx, signal.key_emb
    n = len(index.pts)
    first = int(key_idx[k]) if k >= 0 else 0
    closing = k + 1 if k + 1 < len(key_idx) else None
    stop = int(key_idx[closing]) if closing is not None else n
    end_pts = int(index.pts[stop]) if stop < n else int(index.pts[-1]) + 1
    near = 0.0
    if closing is not None:
        change = float(np.linalg.norm(key_emb[k] - key_emb[closing])) if k >= 0 else 1.0
        near = max(0.05, 0.2 * change)
    embedded, arrived, last = 0, 0, first
    difference = DifferenceTracker()
    picture: np.ndarray | None = None
    for i, frame in decoder.frames(int(index.pts[first]), end_pts):
        if k >= 0 and i == first:
            difference(frame[None])  # the opening keyframe (embedded by the keyframe pass): the first "before"
            seams.opening(k, frame)
            continue
        vec = embed(frame)
        signal.embeddings[i] = vec
        signal.luma[i] = frame.mean(dtype=np.float32)
        signal.diffs[i] = difference(frame[None])[0]
        signal.decoded[i] = True
        embedded += 1
        last, picture = i, frame
        if closing is not None:
            alike = float(np.linalg.norm(vec - key_emb[closing])) < near
            if alike:  # the same colours are not enough: same-palette shots differ in their pixels
                alike = frame_differences(thumbnail(frame)[None], signal.key_thumbs[closing])[0] < ALIKE_PIXELS
            arrived = arrived + 1 if alike else 0
            if arrived >= ARRIVED_FRAMES and stop - i <= EARLY_STOP_REACH:
                break
    if closing is not None and last + 1 < stop:
        _fill(signal, last, stop)
    to_end = closing is not None and picture is not None and last + 1 == stop
    if closing is not None and seams.pairs_at(closing):
        seams.closing(closing, picture if to_end else None)
    elif to_end:
        # Decoded to the end of the GOP, and the next GOP is not decoded: the closing
        # keyframe's difference (a cut right on a keyframe) needs its picture once more.
        key_pts = int(index.pts[stop])
        for j, frame in decoder.frames(key_pts, key_pts + 1):
            if j == stop:
                signal.diffs[stop] = frame_differences(frame[None], picture)[0]
                break
    return embedded


def _fill(signal: _Signal, last: int, stop: int) -> None:
    """Frames after the last decoded one: a straight line to the closing keyframe."""
    gap = np.arange(last + 1, stop)
    w = ((gap - last) / (stop - last)).astype(np.float32)[:, None]
    fill = (1 - w) * signal.embeddings[last] + w * signal.embeddings[stop]
    signal.embeddings[gap] = fill / np.maximum(np.linalg.norm(fill, axis=1, keepdims=True), 1e-8)
    signal.luma[gap] = (1 - w[:, 0]) * signal.luma[last] + w[:, 0] * signal.luma[stop]
    signal.diffs[gap] = 0.0  # converging on the closing keyframe: no cut in the gap


def interpolate_keyframes(key_idx: np.ndarray, key_emb: np.ndarray, key_luma: np.ndarray, n: int,
                          chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Fill every frame from the keyframes around it, linearly: a slow camera move between
    two similar keyframes becomes a gentle ramp (as it is), not a staircase of steps.
    Done ``chunk`` frames at a time, so a 3-hour video needs no full-length temporaries."""
    emb = np.empty((n, key_emb.shape[1]), np.float32)
    luma = np.empty(n, np.float32)
    last = len(key_idx) - 1
    for a in range(0, n, chunk):
        frames = np.arange(a, min(n, a + chunk))
        right = np.clip(np.searchsorted(key_idx, frames, side="left"), 0, last)
        left = np.clip(np.searchsorted(key_idx, frames, side="right") - 1, 0, last)
        span = (key_idx[right] - key_idx[left]).astype(np.float32)
        w = np.where(span > 0, (frames - key_idx[left]) / np.maximum(span, 1), 0.0).astype(np.float32)[:, None]
        block = (1 - w) * key_emb[left] + w * key_emb[right]
        emb[frames] = block / np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-8)
        luma[frames] = (1 - w[:, 0]) * key_luma[left] + w[:, 0] * key_luma[right]
    return emb, luma


def candidate_pairs(key_embeddings: np.ndarray, threshold: float, drift_ratio: float = 0.0,
                    key_thumbs: np.ndarray | None = None, pixel_threshold: float = 0.0) -> np.ndarray:
    """Which keyframe pairs (k, k+1) may hold a boundary.

    A pair qualifies when its keyframes differ by more than ``threshold``, or when their
    thumbnails differ by more than ``pixel_threshold`` (see
    :func:`vidscan.detect.difference.frame_differences`; a cut between two shots with the
    same palette changes pixels, not colours). With
    ``drift_ratio`` > 0, a pair that differs by less than twice the threshold must also stand
    out from its neighbours (differ ``drift_ratio`` times more than the pairs before and after):
    a camera move changes every pair a little, a boundary changes one pair a lot. Pairs over
    two stretches are also compared, so a dissolve split across two pairs still stands out.
    """
    d = np.linalg.norm(np.diff(key_embeddings, axis=0), axis=1)
    big = d > threshold
    if key_thumbs is not None and pixel_threshold > 0 and len(key_thumbs) == len(key_embeddings):
        big |= frame_differences(key_thumbs)[1:] > pixel_threshold
    if drift_ratio <= 0 or len(d) < 3:
        return big
    before = np.concatenate([[0.0], d[:-1]])
    after = np.concatenate([d[1:], [0.0]])
    peak = d > drift_ratio * np.maximum(before, after)
    d2 = np.linalg.norm(key_embeddings[2:] - key_embeddings[:-2], axis=1)  # pairs (k, k+2)
    two = np.zeros_like(big)
    two_big = d2 > 2 * threshold
    two[:-1] |= two_big
    two[1:] |= two_big
    return (d > 2 * threshold) | (big & (peak | two))


def candidate_stretches(key_embeddings: np.ndarray, threshold: float, drift_ratio: float = 0.0,
                        key_thumbs: np.ndarray | None = None, pixel_threshold: float = 0.0) -> list[tuple[int, int]]:
    """Runs of consecutive keyframe pairs (k, k+1) that may hold a boundary: [(first k, last k + 1)]."""
    if len(key_embeddings) < 2:
        return []
    runs: list[tuple[int, int]] = []
    for k in np.where(candidate_pairs(key_embeddings, threshold, drift_ratio, key_thumbs, pixel_threshold))[0]:
        if runs and runs[-1][1] == k:
            runs[-1] = (runs[-1][0], int(k) + 1)
        else:
            runs.append((int(k), int(k) + 1))
    return runs


@dataclass(frozen=True)
class SampledPairs:
    """Keyframe pairs looked at: pair k is keyframe k and k + 1 of the index's ``key_pts``."""

    firsts: np.ndarray  # k of each pair looked at
    differ: np.ndarray  # whether its keyframes differ (:func:`candidate_pairs`)

    @property
    def share(self) -> float:
        return float(np.mean(self.differ))


def sampled_pairs(path: str | Path, embedder: Embedder, *, pairs: int | None = None,
                  min_keyframes: int | None = None, workers: int | None = None,
                  pictures: dict[int, np.ndarray] | None = None) -> SampledPairs | None:
    """``pairs`` keyframe pairs, spread evenly over the file, and whether each differs
    (:func:`candidate_pairs`): from a few dozen keyframes, an estimate of how much a
    keyframes-first pass would have to decode in full. None when the file has fewer than
    ``min_keyframes`` keyframes (default ``4 * pairs``; reading them all is then cheap) or
    cannot be indexed. ``pairs`` defaults to :data:`SAMPLED_PAIRS`. ``pictures`` (pts -> RGB
    at the embedder's size): keyframes already decoded, not decoded again; the ones decoded
    here are added to it, for a second look or the keyframe pass.

    Why: on content that cuts every couple of seconds, ``auto`` used to read every keyframe
    and then decode every frame anyway, which cost 9% over a full decode (1080p broadcast,
    real footage, ``vidscan bench``).
    """
    path = str(path)
    pairs = pairs or SAMPLED_PAIRS
    index = index_packets(path)
    if index is None or not index.ordered or len(index.key_pts) < max(2, 4 * pairs if min_keyframes is None else min_keyframes):
        return None
    info = PyAVSource(path).info
    size = embedder.frame_size(info.width, info.height)
    firsts = np.unique(np.linspace(0, len(index.key_pts) - 2, pairs).round().astype(int))
    keys = [int(index.key_pts[k + j]) for k in firsts for j in (0, 1)]
    pictures = {} if pictures is None else pictures
    local = threading.local()
    decoders: list[GopDecoder] = []

    def decode(pts: int) -> None:
        decoder = getattr(local, "decoder", None)
        if decoder is None:
            decoder = local.decoder = GopDecoder(path, index, size, info.quarter_turns)
            decoders.append(decoder)
        frame = decoder.keyframe(pts)
        if frame is not None:
            pictures[pts] = decoder.converter.rgb(frame)

    try:
        with ThreadPoolExecutor(max_workers=workers or default_workers(), thread_name_prefix="vidscan-sample") as pool:
            list(pool.map(decode, [p for p in dict.fromkeys(keys) if p not in pictures]))
    finally:
        for decoder in decoders:
            decoder.close()
    seen = [k for k in firsts if int(index.key_pts[k]) in pictures and int(index.key_pts[k + 1]) in pictures]
    if not seen:
        return None
    order = [int(index.key_pts[k + j]) for k in seen for j in (0, 1)]
    frames = np.stack([pictures[p] for p in order])
    vectors = embedder.embed(frames)
    thumbs = np.stack([thumbnail(f) for f in frames])
    differ = [candidate_pairs(vectors[i:i + 2], DEFAULT_THRESHOLD, key_thumbs=thumbs[i:i + 2], pixel_threshold=PIXEL_THRESHOLD)[0]
              for i in range(0, len(order), 2)]
    return SampledPairs(np.asarray(seen, np.int64), np.asarray(differ, bool))


@dataclass(frozen=True)
class KeyframeSample:
    """What sampled keyframe pairs said about a file before any keyframe pass."""

    share: float  # of the pairs looked at last, the share that differ
    pairs: int  # how many pairs that look asked for
    coarse_cost: float  # keyframes first's predicted cost, as a share of a full decode's
    every_frame: bool  # decode every frame at once, without reading the keyframes
    #: The keyframes the looks decoded (pts -> RGB at the embedder's size; at most
    #: 2 x (SAMPLED_PAIRS + SECOND_LOOK_PAIRS) of them): the keyframe pass reuses them.
    pictures: dict[int, np.ndarray] = field(default_factory=dict, repr=False, compare=False)


def predicted_coarse_cost(path: str | Path, sample: SampledPairs) -> float:
    """Keyframes first's cost predicted from ``sample`` (vidscan.video.cost), as a share of
    decoding every frame."""
    index = index_packets(str(path))
    info = PyAVSource(str(path)).info
    cost = DecodeCost(index, info.width * info.height)
    key_idx = np.searchsorted(index.pts, index.key_pts)
    return cost.coarse_estimate(key_idx, sample.firsts, sample.differ) / cost.full()


def sample_keyframe_pairs(path: str | Path, embedder: Embedder) -> KeyframeSample | None:
    """``auto``'s look at a file's keyframe pairs (:func:`sampled_pairs`): first
    :data:`SAMPLED_PAIRS`, then, for a file near the line, :data:`SECOND_LOOK_PAIRS`. None
    when the file has too few keyframes to sample (reading them all is then cheap)."""
    pictures: dict[int, np.ndarray] = {}
    first = sampled_pairs(path, embedder, pictures=pictures)
    if first is None:
        return None
    cost = predicted_coarse_cost(path, first)
    if cost >= FIRST_LOOK_GIVE_UP or cost < SECOND_LOOK_FROM:
        return KeyframeSample(first.share, SAMPLED_PAIRS, cost, cost >= FIRST_LOOK_GIVE_UP, pictures)
    second = sampled_pairs(path, embedder, pairs=SECOND_LOOK_PAIRS, pictures=pictures)
    if second is None:
        return KeyframeSample(first.share, SAMPLED_PAIRS, cost, False, pictures)
    cost = predicted_coarse_cost(path, second)
    return KeyframeSample(second.share, SECOND_LOOK_PAIRS, cost, cost >= COARSE_PAYS_BELOW, pictures)


def embed_coarse_to_fine(
    path: str | Path,
    embedder: Embedder,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    drift_ratio: float = 0.0,
    pixel_threshold: float = PIXEL_THRESHOLD,
    workers: int | None = None,
    progress: Progress | None = None,
    give_up_above: float | None = None,
    keyframe_pictures: Mapping[int, np.ndarray] | None = None,
):
    """Embed every frame of ``path`` (full-rate surrogate) by coarse-to-fine decoding.

    ``workers`` decoders (default: one per core, see :func:`default_workers`) share the
    fine pass, one GOP-long piece at a time. With ``give_up_above``, a fine pass predicted to
    cost more than that share of a full decode (vidscan.video.cost) is not started
    (:class:`CoarseNotWorthIt`): decoding every frame in one pass is then faster.
    ``keyframe_pictures``: keyframes already decoded (see :func:`keyframe_pass`).
    """

    progress = progress or NullProgress()
    path = str(path)
    t0 = time.perf_counter()
    source = PyAVSource(path)
    info = source.info
    size = embedder.frame_size(info.width, info.height)
    turns = info.quarter_turns
    workers = workers or default_workers()
    embed = FrameEmbedder(embedder, threading.Lock())
    index, key_pts, key_emb, key_luma, key_thumbs = keyframe_pass(path, size, turns, embed, workers, progress, keyframe_pictures)
    t_index = time.perf_counter()
    if len(key_pts) == 0:
        raise InputError("no keyframe could be decoded", path=path)
    key_idx = np.array([index.index_of(p) for p in key_pts], np.int64)
    n = len(index.pts)
    embeddings, luma = interpolate_keyframes(key_idx, key_emb, key_luma, n)
    decoded = np.zeros(n, bool)
    decoded[key_idx] = True
    signal = _Signal(embeddings, luma, np.zeros(n, np.float32), key_idx, key_emb, key_thumbs, decoded)
    stretches = candidate_stretches(key_emb, threshold, drift_ratio, key_thumbs, pixel_threshold)
    pieces = [k for a, b in stretches for k in range(a, b)]
    # Frames before the first keyframe (open GOP at the start) and after the last one (no
    # later keyframe to compare with) are always decoded.
    if key_idx[0] > 0:
        pieces.insert(0, -1)
    last = len(key_idx) - 1
    if key_idx[last] < n - 1 and (not pieces or pieces[-1] != last):
        pieces.append(last)
    cost = DecodeCost(index, info.width * info.height)
    fine_cost = cost.fine_pass(key_idx, pieces) / cost.full()
    if give_up_above is not None and fine_cost > give_up_above:
        ends = np.append(key_idx, n)
        planned = sum(int(ends[k + 1] - (ends[k] if k >= 0 else 0)) for k in pieces) / n
        raise CoarseNotWorthIt(planned, fine_cost)
    stats = CoarseStats(keyframes=len(key_idx), frames=n, candidate_stretches=len(stretches), pieces=len(pieces), workers=workers,
                        decoded=decoded, predicted_fine_cost=fine_cost)
    progress.start(f"decoding around cuts {Path(path).name}", float(max(1, len(pieces))))
    t_fine = time.perf_counter()
    local = threading.local()
    decoders: list[GopDecoder] = []
    seams = _Seams(pieces, signal.diffs, key_idx)

    def run(k: int) -> int:
        decoder = getattr(local, "decoder", None)
        if decoder is None:
            decoder = local.decoder = GopDecoder(path, index, size, turns)
            decoders.append(decoder)
        return _decode_piece(decoder, embed, signal, k, seams)

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vidscan-fine") as pool:
            for done, embedded in enumerate(pool.map(run, pieces), 1):
                stats.decoded_full_rate += embedded
                progress.update(float(done))
    finally:
        for decoder in decoders:
            decoder.close()
    progress.finish()
    t_end = time.perf_counter()
    stats.timings = {"index_keyframes_s": round(t_index - t0, 4), "fine_s": round(t_end - t_fine, 4), "total_s": round(t_end - t0, 4)}
    if pieces and pieces[-1] == last and key_idx[last] < n - 1:
        n = int(np.flatnonzero(decoded)[-1]) + 1  # the tail always runs to the end: what it could not decode is not there
        stats.frames = n
    times = np.asarray(index.seconds(index.pts[:n]), np.float64)
    frame_s = float(index.last_duration * index.time_base) or 1.0 / info.fps
    end_s = float(times[-1]) + frame_s
    damage = DecodeStats()
    bad = sorted({p for d in decoders for p in d.damaged} | index.damaged_pts)
    for t in np.asarray(index.seconds(np.asarray(bad, np.int64)), np.float64) if bad else []:
        damage.add_damage(float(t), float(t) + frame_s)
    if info.duration_s and end_s < info.duration_s - 0.5:
        damage.add_damage(end_s, info.duration_s)  # truncated: the container promised more
    damage.add_damages(index.gaps)
    info = dataclasses.replace(info, frame_count=n, frame_count_exact=True, duration_s=round(end_s, 6))
    video = EmbeddedVideo(
        info=info,
        sampling=Sampling.all_frames(),
        embedder=embedder.identity(),
        indices=np.arange(n, dtype=np.int64),
        times=times,
        embeddings=signal.embeddings[:n],
        luma=signal.luma[:n],
        diffs=signal.diffs[:n],
        frame_count=n,
        duration_s=end_s,
        damaged=damage.damaged,
        timings={"probe_s": 0.0, "decode_s": stats.timings["total_s"], "embed_s": 0.0},
    )
    return video, stats
