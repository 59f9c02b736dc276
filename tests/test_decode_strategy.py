"""`--decode auto`: keyframes first on fixed, short keyframe spacing, every frame otherwise; said."""

from __future__ import annotations

import json
import threading
from fractions import Fraction

import numpy as np

import pytest

import vidscan
from vidscan.cli.main import main
from vidscan.video.packets import PacketIndex
import vidscan.video.strategy as strategy
from vidscan.video.strategy import MAX_KEYFRAME_SPACING_S, KeyframeLayout, choose_strategy

HD = (1920, 1080)


def index_with_keyframes_at(keys: list[int], frames: int, fps: int = 25) -> PacketIndex:
    pts = np.arange(frames, dtype=np.int64)
    return PacketIndex(pts=pts, key_pts=np.array(keys, np.int64), time_base=Fraction(1, fps), start_pts=0, last_duration=1)


@pytest.mark.parametrize("keys, frames, strategy, words", [
    (list(range(0, 1000, 25)), 1000, "coarse", "every 1.00 s at a fixed spacing"),
    (list(range(0, 1000, 50)), 1000, "coarse", "every 2.00 s"),
    # x264 defaults: a keyframe at most cuts, at most 250 frames apart
    ([0, 37, 61, 140, 390, 412, 470, 533, 600, 850, 901, 999], 1000, "full", "irregular spacing (placed at cuts)"),
    (list(range(0, 2500, 250)), 2500, "full", f"longer than {MAX_KEYFRAME_SPACING_S:g} s"),
    ([0, 25, 50], 60, "full", "a keyframe every"),  # too few to judge
    ([0], 500, "full", "1 keyframe"),
])
def test_the_strategy_follows_the_keyframe_layout(keys, frames, strategy, words):
    choice = choose_strategy("unused.mp4", index_with_keyframes_at(keys, frames), frame_size=HD)
    assert choice.strategy == strategy and words in choice.reason
    assert choice.as_dict() == {"requested": "auto", "used": strategy, "reason": choice.reason}


def test_small_frames_decode_every_frame_whatever_the_keyframes():
    broadcast = index_with_keyframes_at(list(range(0, 1000, 25)), 1000)
    assert choose_strategy("unused.mp4", broadcast, frame_size=(1280, 720)).strategy == "coarse"
    small = choose_strategy("unused.mp4", broadcast, frame_size=(640, 360))
    assert small.strategy == "full" and small.reason.startswith("640x360 frames, below 720p")


def test_a_layout_counts_spacings_in_frames_and_seconds():
    layout = KeyframeLayout.of(index_with_keyframes_at(list(range(0, 300, 30)), 300, fps=30))
    assert (layout.keyframes, layout.frames, layout.regular_share) == (10, 300, 1.0)
    assert layout.median_spacing_s == pytest.approx(1.0)


def test_unordered_timestamps_decode_every_frame():
    index = index_with_keyframes_at(list(range(0, 500, 25)), 500)
    index.ordered = False
    assert choose_strategy("unused.mp4", index, frame_size=HD).strategy == "full"


@pytest.fixture
def any_size(monkeypatch):
    """Keyframes first at any frame size and however much differs, so small test files with
    short shots take the broadcast path."""
    import vidscan.extract

    monkeypatch.setattr(strategy, "MIN_COARSE_PIXELS", 0)
    monkeypatch.setattr(vidscan.extract, "MAX_FINE_COST", 10.0)


@pytest.fixture(scope="module")
def broadcast_style(tmp_path_factory):
    """A fixed 1 s GOP (no keyframes at cuts), as broadcasters encode."""
    from vidscan.synth import Program, Shot, Transition, render

    path = tmp_path_factory.mktemp("strategy") / "gop25.mp4"
    program = Program([Shot("studio", 110, 1), Shot("bars", 90, 2), Shot("gradients", 120, 3), Shot("ad", 95, 4)],
                      [Transition("cut"), Transition("dissolve", 14), Transition("cut")], 192, 108)
    truth = render(program, path, gop=25)
    return path, truth


def test_auto_reads_keyframes_first_on_a_broadcast_style_file_and_finds_the_same_cuts(broadcast_style, any_size):
    path, truth = broadcast_style
    auto = vidscan.detect_scenes(path, cache=None)
    full = vidscan.detect_scenes(path, decode="full", cache=None)
    assert auto.settings["decode"] == "coarse" and full.settings["decode"] == "full"
    assert auto.stats["decode_choice"]["used"] == "coarse" and "every 1.00 s" in auto.stats["decode_choice"]["reason"]
    assert "decode_choice" not in full.stats  # asked for: nothing to explain
    assert 0 < auto.stats["coarse"]["decoded_share"] < 1
    assert [s.start_frame for s in auto.segments] == [s.start_frame for s in full.segments]
    assert len(auto.segments) == len(truth.boundaries) + 1


def test_a_small_broadcast_style_file_decodes_every_frame(broadcast_style):
    path, _ = broadcast_style  # 192x108
    timeline = vidscan.detect_scenes(path, cache=None)
    assert timeline.stats["decode_choice"]["used"] == "full" and "below 720p" in timeline.stats["decode_choice"]["reason"]


def test_keyframes_first_gives_up_when_most_keyframe_pairs_differ(broadcast_style, any_size, monkeypatch):
    """The fine pass would cost more than MAX_FINE_COST of a full decode: one full decode instead."""
    import vidscan.extract

    path, _ = broadcast_style
    monkeypatch.setattr(vidscan.extract, "MAX_FINE_COST", 0.05)
    timeline = vidscan.detect_scenes(path, cache=None)
    full = vidscan.detect_scenes(path, decode="full", cache=None)
    choice = timeline.stats["decode_choice"]
    assert choice["used"] == "full" and timeline.settings["decode"] == "full" and "coarse" not in timeline.stats
    assert choice["reason"].startswith("a keyframe every 1.00 s at a fixed spacing, but the keyframes differ around")
    assert "would cost about" in choice["reason"] and "x a full decode" in choice["reason"]
    assert [s.start_frame for s in timeline.segments] == [s.start_frame for s in full.segments]
    # asked for by name, keyframes first runs whatever it finds
    assert vidscan.detect_scenes(path, decode="coarse", cache=None).settings["decode"] == "coarse"


def test_auto_decodes_every_frame_where_keyframes_sit_at_cuts(shots_video, any_size):
    path, _ = shots_video  # x264 defaults: keyframes placed by scene-cut detection
    timeline = vidscan.detect_scenes(path, cache=None)
    assert timeline.settings["decode"] == "full" and timeline.stats["decode_choice"]["used"] == "full"
    assert "coarse" not in timeline.stats


def test_auto_with_another_backend_decodes_every_frame(broadcast_style):
    path, _ = broadcast_style
    timeline = vidscan.detect_scenes(path, decode=vidscan.DecodeSpec(backend="decord"), cache=None)
    assert timeline.stats["decode_choice"]["used"] == "full" and "decord" in timeline.stats["decode_choice"]["reason"]


def test_sampled_labels_and_every_frame_boundaries_share_one_full_pass(broadcast_style):
    """classify with CLIP at 2/s plus exact cuts: a second, keyframes-first pass would not pay."""
    from vidscan.embed.features import FeatureEmbedder
    from vidscan.extract import embed_requests
    from vidscan.options import DecodeSpec
    from vidscan.video import Sampling

    path, truth = broadcast_style
    emb = FeatureEmbedder()
    (sampled, every_frame), every = embed_requests(path, [(emb, Sampling.per_second(2.0)), (emb, Sampling.all_frames())],
                                                   decode=DecodeSpec())
    assert every is not None and every.video is every_frame and every.coarse is None
    assert every.choice.as_dict() == {"requested": "auto", "used": "full",
                                      "reason": "one pass over every frame also serves the sampled frames"}
    assert len(every_frame.indices) == truth.frame_count and 0 < len(sampled.indices) < truth.frame_count


def test_the_command_line_says_which_strategy_ran(broadcast_style, any_size, tmp_path, capsys):
    path, _ = broadcast_style
    out = tmp_path / "auto.json"
    assert main(["scenes", str(path), "-o", str(out), "--no-cache"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "keyframes first" in said and "a keyframe every 1.00 s at a fixed spacing" in said
    written = json.loads(out.read_text())
    assert written["stats"]["decode_choice"]["used"] == "coarse" and written["settings"]["decode"] == "coarse"
    assert main(["scenes", str(path), "-o", str(tmp_path / "full.json"), "--no-cache", "--decode", "full"]) == 0
    assert "keyframes first" not in capsys.readouterr().out


def test_a_run_that_gave_up_on_the_keyframes_is_not_repeated_from_the_cache(broadcast_style, any_size, monkeypatch, tmp_path):
    import vidscan.extract
    import vidscan.video.coarse
    from vidscan.cache import EmbeddingCache

    path, _ = broadcast_style
    cache = EmbeddingCache(tmp_path / "cache")
    monkeypatch.setattr(vidscan.extract, "MAX_FINE_COST", 0.05)
    first = vidscan.detect_scenes(path, cache=cache)
    assert "keyframes differ around" in first.stats["decode_choice"]["reason"]

    def no_keyframe_pass(*args, **kwargs):
        raise AssertionError("the keyframes were read again")

    monkeypatch.setattr(vidscan.video.coarse, "embed_coarse_to_fine", no_keyframe_pass)
    again = vidscan.detect_scenes(path, cache=cache)
    assert again.stats["decode_choice"]["used"] == "full" and "already embedded (cache)" in again.stats["decode_choice"]["reason"]
    assert [s.start_frame for s in again.segments] == [s.start_frame for s in first.segments]


def test_sampling_every_keyframe_pair_finds_what_the_keyframe_pass_finds(broadcast_style):
    """With every pair sampled, the sample's verdicts are exactly the keyframe pass's, pair by pair."""
    from vidscan.embed.features import FeatureEmbedder
    from vidscan.video import coarse

    path, _ = broadcast_style  # 17 keyframes, cuts and a dissolve between some
    emb = FeatureEmbedder()
    _, _, vectors, _, thumbs = coarse.keyframe_pass(str(path), emb.frame_size(192, 108), 0, coarse.FrameEmbedder(emb, threading.Lock()))
    differ = coarse.candidate_pairs(vectors, coarse.DEFAULT_THRESHOLD, key_thumbs=thumbs, pixel_threshold=coarse.PIXEL_THRESHOLD)
    assert 0 < differ.sum() < len(differ)
    sample = coarse.sampled_pairs(path, emb, pairs=len(differ), min_keyframes=0)
    assert sample.firsts.tolist() == list(range(len(differ)))
    assert sample.differ.tolist() == differ.tolist() and sample.share == pytest.approx(differ.mean())
    assert coarse.sampled_pairs(path, emb) is None  # 17 keyframes: too few to sample, read them all


@pytest.mark.parametrize("first, second, looks, every_frame", [
    (0.9, None, [4], True),  # clearly over the line: decided by the first look
    (0.3, None, [4], False),  # clearly under it
    (0.7, 0.65, [4, 8], True),  # near the line: the second look decides
    (0.7, 0.55, [4, 8], False),
    (0.7, None, [4, 8], False),  # too few keyframes for the second look: read them all
])
def test_a_file_near_the_line_gets_a_second_look(monkeypatch, first, second, looks, every_frame):
    """The looks are judged by the cost they predict for keyframes first (here a made-up one)."""
    from vidscan.video import coarse

    monkeypatch.setattr(coarse, "SAMPLED_PAIRS", 4)
    monkeypatch.setattr(coarse, "FIRST_LOOK_GIVE_UP", 0.8)
    monkeypatch.setattr(coarse, "SECOND_LOOK_FROM", 0.5)
    monkeypatch.setattr(coarse, "SECOND_LOOK_PAIRS", 8)
    monkeypatch.setattr(coarse, "COARSE_PAYS_BELOW", 0.6)
    asked = []

    def look(path, embedder, *, pairs=None, pictures=None):
        asked.append(pairs or coarse.SAMPLED_PAIRS)
        cost = first if len(asked) == 1 else second
        return None if cost is None else coarse.SampledPairs(np.arange(asked[-1]), np.zeros(asked[-1], bool))

    monkeypatch.setattr(coarse, "sampled_pairs", look)
    monkeypatch.setattr(coarse, "predicted_coarse_cost", lambda path, sample: {4: first, 8: second}[len(sample.firsts)])
    sample = coarse.sample_keyframe_pairs("unused.mp4", object())
    assert asked == looks
    assert sample.every_frame is every_frame
    assert sample.coarse_cost == (second if second is not None else first)
    assert sample.pairs == (8 if second is not None else 4)


def test_the_second_look_samples_the_real_file(broadcast_style):
    """Both looks decode real keyframe pairs: each verdict is what sampling that many pairs gives,
    and the predicted cost is the cost model's for those verdicts."""
    from vidscan.embed.features import FeatureEmbedder
    from vidscan.video import coarse

    path, _ = broadcast_style  # 17 keyframes
    emb = FeatureEmbedder()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(coarse, "SAMPLED_PAIRS", 4)
        mp.setattr(coarse, "FIRST_LOOK_GIVE_UP", 100.0)
        mp.setattr(coarse, "SECOND_LOOK_FROM", 0.0)
        mp.setattr(coarse, "SECOND_LOOK_PAIRS", 4)  # 4 x 4 = 16 keyframes needed: there are 17
        sample = coarse.sample_keyframe_pairs(path, emb)
    assert sample is not None and sample.pairs == 4
    again = coarse.sampled_pairs(path, emb, pairs=4, min_keyframes=0)
    assert sample.share == pytest.approx(again.share)
    assert sample.coarse_cost == pytest.approx(coarse.predicted_coarse_cost(path, again))
    assert 0 < sample.coarse_cost < 2
    assert sample.every_frame is (sample.coarse_cost >= coarse.COARSE_PAYS_BELOW)


def test_auto_decodes_every_frame_at_once_when_sampled_keyframe_pairs_differ(broadcast_style, any_size, monkeypatch):
    """Sampled pairs over the give-up share: no keyframe pass at all, and the same cuts."""
    import vidscan.extract
    import vidscan.video.coarse

    path, _ = broadcast_style
    monkeypatch.setattr(vidscan.video.coarse, "SAMPLED_PAIRS", 4)
    monkeypatch.setattr(vidscan.video.coarse, "FIRST_LOOK_GIVE_UP", 0.0)

    def no_keyframe_pass(*args, **kwargs):
        raise AssertionError("the keyframes were read after the sample said every frame")

    monkeypatch.setattr(vidscan.video.coarse, "embed_coarse_to_fine", no_keyframe_pass)
    timeline = vidscan.detect_scenes(path, cache=None)
    full = vidscan.detect_scenes(path, decode="full", cache=None)
    choice = timeline.stats["decode_choice"]
    assert choice["used"] == "full" and "coarse" not in timeline.stats
    assert "keyframe pairs sampled over the file differ" in choice["reason"]
    assert [s.start_frame for s in timeline.segments] == [s.start_frame for s in full.segments]
    # Under the give-up share the keyframes are read as before.
    monkeypatch.undo()
    monkeypatch.setattr(strategy, "MIN_COARSE_PIXELS", 0)
    monkeypatch.setattr(vidscan.extract, "MAX_FINE_COST", 10.0)
    monkeypatch.setattr(vidscan.video.coarse, "SAMPLED_PAIRS", 4)
    monkeypatch.setattr(vidscan.video.coarse, "FIRST_LOOK_GIVE_UP", 100.0)
    monkeypatch.setattr(vidscan.video.coarse, "SECOND_LOOK_FROM", 100.0)
    coarse_run = vidscan.detect_scenes(path, cache=None)
    assert coarse_run.settings["decode"] == "coarse"
    said = coarse_run.stats["coarse"]  # what the sample predicted, and the fine pass's predicted cost, kept to check the model
    assert said["sample"]["pairs"] == 4 and 0 <= said["sample"]["differ_share"] <= 1 and said["sample"]["predicted_cost"] > 0
    assert 0 < said["predicted_fine_cost"] < 2
    asked = vidscan.detect_scenes(path, decode="coarse", cache=None)  # no sample: every keyframe decoded by the keyframe pass
    assert "sample" not in asked.stats["coarse"]
    assert [s.start_frame for s in coarse_run.segments] == [s.start_frame for s in asked.segments]


def test_the_keyframe_pass_reuses_the_keyframes_the_looks_decoded(broadcast_style, monkeypatch):
    """Keyframes a look decoded are embedded from its pictures, not decoded again: the same
    vectors, brightness and thumbnails as decoding them, bit for bit."""
    from vidscan.embed.features import FeatureEmbedder
    from vidscan.video import coarse

    path, _ = broadcast_style  # 17 keyframes
    emb = FeatureEmbedder()
    size = emb.frame_size(192, 108)
    pictures: dict[int, np.ndarray] = {}
    first = coarse.sampled_pairs(path, emb, pairs=3, min_keyframes=0, pictures=pictures)
    assert len(pictures) == 2 * len(first.firsts)
    # A second look spaced to hold the first (7 = 3 x 2 + 1 pairs) decodes only keyframes it has not seen.
    decoded_again = []
    keyframe = coarse.GopDecoder.keyframe
    monkeypatch.setattr(coarse.GopDecoder, "keyframe", lambda self, pts: decoded_again.append(pts) or keyframe(self, pts))
    seen = set(pictures)
    second = coarse.sampled_pairs(path, emb, pairs=7, min_keyframes=0, pictures=pictures)
    assert set(first.firsts.tolist()) <= set(second.firsts.tolist())
    assert decoded_again and not seen & set(decoded_again) and set(pictures) == seen | set(decoded_again)
    assert second.differ.tolist() == coarse.sampled_pairs(path, emb, pairs=7, min_keyframes=0).differ.tolist()
    monkeypatch.undo()

    def keyframes(given):
        return coarse.keyframe_pass(str(path), size, 0, coarse.FrameEmbedder(emb, threading.Lock()), 2, pictures=given)

    _, keys, vectors, luma, thumbs = keyframes(None)
    _, keys_reused, vectors_reused, luma_reused, thumbs_reused = keyframes(pictures)
    assert keys_reused == keys and len(pictures) < len(keys)
    assert np.array_equal(vectors_reused, vectors) and np.array_equal(luma_reused, luma) and np.array_equal(thumbs_reused, thumbs)
    # ...and those pictures are what was embedded (inverted ones change exactly those keyframes).
    _, _, vectors_inverted, _, _ = keyframes({p: 255 - picture for p, picture in pictures.items()})
    changed = {keys[i] for i in range(len(keys)) if not np.array_equal(vectors_inverted[i], vectors[i])}
    assert changed == set(pictures)
