"""Synthetic broadcasts with ad breaks (vidscan.synth.broadcast): the rendered file agrees with
its truth, frame by frame and sample by sample."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from vidscan.errors import UsageError
from vidscan.synth import broadcast as bc
from vidscan.synth.broadcast import SPOT_LENGTHS_S, BroadcastTruth, broadcast_audio, broadcast_plan, integrated_loudness, logo_score, render_broadcast

av = pytest.importorskip("av")
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")

#: A short broadcast that still has two breaks; "mixed" with two breaks gives one of each kind.
SHORT = dict(seed=3, minutes=1.5, separators="mixed", breaks=2, spots_per_break=(2, 2), spot_lengths=(10, 15))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Render the short broadcast once and decode what the tests need from every frame and sample."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    folder = tmp_path_factory.mktemp("broadcast")
    plan = broadcast_plan(**SHORT)
    path = folder / "broadcast.mp4"
    truth = render_broadcast(plan, path, truth_path=folder / "truth.json")
    luma, scores = [], []
    with av.open(str(path)) as container:
        assert len(container.streams.video) == 1 and len(container.streams.audio) == 1
        video, audio = container.streams.video[0], container.streams.audio[0]
        durations = (float(video.duration * video.time_base), float(audio.duration * audio.time_base))
        for frame in container.decode(video=0):
            image = frame.to_ndarray(format="rgb24")
            luma.append(image.mean())
            scores.append(logo_score(image, plan.logo, truth.logo_box))
    with av.open(str(path)) as container:
        chunks, first_pts = [], None
        for frame in container.decode(audio=0):
            first_pts = frame.pts if first_pts is None else first_pts
            chunks.append(frame.to_ndarray().mean(axis=0))
        rate = container.streams.audio[0].rate
    return dict(plan=plan, path=path, truth=truth, folder=folder, luma=np.array(luma), scores=np.array(scores),
                durations=durations, sound=np.concatenate(chunks), rate=rate, first_pts=first_pts)


def _frames(truth: BroadcastTruth, start_s: float, end_s: float) -> range:
    return range(round(start_s * truth.fps), round(end_s * truth.fps))


def _black_runs(brk) -> list[tuple[float, float]]:
    """A break's black runs: its span minus its spots."""
    edges = [brk.start_s] + [t for s in brk.spots for t in (s.start_s, s.end_s)] + [brk.end_s]
    return [(a, b) for a, b in zip(edges[::2], edges[1::2]) if b > a]


def test_streams_match_the_truth(rendered):
    truth = rendered["truth"]
    video_s, audio_s = rendered["durations"]
    assert len(rendered["luma"]) == truth.frame_count == round(1.5 * 60 * 25)
    assert video_s == pytest.approx(truth.duration_s, abs=1 / truth.fps)
    assert audio_s == pytest.approx(video_s, abs=1 / truth.fps)
    assert rendered["rate"] == 48000 and rendered["first_pts"] == 0
    assert len(rendered["sound"]) == pytest.approx(truth.duration_s * 48000, abs=2048)  # AAC's last frame


def test_truth_is_contiguous_and_spots_are_standard(rendered):
    truth, plan = rendered["truth"], rendered["plan"]
    labels = truth.labels
    assert labels[0][1] == 0 and labels[-1][2] == pytest.approx(truth.duration_s)
    assert all(a[2] == b[1] and a[0] != b[0] for a, b in zip(labels, labels[1:]))
    assert {lab for lab, _, _ in labels} == {"commentary", "game", "ad"}
    assert [(lab, s * 25, e * 25) for lab, s, e in labels] == [(lab, pytest.approx(s), pytest.approx(e)) for lab, s, e in truth.shots.labels]
    assert len(truth.breaks) == 2 and {b.black_edges for b in truth.breaks} == {True, False}
    ads = [(s, e) for lab, s, e in labels if lab == "ad"]
    assert ads == [(b.start_s, b.end_s) for b in truth.breaks]
    for brk in truth.breaks:
        assert len(brk.spots) == 2
        for spot in brk.spots:
            frames = (spot.end_s - spot.start_s) * truth.fps
            assert frames == pytest.approx(round(frames)) and round(frames) / truth.fps in (10, 15)
        if not brk.black_edges:
            assert brk.spots[0].start_s == brk.start_s and brk.spots[-1].end_s == brk.end_s
            assert brk.spots[0].end_s == brk.spots[1].start_s
    assert truth.label_seconds()["ad"] == pytest.approx(sum(b.end_s - b.start_s for b in truth.breaks))
    assert plan.logo.shape[1] == truth.logo_box[2] and truth.logo_box[0] > truth.width // 2  # top-right
    assert truth.logo_box[2] == pytest.approx(0.1 * truth.width, abs=2)


def test_full_length_plan_structure():
    """A 10-minute plan (not rendered) has the broadcast's structure."""
    plan = broadcast_plan(seed=11, minutes=10.0)
    truth = plan.truth()
    assert truth.frame_count == 15000 and 2 <= len(truth.breaks) <= 4
    for brk in truth.breaks:
        assert 2 <= len(brk.spots) <= 6
        assert all(round((s.end_s - s.start_s) * 25) in [n * 25 for n in SPOT_LENGTHS_S] for s in brk.spots)
        runs = _black_runs(brk)
        if brk.black_edges:
            assert len(runs) == len(brk.spots) + 1 and all(4 <= round((b - a) * 25) <= 12 for a, b in runs)
        else:
            assert runs == []
    fps = plan.fps
    for piece in plan.pieces:
        if piece.kind in ("commentary", "game"):
            hi = {"commentary": 90, "game": 240}[piece.kind] + 10  # a block may absorb a short remainder
            assert (piece.end - piece.start) / fps <= hi
    game_shots = [s for s in plan.program.shots if s.label == "game"]
    assert {s.look for s in game_shots} == {"field", "closeup", "crowd"}
    assert sum(2 * fps <= s.frames <= 8 * fps + 16 for s in game_shots) >= 0.9 * len(game_shots)
    spot_seeds = [p.seed for p in plan.pieces if p.kind == "spot"]
    assert len(set(spot_seeds)) == len(spot_seeds)
    assert {b.black_edges for b in broadcast_plan(seed=11, separators="black").truth().breaks} == {True}
    assert {b.black_edges for b in broadcast_plan(seed=11, separators="none").truth().breaks} == {False}
    with pytest.raises(UsageError):
        broadcast_plan(separators="sometimes")
    with pytest.raises(UsageError):
        broadcast_plan(minutes=0.3, breaks=3)


def test_logo_on_programme_frames_only(rendered):
    plan, scores = rendered["plan"], rendered["scores"]
    on = plan.logo_frames()
    assert on.sum() > 0 and (~on).sum() > 0
    truth = rendered["truth"]
    for label, start_s, end_s in truth.labels:
        assert on[list(_frames(truth, start_s, end_s))].all() == (label != "ad")
        assert on[list(_frames(truth, start_s, end_s))].any() == (label != "ad")
    assert scores[on].min() > 0.8, "the logo is missing on a programme frame"
    assert scores[~on].max() < 0.5, "a logo shows during a break"


def test_black_frames_exactly_at_the_separators(rendered):
    truth, luma = rendered["truth"], rendered["luma"]
    expected = np.zeros(truth.frame_count, bool)
    for brk in truth.breaks:
        for a, b in _black_runs(brk):
            expected[list(_frames(truth, a, b))] = True
    black_break = next(b for b in truth.breaks if b.black_edges)
    none_break = next(b for b in truth.breaks if not b.black_edges)
    assert expected[round(black_break.start_s * 25)] and expected[round(black_break.end_s * 25) - 1]
    assert not expected[list(_frames(truth, none_break.start_s - 1, none_break.end_s + 1))].any()
    is_black = luma < 8
    assert (is_black == expected).all(), f"black frames at {np.flatnonzero(is_black != expected)[:10]} disagree with the truth"
    assert luma[~expected].min() > 20


def test_sound_silent_on_black_and_louder_in_ads(rendered):
    truth, sound, rate = rendered["truth"], rendered["sound"], rendered["rate"]

    def span(a: float, b: float, trim: float = 0.0) -> np.ndarray:
        return sound[int((a + trim) * rate) : int((b - trim) * rate)]

    def rms(x: np.ndarray) -> float:
        return float(np.sqrt(np.mean(x * x)))

    black_break = next(b for b in truth.breaks if b.black_edges)
    for a, b in _black_runs(black_break):
        assert rms(span(a, b, trim=0.025)) < 1e-4  # AAC spills a few ms into the silence, no more
    none_break = next(b for b in truth.breaks if not b.black_edges)
    for edge in (none_break.start_s, none_break.end_s, none_break.spots[0].end_s):
        for k in range(-2, 2):  # no silent frame around edges without separators
            assert rms(span(edge + k / 25, edge + (k + 1) / 25)) > 3e-3
    programme = [integrated_loudness(span(s, e)) for lab, s, e in truth.labels if lab != "ad"]
    spots = [integrated_loudness(span(s.start_s, s.end_s)) for b in truth.breaks for s in b.spots]
    assert min(spots) > max(programme) + 3.0, (spots, programme)
    assert all(abs(level + 18) < 1.0 for level in spots)
    commentary = [integrated_loudness(span(s, e)) for lab, s, e in truth.labels if lab == "commentary"]
    assert all(abs(level + 23) < 1.0 for level in commentary)
    assert truth.loudness["ad"] == pytest.approx(-18, abs=0.5) and truth.loudness["commentary"] == pytest.approx(-23, abs=0.5)
    ad_rms = np.mean([rms(span(s.start_s, s.end_s)) for b in truth.breaks for s in b.spots])
    programme_rms = np.mean([rms(span(s, e)) for lab, s, e in truth.labels if lab != "ad"])
    assert ad_rms > 1.5 * programme_rms


def test_truth_round_trips(rendered):
    truth = rendered["truth"]
    loaded = BroadcastTruth.load(rendered["folder"] / "truth.json")
    assert loaded == truth
    assert loaded.label_seconds() == truth.label_seconds()
    assert isinstance(loaded.labels[0], tuple) and isinstance(loaded.logo_box, tuple)
    assert abs(sum(truth.label_seconds().values()) - truth.duration_s) < 1e-9


@needs_espeak
def test_same_seed_same_plan_and_sound():
    a, b = broadcast_plan(**SHORT), broadcast_plan(**SHORT)
    assert a.program == b.program and a.pieces == b.pieces and a.breaks == b.breaks and (a.logo == b.logo).all()
    assert broadcast_plan(**{**SHORT, "seed": 4}).program != a.program
    one, loud_one = broadcast_audio(a)
    two, loud_two = broadcast_audio(b)
    assert np.array_equal(one, two) and loud_one == loud_two
    assert len(one) == a.frame_count * 48000 // a.fps


def test_missing_espeak_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(bc.shutil, "which", lambda name: None)
    plan = broadcast_plan(**SHORT)
    with pytest.raises(UsageError, match="espeak-ng"):
        render_broadcast(plan, tmp_path / "x.mp4")
    assert not list(tmp_path.iterdir())
