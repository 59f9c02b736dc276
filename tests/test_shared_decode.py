"""One decode pass serving requests of several sizes (extract.embed_video_multi, the PyAV
backend's ``also`` sizes): each embedder gets exactly the frames, at exactly the size, a pass
of its own would give it."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import run_ffmpeg
from vidscan.broadcast.picture import PictureMeter
from vidscan.embed.features import FeatureEmbedder
from vidscan.extract import embed_video, embed_video_multi
from vidscan.video import Sampling
from vidscan.video.frames import AlsoSize
from vidscan.video.pyav_backend import PyAVSource


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """640x360 H.264 with B-frames: 128x72 and 192x108 both skip B-frame deblocking, so a
    shared pass and separate passes decode the same pictures."""
    path = tmp_path_factory.mktemp("shared") / "clip.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=6", "-c:v", "libx264",
               "-bf", "3", "-g", "50", "-pix_fmt", "yuv420p", str(path))
    return path


def test_each_request_gets_what_its_own_pass_gives(clip) -> None:
    features, meter = FeatureEmbedder(), PictureMeter()
    every, five = Sampling.all_frames(), Sampling.per_second(5)
    shared = embed_video_multi(clip, [(features, every), (meter, five)])
    for video, (emb, smp) in zip(shared, [(features, every), (meter, five)]):
        alone = embed_video(clip, emb, smp)
        np.testing.assert_array_equal(video.indices, alone.indices)
        np.testing.assert_array_equal(video.embeddings, alone.embeddings)
        np.testing.assert_array_equal(video.luma, alone.luma)
    assert len(shared[0].indices) == 150 and len(shared[1].indices) == 30


@pytest.mark.parametrize("workers", [1, 2], ids=["sequential", "gop-parallel"])
def test_further_sizes_are_made_only_for_the_frames_their_sampling_selects(clip, workers) -> None:
    five = Sampling.per_second(5)
    wanted = {int(i) for b in PyAVSource(str(clip)).batches(five, size=(192, 108)) for i in b.indices}
    made: dict[int, np.ndarray] = {}
    source = PyAVSource(str(clip), workers=workers)
    for batch in source.batches(Sampling.all_frames(), size=(128, 72), batch_size=16, also=(AlsoSize((192, 108), five),)):
        assert batch.frames.shape[1:] == (72, 128, 3)
        big = batch.smaller[(192, 108)]
        assert big.shape == (len(batch), 108, 192, 3)
        for i, rows in zip(batch.indices, big):
            if int(i) in wanted:
                made[int(i)] = rows
            else:
                assert not rows.any()  # not converted
    assert set(made) == wanted
    alone = {int(i): f for b in PyAVSource(str(clip)).batches(Sampling.frames(sorted(wanted)), size=(192, 108)) for i, f in zip(b.indices, b.frames)}
    for i in wanted:
        np.testing.assert_array_equal(made[i], alone[i])


def test_a_backend_without_further_sizes_still_gives_each_embedder_its_size(clip, monkeypatch) -> None:
    """decord and torchcodec deliver one size: the pass decodes at the largest size asked
    for, and the collector scales the frames down for smaller requests."""
    from vidscan.video.frames import FrameBatch

    real = PyAVSource.batches
    decoded: list[tuple[int, ...]] = []

    def one_size(self, sampling, size=None, batch_size=32, also=()):
        for batch in real(self, sampling, size, batch_size):
            decoded.append(batch.frames.shape[1:])
            yield FrameBatch(batch.frames, batch.indices, batch.times)

    seen: dict[str, set] = {"features": set(), "meter": set()}

    class Spy(FeatureEmbedder):
        def embed(self, frames):
            seen["features"].add(frames.shape[1:])
            return super().embed(frames)

    class MeterSpy(PictureMeter):
        def embed(self, frames):
            seen["meter"].add(frames.shape[1:])
            return super().embed(frames)

    monkeypatch.setattr(PyAVSource, "batches", one_size)
    monkeypatch.setattr(PyAVSource, "makes_further_sizes", False)
    shared = embed_video_multi(clip, [(Spy(), Sampling.all_frames()), (MeterSpy(), Sampling.per_second(5))])
    assert set(decoded) == {(108, 192, 3)}  # the largest size asked for
    source = PyAVSource(str(clip)).info
    width, height = FeatureEmbedder().frame_size(source.width, source.height)
    assert seen == {"features": {(height, width, 3)}, "meter": {(108, 192, 3)}}
    assert len(shared[0].indices) == 150 and len(shared[1].indices) == 30
