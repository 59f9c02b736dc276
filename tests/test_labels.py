"""Label logic with vectors the test controls: scoring, aggregation, unknown, smoothing, merge, totals."""

from __future__ import annotations

import numpy as np
import pytest

from vidscan.detect.base import Boundary
from vidscan.errors import InputError, UsageError
from vidscan.labels import LabelScorer, label_segments, label_totals, load_config, merge_same_label, parse_label_list, runs, viterbi
from vidscan.embedded import EmbeddedVideo
from vidscan.segment import build_timeline
from vidscan.video import Sampling, VideoInfo

E = np.eye(3, dtype=np.float32)  # three orthogonal "concepts"


def make_timeline(n: int, cuts: list[int], fps: float = 10.0):
    info = VideoInfo("x.mp4", "h264", 64, 36, fps, n / fps, n, True, 0, 0.0, 1)
    video = EmbeddedVideo(info, Sampling.all_frames(), "t", np.arange(n), np.arange(n) / fps, np.zeros((n, 3), np.float32),
                          np.zeros(n, np.float32), n, n / fps)
    return build_timeline(video, [Boundary(c) for c in cuts]), video.times


def test_zero_shot_uses_logit_scale_and_softmax():
    scorer = LabelScorer(["a", "b", "c"], text_prototypes=E, logit_scale=10.0)
    p = scorer.probabilities(np.array([[1.0, 0.0, 0.0]]))
    expected = np.exp([10.0, 0, 0]) / np.exp([10.0, 0, 0]).sum()
    np.testing.assert_allclose(p[0], expected)


def test_few_shot_is_nearest_example_not_mean():
    # Label "ad" has two very different looks; the frame matches one of them exactly.
    examples = {"ad": np.stack([E[0], E[1]]), "game": np.stack([0.6 * E[0] + 0.8 * E[2]])}
    scorer = LabelScorer(["ad", "game"], examples=examples, example_scale=20.0)
    p = scorer.probabilities(E[1:2])
    assert p[0, 0] > 0.99
    # Averaging the "ad" examples would have made E[0]+E[1] the prototype, far from both.


def test_prompts_and_examples_combine_as_product_of_experts():
    text = LabelScorer(["a", "b"], text_prototypes=E[:2], logit_scale=5.0)
    shots = LabelScorer(["a", "b"], examples={"a": E[:1], "b": E[1:2]}, example_scale=5.0)
    both = LabelScorer(["a", "b"], text_prototypes=E[:2], examples={"a": E[:1], "b": E[1:2]}, logit_scale=5.0, example_scale=5.0)
    x = np.array([[0.8, 0.6, 0.0]])
    pa, pb = text.probabilities(x)[0], shots.probabilities(x)[0]
    expected = np.sqrt(pa * pb) / np.sqrt(pa * pb).sum()
    np.testing.assert_allclose(both.probabilities(x)[0], expected, rtol=1e-9)
    assert both.mode == "zero-shot+few-shot"


def test_segment_takes_mean_of_frame_probabilities_and_unknown():
    timeline, times = make_timeline(30, [10, 20])
    probs = np.zeros((30, 2))
    probs[:10] = [0.9, 0.1]
    probs[10:20] = [[0.55, 0.45]] * 5 + [[0.45, 0.55]] * 5  # mean 0.5 / 0.5: a weak call
    probs[20:] = [0.2, 0.8]
    label_segments(timeline, times, probs, ["ad", "game"], min_confidence=0.6)
    segs = timeline.segments
    assert [s.label for s in segs] == ["ad", "unknown", "game"]
    assert segs[0].confidence == pytest.approx(0.9) and segs[0].runner_up == "game"
    assert segs[1].probabilities == pytest.approx({"ad": 0.5, "game": 0.5})


def test_merge_joins_same_label_neighbours():
    timeline, times = make_timeline(40, [10, 20, 30])
    probs = np.array([[0.9, 0.1]] * 10 + [[0.7, 0.3]] * 10 + [[0.1, 0.9]] * 20)
    label_segments(timeline, times, probs, ["ad", "game"])
    merge_same_label(timeline)
    assert [(s.label, s.start_frame, s.end_frame) for s in timeline.segments] == [("ad", 0, 20), ("game", 20, 40)]
    assert timeline.segments[0].confidence == pytest.approx(0.8)
    assert [s.index for s in timeline.segments] == [0, 1]


def test_totals_are_exact():
    timeline, times = make_timeline(100, [25, 40, 70])
    probs = np.array([[0.9, 0.1, 0.0]] * 25 + [[0.1, 0.9, 0.0]] * 15 + [[0.8, 0.1, 0.1]] * 30 + [[0.3, 0.3, 0.4]] * 30)
    label_segments(timeline, times, probs, ["ad", "game", "studio"], min_confidence=0.5)
    totals = label_totals(timeline, ["ad", "game", "studio"]).set_index("label")
    assert totals.loc["ad", "seconds"] == pytest.approx(5.5) and totals.loc["ad", "segments"] == 2
    assert totals.loc["ad", "longest_s"] == pytest.approx(3.0)
    assert totals.loc["unknown", "seconds"] == pytest.approx(3.0)
    assert totals.loc["studio", "seconds"] == 0 and totals.loc["studio", "segments"] == 0
    assert totals["share"].sum() == pytest.approx(1.0)
    assert totals["seconds"].sum() == pytest.approx(timeline.duration_s)


def test_viterbi_removes_flicker_but_keeps_real_runs():
    noisy = np.array([0] * 20 + [1] + [0] * 20 + [1] * 15 + [0] * 5)
    log_p = np.log(np.where(np.eye(2)[noisy] > 0, 0.8, 0.2))
    path = viterbi(log_p, switch_penalty=3.0)
    assert [(lab, a, b) for lab, a, b in runs(path)] == [(0, 0, 41), (1, 41, 56), (0, 56, 61)]
    assert (viterbi(log_p, 0.0) == noisy).all()


def test_label_list_validation():
    assert parse_label_list(" ad, game ,commentary").names == ["ad", "game", "commentary"]
    for bad, message in [("", "empty"), ("ad,,game", "empty label"), ("ad,game,Ad", "duplicate"), ("ad", "at least two"),
                         ("ad,unknown", "reserved"), ("ad,ga/me", "bad label name")]:
        with pytest.raises(UsageError, match=message):
            parse_label_list(bad)


def test_config_errors_name_the_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[labels.ad]\nprompts = ["a tv ad"]\n\n[labels.game\nprompts = []\n')
    with pytest.raises(UsageError, match="line 4"):
        load_config(bad)
    with pytest.raises(InputError, match="not found"):
        load_config(tmp_path / "missing.toml")
    empty = tmp_path / "empty.toml"
    empty.write_text("[classify]\nmerge = true\n")
    with pytest.raises(UsageError, match="no \\[labels"):
        load_config(empty)


@pytest.mark.parametrize("name", ["sports_broadcast", "news", "archive_batch"])
def test_sample_configs_parse(name):
    from pathlib import Path

    labels = load_config(Path(__file__).resolve().parent.parent / "sample_configs" / f"{name}.toml")
    assert len(labels.names) >= 3 and all(len(spec.prompts) >= 2 for spec in labels.labels)
