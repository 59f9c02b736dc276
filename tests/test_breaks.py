"""The break finder and the label fusion on hand-made cue grids (exact, no decoding)."""

from __future__ import annotations

import numpy as np
import pytest

from vidscan.broadcast.breaks import CUE_FAMILIES, STANDARD_SPOTS_S, find_breaks, separator_chains, split_spots
from vidscan.broadcast.fusion import CueRule, cue_log_likelihood, cue_values, describe_cues, fuse
from vidscan.broadcast.grid import GRID_STEP_S, CueGrid, grid_times, pooled_any, pooled_mean

DURATION = 300.0
BREAK = (100.0, 160.0)  # spots 30 + 15 + 15 s
SPOT_EDGES = [100.0, 130.0, 145.0, 160.0]


def make_grid(*, logo: bool = True, audio: bool = True, black: bool = True, cuts_every: float = 4.0) -> CueGrid:
    """A 5-minute broadcast with one break [100, 160) of three spots; programme cuts every
    ``cuts_every`` s, ad cuts at the spot edges and inside spots."""
    times = grid_times(DURATION)
    centre = times + GRID_STEP_S / 2
    inside = (centre >= BREAK[0]) & (centre < BREAK[1])
    runs = [(e - 0.2, e) if e == BREAK[0] else (e - 0.1, e + 0.1) if e < BREAK[1] else (e, e + 0.2) for e in SPOT_EDGES] if black else []
    flag = np.zeros(len(times), bool)
    for a, b in runs:
        flag[int(a / GRID_STEP_S): int(np.ceil(b / GRID_STEP_S))] = True
    cuts = np.concatenate([np.arange(cuts_every, BREAK[0], cuts_every), SPOT_EDGES, [107.3, 121.9, 151.2],
                           np.arange(BREAK[1] + 3.1, DURATION, cuts_every)])
    grid = CueGrid(GRID_STEP_S, DURATION, times, flag, runs, np.sort(cuts))
    if logo:
        grid.logo = np.where(inside, 0.05, 0.9).astype(np.float32)
        grid.logo[flag] = np.nan
    if audio:
        rng = np.random.default_rng(0)
        grid.loudness = (np.where(inside, -18.0, -24.0) + rng.normal(0, 0.7, len(times))).astype(np.float32)
        grid.silence = flag.copy()
        commentary = (centre >= 200) & (centre < 250)
        grid.speech = np.where(inside, 0.3, np.where(commentary, 0.9, 0.5)).astype(np.float32)
        grid.music = np.where(inside, 0.85, 0.1).astype(np.float32)
        grid.noise = np.where(inside | commentary, 0.1, 0.9).astype(np.float32)
    return grid


@pytest.mark.parametrize("cues", [dict(), dict(logo=False), dict(audio=False), dict(black=False), dict(logo=False, black=False)])
def test_one_break_found_exactly_from_any_strong_cue(cues):
    analysis = find_breaks(make_grid(**cues))
    assert len(analysis.breaks) == 1
    b = analysis.breaks[0]
    # Separators or cuts place the edges exactly: the black run belongs to the break.
    assert b.start_s == pytest.approx(BREAK[0] - (0.2 if cues.get("black", True) else 0.0), abs=1e-6)
    assert b.end_s == pytest.approx(BREAK[1] + (0.2 if cues.get("black", True) else 0.0), abs=1e-6)
    assert b.start_edge == ("separator" if cues.get("black", True) else "cut")


def test_spots_are_split_at_standard_lengths():
    b = find_breaks(make_grid()).breaks[0]
    lengths = [round(s.duration_s) for s in b.spots]
    assert lengths == [30, 15, 15]
    # Without separators, spots are read from the cuts: edges on cuts, standard lengths (the
    # cuts inside spots do not fit; whether 30 s of 15 + 15 is one spot or two is ambiguous).
    grid = make_grid(black=False)
    b = find_breaks(grid).breaks[0]
    assert b.spots[0].start_s == 100.0 and b.spots[-1].end_s == 160.0 and b.spots[0].end_s == 130.0
    assert all(min(abs(s.duration_s - x) for x in STANDARD_SPOTS_S) < 1e-6 for s in b.spots)
    assert all(np.isclose(grid.cuts, s.start_s).any() for s in b.spots)


def test_drivers_and_ablation():
    full = find_breaks(make_grid())
    assert {"logo", "loudness", "music"} <= set(full.breaks[0].cues)
    logo_only = find_breaks(make_grid(), use=["logo", "cuts"])
    assert logo_only.used == ["logo", "cuts"] and len(logo_only.breaks) == 1
    assert logo_only.breaks[0].cues == ["logo"]
    with pytest.raises(ValueError):
        find_breaks(make_grid(), use=["logo", "colour"])


def test_structure_alone_finds_a_break_of_separated_spots():
    """No logo and no sound: separators at spot lengths are the break's skeleton."""
    grid = make_grid(logo=False, audio=False)
    analysis = find_breaks(grid, use=["structure", "separators", "cuts"])
    assert len(analysis.breaks) == 1 and analysis.breaks[0].cues == ["structure"]
    assert separator_chains([10.0, 40.0, 55.0, 70.0, 200.0]) == [(10.0, 70.0)]
    assert separator_chains([10.0, 40.0, 200.0]) == []  # one spot is not a break


def test_nothing_found_in_a_plain_programme():
    grid = make_grid()
    grid.logo[:] = 0.9
    grid.loudness[:] = -24.0
    grid.music[:] = 0.1
    grid.black[:] = False
    grid.black_runs = []
    assert find_breaks(grid).breaks == []


def test_short_burst_is_not_a_break():
    grid = make_grid(audio=False, black=False)
    grid.logo[:] = 0.9
    burst = (grid.times >= 50) & (grid.times < 58)  # 8 s without the logo: a full-screen graphic
    grid.logo[burst] = 0.0
    assert find_breaks(grid).breaks == []


def test_split_spots_falls_back_to_one_piece():
    assert [(s.start_s, s.end_s) for s in split_spots(0.0, 37.3, [], np.array([11.0, 23.0]))] == [(0.0, 37.3)]
    # A separator is a spot edge; a cut splits a 30 s reading only where that is likelier.
    spots = split_spots(0.0, 45.0, [(14.9, 15.1)], np.array([7.0, 30.0]))
    assert [round(s.duration_s) for s in spots] == [15, 30]
    spots = split_spots(0.0, 45.0, [(14.9, 15.1), (29.9, 30.1)], np.array([7.0]))
    assert [round(s.duration_s) for s in spots] == [15, 15, 15]
    assert all(min(abs(s.duration_s - x) for x in STANDARD_SPOTS_S) < 0.6 for s in spots)


def test_grid_pooling():
    grid = grid_times(1.0)
    assert len(grid) == 5
    assert pooled_any(np.array([0.45]), np.array([True]), grid, GRID_STEP_S).tolist() == [False, False, True, False, False]
    vals = pooled_mean(np.array([0.1, 0.9]), np.array([1.0, 3.0]), grid, GRID_STEP_S)
    assert vals[0] == pytest.approx(1.0) and vals[4] == pytest.approx(3.0) and 1.0 < vals[2] < 3.0


def test_fusion_labels_from_cues():
    grid = make_grid()
    analysis = find_breaks(grid)
    rules = [CueRule("ad", ("break",)), CueRule("game", ("programme", "crowd")), CueRule("commentary", ("programme", "speech"), ("crowd",))]
    times = np.arange(0, DURATION, 0.5)
    values = cue_values(times, grid, analysis)
    log_l, missing = cue_log_likelihood(rules, values, len(times))
    assert missing == []
    label = np.argmax(fuse(None, log_l), axis=1)
    truth = np.where((times >= analysis.breaks[0].start_s) & (times < analysis.breaks[0].end_s), 0,
                     np.where((times >= 200) & (times < 250), 2, 1))
    assert (label == truth).mean() > 0.99
    inside = (times >= 120) & (times < 125)
    assert describe_cues(rules[0], values, inside, analysis, 120.0).startswith("break: logo")
    studio = (times >= 210) & (times < 220)
    assert describe_cues(rules[2], values, studio) == "programme; speech; no crowd"


def test_fusion_visual_evidence_multiplies_in():
    rules = [CueRule("ad", ("break",)), CueRule("studio", ("programme",)), CueRule("pitch", ("programme",))]
    values = {"break": np.array([0.0, 0.0, 1.0]), "programme": np.array([1.0, 1.0, 0.0])}
    log_l, _ = cue_log_likelihood(rules, values, 3)
    visual = np.log(np.array([[0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.2, 0.4, 0.4]]))
    labels = np.argmax(fuse(visual, log_l), axis=1)
    assert labels.tolist() == [1, 2, 0]
    with pytest.raises(ValueError):
        CueRule("x", ("applause",))


def test_missing_cues_are_reported_neutral():
    rules = [CueRule("a", ("speech",)), CueRule("b", ("programme",))]
    values = {"programme": np.ones(4), "break": np.zeros(4)}
    log_l, missing = cue_log_likelihood(rules, values, 4)
    assert missing == ["speech"] and np.all(log_l[:, 0] == 0)


def test_families_are_known():
    assert set(CUE_FAMILIES) == {"logo", "aspect", "loudness", "music", "speech", "structure", "separators", "cuts"}


def test_a_change_of_picture_format_points_to_a_break():
    """Ads in 4:3 inside a 16:9 programme, with no logo, sound or separators to go by."""
    grid = make_grid(logo=False, audio=False, black=False)
    centre = grid.times + GRID_STEP_S / 2
    grid.aspect = np.where((centre >= BREAK[0]) & (centre < BREAK[1]), 4 / 3, 16 / 9).astype(np.float32)
    found = find_breaks(grid).breaks
    assert [(b.start_s, b.end_s, b.cues) for b in found] == [(BREAK[0], BREAK[1], ["aspect"])]
    assert find_breaks(grid, use=[f for f in CUE_FAMILIES if f != "aspect"]).breaks == []
