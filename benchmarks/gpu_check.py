"""GPU path check (under 5 minutes): CUDA decode, fp16 CLIP, classify throughput.

    python benchmarks/gpu_check.py [--minutes 2]

On a machine without a CUDA GPU it says so and exits 0 (CI never has one). On a GPU it:
1. renders (or reuses) a 1080p 25 fps H.264 broadcast with a 1 s GOP;
2. checks that torchcodec's CUDA decoder returns the same frame indices and timestamps as
   PyAV on the CPU, and times it at 2 sampled frames/s;
3. times CLIP ViT-B-32 image embedding in fp16 on the GPU (batch 256, pinned memory; random
   weights when the real ones cannot be downloaded: same compute);
4. times `classify` at 2 frames/s (zero-shot, boundaries from the samples) with GPU decoding,
   against the CPU decoder in the same run, and prints x realtime for each.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--out", type=Path, default=Path("bench_out"))
    parser.add_argument("--video", type=Path)
    args = parser.parse_args(argv)
    import numpy as np
    import torch

    if not torch.cuda.is_available():
        print("no CUDA GPU here: nothing to check (the CPU path is covered by the test suite)")
        return 0
    import vidscan
    from vidscan.embed.registry import create_embedder
    from vidscan.errors import ModelUnavailableError
    from vidscan.synth import render
    from vidscan.synth.corpus import broadcast_program
    from vidscan.video import Sampling, open_video

    report: dict = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__}
    print(f"GPU: {report['gpu']}, torch {torch.__version__}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    video = args.video or args.out / f"gpu_broadcast1080_{args.minutes:g}min.mp4"
    if not video.exists():
        t = time.perf_counter()
        render(broadcast_program(seed=5, minutes=args.minutes, width=1920, height=1080), video, gop=25, preset="ultrafast")
        print(f"rendered {video} in {time.perf_counter() - t:.0f} s", flush=True)
    info = vidscan.probe(str(video))

    # 2. CUDA decode: same frames as the CPU, and its speed.
    def read(backend):
        t = time.perf_counter()
        with open_video(video, backend) as src:
            batches = list(src.batches(Sampling.per_second(2), size=(224, 224), batch_size=64))
        return np.concatenate([b.indices for b in batches]), np.concatenate([b.times for b in batches]), time.perf_counter() - t

    try:
        gi, gt, gsec = read("torchcodec-cuda")
        ci, ct, csec = read("pyav")
        report["decode"] = {"same_indices": bool(np.array_equal(gi, ci)), "max_time_diff_s": float(np.abs(gt - ct).max()),
                            "gpu_x_realtime": round(info.duration_s / gsec, 1), "cpu_x_realtime": round(info.duration_s / csec, 1)}
    except Exception as exc:  # report, then go on with the other checks
        report["decode"] = {"error": f"{type(exc).__name__}: {exc}"}
    print("decode:", report["decode"], flush=True)

    # 3. fp16 CLIP on the GPU.
    try:
        emb = create_embedder("clip", device="cuda")
        report["weights"] = "laion2b_s34b_b79k"
    except ModelUnavailableError:
        emb = create_embedder("clip", pretrained=None, device="cuda")
        report["weights"] = "random (speed only)"
    frames = np.random.default_rng(0).integers(0, 256, (2048, 224, 224, 3), dtype=np.uint8)
    emb.embed(frames[:256])
    torch.cuda.synchronize()
    t = time.perf_counter()
    vecs = emb.embed(frames)
    torch.cuda.synchronize()
    report["clip_fp16_images_per_s"] = round(len(frames) / (time.perf_counter() - t))
    report["clip_norms_ok"] = bool(np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-3))
    print(f"CLIP {report['weights']}: {report['clip_fp16_images_per_s']} images/s fp16", flush=True)

    # 4. classify at 2 frames/s, GPU decode vs CPU decode.
    for backend in ("torchcodec-cuda", "pyav"):
        try:
            torch.cuda.reset_peak_memory_stats()
            t = time.perf_counter()
            vidscan.classify(video, "ad,game,commentary", embedder=emb, sampling="fps:2", labelling=vidscan.LabellingSpec(boundaries="samples"),
                             decode=vidscan.DecodeSpec(backend))
            sec = time.perf_counter() - t
            report[f"classify_{backend}"] = {"x_realtime": round(info.duration_s / sec, 1), "seconds": round(sec, 2),
                                             "peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20)}
        except Exception as exc:
            report[f"classify_{backend}"] = {"error": f"{type(exc).__name__}: {exc}"}
        print(f"classify with {backend}:", report[f"classify_{backend}"], flush=True)
    (args.out / "gpu_check.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
