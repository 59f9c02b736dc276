"""The cue side of one file's analysis, as ``classify`` and ``breaks`` run it.

The picture meter rides the shared decode pass as one more request (so the file is decoded
once, and its rows are cached with the rest); the sound is demuxed and measured in a thread
while the pictures decode (audio decoding costs a few per cent of video decoding, so it
finishes first and adds no wall time). When both are in, :meth:`CueSession.analyse` puts
every cue on one grid and finds the breaks.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

import numpy as np

from vidscan.broadcast.breaks import CUE_FAMILIES, BreakAnalysis, find_breaks
from vidscan.broadcast.grid import GRID_STEP_S, CueGrid, grid_times, pooled_any, pooled_mean, pooled_share
from vidscan.broadcast.picture import PictureMeter, picture_cues
from vidscan.embed.base import Embedder
from vidscan.embedded import EmbeddedVideo
from vidscan.timeline import Timeline
from vidscan.video import Sampling

if TYPE_CHECKING:
    from vidscan.broadcast.audio import AudioFeatures

#: Picture-meter samples per second: the logo and the aspect ratio change slowly; black
#: separators are read from every frame's brightness instead (:func:`black_runs`).
PICTURE_SAMPLES_PER_S = 5.0
#: A frame whose mean brightness (0-255) is at most this is black; at least WHITE_LUMA, white.
BLACK_LUMA = 24.0
WHITE_LUMA = 235.0
#: Silence must cover this share of a grid cell to count.
SILENT_SHARE = 0.5


def black_runs(video: EmbeddedVideo, black: float = BLACK_LUMA, white: float = WHITE_LUMA) -> list[tuple[float, float]]:
    """(start, end) seconds of each run of black or white samples, from each sample's mean
    brightness; ``end`` is the first non-black sample's time (the video's end for a run that
    reaches it)."""
    luma = np.asarray(video.luma, np.float64)
    flag = np.concatenate([[False], (luma <= black) | (luma >= white), [False]])
    edges = np.flatnonzero(np.diff(flag.astype(np.int8)))
    times = np.append(np.asarray(video.times, np.float64), video.duration_s)
    return [(float(times[a]), float(times[b])) for a, b in zip(edges[::2], edges[1::2])]


def timeline_cuts(timeline: Timeline) -> np.ndarray:
    """Start times of every shot but the first (where a shot boundary puts the new picture)."""
    return np.array([seg.start_s for seg in timeline.segments[1:]], np.float64)


class CueSession:
    """Collect one file's broadcast cues and find its breaks.

    ``use``: the cue families the break finder reads (all by default; fewer for ablations);
    ``audio=False`` ignores the sound track (for the breaks and the labels). ``warn`` hears, once, that a file has no sound.
    """

    def __init__(self, path: str | Path, *, use: Iterable[str] = CUE_FAMILIES, audio: bool = True,
                 warn: Callable[[str], None] | None = None) -> None:
        self.path = Path(path)
        self.use = list(use)
        self.meter = PictureMeter()
        self.warn = warn
        self._pool: ThreadPoolExecutor | None = None
        self._audio: Future | None = None
        self._asked_audio = False
        if audio:  # read even when the break finder ignores sound: labels may need speech or crowd
            from vidscan.broadcast.audio import read_audio_features  # the sound's stack loads only when it is read

            self._asked_audio = True
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vidscan-audio")
            self._audio = self._pool.submit(read_audio_features, self.path)

    @property
    def requests(self) -> list[tuple[Embedder, Sampling]]:
        """What the shared decode pass must also serve: the picture meter's samples."""
        return [(self.meter, Sampling.per_second(PICTURE_SAMPLES_PER_S))]

    def audio(self) -> "AudioFeatures | None":
        """The sound's features (waits for the thread); None without an audio track."""
        if self._audio is None:
            return None
        try:
            return self._audio.result()
        finally:
            self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def grid(self, picture: EmbeddedVideo, every: EmbeddedVideo | None, cuts: np.ndarray) -> CueGrid:
        """Every cue on one grid: ``picture`` (the meter's samples), ``every`` (every frame's
        brightness, for black runs; the picture samples when None) and the shot ``cuts``."""
        duration = float(max(picture.duration_s, every.duration_s if every is not None else 0.0))
        times = grid_times(duration, GRID_STEP_S)
        info = picture.info
        cues = picture_cues(picture.times, picture.embeddings, frame_aspect=(info.width / info.height) if info.height else 16 / 9)
        runs = black_runs(every if every is not None else picture)
        black = np.zeros(len(times), bool)
        for start, end in runs:
            black[int(start / GRID_STEP_S): int(np.ceil(end / GRID_STEP_S))] = True
        grid = CueGrid(GRID_STEP_S, duration, times, black, runs, np.asarray(cuts, np.float64))
        if cues.logo_corner is not None:
            grid.logo = pooled_mean(cues.times, cues.logo, times, GRID_STEP_S)
            grid.logo[black] = np.nan
        else:
            grid.notes.append("no station logo found")
        grid.aspect = pooled_mean(cues.times, cues.active_aspect, times, GRID_STEP_S)
        sound = self.audio()
        if sound is None:
            if self._asked_audio:
                grid.notes.append("no audio track: breaks and labels from the picture alone")
                if self.warn is not None:
                    self.warn(f"{self.path.name} has no audio track: breaks and labels come from the picture alone")
            else:
                grid.notes.append("sound not used")
            return grid
        grid.loudness = pooled_mean(sound.times, sound.loudness_s, times, GRID_STEP_S)
        grid.silence = pooled_share(sound.times, sound.silence, times, GRID_STEP_S) >= SILENT_SHARE
        grid.silence |= pooled_any(sound.times, sound.silence, times, GRID_STEP_S) & black
        grid.speech = pooled_mean(sound.times, sound.speech, times, GRID_STEP_S)
        grid.music = pooled_mean(sound.times, sound.music, times, GRID_STEP_S)
        grid.noise = pooled_mean(sound.times, sound.noise, times, GRID_STEP_S)
        return grid

    def analyse(self, picture: EmbeddedVideo, every: EmbeddedVideo | None, cuts: np.ndarray) -> tuple[CueGrid, BreakAnalysis]:
        """The grid of cues and the breaks found on it."""
        grid = self.grid(picture, every, cuts)
        return grid, find_breaks(grid, use=self.use)
