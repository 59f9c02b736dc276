"""A script that calls ``run_batch`` without ``if __name__ == "__main__":`` is run again by every
spawned worker as it starts (Python's spawn start method imports the main script), and each of
those runs would call ``run_batch`` again. A worker that finds itself there leaves at once with
:data:`REENTRY_EXIT`, and the parent turns that into one line that says what to add."""

from __future__ import annotations

import multiprocessing

#: A starting worker's exit status when it was asked to run a batch while importing the main script.
REENTRY_EXIT = 86

UNGUARDED_SCRIPT = ("this script calls run_batch when it is imported, and every batch worker imports it again as it starts: "
                    "put the call under 'if __name__ == \"__main__\":'")


def leave_if_importing_the_main_script() -> None:
    """In a spawned worker still importing the parent's main script (the standard library's own
    "bootstrapping" flag, which multiprocessing checks the same way), exit with :data:`REENTRY_EXIT`."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise SystemExit(REENTRY_EXIT)
