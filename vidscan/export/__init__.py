"""Exports of a timeline for other tools: chapters, EDL, PySceneDetect CSV, stills, embeddings,
and ad breaks in Comskip's own files.

One small module per format; each has a ``*_text`` (or pure) function that renders the
content and a ``write_*`` function that writes it atomically (:mod:`vidscan.atomic`), so a
failed run never leaves a half-written file. Bad or unwritable paths raise
:class:`~vidscan.errors.OutputError`.
"""

from vidscan.export.chapters import chapters_text, write_chapters
from vidscan.export.comskip import comskip_edl, comskip_txt, read_comskip_edl, read_comskip_txt, write_comskip_edl, write_comskip_txt
from vidscan.export.edl import edl_text, edl_timecode, nominal_rate, write_edl
from vidscan.export.embeddings import embeddings_index_path, write_embeddings
from vidscan.export.frames import frame_file_name, grab_frames, middle_frame, save_frames
from vidscan.export.scenes_csv import scenes_csv_text, write_scenes_csv

__all__ = [
    "chapters_text",
    "comskip_edl",
    "comskip_txt",
    "edl_text",
    "edl_timecode",
    "embeddings_index_path",
    "frame_file_name",
    "grab_frames",
    "middle_frame",
    "nominal_rate",
    "read_comskip_edl",
    "read_comskip_txt",
    "save_frames",
    "scenes_csv_text",
    "write_chapters",
    "write_comskip_edl",
    "write_comskip_txt",
    "write_edl",
    "write_embeddings",
    "write_scenes_csv",
]
