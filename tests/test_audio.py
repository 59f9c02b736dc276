"""Sound-track features (vidscan.broadcast.audio) on generated sound with exact truth."""

from __future__ import annotations

import shutil
import subprocess
import tracemalloc

import numpy as np
import pytest

from vidscan.broadcast.audio import HOP_S, k_weighting, read_audio_features
from vidscan.errors import InputError
from vidscan.ffmpeg_bin import ffmpeg_exe


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def test_sine_reads_its_bs1770_loudness(tmp_path):
    """A 1 kHz sine at -20 dBFS peak in one channel is -23.0 LUFS (BS.1770's reference)."""
    path = tmp_path / "sine.m4a"
    ffmpeg("-f", "lavfi", "-i", "aevalsrc=0.1*sin(2*PI*1000*t):s=48000:d=6", "-c:a", "aac", "-b:a", "192k", str(path))
    a = read_audio_features(path)
    assert a is not None and a.stream["sample_rate"] == 48000
    steady = slice(int(3.5 / HOP_S), int(5.5 / HOP_S))
    assert np.median(a.loudness_m[steady]) == pytest.approx(-23.0, abs=0.3)
    assert np.median(a.loudness_s[steady]) == pytest.approx(-23.0, abs=0.3)
    assert not a.silence[steady].any()


def test_k_weighting_matches_the_standard_at_48k():
    """The standard's published 48 kHz coefficients (ITU-R BS.1770-4, tables 1 and 2)."""
    (b1, a1), (b2, a2) = k_weighting(48000)
    assert b1 == pytest.approx([1.53512485958697, -2.69169618940638, 1.19839281085285], abs=1e-6)
    assert a1 == pytest.approx([1.0, -1.69065929318241, 0.73248077421585], abs=1e-6)
    assert b2 == pytest.approx([1.0, -2.0, 1.0])
    assert a2 == pytest.approx([1.0, -1.99004745483398, 0.99007225036621], abs=1e-6)


@pytest.fixture(scope="module")
def classes(tmp_path_factory):
    """0-6 s speech (espeak-ng), 6-8 s silence, 8-14 s crowd-like pink noise, 14-20 s a music
    chord bed with a beat, 20-26 s speech over the crowd."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng (Debian package) makes the speech")
    folder = tmp_path_factory.mktemp("audio")
    words = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(words), "-s", "160", "And there he goes down the left wing, a lovely ball inside to the "
                    "striker, who turns and shoots. Just wide of the post. The keeper had it covered all the way."], check=True)
    path = folder / "classes.m4a"
    crowd = "anoisesrc=color=pink:amplitude=0.08:d=6:r=48000:seed=3,volume='0.8+0.2*sin(2*PI*0.3*t)':eval=frame"
    music = ("aevalsrc='0.08*(sin(2*PI*220*t)+0.5*sin(2*PI*277.2*t)+0.5*sin(2*PI*329.6*t)+0.3*sin(2*PI*440*t))"
             "+0.15*exp(-30*mod(t,0.5))*sin(2*PI*60*t)':s=48000:d=6")
    graph = ("[0:a]aresample=48000,atrim=0:6,apad=whole_dur=6,volume=0.8[s];"
             "anullsrc=r=48000:cl=mono,atrim=0:2[z];"
             f"{crowd}[c];{music}[m];"
             f"{crowd}[c2];[0:a]aresample=48000,atrim=0:6,apad=whole_dur=6,volume=0.3[s2];[c2][s2]amix=inputs=2:normalize=0[cs];"
             "[s][z][c][m][cs]concat=n=5:v=0:a=1[out]")
    ffmpeg("-i", str(words), "-filter_complex", graph, "-map", "[out]", "-ac", "1", "-c:a", "aac", "-b:a", "128k", str(path))
    return path


def span_mask(times: np.ndarray, start: float, end: float, margin: float = 0.6) -> np.ndarray:
    return (times >= start + margin) & (times < end - margin)


def test_speech_music_crowd_and_silence_are_told_apart(classes):
    a = read_audio_features(classes)
    assert a is not None
    t = a.times
    speech, gap, crowd, music, over = (span_mask(t, 0, 6), span_mask(t, 6, 8, 0.15), span_mask(t, 8, 14), span_mask(t, 14, 20), span_mask(t, 20, 26))
    assert a.silence[gap].all() and not a.silence[crowd | music].any()
    # The silent gap is found at its place to within one hop.
    silent = t[a.silence & (t > 5) & (t < 9)]
    assert silent.min() == pytest.approx(6.0, abs=0.15) and silent.max() + HOP_S == pytest.approx(8.0, abs=0.15)
    # Talking pauses make clean speech silent at moments; the rest of the speech span is speech.
    assert (a.speech[speech & ~a.silence] > 0.5).mean() >= 0.9
    assert (a.noise[speech] < 0.5).mean() >= 0.9 and (a.music[speech] < 0.5).mean() >= 0.9
    assert (a.noise[crowd] > 0.5).mean() >= 0.9 and (a.speech[crowd] < 0.5).mean() >= 0.9 and (a.music[crowd] < 0.5).mean() >= 0.9
    assert (a.music[music] > 0.5).mean() >= 0.9 and (a.noise[music] < 0.5).mean() >= 0.9
    assert (a.noise[over] > 0.5).mean() >= 0.9  # the crowd is still heard under the voice
    assert np.median(a.loudness_s[music]) > np.median(a.loudness_s[crowd])


def test_no_audio_stream_gives_none(tmp_path):
    path = tmp_path / "silent.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x90:d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path))
    assert read_audio_features(path) is None


def test_not_a_media_file_is_an_input_error(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("not a video")
    with pytest.raises(InputError):
        read_audio_features(path)


def test_truncated_file_measures_what_decodes(tmp_path):
    path = tmp_path / "long.mp3"
    ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=20:r=44100", "-c:a", "libmp3lame", "-b:a", "64k", str(path))
    cut = tmp_path / "cut.mp3"
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) // 2] + b"\x00\x17garbage" * 50)
    a = read_audio_features(cut)
    assert a is not None and 8.0 < a.duration_s < 12.0
    assert not a.silence[: int(8 / HOP_S)].any()


def test_late_audio_start_is_placed_on_the_video_clock(tmp_path):
    path = tmp_path / "late.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x90:d=6:r=25", "-f", "lavfi", "-i", "sine=f=440:d=3:r=48000",
           "-filter_complex", "[1:a]adelay=2000:all=1[a]", "-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-pix_fmt", "yuv420p",
           "-c:a", "aac", str(path))
    late = tmp_path / "offset.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x90:d=6:r=25", "-itsoffset", "2", "-f", "lavfi", "-i", "sine=f=440:d=3:r=48000",
           "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(late))
    for file in (path, late):
        a = read_audio_features(file)
        assert a is not None
        loud = a.times[~a.silence]
        assert loud.min() == pytest.approx(2.0, abs=0.15), file.name


def test_long_file_memory_stays_bounded(tmp_path):
    """Ten minutes of sound: the features take a few MB, the samples are never all held."""
    path = tmp_path / "long.m4a"
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.1:d=600:r=16000", "-c:a", "aac", "-b:a", "32k", str(path))
    tracemalloc.start()
    try:
        a = read_audio_features(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert a is not None and a.duration_s == pytest.approx(600, abs=0.5)
    assert peak < 40e6  # all the samples as float32 would be 38 MB at 16 kHz; float64 76 MB
