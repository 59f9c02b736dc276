"""The map's defaults and choices, written once (light: the command line imports it at start-up)."""

#: Frames per second put on the map: one point per second of footage (100,000 points is 28 hours).
DEFAULT_SAMPLE_FPS = 1.0
#: Points with a thumbnail of their own; beyond this a point shows the nearest thumbnailed
#: frame of its video (see README "Maps" for the page sizes this gives).
DEFAULT_THUMBNAILS = 10_000
#: 2-D projections and cluster methods (vidscan.mapping.projection / .clusters implement them).
PROJECTIONS = ("umap", "tsne", "pca")
CLUSTER_METHODS = ("kmeans", "hdbscan")
DEFAULT_PROJECTION = "umap"
DEFAULT_CLUSTER_METHOD = "kmeans"
#: Long side of a thumbnail tile, in pixels.
TILE_LONG_SIDE = 96
