"""The frame map: every sampled frame of a collection as a point on a 2-D map, in clusters.

``vidscan map`` / :func:`vidscan.map`: embeddings (from the cache where present) ->
clusters (scikit-learn) -> a 2-D projection -> one self-contained HTML page plus a
``clusters.csv``/``.parquet`` table and a cluster summary.
"""
