"""What a probe learns about a video before decoding it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class VideoInfo:
    """Metadata of a video's video stream (the one FFmpeg would choose, see vidscan.video.container).

    From a probe, ``frame_count`` and ``duration_s`` are what the container declares (or an
    estimate from duration x fps) and ``frame_count_exact`` is False: containers over-count
    (MP4 edit lists count packets that are never shown). After a full decode the pipeline
    records the decoded count and end time instead, with ``frame_count_exact`` True.
    """

    path: str
    codec: str
    width: int  # as displayed, after rotation
    height: int
    fps: float  # average frame rate
    duration_s: float
    frame_count: int
    frame_count_exact: bool
    rotation: int  # degrees the decoded picture must be turned (counter-clockwise) to be upright
    start_time_s: float  # presentation time of the stream's start, subtracted from every timestamp
    size_bytes: int
    interlaced: bool = False
    pixel_format: str = ""
    bit_rate: int | None = None
    container: str = ""
    #: The container's index of the stream read, and how many video streams could have been
    #: (cover pictures left out); see vidscan.video.container for the choice.
    stream_index: int = 0
    video_streams: int = 1

    @property
    def quarter_turns(self) -> int:
        """Counter-clockwise quarter turns that make decoded pictures upright (np.rot90's k)."""
        return (self.rotation // 90) % 4

    def decode_size(self, size: tuple[int, int] | None) -> tuple[int, int, int, int]:
        """(width, height) wanted upright, and the (width, height) to decode at before turning."""
        width, height = size or (self.width, self.height)
        return (width, height) + ((height, width) if self.quarter_turns % 2 else (width, height))

    def stream_note(self) -> str | None:
        """One line saying which stream was read, when the file had a choice (else None)."""
        if self.video_streams <= 1:
            return None
        return (f"{self.video_streams} video streams; read stream #{self.stream_index} ({self.codec} {self.width}x{self.height}): "
                "never a cover picture or a one-frame track, then the one marked default, then the one with most frames")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict."""
        return asdict(self)
