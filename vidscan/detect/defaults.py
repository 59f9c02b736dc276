"""The defaults of the detectors' user-facing options (``--penalty``, ``--min-scene-len``),
in one table: the detectors take them as their defaults and the command line's help shows
them, without importing the detectors (ruptures, scipy) to print ``--help``.
Why each value: see the module docstrings of vidscan.detect.kernel and vidscan.detect.adaptive.
"""

from __future__ import annotations

#: Change-point penalty per second of evidence (kernel, and the gradual transitions of adaptive).
PENALTY = 0.36
#: Shortest shot, seconds, for each built-in detector that takes one.
MIN_SCENE_LEN = {"adaptive": 0.1, "kernel": 0.5}
