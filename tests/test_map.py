"""vidscan map end to end: points per sampled frame, clusters that follow the content, labels,
collapsed near-duplicates, thumbnails of the right frames, the cache reused, tables that
parse back, the page drawn in Chromium, and bad input."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import vidscan
from vidscan.cache import EmbeddingCache
from vidscan.cli.main import main
from vidscan.embed.registry import create_embedder
from vidscan.errors import EXIT_INPUT, EXIT_PARTIAL, EXIT_USAGE, UsageError
from vidscan.extract import embed_video
from vidscan.mapping.build import POINT_COLUMNS, SUMMARY_COLUMNS, collapse_runs, embedded_for_map, map_videos
from vidscan.mapping.clusters import cluster, estimate_k
from vidscan.video import Sampling, read_frames

from tests.browser import run_chromium
from tests.test_map_page import Page

FIVE_PER_SECOND = Sampling.per_second(5.0)


def truth_of(truth, frames: np.ndarray) -> np.ndarray:
    by_frame = np.empty(truth.frame_count, object)
    for label, a, b in truth.labels:
        by_frame[a:b] = label
    return by_frame[frames]


def purity(clusters: np.ndarray, truth: np.ndarray) -> float:
    """Share of points whose cluster's most common true label is their own."""
    right = 0
    for c in set(clusters.tolist()):
        _, counts = np.unique(truth[clusters == c], return_counts=True)
        right += counts.max()
    return right / len(truth)


@pytest.fixture(scope="module")
def broadcast_map(broadcast):
    path, truth, examples = broadcast
    return map_videos(path, sampling=FIVE_PER_SECOND, projection="pca", examples=examples, thumbnails=50)


def test_a_point_per_sampled_frame_of_every_video(broadcast, shots_video):
    (b, _, _), (s, _) = broadcast, shots_video
    built = map_videos([b, s], projection="pca")
    emb = create_embedder("features")
    expected = [embed_video(p, emb, Sampling.per_second(1.0)) for p in (b, s)]
    assert built.data.size == sum(len(v.indices) for v in expected)
    assert list(built.points.columns) == POINT_COLUMNS
    for path, video in zip((b, s), expected):
        mine = built.points[built.points["video"] == str(path.resolve())]
        assert mine["frame"].tolist() == video.indices.tolist()
        np.testing.assert_allclose(mine["time_s"], video.times, atol=1e-6)
    assert (built.points["count"] == 1).all()
    assert built.data.settings["sampling"] == Sampling.per_second(1.0).describe()


def test_clusters_follow_the_content(broadcast, broadcast_map):
    _, truth, _ = broadcast
    points = broadcast_map.points
    assert purity(points["cluster"].to_numpy(), truth_of(truth, points["frame"].to_numpy())) >= 0.9
    summary = broadcast_map.summary
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert summary["points"].sum() == len(points)
    assert summary["share"].sum() == pytest.approx(1.0, abs=0.02)  # every sampled second is in one cluster
    assert summary["points"].is_monotonic_decreasing  # numbered by size
    for c in broadcast_map.data.clusters:  # the medoids are members, named in the summary
        assert all(broadcast_map.data.cluster[m] == c.id for m in c.medoids) and 1 <= len(c.medoids) <= 4


def test_points_are_labelled_and_clusters_named_after_their_labels(broadcast, broadcast_map):
    _, truth, _ = broadcast
    points = broadcast_map.points
    right = (points["label"].to_numpy() == truth_of(truth, points["frame"].to_numpy())).mean()
    assert right >= 0.9
    assert points["confidence"].between(0, 1).all()
    for c in broadcast_map.data.clusters:
        assert any(c.name.startswith(f"{c.id}: {name} (") for name in ("ad", "game", "commentary")), c.name


def test_collapsed_runs_carry_their_counts(broadcast):
    path, _, _ = broadcast
    full = map_videos(path, sampling=FIVE_PER_SECOND, projection="pca", thumbnails=0)
    collapsed = map_videos(path, sampling=FIVE_PER_SECOND, projection="pca", collapse=0.98, thumbnails=0)
    assert collapsed.data.size < full.data.size / 2
    assert collapsed.points["count"].sum() == full.data.size
    # each point stands for its own frame and the next count-1 samples, and those are alike
    first, counts = collapse_runs(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]], np.float32), 0.98)
    assert first.tolist() == [0, 2] and counts.tolist() == [2, 3]


def test_thumbnails_are_the_points_frames(broadcast, broadcast_map):
    path, _, _ = broadcast
    data = broadcast_map.data
    assert data.atlas.count <= 50 + 4 * len(data.clusters)
    assert (data.thumb >= 0).all() and data.thumb.max() < data.atlas.count
    sheet = np.asarray(Image.open(io.BytesIO(data.atlas.sheets[0])).convert("RGB"), np.int16)
    w, h = data.atlas.tile_width, data.atlas.tile_height
    # a medoid has a tile of its own: it must be that frame, decoded at the tile's size
    medoid = data.clusters[0].medoids[0]
    tile_index = int(data.thumb[medoid])
    assert tile_index < data.atlas.per_sheet
    row, col = divmod(tile_index, data.atlas.columns)
    tile = sheet[row * h : (row + 1) * h, col * w : (col + 1) * w]
    frames, _ = read_frames(str(path), [int(data.frame[medoid])], size=(w, h))
    assert np.abs(tile - frames[0].astype(np.int16)).mean() < 6  # JPEG at quality 70
    other = int(data.frame[(medoid + len(data.frame) // 2) % len(data.frame)])
    far, _ = read_frames(str(path), [other], size=(w, h))
    assert np.abs(tile - frames[0].astype(np.int16)).mean() < np.abs(tile - far[0].astype(np.int16)).mean() or other == data.frame[medoid]


def test_a_cached_every_frame_entry_is_thinned_instead_of_decoded(broadcast, tmp_path):
    path, _, _ = broadcast
    cache = EmbeddingCache(tmp_path / "cache")
    emb = create_embedder("features")
    embed_video(path, emb, Sampling.all_frames(), cache=cache)  # what `scenes` leaves
    thinned = embedded_for_map(path, emb, Sampling.per_second(1.0), cache=cache, backend="pyav", progress=None)
    decoded = embed_video(path, emb, Sampling.per_second(1.0))
    assert thinned.from_cache and not decoded.from_cache
    assert thinned.indices.tolist() == decoded.indices.tolist()
    np.testing.assert_allclose(thinned.embeddings, decoded.embeddings, atol=1e-5)


def test_kmeans_estimates_k_and_hdbscan_marks_noise():
    rng = np.random.default_rng(0)
    centres = np.eye(8)[:4]
    x = np.concatenate([c + rng.normal(scale=0.05, size=(60, 8)) for c in centres])
    assert estimate_k(x, 0) == 4
    ids = cluster(x, "kmeans")
    assert purity(ids, np.repeat(np.arange(4), 60)) == 1.0
    noisy = np.concatenate([x, rng.normal(scale=3, size=(10, 8))])
    ids = cluster(noisy, "hdbscan")
    assert set(ids[:240].tolist()) <= {0, 1, 2, 3, -1} and (ids[:240] >= 0).mean() > 0.9
    with pytest.raises(UsageError, match="hdbscan finds the number"):
        cluster(x, "hdbscan", k=3)


@pytest.mark.parametrize("projection", ["umap", "tsne"])
def test_neighbourhood_projections_keep_clusters_apart(projection):
    rng = np.random.default_rng(1)
    x = np.concatenate([c + rng.normal(scale=0.05, size=(40, 16)) for c in np.eye(16)[:3]])
    xy = vidscan.mapping.projection.project(x, projection)
    centres = np.array([xy[k * 40 : (k + 1) * 40].mean(axis=0) for k in range(3)])
    spread = max(np.linalg.norm(xy[k * 40 : (k + 1) * 40] - centres[k], axis=1).mean() for k in range(3))
    gaps = min(np.linalg.norm(centres[a] - centres[b]) for a in range(3) for b in range(a + 1, 3))
    assert gaps > 3 * spread


def test_cli_writes_the_page_and_tables_that_parse(broadcast, shots_video, tmp_path, capsys):
    (b, _, examples), (s, _) = broadcast, shots_video
    out = tmp_path / "maps" / "m.html"
    code = main(["map", str(b), str(s), "--out", str(out), "--table", str(tmp_path / "points.parquet"), "--projection", "pca",
                 "--examples", str(examples), "--cache-dir", str(tmp_path / "c")])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "mapped" in stdout and "points of 2 videos" in stdout
    points = pd.read_parquet(tmp_path / "points.parquet")
    summary = pd.read_parquet(tmp_path / "points.summary.parquet")
    assert list(points.columns) == POINT_COLUMNS and len(points) == summary["points"].sum()
    page = out.read_text(encoding="utf-8")
    assert "https://" not in page and "http://" not in page
    count = next(a for t, a in Page(page).tags if a.get("id") == "point-count")
    assert count["data-count"] == str(len(points))


def test_the_page_draws_every_point_and_hovers_a_thumbnail(broadcast, broadcast_map, tmp_path):
    page = broadcast_map.page().replace("</body>", """<script>
(function wait() {
  if (!window.__mapReady) { setTimeout(wait, 20); return; }
  window.__mapHover(0);
  const tip = document.getElementById('tooltip');
  const img = tip.querySelector('[data-tile]');
  document.body.dataset.tipTile = img ? img.dataset.tile : 'none';
  document.body.dataset.tipText = tip.textContent;
})();
</script></body>""")
    path = tmp_path / "m.html"
    path.write_text(page, encoding="utf-8")
    dom = run_chromium("--dump-dom", "--window-size=1200,800", "--virtual-time-budget=5000", path.as_uri()).stdout
    body = next(a for t, a in Page(dom).tags if t == "body")
    assert body.get("data-drawn") == str(broadcast_map.data.size)
    assert body.get("data-tip-tile") == str(broadcast_map.data.thumb[0])
    assert broadcast[0].name in body.get("data-tip-text", "")


def test_a_folder_with_an_unreadable_video_maps_the_rest(broadcast, tmp_path, capsys):
    path, _, _ = broadcast
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "good.mp4").symlink_to(path)
    (folder / "broken.mp4").write_bytes(b"not a video at all" * 100)
    code = main(["map", str(folder), "--out", str(tmp_path / "m.html"), "--projection", "pca", "--no-cache"])
    _, err = capsys.readouterr()
    assert code == EXIT_PARTIAL and "broken.mp4" in err
    points = pd.read_csv(tmp_path / "m.clusters.csv")
    assert set(points["video"]) == {str((folder / "good.mp4").resolve())}


@pytest.mark.parametrize("args,code,message", [
    (["--cluster-method", "hdbscan", "--clusters", "3"], EXIT_USAGE, "hdbscan finds the number"),
    (["--collapse", "1.5"], EXIT_USAGE, "--collapse"),
    (["--probe", "p.npz", "--examples", "ex"], EXIT_USAGE, "either --probe or --examples"),
    (["--table", "x.txt"], EXIT_USAGE, "x.txt"),
    (["--out", "map.png"], EXIT_USAGE, "give --out NAME.html"),
])
def test_bad_options_fail_before_any_work(shots_video, tmp_path, capsys, args, code, message):
    path, _ = shots_video
    got = main(["map", str(path), "--out", str(tmp_path / "m.html"), *args])
    err = capsys.readouterr().err
    assert got == code, err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.html").exists()


def test_a_missing_input_is_one_line(tmp_path, capsys):
    assert main(["map", str(tmp_path / "none.mp4"), "--out", str(tmp_path / "m.html")]) == EXIT_INPUT
    assert "no such file" in capsys.readouterr().err


def test_map_is_public_and_the_help_is_instant():
    assert vidscan.map is map_videos
    done = subprocess.run([sys.executable, "-m", "vidscan", "map", "--help"], capture_output=True, text=True, check=True)
    assert "--projection" in done.stdout and "tsne" in done.stdout and "umap" in done.stdout
