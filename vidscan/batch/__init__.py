"""Batch runs over an archive: resumable (SQLite manifest), parallel, failures recorded.

``vidscan batch INPUT... --out DIR`` on the command line; in Python::

    from vidscan.batch import BatchOptions, BatchSettings, discover_inputs, run_batch

    report = run_batch(discover_inputs(["archive/"]), "results/", BatchSettings(), BatchOptions(workers=2))

Modules: ``inputs`` (what to process), ``naming`` (where outputs go), ``manifest`` (state,
for resume), ``work`` (one video, in a worker), ``local`` / ``ray_engine`` (where workers
run), ``runner`` (the driver), ``summary`` (archive-level table), ``progress``.
"""

from vidscan.inputs import VIDEO_EXTENSIONS, InputVideo, discover_inputs
from vidscan.batch.runner import BatchOptions, BatchReport, run_batch
from vidscan.batch.settings import BatchConfig, BatchSettings, load_batch_config

__all__ = [
    "VIDEO_EXTENSIONS",
    "BatchConfig",
    "BatchOptions",
    "BatchReport",
    "BatchSettings",
    "InputVideo",
    "discover_inputs",
    "load_batch_config",
    "run_batch",
]
