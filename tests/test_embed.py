"""Embedders: shapes, normalisation, what the features see, CLIP plumbing with random weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidscan.embed.registry import available_embedders, create_embedder
from vidscan.errors import ModelUnavailableError, UsageError


def solid(rgb, n=4, h=72, w=128):
    return np.broadcast_to(np.array(rgb, np.uint8), (n, h, w, 3)).copy()


def test_features_shape_norm_and_determinism():
    emb = create_embedder("features")
    frames = np.random.default_rng(0).integers(0, 256, (10, 72, 128, 3), dtype=np.uint8)
    a, b = emb.embed(frames), emb.embed(frames)
    assert a.shape == (10, emb.dim) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(a, b)
    assert emb.embed(frames[:0]).shape == (0, emb.dim)


def test_features_separate_content_but_not_motion():
    emb = create_embedder("features")
    rng = np.random.default_rng(1)
    scene = rng.integers(0, 256, (72, 256, 3), dtype=np.uint8)
    scene[:, :, 1] = np.maximum(scene[:, :, 1], 150)  # a greenish scene
    panned = np.stack([scene[:, s : s + 128] for s in (0, 16)])  # camera moved 1/8 of a frame
    other = solid((200, 30, 30), 1)
    e = emb.embed(np.concatenate([panned, other]))
    moved = np.linalg.norm(e[0] - e[1])
    changed = np.linalg.norm(e[0] - e[2])
    assert changed > 5 * moved


def test_features_layout_tells_same_palette_apart():
    emb = create_embedder("features")
    a = solid((20, 20, 20), 1)
    a[:, :, :64] = 230
    b = solid((20, 20, 20), 1)
    b[:, :, 64:] = 230  # same colours, mirrored layout
    e = emb.embed(np.concatenate([a, b]))
    assert np.linalg.norm(e[0] - e[1]) > 0.1


@pytest.mark.parametrize("source, size", [
    ((160, 90), (96, 54)), ((384, 216), (96, 54)), ((360, 640), (128, 72)),  # portrait 360p: its larger side counts
    ((640, 360), (128, 72)), ((1920, 1080), (128, 72)), ((0, 0), (128, 72)),  # size unknown: the default
])
def test_features_embed_small_sources_smaller(source, size):
    """Small sources are embedded at 96x54 (the same boundaries as 128x72 there, for half the
    embedding time); 360p and up at 128x72; a width given is kept for every source."""
    emb = create_embedder("features")
    assert emb.frame_size(*source) == size
    assert create_embedder("features", width=64).frame_size(*source) == (64, 36)
    assert emb.identity() != create_embedder("features", width=96).identity() != create_embedder("features", width=128).identity()


def test_features_has_no_text_tower():
    emb = create_embedder("features")
    with pytest.raises(UsageError, match="--examples"):
        emb.embed_text(["a game"])


def test_unknown_embedder():
    assert {"features", "clip"} <= set(available_embedders())
    with pytest.raises(UsageError, match="unknown embedder"):
        create_embedder("nope")


def test_clip_random_init_end_to_end(tiny_clip_model):
    emb = create_embedder("clip", model=tiny_clip_model, pretrained=None, device="cpu")
    assert emb.random_weights and emb.dim == 64
    assert emb.frame_size(1920, 1080) == (64, 64)
    frames = np.random.default_rng(0).integers(0, 256, (40, 64, 64, 3), dtype=np.uint8)
    vecs = emb.embed(frames)
    assert vecs.shape == (40, 64)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    text = emb.embed_text(["a photo of a football match", "a tv studio"])
    assert text.shape == (2, 64)
    np.testing.assert_allclose(np.linalg.norm(text, axis=1), 1.0, atol=1e-5)
    assert emb.logit_scale == pytest.approx(1 / 0.07, rel=1e-3)  # open_clip's initial scale


@pytest.mark.parametrize("fit", ["crop", "pad"])
def test_clip_fit_modes_accept_decoder_sized_frames(tiny_clip_model, fit):
    emb = create_embedder("clip", model=tiny_clip_model, pretrained=None, device="cpu", fit=fit)
    w, h = emb.frame_size(1920, 1080)
    assert (w, h) == ((114, 64) if fit == "crop" else (64, 36))
    vecs = emb.embed(np.random.default_rng(0).integers(0, 256, (3, h, w, 3), dtype=np.uint8))
    assert vecs.shape == (3, 64)


def test_clip_offline_tag_fails_with_actionable_message(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", "/nonexistent-vidscan-test")
    with pytest.raises(ModelUnavailableError) as err:
        create_embedder("clip", model="ViT-B-32", pretrained="laion2b_s34b_b79k", device="cpu")
    message = str(err.value)
    assert "vidscan models download ViT-B-32 laion2b_s34b_b79k" in message and "--pretrained" in message
    assert "\n" not in message


def test_clip_bad_names():
    with pytest.raises(UsageError, match="did you mean"):
        create_embedder("clip", model="ViT-B-33", device="cpu")
    with pytest.raises(UsageError, match="unknown pretrained tag"):
        create_embedder("clip", model="ViT-B-32", pretrained="nope", device="cpu")
    with pytest.raises(ModelUnavailableError, match="checkpoint not found"):
        create_embedder("clip", model="ViT-B-32", pretrained="/no/such/ckpt.pt", device="cpu")


def test_a_file_that_is_not_a_checkpoint_is_one_clear_error(tmp_path, tiny_clip_model, shots_video, capsys):
    """Not a traceback or an "internal error": a ModelUnavailableError, one line, exit 4."""
    from vidscan.cli.main import main
    from vidscan.errors import EXIT_MODEL

    junk = tmp_path / "junk.pt"
    junk.write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(ModelUnavailableError, match="cannot load CLIP weights"):
        create_embedder("clip", model=tiny_clip_model, pretrained=str(junk), device="cpu")
    config = str(Path(__file__).parent / "data" / "vidscan-tiny-clip.json")
    code = main(["scenes", str(shots_video[0]), "--embedder", "clip", "--model", config, "--pretrained", str(junk), "-q",
                 "-o", str(tmp_path / "t.json")])
    err = capsys.readouterr().err
    assert code == EXIT_MODEL and err.count("\n") == 1 and "cannot load CLIP weights" in err, err
    assert not (tmp_path / "t.json").exists()
