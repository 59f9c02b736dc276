"""Small JPEG thumbnails, one per segment, as ``data:`` URIs to embed in the report."""

from __future__ import annotations

import base64
from pathlib import Path

from vidscan.export.frames import grab_frames, jpeg_bytes, middle_frame
from vidscan.timeline import Segment, Timeline
from vidscan.video.base import DEFAULT_BACKEND


def thumbnail_size(width: int, height: int, target_width: int = 160) -> tuple[int, int]:
    """``target_width`` wide, keeping the display aspect ratio (even height for the scaler)."""
    if width <= 0 or height <= 0:
        return target_width, target_width * 9 // 16
    return target_width, max(2, int(round(target_width * height / width / 2)) * 2)


def segment_thumbnails(timeline: Timeline, video: str | Path, width: int = 160, quality: int = 80,
                       backend: str = DEFAULT_BACKEND, segments: list[Segment] | None = None) -> dict[int, str]:
    """Segment index -> ``data:image/jpeg;base64,...`` of its middle frame, upright; for
    ``segments`` (e.g. the other level's) instead of the timeline's own."""
    picks = {seg.index: middle_frame(seg) for seg in (timeline.segments if segments is None else segments)}
    if not picks:
        return {}
    size = thumbnail_size(timeline.video.width, timeline.video.height, width)
    batch = grab_frames(video, sorted(set(picks.values())), size=size, backend=backend)
    by_frame = {int(i): frame for i, frame in zip(batch.indices, batch.frames)}
    return {index: data_uri(jpeg_bytes(by_frame[frame], quality)) for index, frame in picks.items()}


def data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
