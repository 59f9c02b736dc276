"""Synthetic TV broadcasts with ad breaks, a station logo and a sound track, with exact truth.

The test and measurement material for ad-break detection (vidscan's own and Comskip's, which
lives on black frames, silence, the logo vanishing in ads, loudness and break structure).

**Structure** (:func:`broadcast_plan`). Programme blocks alternate: ``commentary`` (studio
shots, 20-90 s) and ``game`` (field/closeup/crowd shots cut every 2-8 s, 1-4 minutes), joined by
cuts or short dissolves. Ad breaks come every few minutes (``breaks`` of them, spread over the
video); a break cuts into the programme wherever it falls (the block is cut short, the next
block starts after it). A break is 2-6 spots, each exactly 10, 15, 20 or 30 s (in frames) of
1-6 ``ad`` shots with their own seeds, so spots differ in colour and pattern. Blocks are cut
short by a break or by the end of the video, so short videos have shorter blocks (and a block
absorbs a remainder under 10 s rather than leave a sliver; likewise the last shot of a block).

**Separators** (``separators``): ``"black"``: every break edge and every spot edge has 4-12
black frames (each run its own length) and the sound is digital silence over them; ``"none"``:
cuts straight into, through and out of breaks (modern playout: no black, no silence);
``"mixed"``: a seeded choice per break, and with two breaks or more both kinds occur. **Black
frames belong to the break**: the truth labels them ``ad``, a break's span runs from its first
black frame to its last, and its spots are the spans *between* the black runs (so every spot
is exactly a standard length, and a break's black runs are its span minus its spots).

**Logo**: a static, semi-opaque station logo (a rounded white plate with coloured letters
from a built-in 3x5 pixel font, about 10% of the width) in a fixed corner, drawn on every
programme frame and on no break frame (black ones included). It is drawn on the frames on
their way to the encoder (:func:`vidscan.synth.render.render`'s ``overlay``), so nothing is
encoded twice.

**Sound** (48 kHz mono, mixed in numpy, written as a WAV and muxed with ``-c:v copy -c:a aac``;
the WAV has exactly ``frame_count * 48000 / fps`` samples, so sound and picture last the same):

* ``commentary``: clean espeak-ng speech (voice, speed and sentences chosen by the seed,
  sentences joined with 0.2-0.7 s pauses), at -23 LUFS;
* ``game``: crowd noise (pink noise, band-limited, with a slow swell and occasional cheers) at
  -26 LUFS, with the commentator over it at times (sentences with 0.8-5 s gaps) at -28 LUFS;
* ``ad``: a music bed per spot (its own tempo, key, chord progression, timbre: sines with
  harmonics, a bass, a melody, kick/snare/hat), about half the spots with a voice-over,
  mixed to -18 LUFS: the loudness step ad detectors rely on;
* silence over black separators; straight joins (5 ms fades, no gap) where there are none.

Loudness is set by gain: each part is measured with ITU-R BS.1770-4 integrated loudness
(K-weighting, 400 ms blocks, absolute and relative gates; :func:`integrated_loudness`) and
scaled to its target, so the values are real LUFS (``ffmpeg -af ebur128`` agrees within a
fraction of a LU, AAC coding aside). The measured loudness per label is in the truth.

Everything is seeded: the same seed gives the same frames, sound (for the same espeak-ng
build) and truth.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import subprocess
import tempfile
import wave
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vidscan.errors import OutputError, UsageError
from vidscan.synth.looks import look, lavfi_source
from vidscan.synth.program import GroundTruth, Program, Shot, Transition, TrueBoundary, merged_spans, truth_of

#: Spot lengths sold in, seconds.
SPOT_LENGTHS_S = (10, 15, 20, 30)
SEPARATORS = ("black", "none", "mixed")
SAMPLE_RATE = 48000
#: Target loudness (LUFS) of each part of the sound track.
LOUDNESS = {"commentary": -23.0, "crowd": -26.0, "game_speech": -28.0, "ad": -18.0}
#: Block lengths, seconds (before a break or the end cuts them short).
BLOCK_S = {"commentary": (20.0, 90.0), "game": (60.0, 240.0)}
#: Shot lengths inside blocks, seconds.
SHOT_S = {"commentary": (5.0, 15.0), "game": (2.0, 8.0)}
BLACK_FRAMES = (4, 12)
LOGO_CORNERS = ("top-right", "top-left", "bottom-right", "bottom-left")


@look("black", group="ad")
def black(rng, w, h, fps):
    """Pure black: the separators between spots (``group`` ad: black frames belong to breaks)."""
    return lavfi_source(f"color=c=black:s={w}x{h}:r={fps}")


# ---------------------------------------------------------------------------------------------
# Truth


@dataclass
class SpotTruth:
    start_s: float
    end_s: float


@dataclass
class BreakTruth:
    start_s: float
    end_s: float
    spots: list[SpotTruth]
    #: Black frames + silence at the break's edges (and between its spots).
    black_edges: bool


@dataclass
class BroadcastTruth:
    fps: int
    frame_count: int
    duration_s: float
    width: int
    height: int
    #: (label, start_s, end_s); labels ``game``, ``commentary``, ``ad``; contiguous, covering the video.
    labels: list[tuple[str, float, float]]
    breaks: list[BreakTruth]
    #: x, y, w, h in pixels.
    logo_box: tuple[int, int, int, int]
    #: Frame-exact boundary truth of the picture (black runs are shots of their own).
    shots: GroundTruth
    #: Whether the video has a sound track.
    audio: bool = False
    #: Measured integrated loudness (BS.1770, LUFS) per label of the mixed track (before AAC).
    loudness: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    separators: str = "mixed"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    def save(self, path: str | Path) -> None:
        from vidscan.atomic import atomic_write_text

        atomic_write_text(path, self.to_json())

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "BroadcastTruth":
        raw = dict(raw)
        raw["labels"] = [tuple(lab) for lab in raw["labels"]]
        raw["breaks"] = [BreakTruth(b["start_s"], b["end_s"], [SpotTruth(**s) for s in b["spots"]], b["black_edges"]) for b in raw["breaks"]]
        raw["logo_box"] = tuple(raw["logo_box"])
        shots = dict(raw["shots"])
        shots["boundaries"] = [TrueBoundary(**b) for b in shots["boundaries"]]
        shots["negatives"] = [tuple(n) for n in shots["negatives"]]
        shots["labels"] = [tuple(lab) for lab in shots["labels"]]
        raw["shots"] = GroundTruth(**shots)
        return cls(**raw)

    @classmethod
    def load(cls, path: str | Path) -> "BroadcastTruth":
        return cls.from_dict(json.loads(Path(path).read_text()))

    def label_seconds(self) -> dict[str, float]:
        """Seconds of content per label."""
        out: dict[str, float] = {}
        for label, start, end in self.labels:
            out[label] = out.get(label, 0.0) + (end - start)
        return out


# ---------------------------------------------------------------------------------------------
# Plan


@dataclass
class Piece:
    """A stretch of the output, in frames: a programme block (``commentary``/``game``), a
    ``spot`` or a ``black`` separator. Pieces partition ``[0, frame_count)``; a dissolve
    between two programme blocks is split at its middle, as the labels are."""

    kind: str
    start: int
    end: int
    seed: int
    #: Spots: with a voice-over. Programme blocks: always have speech.
    speech: bool = False
    #: Index of the break a spot or black run belongs to.
    break_index: int | None = None

    @property
    def label(self) -> str:
        return "ad" if self.kind in ("spot", "black") else self.kind


@dataclass
class BroadcastPlan:
    seed: int
    width: int
    height: int
    fps: int
    separators: str
    program: Program
    pieces: list[Piece]
    #: (first frame, end frame, black_edges) of each break, black runs included.
    breaks: list[tuple[int, int, bool]]
    logo_box: tuple[int, int, int, int]
    #: The logo, RGBA uint8 [h, w, 4].
    logo: np.ndarray
    #: espeak-ng voices: the studio presenter, the game commentator, the ads' voice-overs.
    voices: dict[str, Any]
    #: Whether the station logo is drawn at all (a channel without one).
    with_logo: bool = True
    #: Target loudness of the ads (LUFS): louder than the programme by default; at the
    #: programme's level for a loudness-normalised channel (EBU R128).
    ad_lufs: float = LOUDNESS["ad"]

    @property
    def frame_count(self) -> int:
        return self.pieces[-1].end if self.pieces else 0

    def logo_frames(self) -> np.ndarray:
        """Boolean per frame: is the logo drawn on it (every programme frame, no break frame)."""
        on = np.zeros(self.frame_count, bool)
        if not self.with_logo:
            return on
        for p in self.pieces:
            if p.label != "ad":
                on[p.start : p.end] = True
        return on

    def truth(self, *, audio: bool = False, loudness: dict[str, float] | None = None) -> BroadcastTruth:
        """The truth of the rendered broadcast (labels, breaks and spots in seconds)."""
        fps = self.fps
        shots = truth_of(self.program)
        labels = [(lab, s / fps, e / fps) for lab, s, e in shots.labels]
        breaks = []
        for index, (start, end, black_edges) in enumerate(self.breaks):
            spots = [SpotTruth(p.start / fps, p.end / fps) for p in self.pieces if p.kind == "spot" and p.break_index == index]
            breaks.append(BreakTruth(start / fps, end / fps, spots, black_edges))
        return BroadcastTruth(
            fps, shots.frame_count, shots.frame_count / fps, self.width, self.height, labels, breaks, self.logo_box, shots,
            audio=audio, loudness=dict(loudness or {}), seed=self.seed, separators=self.separators,
        )


def _split(rng: random.Random, frames: int, lo: int, hi: int) -> list[int]:
    """Split ``frames`` into lengths drawn from [lo, hi] (the last absorbs the rest; none under ``lo``
    unless the whole is)."""
    out: list[int] = []
    left = frames
    while left > 0:
        n = rng.randint(lo, hi)
        if left - n < lo:
            n = left
        out.append(n)
        left -= n
    return out


def _spot_shots(rng: random.Random, frames: int, fps: int) -> list[int]:
    """1-6 shot lengths summing to ``frames``, each at least a second."""
    k = min(rng.randint(1, 6), max(1, frames // fps))
    weights = [rng.uniform(1.0, 3.0) for _ in range(k)]
    spare = frames - k * fps
    lengths = [fps + int(spare * w / sum(weights)) for w in weights]
    lengths[-1] += frames - sum(lengths)
    return lengths


def broadcast_plan(
    seed: int = 0,
    minutes: float = 10.0,
    *,
    width: int = 320,
    height: int = 180,
    fps: int = 25,
    separators: str = "mixed",
    breaks: int | None = None,
    spots_per_break: tuple[int, int] = (2, 6),
    spot_lengths: tuple[int, ...] = SPOT_LENGTHS_S,
    logo_corner: str = "top-right",
    with_logo: bool = True,
    ad_lufs: float = LOUDNESS["ad"],
) -> BroadcastPlan:
    """Lay out a broadcast of ``minutes`` (exactly ``round(minutes * 60 * fps)`` frames).

    ``breaks`` forces the number of ad breaks (default: one every 3-4.5 minutes, at least one);
    ``spots_per_break`` and ``spot_lengths`` (seconds) bound the breaks, so short test videos
    can hold them. If the breaks would take over 40% of the video, spots are dropped (down to
    ``spots_per_break[0]``) and shortened (down to the shortest length) first; past 70%, or with
    too little programme between breaks, it is a :class:`UsageError`.
    ``with_logo=False`` draws no logo (a channel without one); ``ad_lufs`` sets the ads'
    loudness (the programme's -23 for a loudness-normalised channel).
    """
    if separators not in SEPARATORS:
        raise UsageError(f"separators must be one of {', '.join(SEPARATORS)}, not {separators!r}")
    if logo_corner not in LOGO_CORNERS:
        raise UsageError(f"logo_corner must be one of {', '.join(LOGO_CORNERS)}, not {logo_corner!r}")
    if not spot_lengths or min(spot_lengths) <= 0 or spots_per_break[0] < 1 or spots_per_break[1] < spots_per_break[0]:
        raise UsageError("spot_lengths must be positive and spots_per_break a (min, max) pair with 1 <= min <= max")
    rng = random.Random(seed)
    total = int(round(minutes * 60 * fps))
    n_breaks = breaks if breaks is not None else max(1, int(round(minutes / rng.uniform(3.0, 4.5))))
    if n_breaks < 0:
        raise UsageError("breaks must be >= 0")

    # The breaks: spot lengths, then separators, then black run lengths.
    specs = [[rng.choice(spot_lengths) for _ in range(rng.randint(*spots_per_break))] for _ in range(n_breaks)]

    def ad_frames() -> int:
        return sum(sum(s) * fps + (len(s) + 1) * BLACK_FRAMES[1] for s in specs)

    while specs and ad_frames() > 0.4 * total:
        longest = max(specs, key=sum)
        if len(longest) > spots_per_break[0]:
            longest.remove(max(longest))
        elif max(longest) > min(spot_lengths):
            longest[longest.index(max(longest))] = min(spot_lengths)
        else:
            break
    if specs and ad_frames() > 0.7 * total:
        raise UsageError(f"{minutes:g} minutes is too short for {n_breaks} ad break(s) of {spots_per_break[0]}+ spots: use fewer breaks or more minutes")
    if separators == "mixed":
        black_edges = [rng.random() < 0.5 for _ in specs]
        if len(black_edges) >= 2 and len(set(black_edges)) == 1:
            flip = rng.randrange(len(black_edges))
            black_edges[flip] = not black_edges[flip]
    else:
        black_edges = [separators == "black"] * len(specs)
    blacks = [[rng.randint(*BLACK_FRAMES) for _ in range(len(s) + 1)] if edge else [] for s, edge in zip(specs, black_edges)]
    break_frames = [sum(s) * fps + sum(b) for s, b in zip(specs, blacks)]

    # The programme between the breaks.
    programme = total - sum(break_frames)
    weights = [rng.uniform(0.75, 1.25) for _ in range(n_breaks + 1)]
    stretches = [int(programme * w / sum(weights)) for w in weights]
    stretches[-1] += programme - sum(stretches)
    if min(stretches) < 2 * fps:
        raise UsageError(f"{minutes:g} minutes leaves under 2 s of programme between ad breaks: use fewer breaks or more minutes")

    # Nominal items: (Shot, piece index); pieces in output order.
    shots: list[Shot] = []
    transitions: list[Transition] = []
    pieces: list[Piece] = []
    break_spans: list[tuple[int, int, bool]] = []
    position = 0
    kind = "commentary"

    def add_shot(shot: Shot, transition: Transition | None) -> None:
        if shots:
            transitions.append(transition or Transition("cut"))
        shots.append(shot)

    def add_block(kind: str, frames: int, join: Transition | None) -> None:
        nonlocal position
        lo, hi = (int(round(s * fps)) for s in SHOT_S[kind])
        lengths = _split(rng, frames, lo, hi)
        for j, n in enumerate(lengths):
            if kind == "commentary":
                shot_look = "studio"
            else:
                shot_look = "field" if j == 0 else rng.choices(["field", "closeup", "crowd"], weights=[5, 4, 2])[0]
            add_shot(Shot(shot_look, n, seed=rng.randint(0, 10**6), label=kind), join if j == 0 else None)
        pieces.append(Piece(kind, position, position + frames, rng.randint(0, 10**6), speech=True))
        position += frames

    for stretch_index, stretch in enumerate(stretches):
        left = stretch
        join: Transition | None = None  # first block after a break: a cut
        while left > 0:
            lo, hi = BLOCK_S[kind]
            block = int(round(rng.uniform(lo, hi) * fps))
            if block >= left or left - block < 10 * fps:
                block = left
            add_block(kind, block, join)
            left -= block
            kind = "game" if kind == "commentary" else "commentary"
            join = Transition("dissolve", rng.randint(8, 16)) if rng.random() < 0.5 else Transition("cut")
        if stretch_index < n_breaks:
            index = len(break_spans)
            start = position
            runs = blacks[index]
            for k, seconds in enumerate(specs[index]):
                if runs:
                    add_shot(Shot("black", runs[k], seed=0, label="ad"), None)
                    pieces.append(Piece("black", position, position + runs[k], 0, break_index=index))
                    position += runs[k]
                spot_seed = rng.randint(0, 10**6)
                spot_frames = seconds * fps
                for j, n in enumerate(_spot_shots(rng, spot_frames, fps)):
                    add_shot(Shot("ad", n, seed=spot_seed + 7 * j, label="ad"), None)
                pieces.append(Piece("spot", position, position + spot_frames, spot_seed, speech=rng.random() < 0.5, break_index=index))
                position += spot_frames
            if runs:
                add_shot(Shot("black", runs[-1], seed=0, label="ad"), None)
                pieces.append(Piece("black", position, position + runs[-1], 0, break_index=index))
                position += runs[-1]
            break_spans.append((start, position, bool(runs)))
    assert position == total, (position, total)

    # Dissolves overlap their shots: lengthen both so the labels split exactly at the nominal edge.
    for i, t in enumerate(transitions):
        if t.kind != "cut":
            shots[i].frames += t.frames - t.frames // 2
            shots[i + 1].frames += t.frames // 2
    program = Program(shots, transitions, width, height, fps)

    logo = station_logo(width, height, seed)
    lh, lw = logo.shape[:2]
    mx, my = max(2, round(width * 0.04)), max(2, round(height * 0.05))
    x = width - lw - mx if logo_corner.endswith("right") else mx
    y = my if logo_corner.startswith("top") else height - lh - my
    voices = {
        "studio": (rng.choice(["en-gb", "en-us", "en-gb-x-rp"]) + rng.choice(["+m1", "+m3", "+f2", "+f4"]), rng.randint(150, 170), rng.randint(40, 60)),
        "game": (rng.choice(["en-us", "en-gb", "en-gb-scotland"]) + rng.choice(["+m2", "+m4", "+m7", "+f3"]), rng.randint(165, 185), rng.randint(50, 70)),
        "ad": [(rng.choice(["en-us", "en-gb"]) + rng.choice(["+m1", "+m5", "+f1", "+f2", "+f5"]), rng.randint(165, 185), rng.randint(45, 75)) for _ in range(3)],
    }
    plan = BroadcastPlan(seed, width, height, fps, separators, program, pieces, break_spans, (x, y, lw, lh), logo, voices,
                         with_logo, ad_lufs)
    merged = merged_spans([(p.label, p.start, p.end) for p in pieces])
    assert truth_of(program).labels == merged, "broadcast layout disagrees with the program's truth"
    return plan


# ---------------------------------------------------------------------------------------------
# Logo

_GLYPHS = {
    "V": ("101", "101", "101", "101", "010"),
    "S": ("111", "100", "111", "001", "111"),
    "T": ("111", "010", "010", "010", "010"),
    "C": ("111", "100", "100", "100", "111"),
    "H": ("101", "101", "111", "101", "101"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "7": ("111", "001", "010", "010", "010"),
}
_STATIONS = ("VS1", "TV2", "CH4", "ST7", "VT1", "HC2")
_INKS = ((21, 101, 192), (198, 40, 40), (46, 125, 50), (239, 108, 0), (106, 27, 154))


def station_logo(width: int, height: int, seed: int = 0) -> np.ndarray:
    """The station logo, RGBA uint8: a rounded white plate (alpha 0.72) with three coloured
    letters (alpha 0.95) from a 3x5 pixel font, about 10% of the frame width."""
    rng = random.Random(seed * 31 + 5)
    name, ink = rng.choice(_STATIONS), rng.choice(_INKS)
    lw = max(16, round(width * 0.1))
    lh = max(9, round(lw * 0.56))
    pad = max(1, lh // 8)
    scale = max(1, min((lh - 2 * pad) // 5, (lw - 2 * pad) // (4 * len(name) - 1)))
    rgba = np.zeros((lh, lw, 4), np.uint8)
    yy, xx = np.mgrid[0:lh, 0:lw].astype(np.float32) + 0.5
    r = lh / 4
    cx = np.clip(xx, r, lw - r)
    cy = np.clip(yy, r, lh - r)
    plate = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    rgba[plate] = (255, 255, 255, 184)
    text_w, text_h = (4 * len(name) - 1) * scale, 5 * scale
    x0, y0 = (lw - text_w) // 2, (lh - text_h) // 2
    for k, ch in enumerate(name):
        glyph = np.array([[c == "1" for c in row] for row in _GLYPHS[ch]])
        glyph = np.kron(glyph, np.ones((scale, scale), bool))
        gx = x0 + 4 * scale * k
        region = rgba[y0 : y0 + text_h, gx : gx + 3 * scale]
        region[glyph] = (*ink, 242)
    return rgba


class _LogoOverlay:
    """``render``'s overlay: alpha-blends the logo on the frames whose flag is set."""

    def __init__(self, plan: BroadcastPlan) -> None:
        self.on = plan.logo_frames()
        x, y, w, h = plan.logo_box
        self.box = (slice(y, y + h), slice(x, x + w))
        alpha = plan.logo[..., 3:4].astype(np.float32) / 255.0
        self.keep = 1.0 - alpha
        self.add = plan.logo[..., :3].astype(np.float32) * alpha + 0.5

    def __call__(self, index: int, frame: np.ndarray) -> np.ndarray:
        if not self.on[index]:
            return frame
        frame = np.array(frame)  # a writable copy
        patch = frame[self.box]
        frame[self.box] = (patch.astype(np.float32) * self.keep + self.add).astype(np.uint8)
        return frame


def logo_score(frame: np.ndarray, logo: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """How clearly ``logo`` shows in ``frame`` (RGB) at ``box``: the correlation of the patch's
    luminance with the logo's alpha-weighted luminance pattern (about 1 where the logo is drawn,
    about 0 where it is not; 0 for a flat patch)."""
    x, y, w, h = box
    lum = np.array([0.299, 0.587, 0.114], np.float32)
    patch = frame[y : y + h, x : x + w, :3].astype(np.float32) @ lum
    alpha = logo[..., 3].astype(np.float32) / 255.0
    template = alpha * (logo[..., :3].astype(np.float32) @ lum - 128.0)
    a, b = patch - patch.mean(), template - template.mean()
    denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denom) if denom > 1e-6 else 0.0


# ---------------------------------------------------------------------------------------------
# Sound

_COMMENTARY = (
    "Good evening and welcome back to the studio for tonight's match.",
    "The home side have looked sharp in the opening stages.",
    "Their midfield has controlled the tempo for most of the half.",
    "It is a big night for both teams at the top of the table.",
    "The manager made three changes to the starting line up.",
    "We will look at the key moments again in a moment.",
    "The visitors will want to press higher after the break.",
    "That early chance really should have been taken.",
    "Defensively they have been very well organised so far.",
    "The crowd here is in excellent voice this evening.",
    "Let us take a closer look at the formation tonight.",
    "The weather has held up nicely for the players.",
    "Their captain has been outstanding all season long.",
    "A draw would suit neither side in this title race.",
)
_GAME = (
    "He plays it wide to the winger.",
    "Good tackle in the middle of the park.",
    "And the ball is back with the keeper.",
    "A long ball forward, and it is cleared.",
    "Lovely turn, and he is away down the left.",
    "That is a corner kick for the home side.",
    "He shoots, and it goes just wide of the post.",
    "The referee waves play on.",
    "Patient build up from the back now.",
    "What a save that is from the goalkeeper.",
    "Free kick, just outside the box.",
    "They are pushing everyone forward now.",
)
_ADS = (
    "New and improved, only at your local store.",
    "Fresh taste, every single day.",
    "Call now and get two for the price of one.",
    "Drive further with the all new model.",
    "Fast broadband for the whole family.",
    "Limited time offer, terms and conditions apply.",
    "Treat yourself, you deserve it.",
    "Save big this weekend only.",
    "The smart choice for your home.",
    "Sign up today, your first month is free.",
)

#: BS.1770 K-weighting at 48 kHz: a high shelf, then a high pass.
_K_SHELF = ([1.53512485958697, -2.69169618940638, 1.19839281085285], [1.0, -1.69065929318241, 0.73248077421585])
_K_HIGHPASS = ([1.0, -2.0, 1.0], [1.0, -1.99004745483398, 0.99007225036621])


def integrated_loudness(x: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    """ITU-R BS.1770-4 integrated loudness (LUFS) of a mono signal at 48 kHz: K-weighted,
    400 ms blocks with 75% overlap, -70 LUFS absolute and -10 LU relative gates (a signal
    shorter than a block is one block). ``-inf`` for silence."""
    from scipy.signal import lfilter

    if sr != 48000:
        raise ValueError("integrated_loudness expects 48 kHz")
    y = lfilter(*_K_HIGHPASS, lfilter(*_K_SHELF, np.asarray(x, np.float64)))
    block, step = int(0.4 * sr), int(0.1 * sr)
    csum = np.concatenate([[0.0], np.cumsum(y * y)])
    if len(y) <= block:
        z = np.array([csum[-1] / max(1, len(y))])
    else:
        starts = np.arange(0, len(y) - block + 1, step)
        z = (csum[starts + block] - csum[starts]) / block
    with np.errstate(divide="ignore"):
        lk = -0.691 + 10 * np.log10(z)
    z = z[lk > -70.0]
    if not len(z):
        return float("-inf")
    relative = -0.691 + 10 * np.log10(z.mean()) - 10.0
    z = z[-0.691 + 10 * np.log10(z) > relative]
    return float(-0.691 + 10 * np.log10(z.mean()))


def _to_loudness(x: np.ndarray, target: float) -> np.ndarray:
    level = integrated_loudness(x)
    return x if not math.isfinite(level) else x * 10 ** ((target - level) / 20)


class _Speech:
    """espeak-ng clips at 48 kHz, synthesised once per (voice, text)."""

    def __init__(self, folder: Path) -> None:
        exe = shutil.which("espeak-ng")
        if exe is None:
            raise UsageError("espeak-ng is needed for the broadcast sound track: install it (apt-get install espeak-ng) or render with audio=False")
        self.exe, self.folder, self.cache = exe, folder, {}

    def clip(self, voice: tuple[str, int, int], text: str) -> np.ndarray:
        key = (voice, text)
        if key not in self.cache:
            from scipy.signal import resample_poly

            path = self.folder / f"speech{len(self.cache)}.wav"
            name, speed, pitch = voice
            done = subprocess.run([self.exe, "-w", str(path), "-v", name, "-s", str(speed), "-p", str(pitch), text], capture_output=True, text=True)
            if done.returncode != 0 or not path.exists():
                raise UsageError(f"espeak-ng failed (voice {name}): {(done.stderr or done.stdout).strip() or 'no output'}")
            with wave.open(str(path)) as w:
                rate, raw = w.getframerate(), w.readframes(w.getnframes())
            x = np.frombuffer(raw, "<i2").astype(np.float64) / 32768.0
            g = math.gcd(SAMPLE_RATE, rate)
            x = resample_poly(x, SAMPLE_RATE // g, rate // g)
            nz = np.flatnonzero(np.abs(x) > 1e-3)  # trim espeak's leading/trailing silence
            self.cache[key] = x[nz[0] : nz[-1] + 1] if len(nz) else x
        return self.cache[key]

    def track(self, n: int, rng: np.random.Generator, voice, texts, pause_s: tuple[float, float], lead_s: float = 0.3) -> np.ndarray:
        """``n`` samples of sentences from ``texts`` separated by pauses, cut at the end."""
        out = np.zeros(n)
        t = int(rng.uniform(0.0, lead_s) * SAMPLE_RATE)
        while t < n:
            x = self.clip(voice, texts[int(rng.integers(len(texts)))])
            take = min(len(x), n - t)
            out[t : t + take] = x[:take]
            t += take + int(rng.uniform(*pause_s) * SAMPLE_RATE)
        return out


def _fade(x: np.ndarray, seconds: float = 0.005) -> np.ndarray:
    k = min(len(x) // 2, int(seconds * SAMPLE_RATE))
    if k > 0:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, k))
        x[:k] *= ramp
        x[-k:] *= ramp[::-1]
    return x


def _crowd(n: int, rng: np.random.Generator) -> np.ndarray:
    """Stadium crowd: band-limited pink noise with a slow swell and occasional cheers."""
    from scipy.signal import butter, lfilter, sosfilt

    sr = SAMPLE_RATE
    pink = lfilter([0.049922035, -0.095993537, 0.050612699, -0.004408786], [1.0, -2.494956002, 2.017265875, -0.522189400], rng.standard_normal(n))
    bed = sosfilt(butter(2, [180, 3500], "bandpass", fs=sr, output="sos"), pink)
    t = np.arange(n) / sr
    swell = np.ones(n)
    for _ in range(3):
        swell += 0.12 * np.sin(2 * np.pi * rng.uniform(0.02, 0.15) * t + rng.uniform(0, 2 * np.pi))
    cheer_env = np.zeros(n)
    for _ in range(int(rng.poisson(max(1.0, n / sr / 25)))):
        length = int(rng.uniform(1.5, 4.0) * sr)
        start = int(rng.integers(0, max(1, n - length // 2)))
        env = np.sin(np.linspace(0, np.pi, length)) ** 2 * rng.uniform(1.0, 2.0)
        stop = min(n, start + length)
        cheer_env[start:stop] += env[: stop - start]
    bright = sosfilt(butter(2, [800, 5000], "bandpass", fs=sr, output="sos"), rng.standard_normal(n)) * 0.5
    return bed * swell * (1 + cheer_env) + bright * cheer_env * np.std(bed)


def _note(freq: float, length: int, harmonics: list[float], decay: float) -> np.ndarray:
    t = np.arange(length) / SAMPLE_RATE
    wave_ = sum(a * np.sin(2 * np.pi * freq * (k + 1) * t) for k, a in enumerate(harmonics))
    attack = np.minimum(1.0, t / 0.01)
    return wave_ * attack * np.exp(-t / decay)


def _music(n: int, rng: np.random.Generator) -> np.ndarray:
    """A commercial's music bed: chords, bass and a melody of harmonic sines over a beat; tempo,
    key, progression and timbre come from ``rng``, so every spot sounds different."""
    sr = SAMPLE_RATE
    beat = int(60.0 / rng.uniform(96, 136) * sr)
    out = np.zeros(n + 6 * beat)  # room for the last bar's notes and tails
    root = 196.0 * 2 ** (int(rng.integers(0, 12)) / 12)
    progression = [[0, 7, 9, 5], [0, 5, 7, 5], [9, 5, 0, 7], [0, 9, 5, 7], [0, 3, 5, 7]][int(rng.integers(5))]
    r = rng.uniform(0.3, 0.7)
    timbre = [r**k for k in range(int(rng.integers(2, 6)))]
    scale = [0, 2, 4, 7, 9, 12, 14, 16]
    rest = rng.uniform(0.1, 0.4)
    bar, k = 4 * beat, 0
    for start in range(0, n, bar):
        degree = progression[k % len(progression)]
        k += 1
        minor = degree in (9, 2, 4)
        for semis in (0, 3 if minor else 4, 7):
            f = root * 2 ** ((degree + semis) / 12)
            out[start : start + bar] += 0.18 * _note(f, bar, timbre, 1.2)
        for b in range(4):
            s = start + b * beat
            out[s : s + beat] += 0.35 * _note(root / 2 * 2 ** (degree / 12), beat, [1.0, 0.3], 0.25)
            # Kick on every beat: a falling sine.
            kl = int(0.25 * sr)
            tk = np.arange(kl) / sr
            out[s : s + kl] += 0.9 * np.sin(2 * np.pi * (45 * tk + 100 * 0.04 * (1 - np.exp(-tk / 0.04)))) * np.exp(-tk / 0.09)
            # Snare on 2 and 4, hats on the off-beats.
            if b % 2:
                sl = int(0.12 * sr)
                out[s : s + sl] += 0.35 * rng.standard_normal(sl) * np.exp(-np.arange(sl) / (0.03 * sr))
            h = s + beat // 2
            hl = int(0.03 * sr)
            out[h : h + hl] += 0.15 * np.diff(rng.standard_normal(hl + 1)) * np.exp(-np.arange(hl) / (0.008 * sr))
            for e in range(2):  # melody in eighths
                if rng.random() < rest:
                    continue
                f = root * 2 * 2 ** (scale[int(rng.integers(len(scale)))] / 12)
                m = s + e * beat // 2
                out[m : m + beat] += 0.25 * _note(f, beat, timbre, 0.3)
    return out[:n]


def broadcast_audio(plan: BroadcastPlan, *, workdir: str | Path | None = None) -> tuple[np.ndarray, dict[str, float]]:
    """The mono 48 kHz sound track (float64 in [-1, 1], exactly as long as the video) and its
    measured integrated loudness per label. Needs espeak-ng (:class:`UsageError` without it)."""
    with tempfile.TemporaryDirectory(prefix="vidscan-speech-", dir=workdir) as folder:
        speech = _Speech(Path(folder))
        sr, fps = SAMPLE_RATE, plan.fps

        def sample(frame: int) -> int:
            return int(round(frame * sr / fps))

        out = np.zeros(sample(plan.frame_count))
        spot_index = 0
        for i, p in enumerate(plan.pieces):
            a, b = sample(p.start), sample(p.end)
            n = b - a
            rng = np.random.default_rng([plan.seed, i, p.seed])
            if p.kind == "black":
                continue  # digital silence
            if p.kind == "commentary":
                x = _to_loudness(speech.track(n, rng, plan.voices["studio"], _COMMENTARY, (0.2, 0.7)), LOUDNESS["commentary"])
            elif p.kind == "game":
                x = _to_loudness(_crowd(n, rng), LOUDNESS["crowd"])
                x += _to_loudness(speech.track(n, rng, plan.voices["game"], _GAME, (0.8, 5.0), lead_s=2.0), LOUDNESS["game_speech"])
            else:
                x = _to_loudness(_music(n, rng), plan.ad_lufs - 2.0)
                if p.speech:
                    voice = plan.voices["ad"][spot_index % len(plan.voices["ad"])]
                    x += _to_loudness(speech.track(n, rng, voice, _ADS, (0.3, 1.0), lead_s=1.0), plan.ad_lufs - 3.0)
                x = _to_loudness(x, plan.ad_lufs)
                spot_index += 1
            peak = np.max(np.abs(x)) if n else 0.0
            if peak > 0.98:  # a soft knee above -0.2 dBFS instead of clipping
                x = np.where(np.abs(x) > 0.9, np.sign(x) * (0.9 + 0.08 * np.tanh((np.abs(x) - 0.9) / 0.08)), x)
            out[a:b] = _fade(x)
        loudness: dict[str, float] = {}
        for label in ("commentary", "game", "ad"):
            parts = [out[sample(p.start) : sample(p.end)] for p in plan.pieces if p.label == label and p.kind != "black"]
            if parts:
                loudness[label] = round(integrated_loudness(np.concatenate(parts)), 2)
    return np.clip(out, -1.0, 1.0), loudness


def write_wav(path: str | Path, audio: np.ndarray, sr: int = SAMPLE_RATE) -> None:
    """16-bit mono PCM WAV."""
    pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


# ---------------------------------------------------------------------------------------------
# Render


def render_broadcast(plan: BroadcastPlan, path: str | Path, *, truth_path: str | Path | None = None, audio: bool = True, gop: int | None = None) -> BroadcastTruth:
    """Render ``plan`` to ``path`` (H.264, with an AAC mono 48 kHz track when ``audio``) and
    return (and optionally save) its truth. The picture is rendered by
    :func:`vidscan.synth.render.render` with the logo drawn on its way to the encoder; the sound
    is mixed first (so a missing espeak-ng fails before any encoding) and muxed with
    ``-c:v copy``."""
    from vidscan.atomic import staged_path
    from vidscan.ffmpeg_bin import ffmpeg_exe, ffmpeg_failure
    from vidscan.synth.render import render

    path = Path(path)
    overlay = _LogoOverlay(plan)
    if not audio:
        render(plan.program, path, gop=gop, overlay=overlay)
        truth = plan.truth(audio=False)
    else:
        with tempfile.TemporaryDirectory(prefix="vidscan-broadcast-") as folder:
            track, loudness = broadcast_audio(plan, workdir=folder)
            wav = Path(folder) / "sound.wav"
            write_wav(wav, track)
            silent = Path(folder) / f"picture{path.suffix if path.suffix in ('.mp4', '.mkv', '.mov') else '.mp4'}"
            render(plan.program, silent, gop=gop, overlay=overlay)
            with staged_path(path) as tmp:
                args = [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-i", str(silent), "-i", str(wav)]
                args += ["-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-b:a", "96k"]
                if not path.suffix or tmp.suffix != path.suffix:
                    args += ["-f", "mp4"]
                done = subprocess.run(args + [str(tmp)], capture_output=True, text=True)
                if done.returncode != 0:
                    raise OutputError(f"ffmpeg failed to mux the sound track: {ffmpeg_failure(done.stderr, replace={str(tmp): str(path)})}", path=str(path))
        truth = plan.truth(audio=True, loudness=loudness)
    if truth_path is not None:
        truth.save(truth_path)
    return truth
