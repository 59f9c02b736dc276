"""Timeline invariants and formats (property-based where it pays)."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from vidscan.detect.base import Boundary
from vidscan.embedded import EmbeddedVideo
from vidscan.segment import build_timeline
from vidscan.timeline import schema, timecode
from vidscan.video import Sampling, VideoInfo


def test_timecode():
    assert timecode(0) == "00:00:00.000"
    assert timecode(3661.0015) == "01:01:01.002"
    assert timecode(59.9996) == "00:01:00.000"
    assert timecode(100 * 3600) == "100:00:00.000"
    assert timecode(float("nan")) == "00:00:00.000"


def _video(times: np.ndarray, step: int) -> EmbeddedVideo:
    n = len(times)
    info = VideoInfo("x.mp4", "h264", 64, 36, 25.0, float(times[-1] + 0.04), n, True, 0, 0.0, 1)
    sampled = np.arange(0, n, step)
    return EmbeddedVideo(info, Sampling.every(step), "test", sampled, times[sampled], np.zeros((len(sampled), 2), np.float32),
                         np.zeros(len(sampled), np.float32), n, float(times[-1] + 0.04))


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.floats(0.01, 0.2), min_size=2, max_size=300),
    step=st.integers(1, 4),
    cut_fraction=st.lists(st.floats(0, 1), max_size=12),
)
def test_timelines_are_contiguous_and_cover_the_video(gaps, step, cut_fraction):
    times = np.concatenate([[0.0], np.cumsum(gaps)])  # VFR presentation times
    video = _video(times, step)
    n = len(video.indices)
    cuts = sorted({int(f * (n - 1)) for f in cut_fraction} - {0})
    tl = build_timeline(video, [Boundary(c) for c in cuts])
    segs = tl.segments
    assert segs[0].start_frame == 0 and segs[0].start_s == 0.0
    assert segs[-1].end_frame == len(times)
    assert abs(segs[-1].end_s - (times[-1] + 0.04)) < 1e-9
    for a, b in zip(segs, segs[1:]):
        assert a.end_frame == b.start_frame and a.end_s == b.start_s
        assert b.start_s == times[b.start_frame]  # times are the frames' own timestamps
    assert all(s.frames > 0 and s.duration_s > 0 for s in segs)
    assert abs(sum(s.duration_s for s in segs) - tl.duration_s) < 1e-9
    df = tl.to_dataframe()
    assert (df["end_frame"] - df["start_frame"] == df["frames"]).all()
    jsonschema.validate(json.loads(json.dumps(tl.to_dict())), schema())


def test_dataframe_of_labelled_segments_has_probability_columns():
    video = _video(np.arange(100) / 25, 1)
    tl = build_timeline(video, [Boundary(50)])
    for seg, (label, p) in zip(tl.segments, [("ad", 0.8), ("game", 0.6)]):
        seg.label, seg.confidence = label, p
        seg.probabilities = {"ad": p if label == "ad" else 1 - p, "game": p if label == "game" else 1 - p}
    df = tl.to_dataframe()
    assert list(df.columns[-5:]) == ["label", "confidence", "runner_up", "p_ad", "p_game"]
    assert isinstance(df, pd.DataFrame) and df["p_ad"].dtype == np.float64


@settings(max_examples=80, deadline=None)
@given(
    durations=st.lists(st.floats(0.001, 5000.0, allow_subnormal=False), min_size=0, max_size=12),
    labels=st.lists(st.sampled_from([None, "ad", "game", "commentary, loud", 'a "quoted" one']), max_size=12),
    confidences=st.lists(st.one_of(st.none(), st.floats(0, 1, allow_subnormal=False)), max_size=12),
    parents=st.lists(st.one_of(st.none(), st.integers(0, 5)), max_size=12),
    cues=st.booleans(),
    scenes=st.booleans(),
)
def test_csv_is_what_pandas_writes(durations, labels, confidences, parents, cues, scenes):
    """The CSV is written without pandas; it must be byte for byte what pandas writes."""
    from vidscan.timeline import Segment, Timeline

    info = VideoInfo("x.mp4", "h264", 64, 36, 25.0, 1.0, 1, True, 0, 0.0, 1)
    segments, start = [], 0.0
    for i, d in enumerate(durations):
        seg = Segment(i, i * 10, i * 10 + 10, start, start + d, transition="start" if i == 0 else "cut")
        start += d
        seg.label = labels[i] if i < len(labels) else None
        seg.confidence = confidences[i] if i < len(confidences) else None
        if seg.label is not None:
            seg.probabilities = {seg.label: seg.confidence or 0.5, "other": 1 / 3}
        seg.cues = f"break: logo, {i}" if cues and i % 2 else None
        seg.parent = parents[i] if i < len(parents) else None
        segments.append(seg)
    tl = Timeline(info, segments)
    if scenes and segments:
        tl.alternate = [Segment(0, 0, segments[-1].end_frame, 0.0, start, level="scene", children=len(segments))]
    assert tl.csv_text() == tl.to_dataframe().to_csv(index=False)
