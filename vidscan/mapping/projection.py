"""2-D projections of embeddings for the map: UMAP, t-SNE or PCA, behind one function."""

from __future__ import annotations

from typing import Callable

import numpy as np

from vidscan.errors import UsageError


def umap_xy(vectors: np.ndarray, seed: int) -> np.ndarray:
    """UMAP (umap-learn, the map extra): faster than t-SNE at 10,000 points, but keeps fewer
    true neighbours, and importing it compiles for 15-60 s (numba)."""
    try:
        import umap
    except ImportError:
        raise UsageError("the umap projection needs umap-learn: pip install 'vidscan[map]' (or use --projection tsne or pca)") from None
    n = len(vectors)
    model = umap.UMAP(n_neighbors=min(15, max(2, n - 1)), min_dist=0.1, metric="cosine", random_state=seed, n_jobs=1)
    return model.fit_transform(vectors)


def tsne_xy(vectors: np.ndarray, seed: int) -> np.ndarray:
    """t-SNE started from PCA: openTSNE's FFT-accelerated t-SNE when installed (the map extra),
    else scikit-learn's Barnes-Hut, which is as good at 10,000 points but takes far longer at
    100,000 (see :func:`tsne_backend`)."""
    n = len(vectors)
    perplexity = min(30.0, max(1.0, (n - 1) / 3))
    if tsne_backend() == "openTSNE":
        from openTSNE import TSNE as OpenTSNE

        return np.asarray(OpenTSNE(n_components=2, perplexity=perplexity, initialization="pca", metric="euclidean", n_jobs=-1,
                                   random_state=seed).fit(np.asarray(vectors, np.float64)))
    from sklearn.manifold import TSNE

    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed, n_jobs=-1).fit_transform(vectors)


def tsne_backend() -> str:
    """``openTSNE`` when it can be imported, else ``scikit-learn``."""
    import importlib.util

    return "openTSNE" if importlib.util.find_spec("openTSNE") is not None else "scikit-learn"


def pca_xy(vectors: np.ndarray, seed: int) -> np.ndarray:
    """The two main directions of variance: instant, but similar frames overlap."""
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=seed).fit_transform(vectors)


PROJECTIONS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {"umap": umap_xy, "tsne": tsne_xy, "pca": pca_xy}  # names: mapping.defaults


def describe_projection(method: str, points: int) -> str:
    """What laid the map out, as its settings name it (tiny maps are placed by PCA or in a line)."""
    if points < 4:
        return "line"
    if points <= 20:
        return "pca"
    return f"tsne ({tsne_backend()})" if method == "tsne" else method


def project(vectors: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
    """``float32 [N, 2]`` map coordinates of the points (tiny sets are placed by PCA or by hand)."""
    if method not in PROJECTIONS:
        raise UsageError(f"projection must be one of {', '.join(PROJECTIONS)}, got {method!r}")
    x = np.asarray(vectors, np.float32)
    if len(x) == 0:
        return np.zeros((0, 2), np.float32)
    if len(x) < 4:  # too few for any neighbourhood method: a line is honest
        return np.stack([np.arange(len(x), dtype=np.float32), np.zeros(len(x), np.float32)], axis=1)
    fn = PROJECTIONS[method] if len(x) > 20 else pca_xy
    return np.asarray(fn(x, seed), np.float32)


__all__ = ["PROJECTIONS", "describe_projection", "pca_xy", "project", "tsne_backend", "tsne_xy", "umap_xy"]
