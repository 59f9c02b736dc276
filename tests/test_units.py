"""Unit tests for the small pieces the decode paths are built from (issue 16, item 6): the
background prefetch, the packet scan, keyframe interpolation and candidate stretches. Each has
an independent oracle (a hand-made packet list, a linear ramp, a known sequence)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest

from vidscan.extract import prefetch
from vidscan.video.coarse import candidate_stretches, interpolate_keyframes
from vidscan.video.packets import PacketScan


# -- prefetch -------------------------------------------------------------------------------

def test_prefetch_yields_everything_in_order():
    assert list(prefetch(iter(range(100)), depth=3)) == list(range(100))


def test_prefetch_hands_the_producers_error_to_the_consumer():
    def broken():
        yield 1
        yield 2
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"):
        for item in prefetch(broken()):
            got.append(item)
    assert got == [1, 2]  # what came before the error is delivered first


def test_prefetch_stops_the_producer_when_the_consumer_stops():
    produced = []

    def endless():
        k = 0
        while True:
            produced.append(k)
            yield k
            k += 1

    before = threading.active_count()
    for item in prefetch(endless(), depth=2):
        if item == 5:
            break
    time.sleep(0.3)
    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count <= 5 + 2 + 2  # it stopped, at most a queue's depth ahead
    assert threading.active_count() <= before


# -- the packet scan -----------------------------------------------------------------------

@dataclass
class FakePacket:
    pts: int | None
    is_keyframe: bool = False
    is_corrupt: bool = False
    is_discard: bool = False
    size: int = 100
    duration: int = 1


def scan_of(packets: list[FakePacket], reorders: bool = True):
    scan = PacketScan()
    for p in packets:
        scan.add(p)
    return scan.index(Fraction(1, 25), None, reorders=reorders)


def test_packet_scan_lists_frames_keyframes_and_open_gops():
    # Decode order of an open-GOP H.264 stream: I P B B | I(open) B B P ...
    order = [(0, True), (3, False), (1, False), (2, False), (6, True), (4, False), (5, False), (9, False), (7, False), (8, False)]
    index = scan_of([FakePacket(p, k) for p, k in order])
    assert index.pts.tolist() == list(range(10))
    assert index.key_pts.tolist() == [0, 6]
    assert index.open_keys == frozenset({6})  # frames 4 and 5 are decoded after it, shown before
    assert index.ordered and index.gaps == ()


def test_packet_scan_leaves_out_discarded_packets_and_records_corrupt_ones():
    packets = [FakePacket(0, True, is_discard=True), FakePacket(1), FakePacket(2, is_corrupt=True), FakePacket(3)]
    index = scan_of(packets, reorders=False)
    assert index.pts.tolist() == [1, 2, 3]
    assert index.damaged_pts == frozenset({2})


def test_packet_scan_without_timestamps_is_no_index():
    assert scan_of([FakePacket(None), FakePacket(None)]) is None


def test_packet_scan_repairs_a_reset_and_flags_the_file():
    packets = [FakePacket(t, t % 10 == 0) for t in range(40)] + [FakePacket(t, t % 10 == 0) for t in range(20)]
    index = scan_of(packets, reorders=False)
    assert not index.ordered
    assert index.pts.tolist() == list(range(60))  # the second capture follows the first


def test_packet_scan_finds_an_absurd_gap():
    packets = [FakePacket(t, t == 0) for t in range(10)] + [FakePacket(t, t == 10_000) for t in range(10_000, 10_010)]
    index = scan_of(packets, reorders=False)
    assert index.ordered
    assert index.gaps == ((pytest.approx(0.4), pytest.approx(400.0)),)


# -- coarse-to-fine pieces ------------------------------------------------------------------

def test_interpolate_keyframes_ramps_between_keyframes():
    key_idx = np.array([0, 10, 20])
    key_emb = np.array([[1, 0], [0, 1], [0, 1]], np.float32)
    key_luma = np.array([0, 100, 50], np.float32)
    emb, luma = interpolate_keyframes(key_idx, key_emb, key_luma, 25, chunk=7)  # chunks that split GOPs
    assert np.allclose(luma[:11], np.arange(0, 110, 10))
    assert np.allclose(luma[10:21], np.linspace(100, 50, 11))
    assert np.allclose(luma[20:], 50)  # after the last keyframe: held
    assert np.allclose(np.linalg.norm(emb, axis=1), 1)  # unit vectors throughout
    assert np.allclose(emb[5], np.array([1, 1]) / np.sqrt(2))
    assert np.allclose(emb[0], key_emb[0]) and np.allclose(emb[15], key_emb[1])


def test_candidate_stretches_join_neighbouring_pairs():
    e = np.eye(6, dtype=np.float32)
    keys = e[[0, 0, 1, 2, 2, 2, 3, 3]]  # changes between keyframes 1-2, 2-3 and 5-6
    assert candidate_stretches(keys, threshold=0.3) == [(1, 3), (5, 6)]
    assert candidate_stretches(keys[:1], threshold=0.3) == []
    assert candidate_stretches(e[[0, 0, 0]], threshold=0.3) == []
