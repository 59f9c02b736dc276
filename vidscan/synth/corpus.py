"""Ready-made programs: the demo broadcast and the shot-detection accuracy corpus.

Everything is seeded, so a program renders to the same frames (and the same ground truth)
on every machine.
"""

from __future__ import annotations

import random

from vidscan.synth.program import Event, Program, Shot, Transition

GENERIC_LOOKS = ("bars", "testsrc", "mandelbrot", "life", "gradients", "cells", "sierpinski", "photo", "field", "studio", "ad")


def _varied_looks(rng: random.Random, pool: tuple[str, ...], n: int) -> list[str]:
    """``n`` looks from ``pool`` with no look twice in a row (a cut between two shots of the
    same generator can be invisible, which would make the ground truth unfair)."""
    out: list[str] = []
    for _ in range(n):
        out.append(rng.choice([look for look in pool if not out or look != out[-1]]))
    return out


def _frames(rng: random.Random, fps: int, lo_s: float, hi_s: float) -> int:
    return int(round(rng.uniform(lo_s, hi_s) * fps))


def broadcast_program(seed: int = 0, minutes: float = 1.0, width: int = 320, height: int = 180, fps: int = 25) -> Program:
    """A sports broadcast: studio commentary, game blocks cut between camera angles (with
    flashes and pans), and ad breaks of short bright shots, joined the way broadcasters do
    (cuts inside blocks, dissolves or dips to black between blocks)."""
    rng = random.Random(seed)
    shots: list[Shot] = []
    transitions: list[Transition] = []
    total = 0
    target = minutes * 60 * fps
    block_kinds = ["commentary", "game", "ad", "game", "commentary", "game", "ad"]
    k = 0
    while total < target:
        kind = block_kinds[k % len(block_kinds)]
        k += 1
        if shots:
            transitions.append(rng.choice([Transition("cut"), Transition("dissolve", rng.randint(10, 20)), Transition("fadeblack", rng.randint(12, 24))]))
        if kind == "commentary":
            n_shots, look, length = rng.randint(1, 2), "studio", (3.0, 6.0)
        elif kind == "game":
            n_shots, look, length = rng.randint(3, 5), "field", (2.0, 6.0)  # wide, close-up or crowd per shot
        else:
            n_shots, look, length = rng.randint(3, 6), "ad", (0.8, 2.0)
        for j in range(n_shots):
            if j:
                transitions.append(Transition("cut"))
            incoming = transitions[-1].frames if transitions and transitions[-1].kind != "cut" else 0
            frames = min(_frames(rng, fps, *length), max(int(0.8 * fps), int(target - total)))
            frames = max(frames, incoming + fps // 2)
            shot_look = look
            if kind == "game" and j:
                shot_look = rng.choices(["field", "closeup", "crowd"], weights=[5, 4, 1])[0]
            events = []
            if kind == "game" and rng.random() < 0.3 and frames > 30:
                events.append(Event("flash", rng.randint(8, frames - 10), rng.randint(1, 2)))
            shots.append(Shot(shot_look, frames, seed=rng.randint(0, 10**6), label=kind, events=events))
            total += frames - incoming
            if total >= target:
                break
    return Program(shots, transitions, width, height, fps)


def accuracy_programs(width: int = 320, height: int = 180, fps: int = 25, videos_per_group: int = 3, shots_per_video: int = 14) -> dict[str, list[Program]]:
    """The shot-boundary accuracy corpus, by group:

    * ``cuts``: hard cuts between varied material (lavfi sources and real photographs);
    * ``gradual``: dissolves, dips to black and wipes of 8-40 frames, plus some cuts;
    * ``negatives``: few boundaries, many things that must not fire: white flashes, objects
      sweeping across the frame, fast camera pans, zooms, busy cellular automata;
    * ``broadcast``: the sports-broadcast mix, with cuts between cameras on the same pitch.
    """
    groups: dict[str, list[Program]] = {"cuts": [], "gradual": [], "negatives": [], "broadcast": []}
    for v in range(videos_per_group):
        rng = random.Random(1000 + v)
        looks = _varied_looks(rng, GENERIC_LOOKS, shots_per_video)
        shots = [Shot(look, _frames(rng, fps, 0.8, 4.0), seed=rng.randint(0, 10**6)) for look in looks]
        groups["cuts"].append(Program(shots, [Transition("cut")] * (len(shots) - 1), width, height, fps))

        rng = random.Random(2000 + v)
        looks = _varied_looks(rng, GENERIC_LOOKS, shots_per_video)
        shots = [Shot(look, _frames(rng, fps, 3.0, 6.0), seed=rng.randint(0, 10**6)) for look in looks]
        kinds = [rng.choice(["dissolve", "dissolve", "fadeblack", "wipe", "cut"]) for _ in range(len(shots) - 1)]
        trans = [Transition(kd, 0 if kd == "cut" else rng.randint(8, 32)) for kd in kinds]
        groups["gradual"].append(Program(shots, trans, width, height, fps))

        rng = random.Random(3000 + v)
        shots = []
        for look in _varied_looks(rng, ("photo", "field", "mandelbrot", "life", "testsrc", "studio", "gradients"), max(4, shots_per_video // 2)):
            frames = _frames(rng, fps, 4.0, 8.0)
            params = {"pan": rng.uniform(0.15, 0.4)} if look == "photo" else ({"pan": rng.uniform(0.02, 0.05)} if look == "field" else {})
            events = []
            for _ in range(rng.randint(1, 3)):
                kind = rng.choice(["flash", "flash", "sweep"])
                length = rng.randint(1, 3) if kind == "flash" else rng.randint(8, 20)
                start = rng.randint(10, frames - length - 10)
                if all(abs(start - e.start) > 25 for e in events):
                    events.append(Event(kind, start, length))
            shots.append(Shot(look, frames, seed=rng.randint(0, 10**6), params=params, events=sorted(events, key=lambda e: e.start)))
        groups["negatives"].append(Program(shots, [Transition("cut")] * (len(shots) - 1), width, height, fps))

        groups["broadcast"].append(broadcast_program(seed=4000 + v, minutes=0.75, width=width, height=height, fps=fps))
    return groups


#: Which looks show each broadcast label (as in :func:`broadcast_program`).
BROADCAST_LOOKS = {"game": ("field", "closeup", "crowd"), "ad": ("ad",), "commentary": ("studio",)}


def write_examples(folder, per_label: int = 8, width: int = 320, height: int = 180, fps: int = 25, seed: int = 99) -> dict[str, int]:
    """Write few-shot example images for the broadcast labels: ``folder/<label>/*.png``.

    They are drawn from the same looks as the broadcast but with other seeds, so they are
    examples of the kind of content, never frames of the video being classified.
    """
    from pathlib import Path

    from PIL import Image

    from vidscan.synth.render import shot_frames

    rng = random.Random(seed)
    program = Program([], [], width, height, fps)
    counts: dict[str, int] = {}
    for label, looks in BROADCAST_LOOKS.items():
        target = Path(folder) / label
        target.mkdir(parents=True, exist_ok=True)
        for k in range(per_label):
            shot = Shot(looks[k % len(looks)], 12, seed=rng.randint(0, 10**6))
            frame = list(shot_frames(shot, program))[rng.randint(0, 11)]
            Image.fromarray(frame).save(target / f"{label}_{k:02d}.png")
        counts[label] = per_label
    return counts
