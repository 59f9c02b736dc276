"""The sampled frames' embeddings as a NumPy ``.npy`` file plus an index CSV.

``FILE.npy`` holds ``float32 [N, D]`` (rows are L2-normalised by every embedder), and
``FILE.index.csv`` says which frame each row is: ``sample, frame, time_s``. Load with
``numpy.load`` and ``pandas.read_csv``; no pickle is involved.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from vidscan.atomic import atomic_open, atomic_write_text, output_group

if TYPE_CHECKING:
    from vidscan.embedded import EmbeddedVideo


def embeddings_index_path(path: str | Path) -> Path:
    """``x.npy`` -> ``x.index.csv`` (any other name just gets ``.index.csv`` appended)."""
    p = Path(path)
    stem = p.name[: -len(".npy")] if p.name.lower().endswith(".npy") else p.name
    return p.with_name(f"{stem}.index.csv")


def write_embeddings(embedded: "EmbeddedVideo", path: str | Path) -> tuple[Path, Path]:
    """Write ``embedded.embeddings`` to ``path`` (.npy) and its index beside it; returns both paths."""
    array = np.ascontiguousarray(embedded.embeddings, dtype=np.float32)
    index = pd.DataFrame({
        "sample": np.arange(len(array), dtype=np.int64),
        "frame": np.asarray(embedded.indices, dtype=np.int64),
        "time_s": np.round(np.asarray(embedded.times, dtype=np.float64), 6),
    })
    index_path = embeddings_index_path(path)
    with output_group([path, index_path]):  # both or neither
        with atomic_open(path, "wb") as handle:
            np.save(handle, array, allow_pickle=False)
        atomic_write_text(index_path, index.to_csv(index=False))
    return Path(path), index_path
