"""Shot "looks": endless ffmpeg streams with a recognisable visual character.

Each look is a function ``(rng, width, height, fps) -> ffmpeg-python stream``. The streams
are built from ffmpeg's lavfi sources (no files needed) plus, when scikit-image is
installed, real photographs panned and zoomed like a camera would. Looks are grouped by
the content they imitate so the classify tests and demos have ground-truth labels:
``game`` (a pitch with players), ``commentary`` (a static studio), ``ad`` (bright, busy)
and ``generic`` (varied material for the shot-detection corpus).
"""

from __future__ import annotations

import contextvars
import itertools
import random
from typing import Callable

import ffmpeg

Look = Callable[[random.Random, int, int, int], "ffmpeg.nodes.FilterableStream"]

LOOKS: dict[str, Look] = {}
LOOK_GROUP: dict[str, str] = {}


def look(name: str, group: str = "generic") -> Callable[[Look], Look]:
    """Register a look under ``name`` in a content ``group``."""

    def register(fn: Look) -> Look:
        LOOKS[name] = fn
        LOOK_GROUP[name] = group
        return fn

    return register


_uid = itertools.count()
#: Seconds each source must last (set per shot by the renderer). Endless sources make ffmpeg
#: queue frames for every input at once; bounded ones end on their own.
SOURCE_SECONDS: contextvars.ContextVar[float] = contextvars.ContextVar("SOURCE_SECONDS", default=3600.0)


def lavfi_source(spec: str) -> "ffmpeg.nodes.FilterableStream":
    # ffmpeg-python merges identical nodes; two shots with the same source settings would
    # then share one input and need a split. A no-op term with a unique number keeps every
    # source its own input.
    return ffmpeg.input(f"{spec},setpts=PTS+0*{next(_uid)}", f="lavfi", t=f"{SOURCE_SECONDS.get():.3f}")


def _hex(rng: random.Random, lo: int = 0, hi: int = 255) -> str:
    return "0x" + "".join(f"{rng.randint(lo, hi):02x}" for _ in range(3))


def _box(stream, x, y, w, h, color: str, **kw):
    return stream.filter("drawbox", x=x, y=y, w=w, h=h, color=color, t="fill", **kw)


def _mover(base, rng: random.Random, w: int, h: int, fps: int, size: tuple[int, int], color: str, speed: float):
    """Overlay a solid box that moves across ``base`` (x wraps, y oscillates)."""
    bw, bh = max(2, size[0]), max(2, size[1])
    sprite = lavfi_source(f"color=c={color}:s={bw}x{bh}:r={fps}")
    x0, y0 = rng.uniform(0, w), rng.uniform(0.15 * h, 0.85 * h)
    amp, freq = rng.uniform(0.02, 0.12) * h, rng.uniform(0.2, 1.2)
    return base.overlay(
        sprite,
        x=f"mod({x0:.1f}+{speed:.2f}*t*{w},{w + bw})-{bw}",
        y=f"{y0:.1f}+{amp:.1f}*sin({freq:.2f}*t*6.283)",
        shortest=1,
    )


@look("bars")
def bars(rng, w, h, fps):
    kind = rng.choice(["smptehdbars", "smptebars", "pal100bars", "rgbtestsrc"])
    return lavfi_source(f"{kind}=s={w}x{h}:r={fps}")


@look("testsrc")
def testsrc(rng, w, h, fps):
    return lavfi_source(f"testsrc2=s={w}x{h}:r={fps}").filter("hue", h=rng.randint(0, 359))


@look("mandelbrot")
def mandelbrot(rng, w, h, fps):
    # A slow zoom into the set: the picture changes all the time but is one shot.
    spec = f"mandelbrot=s={w}x{h}:r={fps}:start_scale={rng.uniform(1.5, 3.0):.2f}:end_scale=0.3"
    spec += f":start_x={rng.uniform(-0.8, -0.7):.4f}:start_y={rng.uniform(-0.2, 0.2):.4f}:maxiter={rng.randint(64, 256)}"
    return lavfi_source(spec)


@look("life")
def life(rng, w, h, fps):
    spec = f"life=s={w // 4}x{h // 4}:r={fps}:mold={rng.randint(5, 40)}:ratio={rng.uniform(0.1, 0.5):.2f}"
    spec += f":life_color={_hex(rng, 120)}:death_color={_hex(rng, 0, 60)}:mold_color={_hex(rng, 40, 160)}:seed={rng.randint(0, 9999)}"
    return lavfi_source(spec).filter("scale", w, h, flags="neighbor")


@look("gradients")
def gradients(rng, w, h, fps):
    colours = ":".join(f"c{i}={_hex(rng)}" for i in range(rng.randint(2, 4)))
    return lavfi_source(f"gradients=s={w}x{h}:r={fps}:{colours}:n={colours.count('=')}:speed={rng.uniform(0.005, 0.03):.3f}:seed={rng.randint(0, 9999)}")


@look("cells")
def cells(rng, w, h, fps):
    spec = f"cellauto=s={w // 4}x{h // 4}:r={fps}:rule={rng.choice([18, 30, 90, 110, 150])}:random_fill_ratio={rng.uniform(0.2, 0.7):.2f}:seed={rng.randint(0, 9999)}"
    return lavfi_source(spec).filter("scale", w, h, flags="neighbor").filter("colorize", hue=rng.randint(0, 359), saturation=0.7)


@look("sierpinski")
def sierpinski(rng, w, h, fps):
    return lavfi_source(f"sierpinski=s={w}x{h}:r={fps}:type={rng.choice(['carpet', 'triangle'])}:seed={rng.randint(0, 9999)}").filter(
        "hue", h=rng.randint(0, 359), s=2
    )


PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "hubble_deep_field", "retina", "brick", "grass", "gravel", "camera", "page", "moon", "coins")


def photo_path(name: str) -> str | None:
    """Path of a photograph bundled with scikit-image, or None if it is not installed."""
    try:
        from importlib.resources import files

        folder = files("skimage") / "data"
    except (ImportError, ModuleNotFoundError):
        return None
    for ext in (".png", ".jpg"):
        candidate = folder / f"{name}{ext}"
        if candidate.is_file():
            return str(candidate)
    return None


@look("photo")
def photo(rng, w, h, fps, name: str | None = None, pan: float | None = None):
    """A real photograph under a moving camera (pan and slow zoom)."""
    name = name or rng.choice([p for p in PHOTOS if photo_path(p)] or ["astronaut"])
    path = photo_path(name)
    if path is None:
        return gradients(rng, w, h, fps)
    pan = rng.uniform(0.02, 0.08) if pan is None else pan  # share of the frame width per second
    big_w, big_h = int(w * 1.6) // 2 * 2, int(h * 1.6) // 2 * 2
    src = ffmpeg.input(path, loop=1, framerate=fps, t=f"{SOURCE_SECONDS.get():.3f}").filter("format", "rgb24")
    src = src.filter("scale", big_w, big_h, force_original_aspect_ratio="increase").filter("crop", big_w, big_h)
    direction = rng.choice([1, -1])
    x0 = (big_w - w) / 2
    return src.filter(
        "crop",
        w,
        h,
        x=f"max(0,min({big_w - w},{x0:.1f}+{direction}*{pan * w:.2f}*t))",
        y=f"max(0,min({big_h - h},{(big_h - h) / 2:.1f}+{rng.uniform(-0.1, 0.1) * h:.2f}*t))",
    )


@look("field", group="game")
def field(rng, w, h, fps, pan: float | None = None, zoom: float = 1.0):
    """A pitch seen from a broadcast camera: mown stripes, players, a ball, a score bug.

    ``zoom`` > 1 gives a tighter camera: wider stripes, fewer and bigger players."""
    green = rng.choice(["0x2e7d32", "0x388e3c", "0x33691e", "0x2f6b2a", "0x3a7d2c"])
    stripe = rng.choice(["0x43a047", "0x4caf50", "0x558b2f", "0x4a8c3a"])
    wide = w * 3
    base = lavfi_source(f"color=c={green}:s={wide}x{h}:r={fps}")
    n_stripes = max(2, int(12 / zoom)) // 2 * 2
    for i in range(0, n_stripes, 2):
        base = _box(base, i * wide // n_stripes, 0, wide // n_stripes, h, stripe)
    base = _box(base, wide // 2, 0, max(2, w // 160), h, "white@0.8")  # halfway line
    base = base.filter("noise", alls=12, allf="u")
    pan = rng.uniform(0.003, 0.02) if pan is None else pan  # camera pan, share of width per frame
    base = base.filter("scroll", h=pan * rng.choice([1, -1]) / 3).filter("crop", w, h, 0, 0)
    teams = [rng.choice(["0xd32f2f", "0xfafafa", "0xffeb3b"]), rng.choice(["0x1565c0", "0x212121", "0x6a1b9a"])]
    player = (max(2, int(w * zoom / 60)), max(4, int(h * zoom / 12)))
    for k in range(max(2, int(rng.randint(6, 10) / zoom))):
        base = _mover(base, rng, w, h, fps, player, teams[k % 2], rng.uniform(-0.15, 0.15))
    base = _mover(base, rng, w, h, fps, (max(2, int(w * zoom / 120)),) * 2, "white", rng.uniform(-0.3, 0.3))
    return _box(base, w // 30, h // 20, w // 5, h // 14, "0x101010@0.85")  # score bug


@look("closeup", group="game")
def closeup(rng, w, h, fps):
    """A tight camera on the pitch: a few big players."""
    return field(rng, w, h, fps, zoom=rng.uniform(2.5, 4.0))


@look("crowd", group="game")
def crowd(rng, w, h, fps):
    """The stands: a dense, flickering mass of faces and shirts in team colours."""
    shirt = rng.choice(["0xd32f2f", "0xfafafa", "0xffeb3b", "0x1565c0", "0x6a1b9a"])
    faces = rng.choice(["0xc8a27c", "0xb08968", "0xd4b08c", "0x9c7a5b"])
    spec = f"life=s={w // 6}x{h // 6}:r={fps}:mold=20:ratio={rng.uniform(0.3, 0.6):.2f}:life_color={shirt}"
    spec += f":death_color={faces}:mold_color=0x6d4c41:seed={rng.randint(0, 9999)}"
    return lavfi_source(spec).filter("scale", w, h, flags="neighbor").filter("gblur", sigma=1.5)


@look("studio", group="commentary")
def studio(rng, w, h, fps):
    """A news/commentary studio: dark set, desk, presenters, a wall screen; almost static."""
    bg = rng.choice(["0x0d1b2a", "0x1b263b", "0x22223b", "0x2b2d42", "0x14213d"])
    base = lavfi_source(f"color=c={bg}:s={w}x{h}:r={fps}")
    base = _box(base, int(w * rng.uniform(0.55, 0.65)), h // 8, w // 3, h // 3, rng.choice(["0x415a77", "0x4a4e69", "0x3d5a80"]))
    n = rng.randint(1, 2)
    for i in range(n):
        cx = int(w * (0.3 + 0.35 * i) if n == 2 else w * rng.uniform(0.35, 0.5))
        base = _box(base, cx - w // 14, int(h * 0.42), w // 7, int(h * 0.4), rng.choice(["0x1c1c1c", "0x2d3142", "0x5c2a2a"]))
        base = _box(base, cx - w // 30, int(h * 0.25), w // 15, int(h * 0.17), rng.choice(["0xe0ac69", "0xc68642", "0x8d5524", "0xf1c27d"]))
    base = _box(base, 0, int(h * 0.72), w, int(h * 0.28), rng.choice(["0x6d597a", "0x595959", "0x7f5539", "0x3a506b"]))
    base = _box(base, 0, int(h * 0.82), int(w * 0.7), h // 12, "0xc1121f@0.9")  # lower third
    return base.filter("noise", alls=6, allf="t")


@look("ad", group="ad")
def ad(rng, w, h, fps):
    """Bright, saturated, busy: the look of a commercial."""
    choice = rng.random()
    if choice < 0.4:
        colours = ":".join(f"c{i}={_hex(rng, 90)}" for i in range(3))
        base = lavfi_source(f"gradients=s={w}x{h}:r={fps}:{colours}:n=3:speed={rng.uniform(0.02, 0.06):.3f}:seed={rng.randint(0, 9999)}")
    elif choice < 0.7:
        base = lavfi_source(f"color=c={_hex(rng, 120)}:s={w}x{h}:r={fps}")
    else:
        base = lavfi_source(f"testsrc2=s={w}x{h}:r={fps}").filter("hue", h=rng.randint(0, 359), s=3)
    base = _box(base, int(w * rng.uniform(0.1, 0.5)), int(h * rng.uniform(0.1, 0.5)), w // 3, h // 3, _hex(rng, 150))
    base = _mover(base, rng, w, h, fps, (w // 6, h // 5), _hex(rng, 100), rng.uniform(0.2, 0.6))
    return base.filter("eq", saturation=1.6)
