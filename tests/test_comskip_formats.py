"""Comskip's .txt and .edl as vidscan writes and reads them (vidscan.export.comskip), checked
against the real ``comskip`` where it is installed; and the ad-break metrics of
benchmarks/comskip_peer.py on hand-made cases."""

from __future__ import annotations

import re
import shutil

import pytest

from benchmarks.comskip_peer import ad_time_error, break_edge_f1, run_comskip
from tests.conftest import run_ffmpeg
from vidscan.errors import OutputError
from vidscan.export.comskip import (
    EDL_COMMERCIAL,
    comskip_edl,
    comskip_fps_field,
    comskip_txt,
    frames_to_breaks,
    read_comskip_edl,
    read_comskip_txt,
    write_comskip_edl,
    write_comskip_txt,
)

#: Written by Comskip 0.82.011 (Debian) on a 25 fps, 333 s test video with one ad break.
REAL_TXT = "FILE PROCESSING COMPLETE   8326 FRAMES AT  2500\n-------------------\n3763\t4567\n8325\t8326\n"
REAL_EDL = "150.48\t182.64\t0\n"


# -- the .txt ------------------------------------------------------------------------------

def test_txt_matches_comskips_own_file_byte_for_byte():
    breaks = [(3763 / 25, 4567 / 25), (8325 / 25, 8326 / 25)]
    assert comskip_txt(breaks, 25, frame_count=8326) == REAL_TXT


@pytest.mark.parametrize("fps, field", [(25, 2500), (29.97, 2997), (30000 / 1001, 2997), (23.976, 2397), (24000 / 1001, 2397), (59.94, 5994), (50, 5000)])
def test_header_rate_is_fps_times_100_truncated(fps, field):
    assert comskip_fps_field(fps) == field
    assert comskip_txt([], fps, 123).splitlines()[0] == f"FILE PROCESSING COMPLETE    123 FRAMES AT {field:5d}"


def test_header_layout_and_default_frame_count():
    text = comskip_txt([(2.0, 4.0), (1.0, 1.5)], 25)
    assert text == "FILE PROCESSING COMPLETE    100 FRAMES AT  2500\n-------------------\n25\t38\n50\t100\n"
    assert comskip_txt([], 25) == "FILE PROCESSING COMPLETE      0 FRAMES AT  2500\n-------------------\n"
    assert comskip_txt([], 25, 1234567).splitlines()[0] == "FILE PROCESSING COMPLETE 1234567 FRAMES AT  2500"


@pytest.mark.parametrize("fps", [25.0, 30000 / 1001, 24000 / 1001, 60.0])
def test_txt_round_trip_at_frame_precision(tmp_path, fps):
    breaks = [(0.0, 12.345), (601.2, 781.9), (3599.99, 3720.5)]
    path = write_comskip_txt(tmp_path / "show.txt", breaks, fps, frame_count=300000)
    pairs, read_fps = read_comskip_txt(path)
    assert pairs == [(round(s * fps), round(e * fps)) for s, e in breaks]
    assert read_fps == comskip_fps_field(fps) / 100
    for (s, e), (s2, e2) in zip(breaks, frames_to_breaks(pairs, fps)):
        assert abs(s - s2) <= 0.5 / fps and abs(e - e2) <= 0.5 / fps
    assert sorted(p.name for p in tmp_path.iterdir()) == ["show.txt"]  # no temp file left


def test_txt_reader_tolerates_crlf_blank_lines_and_bom(tmp_path):
    path = tmp_path / "win.txt"
    path.write_bytes(b"\xef\xbb\xbfFILE PROCESSING COMPLETE  53999 FRAMES AT  2997\r\n-------------------\r\n\r\n50\t2459\r\n  14923 23398 \r\n\r\n")
    assert read_comskip_txt(path) == ([(50, 2459), (14923, 23398)], 29.97)
    old = tmp_path / "old.txt"  # Comskip's oldest files have no rate
    old.write_text("FILE PROCESSING COMPLETE 53999 FRAMES\n-------------\n1\t2\n")
    assert read_comskip_txt(old) == ([(1, 2)], None)


def test_txt_reader_rejects_garbage(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("FILE PROCESSING COMPLETE 10 FRAMES AT 2500\n-------------------\n1\tx\n")
    with pytest.raises(ValueError, match=r"bad.txt:3"):
        read_comskip_txt(path)


# -- the .edl ------------------------------------------------------------------------------

def test_edl_numbers():
    assert comskip_edl([(150.48, 182.64)]) == REAL_EDL
    assert comskip_edl([(600.0, 781.875), (0.0, 4.876)]) == "0.00\t4.88\t0\n600.00\t781.88\t0\n"
    assert comskip_edl([(1.0, 2.0)], action=EDL_COMMERCIAL) == "1.00\t2.00\t3\n"
    assert comskip_edl([]) == ""
    with pytest.raises(ValueError):
        comskip_edl([(1.0, 2.0)], action=7)


def test_edl_round_trip_and_crlf(tmp_path):
    path = write_comskip_edl(tmp_path / "show.edl", [(0.0, 4.876), (600.0, 781.875)])
    assert path.read_bytes() == b"0.00\t4.88\t0\n600.00\t781.88\t0\n"
    assert read_comskip_edl(path) == [(0.0, 4.88), (600.0, 781.88)]
    crlf = tmp_path / "crlf.edl"
    crlf.write_bytes(b"\r\n0.00\t4.88\t0\r\n\r\n600.00 781.88 3\r\n12.5\t13.25\r\n")
    assert read_comskip_edl(crlf) == [(0.0, 4.88), (600.0, 781.88), (12.5, 13.25)]
    bad = tmp_path / "bad.edl"
    bad.write_text("1.0\t2.0\t0\nfoo\n")
    with pytest.raises(ValueError, match=r"bad.edl:2"):
        read_comskip_edl(bad)


def test_bad_breaks_and_paths_are_refused(tmp_path):
    for breaks in ([(5.0, 4.0)], [(-1.0, 2.0)], [(float("nan"), 2.0)]):
        with pytest.raises(ValueError):
            comskip_txt(breaks, 25)
        with pytest.raises(ValueError):
            comskip_edl(breaks)
    with pytest.raises(ValueError):
        comskip_txt([(1.0, 2.0)], 0)
    with pytest.raises(OutputError):
        write_comskip_edl(tmp_path, [(1.0, 2.0)])  # a folder is not replaced


# -- the real comskip -----------------------------------------------------------------------

def test_readers_parse_real_comskip_output(tmp_path):
    if shutil.which("comskip") is None:
        pytest.skip("comskip is not installed (apt-get install comskip); CI installs it")
    video = tmp_path / "clip.mp4"
    run_ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=3", "-f", "lavfi", "-i", "sine=f=440:d=3:sample_rate=48000",
        "-f", "lavfi", "-i", "color=black:s=160x120:r=25:d=0.5", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono:d=0.5",
        "-f", "lavfi", "-i", "smptebars=s=160x120:r=25:d=2.5", "-f", "lavfi", "-i", "anoisesrc=d=2.5:a=0.3:r=48000",
        "-filter_complex", "[0:v][1:a][2:v][3:a][4:v][5:a]concat=n=3:v=1:a=1[v][a]",
        "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "1", str(video),
    )
    result = run_comskip(video, tmp_path / "out", timeout_s=60)
    assert result.txt_path is not None and result.edl_path is not None

    txt = result.txt_path.read_text()
    header = re.fullmatch(r"FILE PROCESSING COMPLETE ([ \d]{6}) FRAMES AT ([ \d]{5})", txt.splitlines()[0])
    assert header, txt
    assert txt.splitlines()[1] == "-" * 19
    pairs, fps = read_comskip_txt(result.txt_path)
    assert fps == 25.0 and pairs == result.frame_pairs
    # vidscan's writer, given what comskip found, writes comskip's file byte for byte
    assert comskip_txt(frames_to_breaks(pairs, 25), 25, frame_count=int(header.group(1))) == txt

    spans = read_comskip_edl(result.edl_path)
    assert spans == result.breaks
    assert comskip_edl(spans) == result.edl_path.read_text()
    assert all(0 <= s <= e <= 6.1 for s, e in spans)
    assert result.returncode in (0, 1) and result.wall_s > 0


# -- the metrics ----------------------------------------------------------------------------

def test_break_edge_f1_exact():
    # starts 10 ~ 10.5 match; ends 20 ~ 19 match (|d| = tol, inclusive); the rest do not
    score = break_edge_f1([(10, 20), (50, 60)], [(10.5, 19.0), (100, 130)], tol_s=1.0)
    assert (score.matched, score.n_pred, score.n_truth) == (2, 4, 4)
    assert score.precision == 0.5 and score.recall == 0.5 and score.f1 == 0.5
    # one-to-one, closest first: 10.4 takes the true start at 10.5, 10 is left unmatched
    score = break_edge_f1([(10, 20), (10.4, 30)], [(10.5, 20)], tol_s=1.0)
    assert (score.matched, score.precision, score.recall) == (2, 0.5, 1.0)
    assert score.f1 == pytest.approx(2 / 3)
    # a start never matches an end
    assert break_edge_f1([(0, 5)], [(5, 10)], tol_s=1.0).matched == 0
    assert break_edge_f1([(0, 5)], [(5, 10)], tol_s=1.0).f1 == 0.0
    # tolerance
    assert break_edge_f1([(10, 20)], [(11.5, 21.5)], tol_s=1.0).matched == 0
    assert break_edge_f1([(10, 20)], [(11.5, 21.5)], tol_s=2.0).f1 == 1.0
    empty = break_edge_f1([], [])
    assert (empty.precision, empty.recall, empty.f1) == (1.0, 1.0, 1.0)
    assert break_edge_f1([], [(1, 2)]).f1 == 0.0


def test_ad_time_error_exact():
    # half an hour; 160 s of true ads, 120 s predicted, 90 s of them right
    err = ad_time_error([(110, 210), (1500, 1520)], [(100, 200), (1000, 1060)], 1800)
    assert err.true_ad_s == 160 and err.pred_ad_s == 120
    assert err.missed_s == 70 and err.false_s == 30
    assert err.abs_error_s_per_h == pytest.approx(80.0)   # |120 - 160| * 2
    assert err.wrong_s_per_h == pytest.approx(200.0)      # (70 + 30) * 2
    # overlapping predictions are merged and clipped to the video
    err = ad_time_error([(-5, 50), (40, 60), (90, 150)], [(0, 60)], 100)
    assert err.pred_ad_s == 70 and err.false_s == 10 and err.missed_s == 0
    assert err.abs_error_s_per_h == pytest.approx(360.0) and err.wrong_s_per_h == pytest.approx(360.0)
    perfect = ad_time_error([(5, 10)], [(5, 10)], 60)
    assert perfect.abs_error_s_per_h == 0 and perfect.wrong_s_per_h == 0
    with pytest.raises(ValueError):
        ad_time_error([], [], 0)
