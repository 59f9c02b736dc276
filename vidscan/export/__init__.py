"""Exports of a timeline for other tools: chapters, EDL, PySceneDetect CSV, stills, embeddings.

One small module per format; each has a ``*_text`` (or pure) function that renders the
content and a ``write_*`` function that writes it atomically (:mod:`vidscan.atomic`), so a
failed run never leaves a half-written file. Bad or unwritable paths raise
:class:`~vidscan.errors.OutputError`.
"""

from vidscan.export.chapters import chapters_text, write_chapters
from vidscan.export.edl import edl_text, edl_timecode, nominal_rate, write_edl
from vidscan.export.embeddings import embeddings_index_path, write_embeddings
from vidscan.export.frames import frame_file_name, grab_frames, middle_frame, save_frames
from vidscan.export.scenes_csv import scenes_csv_text, write_scenes_csv

__all__ = [
    "chapters_text",
    "edl_text",
    "edl_timecode",
    "embeddings_index_path",
    "frame_file_name",
    "grab_frames",
    "middle_frame",
    "nominal_rate",
    "save_frames",
    "scenes_csv_text",
    "write_chapters",
    "write_edl",
    "write_embeddings",
    "write_scenes_csv",
]
