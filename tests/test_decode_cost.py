"""The decoding cost model (vidscan.video.cost) and the packet sizes it reads from the index."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from vidscan.video import cost as cost_model
from vidscan.video.cost import DecodeCost
from vidscan.video.packets import PacketIndex, index_packets

HD = 1920 * 1080


def index_of(sizes: list[int], keys: list[int]) -> PacketIndex:
    pts = np.arange(len(sizes), dtype=np.int64)
    return PacketIndex(pts=pts, key_pts=np.array(keys, np.int64), time_base=Fraction(1, 25), start_pts=0, last_duration=1,
                       sizes=np.array(sizes, np.int64))


def test_the_index_knows_every_frames_coded_size(shots_video):
    path, _ = shots_video
    index = index_packets(str(path))
    container = av.open(str(path))
    try:
        by_pts = {int(p.pts): int(p.size) for p in container.demux(container.streams.video[0]) if p.pts is not None}
    finally:
        container.close()
    assert index.sizes is not None and len(index.sizes) == len(index.pts)
    assert [by_pts[int(p)] for p in index.pts] == index.sizes.tolist()
    keys = np.isin(index.pts, index.key_pts)
    assert index.sizes[keys].mean() > 3 * index.sizes[~keys].mean()  # intra-coded pictures are the big ones


def test_a_full_decode_costs_pixels_overhead_and_bytes():
    index = index_of([5000] + [1000] * 49, [0, 25])
    cost = DecodeCost(index, HD)
    assert cost.full() == pytest.approx(50 * (HD + cost_model.FRAME_OVERHEAD) + cost_model.BYTE_COST * (5000 + 49 * 1000))
    # frames decoded by keyframes first cost more than in one pass (one at a time), bytes the same
    assert cost.seeked(0, 50) == pytest.approx(cost.full() + 50 * (cost_model.SEEKED_FRAME_OVERHEAD - cost_model.FRAME_OVERHEAD))
    assert cost.seeked(0, 50) > cost.full()
    assert cost.keyframes(np.array([0, 25])) == pytest.approx(cost.seeked(0, 1) + cost.seeked(25, 26))


def test_stretches_run_from_keyframe_to_keyframe_and_the_lead_in_reopens_the_first():
    index = index_of([100] * 60, [10, 35])
    cost = DecodeCost(index, 1000)
    key_idx = np.array([10, 35])
    assert cost.stretch(key_idx, 0) == pytest.approx(cost.seeked(10, 35))
    assert cost.stretch(key_idx, 1) == pytest.approx(cost.seeked(35, 60))  # the last one runs to the end
    assert cost.stretch(key_idx, -1) == pytest.approx(cost.seeked(0, 11))
    assert cost.fine_pass(key_idx, [0, 1]) == pytest.approx(cost_model.DECODED_SHARE_OF_A_DIFFERING_GOP * cost.seeked(10, 60))


def test_without_packet_sizes_every_frame_costs_the_same():
    index = index_of([0] * 100, list(range(0, 100, 25)))
    index.sizes = None
    cost = DecodeCost(index, HD)
    assert cost.full() == pytest.approx(100 * (HD + cost_model.FRAME_OVERHEAD))
    assert cost.seeked(0, 50) == pytest.approx(2 * cost.seeked(50, 75))


def test_a_sample_covering_every_pair_predicts_exactly_the_fine_pass_over_those_that_differ():
    rng = np.random.default_rng(1)
    sizes = rng.integers(500, 3000, 250).tolist()
    index = index_of(sizes, list(range(0, 250, 25)))
    cost = DecodeCost(index, HD)
    key_idx = np.arange(0, 250, 25)
    differ = np.array([1, 0, 1, 1, 0, 0, 1, 0, 1], bool)
    pairs = np.arange(9)
    planned = [int(k) for k in pairs[differ]] + [9]  # the tail after the last keyframe is always decoded
    assert cost.coarse_estimate(key_idx, pairs, differ) == pytest.approx(cost.keyframes(key_idx) + cost.fine_pass(key_idx, planned))
    assert cost.coarse_estimate(key_idx, pairs, np.zeros(9, bool)) == pytest.approx(cost.keyframes(key_idx) + cost.fine_pass(key_idx, [9]))


def test_bytes_decide_when_the_stretches_with_motion_are_cheap():
    """Grainy broadcast: huge keyframes, and the stretches that differ (motion, cuts) coded in
    few bytes. Counting frames says decode everything; counting bytes says keyframes first."""
    gops, gop = 40, 25
    differ = np.arange(gops - 1) % 4 != 0  # 75% of the pairs differ
    sizes = []
    for k in range(gops):
        busy = k < gops - 1 and differ[k]
        sizes += [400_000] + [30_000 if busy else 90_000] * (gop - 1)  # keyframes are most of the bytes
    grainy = DecodeCost(index_of(sizes, list(range(0, gops * gop, gop))), HD)
    same_bytes = sum(([400_000] + [45_000] * (gop - 1) for _ in range(gops)), [])  # as many bytes, spread evenly
    flat = DecodeCost(index_of(same_bytes, list(range(0, gops * gop, gop))), HD)
    assert grainy.full() == pytest.approx(flat.full(), rel=0.02)
    key_idx = np.arange(0, gops * gop, gop)
    pairs = np.arange(gops - 1)
    on_grain = grainy.coarse_estimate(key_idx, pairs, differ) / grainy.full()
    on_flat = flat.coarse_estimate(key_idx, pairs, differ) / flat.full()
    assert on_grain < on_flat
    assert on_grain < 0.95  # keyframes first pays although 75% of the pairs differ
    everything = flat.coarse_estimate(key_idx, pairs, np.ones(gops - 1, bool)) / flat.full()
    assert everything > 1.0  # when every pair differs, one full decode is cheaper
