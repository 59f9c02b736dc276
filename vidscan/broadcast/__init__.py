"""Broadcast cues that need no model: sound (loudness, silence, speech/music/crowd), picture
(black and white frames, the station logo, letterbox), and the ad-break structure built on
them (vidscan.broadcast.breaks), which classify fuses with the visual labels."""
