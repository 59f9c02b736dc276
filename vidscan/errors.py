"""Errors that carry their own exit code, so every command fails the same way.

The CLI catches :class:`VidscanError`, prints its one-line message and exits with
``exit_code``; anything else is a bug and exits with :data:`EXIT_INTERNAL`.
"""

from __future__ import annotations

import re
import unicodedata

EXIT_OK = 0
#: A batch finished but some of its files failed (their reasons are in the manifest).
EXIT_PARTIAL = 1
#: Bad command line: unknown option value, bad label list, config that does not parse.
EXIT_USAGE = 2
#: The input cannot be used: missing, unreadable, not a video, corrupt, no frames.
EXIT_INPUT = 3
#: A model was asked for but its weights cannot be loaded (offline, bad checkpoint).
EXIT_MODEL = 4
#: An output could not be written (permissions, disk full); nothing was half-written.
EXIT_OUTPUT = 5
#: An unexpected internal error (a bug): please report it with ``--debug`` output.
EXIT_INTERNAL = 70
#: Interrupted by the user (Ctrl-C).
EXIT_INTERRUPTED = 130
#: Stopped by SIGTERM (128 + 15, as a shell reports it); temp files are removed as for Ctrl-C.
EXIT_TERMINATED = 143


class VidscanError(Exception):
    """Base class: an error with a user-facing one-line message and an exit code."""

    exit_code: int = EXIT_INTERNAL

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class UsageError(VidscanError):
    """An option value, label list or config file is invalid."""

    exit_code = EXIT_USAGE


class InputError(VidscanError):
    """A video (or examples folder) cannot be read."""

    exit_code = EXIT_INPUT


class ModelUnavailableError(VidscanError):
    """Model weights cannot be loaded; the message says how to provide them."""

    exit_code = EXIT_MODEL


class OutputError(VidscanError):
    """An output file could not be written."""

    exit_code = EXIT_OUTPUT


class PartialFailure(VidscanError):
    """A run over several videos finished, but some could not be processed (each one's reason
    is in its summary or was printed): the rest of the results stand."""

    exit_code = EXIT_PARTIAL


class CoarseUnavailable(Exception):
    """A file cannot be decoded coarse-to-fine (the reason is the message): not an error for
    the user, the caller decodes every frame instead and says why in a note."""


class CoarseNotWorthIt(CoarseUnavailable):
    """The keyframes differ around so much of the video that decoding keyframes first would
    cost more than decoding every frame (``share``: the frames it would decode; ``cost``: its
    predicted cost, as a share of a full decode's)."""

    def __init__(self, share: float, cost: float) -> None:
        super().__init__(f"keyframes differ around {share:.0%} of the frames")
        self.share = share
        self.cost = cost


class Terminated(BaseException):
    """Raised in the main thread by the CLI's SIGTERM handler: unwinds like Ctrl-C (temp files
    and staged outputs are removed on the way out), exit code :data:`EXIT_TERMINATED`."""


#: Bidirectional-text controls: they reorder what a terminal shows (a name can fake its end).
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str) -> str:
    """``text`` with control characters (newline, carriage return, escape, ... and line
    separators and bidi controls) written as escapes (``\\n``, ``\\x1b``, ``\\u2028``), so a
    message stays one line and a file name cannot forge another line or recolour the terminal."""
    out = []
    for ch in str(text):
        if ch in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif "\udc80" <= ch <= "\udcff":  # a non-UTF-8 byte of a file name (surrogateescape)
            out.append(f"\\x{ord(ch) - 0xdc00:02x}")
        elif unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs") or _BIDI.match(ch):
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)
