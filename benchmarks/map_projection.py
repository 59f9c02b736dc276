"""The frame map's 2-D projection and clustering, measured on real frame embeddings.

    python benchmarks/map_projection.py                                   # 10k and 100k points, all methods
    python benchmarks/map_projection.py --sizes 10000 --methods umap,pca,kmeans
    python benchmarks/map_projection.py --out /tmp/mapbench --timeout 480 --json results.json

Data: vidscan's weight-free ``features`` embedder (176-dim unit vectors) on every frame of
(1) the real recordings in benchmarks/realset/sources/*.mp4 (all of them, in every set; label =
the recording's name) and (2) generated sports broadcasts (vidscan.synth, 160x90, 25 fps,
rendered once into --out in files of <= 10 minutes, enough for the largest size; label =
ad / game / commentary from the ground truth). A set of N points is all the real frames plus a
seeded random sample of the broadcast frames (so the 10k set is a subset of the 100k set).

Every (method, size) runs in a fresh Python process, one at a time, killed after --timeout
seconds (reported as "> N min"). Per run:

* projections (pca, umap, umap-euclid, umap-par, tsne = scikit-learn Barnes-Hut,
  opentsne = openTSNE FFT/BH if importable): seconds to import the library, seconds of
  first-call overhead (a warm-up fit on a subsample run twice: first minus second, which is
  mostly numba JIT for UMAP; the subsample is 5,000 points so UMAP takes its NN-descent path),
  the fit's wall and CPU seconds, peak RSS (the process's high-water mark, data included: VmHWM,
  as Linux's ru_maxrss would carry the parent's peak over exec) and neighbour preservation: recall@10 (for 1,000 random points, the share of their
  10 nearest neighbours in 2-D that are among their 10 nearest in the embedding space, ties
  counted as hits) and scikit-learn's trustworthiness (10 neighbours) on a 5,000-point sample.
  UMAP runs with a fresh, empty numba cache dir unless --numba-cache names one (then a second
  run shows the cached case).
* clusterings of the 176-dim embeddings (kmeans: k in 2..30 chosen by silhouette on a
  5,000-point sample, KMeans(n_init=3), MiniBatchKMeans(batch 4096, n_init=3) above 20,000
  points; hdbscan: sklearn HDBSCAN(min_cluster_size=max(10, N // 200)); hdbscan-umap: the same
  on the 2-D UMAP layout of an earlier umap run of this size): wall seconds, peak RSS, number
  of clusters (chosen k), share of noise points, adjusted Rand index and homogeneity against
  the broadcast labels on broadcast points (noise counted as one more cluster), and the ARI
  on all points (real clips labelled by recording).

Prints one table (and writes it as JSON with --json). A benchmark: nothing asserts.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROJECTIONS = ("pca", "umap", "umap-euclid", "umap-par", "tsne", "opentsne")
CLUSTERINGS = ("kmeans", "hdbscan", "hdbscan-umap")
DEFAULT_METHODS = "pca,umap,umap-euclid,tsne,opentsne,kmeans,hdbscan,hdbscan-umap"
FPS = 25
FILE_MINUTES = 10.0
SEED = 0


# --------------------------------------------------------------------------- data


def _embed(path: Path, cache: Path):
    if cache.exists():
        z = np.load(cache)
        return z["emb"], z["idx"]
    from vidscan.embed.registry import create_embedder
    from vidscan.extract import embed_video
    from vidscan.video import Sampling

    v = embed_video(path, create_embedder("features"), Sampling.all_frames())
    emb, idx = np.asarray(v.embeddings, np.float32), np.asarray(v.indices, np.int64)
    np.savez(cache, emb=emb, idx=idx)
    return emb, idx


def prepare(out: Path, max_size: int, log) -> Path:
    """Render and embed what the largest set needs (once); returns the pool's .npz path."""
    from vidscan.synth import GroundTruth

    out.mkdir(parents=True, exist_ok=True)
    embs, labels, groups = [], [], []  # group: "real" or "broadcast"
    t0 = time.perf_counter()
    for p in sorted(glob.glob(str(ROOT / "benchmarks/realset/sources/*.mp4"))):
        e, _ = _embed(Path(p), out / f"real_{Path(p).stem}.npz")
        embs.append(e)
        labels += [Path(p).stem] * len(e)
        groups += ["real"] * len(e)
    n_real = len(labels)
    need = max(0, max_size - n_real)
    n_files = math.ceil(need / (FILE_MINUTES * 60 * FPS)) if need else 0
    t_render = t_embed = 0.0
    for i in range(n_files):
        minutes = min(FILE_MINUTES, (need - i * FILE_MINUTES * 60 * FPS) / (60 * FPS) + 0.05)
        minutes = round(minutes, 2)
        seed = i + 1
        video = out / f"b{seed}_{minutes:g}min.mp4"
        truth_path = video.with_suffix(".truth.json")
        if not video.exists() or not truth_path.exists():
            from vidscan.synth import render
            from vidscan.synth.corpus import broadcast_program

            t = time.perf_counter()
            render(broadcast_program(seed=seed, minutes=minutes, width=160, height=90, fps=FPS), video, truth_path=truth_path)
            t_render += time.perf_counter() - t
            log(f"rendered {video.name} in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        e, idx = _embed(video, video.with_suffix(".emb.npz"))
        t_embed += time.perf_counter() - t
        truth = GroundTruth.load(truth_path)
        frame_label = np.full(truth.frame_count + 1, "none", dtype=object)
        for lab, start, end in truth.labels:
            frame_label[start:end] = lab
        embs.append(e)
        labels += [str(frame_label[min(int(j), truth.frame_count)]) for j in idx]
        groups += ["broadcast"] * len(e)
    emb = np.concatenate(embs).astype(np.float32)
    pool = out / "pool.npz"
    np.savez(pool, emb=emb, label=np.array(labels), group=np.array(groups))
    log(f"pool: {len(emb)} frames ({n_real} real, {len(emb) - n_real} broadcast in {n_files} files); "
        f"render {t_render:.0f} s, embed {t_embed:.0f} s, total {time.perf_counter() - t0:.0f} s; "
        f"norms {np.linalg.norm(emb, axis=1).min():.3f}..{np.linalg.norm(emb, axis=1).max():.3f}; "
        f"exact-duplicate rows {len(emb) - len(np.unique(emb, axis=0))}")
    return pool


def subset(pool: Path, n: int):
    """All real frames plus a seeded random sample of broadcast frames: N points in total."""
    z = np.load(pool)
    emb, label, group = z["emb"], z["label"], z["group"]
    real = np.flatnonzero(group == "real")
    bc = np.flatnonzero(group == "broadcast")
    k = max(0, min(len(bc), n - len(real)))
    pick = np.sort(np.random.default_rng(SEED).choice(bc, k, replace=False))
    keep = np.concatenate([real, pick])
    return emb[keep], label[keep], group[keep]


# --------------------------------------------------------------------------- methods


def _import(method: str):
    if method == "pca":
        from sklearn.decomposition import PCA

        return lambda x: PCA(n_components=2, random_state=SEED).fit_transform(x)
    if method.startswith("umap"):
        import umap

        kw: dict = {"n_neighbors": 15, "min_dist": 0.1, "metric": "euclidean" if method == "umap-euclid" else "cosine"}
        if method == "umap-par":  # no seed: umap-learn then runs its layout on all cores
            kw["n_jobs"] = -1
        else:
            kw.update(random_state=SEED, n_jobs=1)  # what vidscan.mapping.projection does
        return lambda x: umap.UMAP(**kw).fit_transform(x)
    if method == "tsne":
        from sklearn.manifold import TSNE

        return lambda x: TSNE(n_components=2, perplexity=min(30.0, (len(x) - 1) / 3), init="pca", random_state=SEED).fit_transform(x)
    if method == "opentsne":
        from openTSNE import TSNE as OTSNE

        return lambda x: np.asarray(OTSNE(n_components=2, perplexity=min(30.0, (len(x) - 1) / 3), initialization="pca",
                                          metric="euclidean", n_jobs=-1, random_state=SEED).fit(x))
    raise ValueError(method)


def _maxrss_mb() -> float:
    """Peak RSS of this process in MB. Linux's ru_maxrss survives execve, so a worker would inherit
    its parent's peak (the renderer's): VmHWM (reset at exec) is read where there is /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def neighbour_recall(x: np.ndarray, y: np.ndarray, queries: int = 1000, k: int = 10) -> float:
    rng = np.random.default_rng(SEED)
    q = rng.choice(len(x), min(queries, len(x)), replace=False)
    hits = 0
    for chunk in np.array_split(q, max(1, len(q) // 100)):
        dh = np.maximum(2.0 - 2.0 * (x[chunk] @ x.T), 0.0)  # squared euclidean on unit vectors
        d2 = ((y[chunk, None, :] - y[None, :, :]) ** 2).sum(-1)
        rows = np.arange(len(chunk))
        dh[rows, chunk] = np.inf
        d2[rows, chunk] = np.inf
        kth = np.partition(dh, k - 1, axis=1)[:, k - 1]
        nb2 = np.argpartition(d2, k - 1, axis=1)[:, :k]
        hits += int((dh[rows[:, None], nb2] <= kth[:, None] + 1e-6).sum())
    return hits / (len(q) * k)


def run_projection(method: str, x: np.ndarray) -> dict:
    res: dict = {}
    t = time.perf_counter()
    fn = _import(method)
    res["import_s"] = time.perf_counter() - t
    n_warm = min(len(x), 5000 if method.startswith("umap") else 1000)
    warm = x[np.random.default_rng(1).choice(len(x), n_warm, replace=False)]
    t = time.perf_counter()
    fn(warm)
    first = time.perf_counter() - t
    t = time.perf_counter()
    fn(warm)
    second = time.perf_counter() - t
    res["warm_first_s"], res["warm_second_s"] = first, second
    res["jit_s"] = max(0.0, first - second)
    res["rss_before_fit_mb"] = _maxrss_mb()
    c, t = _cpu_s(), time.perf_counter()
    y = np.asarray(fn(x), np.float64)
    res["fit_s"] = time.perf_counter() - t
    res["fit_cpu_s"] = _cpu_s() - c
    res["peak_rss_mb"] = _maxrss_mb()
    res["recall10"] = neighbour_recall(x.astype(np.float64), y)
    from sklearn.manifold import trustworthiness

    s = np.random.default_rng(SEED).choice(len(x), min(5000, len(x)), replace=False)
    res["trust10"] = float(trustworthiness(x[s], y[s], n_neighbors=10))
    res["_coords"] = y.astype(np.float32)
    return res


def _kmeans(x: np.ndarray, k: int):
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if len(x) > 20_000:
        return MiniBatchKMeans(n_clusters=k, random_state=SEED, n_init=3, batch_size=4096).fit(x)
    return KMeans(n_clusters=k, random_state=SEED, n_init=3).fit(x)


def run_clustering(method: str, x: np.ndarray, coords: np.ndarray | None) -> dict:
    res: dict = {}
    t = time.perf_counter()
    from sklearn.cluster import HDBSCAN, KMeans  # noqa: F401
    from sklearn.metrics import silhouette_score

    res["import_s"] = time.perf_counter() - t
    res["rss_before_fit_mb"] = _maxrss_mb()
    c, t = _cpu_s(), time.perf_counter()
    if method == "kmeans":
        rng = np.random.default_rng(SEED)
        sample = x if len(x) <= 5000 else x[rng.choice(len(x), 5000, replace=False)]
        best_k, best = 2, -np.inf
        for k in range(2, 31):
            lab = _kmeans(sample, k).predict(sample)
            if len(set(lab.tolist())) < 2:
                continue
            score = silhouette_score(sample, lab)
            if score > best:
                best_k, best = k, score
        res["select_k_s"] = time.perf_counter() - t
        labels = _kmeans(x, best_k).predict(x)
        res["clusters"] = best_k
        res["silhouette"] = float(best)
    else:
        data = x if method == "hdbscan" else coords
        labels = HDBSCAN(min_cluster_size=max(10, len(x) // 200)).fit_predict(data)
        res["clusters"] = len(set(labels.tolist()) - {-1})
    res["fit_s"] = time.perf_counter() - t
    res["fit_cpu_s"] = _cpu_s() - c
    res["peak_rss_mb"] = _maxrss_mb()
    res["noise"] = float(np.mean(labels < 0))
    res["_labels"] = labels
    return res


def worker(spec: dict) -> int:
    t0 = time.perf_counter()
    x, label, group = subset(Path(spec["pool"]), spec["n"])
    res = {"method": spec["method"], "n": len(x), "load_s": time.perf_counter() - t0}
    if spec["method"] in PROJECTIONS:
        res.update(run_projection(spec["method"], x))
        np.save(spec["coords"], res.pop("_coords"))
    else:
        coords = np.load(spec["coords"]) if spec["method"] == "hdbscan-umap" else None
        res.update(run_clustering(spec["method"], x, coords))
        from sklearn.metrics import adjusted_rand_score, homogeneity_score

        labels = res.pop("_labels")
        b = group == "broadcast"
        if b.any():
            res["ari_broadcast"] = float(adjusted_rand_score(label[b], labels[b]))
            res["homog_broadcast"] = float(homogeneity_score(label[b], labels[b]))
        res["ari_all"] = float(adjusted_rand_score(label, labels))
    Path(spec["result"]).write_text(json.dumps(res))
    return 0


# --------------------------------------------------------------------------- driver


def run_one(method: str, n: int, pool: Path, out: Path, timeout: float, numba_cache: str | None) -> dict:
    coords_dir = out / "coords"
    coords_dir.mkdir(exist_ok=True)
    spec = {"method": method, "n": n, "pool": str(pool), "result": str(out / f"res_{method}_{n}.json"),
            "coords": str(coords_dir / (f"umap_{n}.npy" if method == "hdbscan-umap" else f"{method}_{n}.npy"))}
    if method == "hdbscan-umap" and not Path(spec["coords"]).exists():
        return {"method": method, "n": n, "note": "no umap layout of this size (run umap first)"}
    Path(spec["result"]).unlink(missing_ok=True)
    env = dict(os.environ)
    tmp = None
    if numba_cache:
        env["NUMBA_CACHE_DIR"] = numba_cache
    else:
        tmp = tempfile.TemporaryDirectory(prefix="numba_cache_")
        env["NUMBA_CACHE_DIR"] = tmp.name
    t = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], env=env, timeout=timeout,
                              capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t
        if proc.returncode != 0 or not Path(spec["result"]).exists():
            return {"method": method, "n": n, "note": f"failed (rc {proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}"}
        res = json.loads(Path(spec["result"]).read_text())
        res["process_s"] = wall
        return res
    except subprocess.TimeoutExpired:
        return {"method": method, "n": n, "note": f"> {timeout / 60:g} min (stopped)"}
    finally:
        if tmp is not None:
            tmp.cleanup()


def _f(v, fmt):
    return "" if v is None else format(v, fmt)


def print_table(rows: list[dict]) -> None:
    cols = [("method", "method", "s"), ("n", "N", "d"), ("import_s", "import s", ".1f"), ("jit_s", "JIT s", ".1f"),
            ("fit_s", "fit s", ".1f"), ("fit_cpu_s", "cpu s", ".0f"), ("peak_rss_mb", "peak MB", ".0f"),
            ("recall10", "recall@10", ".3f"), ("trust10", "trust", ".3f"), ("clusters", "k/clusters", "d"),
            ("noise", "noise", ".1%"), ("ari_broadcast", "ARI bc", ".3f"), ("homog_broadcast", "homog bc", ".3f"),
            ("ari_all", "ARI all", ".3f"), ("note", "note", "s")]
    cells = [[h for _, h, _ in cols]] + [[_f(r.get(k), f) for k, _, f in cols] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(cols))]
    for j, row in enumerate(cells):
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths)))
        if j == 0:
            print("-+-".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/mapbench"), help="videos, embeddings, layouts and results")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--methods", default=DEFAULT_METHODS, help=f"comma list of {', '.join(PROJECTIONS + CLUSTERINGS)}")
    parser.add_argument("--timeout", type=float, default=480.0, help="seconds before a run is stopped")
    parser.add_argument("--numba-cache", default=None, help="NUMBA_CACHE_DIR for the runs (default: a fresh empty one per run)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(json.loads(args.worker))
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in PROJECTIONS + CLUSTERINGS]
    if unknown:
        parser.error(f"unknown methods: {', '.join(unknown)}")
    # projections first, so that hdbscan-umap finds the umap layout of its size
    methods = [m for m in PROJECTIONS + CLUSTERINGS if m in methods]

    def log(m: str) -> None:
        print(m, file=sys.stderr, flush=True)

    pool = prepare(args.out, max(args.sizes), log)
    rows = []
    for n in sorted(args.sizes):
        for m in methods:
            log(f"{m} at {n} ...")
            r = run_one(m, n, pool, args.out, args.timeout, args.numba_cache)
            log("  " + json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}))
            rows.append(r)
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
