"""The cues a label can be defined by (``cues = [...]``, ``without = [...]`` in a config's
``[labels.NAME]`` table): written once here, read by the config schema and the fusion."""

from __future__ import annotations

#: Cue name -> what it means. Each is a 0..1 value per moment of the broadcast.
CUES: dict[str, str] = {
    "break": "inside an ad break (logo gone, louder sound, music, separators at spot lengths)",
    "programme": "outside ad breaks",
    "speech": "speech in the sound track",
    "crowd": "a continuous broadband background: crowd or stadium noise",
    "music": "music in the sound track",
    "silence": "no sound",
    "logo": "the station logo is on screen",
}
CUE_NAMES: tuple[str, ...] = tuple(CUES)
