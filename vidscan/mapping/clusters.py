"""Clustering a collection's frame embeddings (scikit-learn), and each cluster's representatives.

Two methods, one small interface (``labels = fn(vectors, k, seed)``, -1 for "no cluster"):

* ``kmeans`` (default): k-means on the unit embeddings; with no ``k`` given, k is the one of
  2..:data:`MAX_K` with the best silhouette on a sample (the silhouette costs O(sample^2), so
  a sample of :data:`SILHOUETTE_SAMPLE` points is scored, and MiniBatchKMeans fits large sets);
* ``hdbscan``: density clusters (no k; points in no dense region are noise, -1).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from vidscan.errors import UsageError

MAX_K = 30
SILHOUETTE_SAMPLE = 5000
#: Above this many points k-means runs in mini-batches (the full algorithm's cost grows with N x k x iterations).
MINIBATCH_ABOVE = 20_000


def kmeans_labels(vectors: np.ndarray, k: int | None, seed: int) -> np.ndarray:
    """k-means cluster of each point; k estimated by silhouette when None."""
    n = len(vectors)
    if n < 2:
        return np.zeros(n, np.int64)
    if k is None:
        k = estimate_k(vectors, seed)
    k = max(1, min(int(k), n))
    return _fit_kmeans(vectors, k, seed).predict(vectors).astype(np.int64)


def _fit_kmeans(vectors: np.ndarray, k: int, seed: int):
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if len(vectors) > MINIBATCH_ABOVE:
        return MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096).fit(vectors)
    return KMeans(n_clusters=k, random_state=seed, n_init=3).fit(vectors)


def estimate_k(vectors: np.ndarray, seed: int) -> int:
    """The k in 2..MAX_K whose k-means clustering of a sample has the best silhouette."""
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(seed)
    sample = vectors if len(vectors) <= SILHOUETTE_SAMPLE else vectors[rng.choice(len(vectors), SILHOUETTE_SAMPLE, replace=False)]
    distinct = len(np.unique(np.round(sample, 5), axis=0))
    best_k, best = 1, -np.inf
    for k in range(2, min(MAX_K, distinct - 1) + 1):
        labels = _fit_kmeans(sample, k, seed).predict(sample)
        if len(set(labels.tolist())) < 2:
            continue
        score = silhouette_score(sample, labels)
        if score > best:
            best_k, best = k, score
    return best_k


def hdbscan_labels(vectors: np.ndarray, k: int | None, seed: int) -> np.ndarray:
    """HDBSCAN clusters (k is not used); -1 for noise."""
    from sklearn.cluster import HDBSCAN

    if len(vectors) < 5:
        return np.zeros(len(vectors), np.int64)
    # copy=True: the embeddings are the caller's (the map draws them afterwards); scikit-learn
    # 1.9 warns that its default (False, may work in place) changes in 1.10.
    return HDBSCAN(min_cluster_size=max(5, len(vectors) // 200), copy=True).fit_predict(vectors).astype(np.int64)


CLUSTER_METHODS: dict[str, Callable[[np.ndarray, int | None, int], np.ndarray]] = {"kmeans": kmeans_labels, "hdbscan": hdbscan_labels}


def check_choices(method: str, k: int | None, projection: str | None = None) -> None:
    """One usage error, before any work, for a method or projection that does not exist or a k it cannot take."""
    from vidscan.mapping.defaults import PROJECTIONS

    if method not in CLUSTER_METHODS:
        raise UsageError(f"cluster method must be one of {', '.join(CLUSTER_METHODS)}, got {method!r}")
    if projection is not None and projection not in PROJECTIONS:
        raise UsageError(f"projection must be one of {', '.join(PROJECTIONS)}, got {projection!r}")
    if k is not None and (int(k) != k or k < 1):
        raise UsageError(f"the number of clusters must be a whole number of at least 1, got {k}")
    if method == "hdbscan" and k is not None:
        raise UsageError("hdbscan finds the number of clusters itself: give --clusters only with kmeans")


def cluster(vectors: np.ndarray, method: str = "kmeans", k: int | None = None, seed: int = 0) -> np.ndarray:
    """Cluster id of each point (``int64 [N]``, -1: none), renumbered by size (0 = largest)."""
    check_choices(method, k)
    raw = CLUSTER_METHODS[method](np.asarray(vectors, np.float32), k, seed)
    ids, counts = np.unique(raw[raw >= 0], return_counts=True)
    order = ids[np.argsort(-counts, kind="stable")]
    renumber = {int(old): new for new, old in enumerate(order)}
    return np.array([renumber.get(int(v), -1) for v in raw], np.int64)


def medoids(vectors: np.ndarray, labels: np.ndarray, per_cluster: int = 4) -> dict[int, list[int]]:
    """Per cluster, the indices of its ``per_cluster`` points nearest its mean direction
    (cosine), most central first: frames that show what the cluster is."""
    out: dict[int, list[int]] = {}
    for c in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == c)
        centre = vectors[members].mean(axis=0)
        centre = centre / max(float(np.linalg.norm(centre)), 1e-12)
        order = np.argsort(-(vectors[members] @ centre), kind="stable")
        out[int(c)] = [int(members[i]) for i in order[:per_cluster]]
    return out


__all__ = ["CLUSTER_METHODS", "MAX_K", "check_choices", "cluster", "estimate_k", "hdbscan_labels", "kmeans_labels", "medoids"]
