"""Errors that carry their own exit code, so every command fails the same way.

The CLI catches :class:`VidscanError`, prints its one-line message and exits with
``exit_code``; anything else is a bug and exits with :data:`EXIT_INTERNAL`.
"""

from __future__ import annotations

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
