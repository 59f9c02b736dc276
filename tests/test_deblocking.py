"""The H.264 deblocking filter is skipped on B-frames only, and only for shrunk outputs
(vidscan.video.deblocking): the picture chain a GOP is predicted along stays exact."""

from __future__ import annotations

import av
from av.video.frame import PictureType
import numpy as np
import pytest

from vidscan.evaluate import match_boundaries
from vidscan.pipeline import detect_scenes
from vidscan.video import deblocking
from vidscan.video.deblocking import configure_deblocking, skips_deblocking


def _decode(path, output: tuple[int, int] | None) -> list[tuple[str, np.ndarray]]:
    container = av.open(str(path))
    try:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        if output is not None:
            assert configure_deblocking(stream.codec_context, output)
        return [(PictureType(frame.pict_type).name, frame.to_ndarray(format="gray")) for frame in container.decode(stream)]
    finally:
        container.close()


@pytest.mark.parametrize("source, output, skips", [
    ((1920, 1080), (128, 72), True),
    ((384, 216), (128, 72), True),
    ((320, 180), (160, 90), True),
    ((320, 180), (224, 224), False),  # more than a quarter of the source's area
    ((160, 90), (128, 72), False),
    ((1920, 1080), (1920, 1080), False),
])
def test_only_outputs_shrunk_2x_each_way_skip_the_filter(source, output, skips) -> None:
    assert skips_deblocking(source, output) is skips


def test_reference_frames_stay_exact_and_b_frames_change(shots_video) -> None:
    path, _ = shots_video  # x264 with 3 B-frames
    exact = _decode(path, None)
    skipped = _decode(path, (64, 36))
    assert [kind for kind, _ in exact] == [kind for kind, _ in skipped]
    kinds = {kind for kind, _ in exact}
    assert {"I", "P", "B"} <= kinds
    b_changed = 0
    for (kind, a), (_, b) in zip(exact, skipped):
        if kind in ("I", "P"):
            np.testing.assert_array_equal(a, b)  # nothing accumulates along the GOP
        else:
            diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
            b_changed += bool(diff.any())
            assert diff.mean() < 1.0  # faint block edges only
    assert b_changed > 0  # the option took effect


def test_full_size_decodes_keep_the_filter(shots_video) -> None:
    path, _ = shots_video
    container = av.open(str(path))
    try:
        ctx = container.streams.video[0].codec_context
        assert not configure_deblocking(ctx, (ctx.width, ctx.height))
        assert "skip_loop_filter" not in dict(ctx.options or {})
    finally:
        container.close()


def test_shot_boundaries_are_the_same_with_the_filter_skipped(shots_video, monkeypatch) -> None:
    path, truth = shots_video
    fast = detect_scenes(path, cache=None)
    monkeypatch.setattr(deblocking, "MAX_AREA_SHARE", 0.0)
    exact = detect_scenes(path, cache=None)
    starts = [s.start_frame for s in fast.segments[1:]]
    assert starts == [s.start_frame for s in exact.segments[1:]]
    assert match_boundaries(starts, [(b.start, b.end) for b in truth.boundaries]).f1 == 1.0
