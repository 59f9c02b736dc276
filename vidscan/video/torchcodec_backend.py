"""torchcodec backend: exact random access, and NVIDIA GPU decoding (NVDEC) when asked.

With ``device="cuda"`` frames are decoded and resized on the GPU. Frame selection uses the
same demux-only timestamp index as the PyAV backend, so indices and times are identical;
only the wanted frames are fetched (``get_frames_at``), which lets the decoder skip whole
GOPs when the sampling is sparse. Optional: ``pip install vidscan[gpu]`` (torchcodec needs
FFmpeg's shared libraries, e.g. Debian's ``ffmpeg`` package).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from vidscan.errors import InputError, UsageError
from vidscan.video.base import DecodeStats
from vidscan.video.frames import AlsoSize, FrameBatch
from vidscan.video.probed import ProbedSource
from vidscan.video.sampling import Sampling


def applies_rotation() -> bool:
    """torchcodec turns frames by the display rotation itself since 0.11, which also added
    ``VideoStreamMetadata.rotation``; older releases return the stored, sideways picture."""
    from torchcodec.decoders import VideoStreamMetadata

    return "rotation" in getattr(VideoStreamMetadata, "__dataclass_fields__", {})


class TorchCodecSource(ProbedSource):
    """torchcodec decoding on the CPU or an NVIDIA GPU; see the module docstring."""

    name = "torchcodec"
    exact = True

    def __init__(self, path: str, device: str = "cpu") -> None:
        super().__init__(path)
        try:
            import torchcodec  # noqa: F401
        except (ImportError, RuntimeError, OSError) as exc:
            raise UsageError(f"the torchcodec backend is not available ({str(exc).splitlines()[0][:120]}); pip install vidscan[gpu]") from None
        self.device = device

    def batches(
        self,
        sampling: Sampling,
        size: tuple[int, int] | None = None,
        batch_size: int = 32,
        also: tuple[AlsoSize, ...] = (),  # not made here: FrameBatch.smaller stays empty
    ) -> Iterator[FrameBatch]:
        import torch
        from torchcodec.decoders import VideoDecoder
        from torchcodec.transforms import Resize

        if not self._probe.timestamps_ordered():
            # Seeking by timestamp cannot find frames whose timestamps are out of order: the
            # one sequential decode numbers them as every other path does.
            yield from self._probe.batches(sampling, size, batch_size, also)
            self.stats = self._probe.stats
            return
        info = self.info
        width, height, dec_w, dec_h = info.decode_size(size)
        turns = info.quarter_turns
        if applies_rotation():  # then before its transforms: resize to the upright size
            dec_w, dec_h, turns = width, height, 0
        times = self._probe.frame_times()  # the same exact index the PyAV backend uses
        selector = sampling.selector()
        wanted = [i for i, t in enumerate(times) if selector.keep(i, float(t))]
        try:
            decoder = VideoDecoder(self.path, stream_index=info.stream_index, seek_mode="exact", device=self.device, dimension_order="NHWC",
                                   transforms=[Resize(size=(dec_h, dec_w))])
        except Exception as exc:  # torchcodec raises RuntimeError/ValueError for unreadable input
            raise InputError(f"torchcodec cannot open it ({str(exc).splitlines()[0][:120]})", path=self.path) from None
        self.stats = DecodeStats(frames_decoded=len(times), last_time_s=float(times[-1]) if len(times) else 0.0,
                                 last_frame_duration_s=1.0 / info.fps)
        for i in range(0, len(wanted), batch_size):
            chunk = wanted[i : i + batch_size]
            frames = decoder.get_frames_at(indices=chunk).data
            if turns:
                frames = torch.rot90(frames, turns, dims=(1, 2))
            array = frames.cpu().numpy()
            self.stats.frames_kept += len(chunk)
            yield FrameBatch(np.ascontiguousarray(array), np.asarray(chunk, np.int64), times[chunk].astype(np.float64))
        self.stats.finished = True
