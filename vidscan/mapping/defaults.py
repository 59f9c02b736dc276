"""The map's defaults and choices, written once (light: the command line imports it at start-up)."""

#: Frames per second put on the map: one point per second of footage (100,000 points is 28 hours).
DEFAULT_SAMPLE_FPS = 1.0
#: Points with a thumbnail of their own; beyond this a point shows the nearest thumbnailed
#: frame of its video (see README "Maps" for the page sizes this gives).
DEFAULT_THUMBNAILS = 10_000
#: 2-D projections and cluster methods (vidscan.mapping.projection / .clusters implement them).
PROJECTIONS = ("tsne", "umap", "pca")
CLUSTER_METHODS = ("kmeans", "hdbscan")
#: t-SNE (openTSNE when installed): measured with benchmarks/map_projection.py on frame
#: embeddings (weight-free features; 2 cores), recall@10 = share of each point's 10 nearest
#: map neighbours that are among its 10 nearest in the embedding space:
#:   10,000 points:  openTSNE 55 s, recall 0.76 | scikit-learn t-SNE 53 s, 0.77 | UMAP 21 s, 0.64 | PCA 0.02 s, 0.26
#:   100,000 points: openTSNE 149 s, recall 0.62 | scikit-learn t-SNE > 8 min | UMAP 164 s, 0.49 | PCA 0.1 s, 0.12
#: UMAP also spends 15-20 s importing (numba) and 45 s compiling on its first run.
DEFAULT_PROJECTION = "tsne"
DEFAULT_CLUSTER_METHOD = "kmeans"
#: Long side of a thumbnail tile, in pixels.
TILE_LONG_SIDE = 96
