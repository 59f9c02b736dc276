"""Skipping the H.264 deblocking filter on B-frames when frames are only looked at small.

H.264 smooths the edges of its coding blocks after decoding each picture (the in-loop
deblocking filter). Skipping it saves decoding time, but a picture decoded without it
keeps faint block edges, and every later picture predicted from it inherits them. Measured
(FFmpeg via PyAV, real footage joined into 120 s files by benchmarks/realset/speedset.py):

* Skipped on every picture: 1.21x faster decoding at 1080p. But the edges pile up along a
  GOP and vanish at the next keyframe, and on the synthetic accuracy corpus (x264 default
  GOPs of up to 250 frames) that step became two false shot boundaries at keyframes.
* Skipped on B-frames only (``bidir``): 1.14x at 1080p, 1.10x at 360p (every frame decoded
  to 128x72, GOP-parallel). P- and I-frames, the chain the GOP is predicted along, stay
  exact, so nothing accumulates. Boundaries identical to a normal decode on all 31 real
  and 12 synthetic clips of benchmarks/accuracy.py.

Only for outputs shrunk 2x or more in each direction (128x72 features, 224x224 CLIP from
larger sources), where an edge averages away below one output pixel. Frames decoded at
more than a quarter of the source's area (report thumbnails, dataset images) keep the
filter. Only H.264: other codecs (HEVC encoders often code P-pictures as B slices) were
not measured.
"""

from __future__ import annotations

#: Largest output area, as a share of the source's, decoded without the deblocking filter.
MAX_AREA_SHARE = 0.25
#: Which pictures skip the filter (FFmpeg's AVDiscard name): B-frames only, see above.
SKIPPED_ON = "bidir"


def largest(*sizes: tuple[int, int]) -> tuple[int, int]:
    """The (w, h) of largest area: one decode serving several sizes follows the largest."""
    return max(sizes, key=lambda wh: wh[0] * wh[1])


def skips_deblocking(source: tuple[int, int], output: tuple[int, int]) -> bool:
    """Whether an output of ``output`` (w, h) from a ``source`` (w, h) picture may skip it."""
    src_area = max(1, source[0]) * max(1, source[1])
    return output[0] * output[1] <= MAX_AREA_SHARE * src_area


def configure_deblocking(codec_context, output: tuple[int, int]) -> bool:
    """Turn the filter off on a not-yet-opened ``codec_context`` when ``output`` allows it.

    Returns whether it was turned off. Only H.264 decoders are changed.
    """
    source = (int(codec_context.width or 0), int(codec_context.height or 0))
    if codec_context.name != "h264" or not all(source) or not skips_deblocking(source, output):
        return False
    codec_context.options = {**dict(codec_context.options or {}), "skip_loop_filter": SKIPPED_ON}
    return True
