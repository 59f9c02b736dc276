"""Entry point: the command group, global flags and uniform error handling.

Every command fails the same way: one line on stderr (``vidscan: error: ...``) and the
exit code of the error's class (see README "Exit codes"); ``--debug`` adds the traceback.
Heavy libraries (torch, open_clip) are imported inside commands, so ``--help`` is instant.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import traceback
from typing import Iterator

import click

from vidscan._version import __version__
from vidscan.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_USAGE, OutputError, Terminated, VidscanError, escape_controls

_DEBUG = False


class VidscanGroup(click.Group):
    """Lists commands in the order they were added (the order a new user needs them)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(cls=VidscanGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="vidscan")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
def cli(debug: bool) -> None:
    """vidscan turns video into timelines: scene boundaries, labels, durations.

    \b
    Start here:
      vidscan demo-video demo.mp4      # make a 40 s synthetic broadcast (offline)
      vidscan scenes demo.mp4          # find its scene boundaries
    """
    global _DEBUG
    _DEBUG = debug


def _register() -> None:
    from vidscan.cli.batch import batch
    from vidscan.cli.breaks import breaks
    from vidscan.cli.bench import bench
    from vidscan.cli.classify import classify
    from vidscan.cli.collect import collect
    from vidscan.cli.dataset import dataset
    from vidscan.cli.demo import demo_video
    from vidscan.cli.map import map_command
    from vidscan.cli.models import models
    from vidscan.cli.probe import train_probe
    from vidscan.cli.scenes import scenes
    from vidscan.cli.search import search

    for command in (scenes, classify, breaks, search, collect, dataset, train_probe, map_command, batch, demo_video, bench, models):
        cli.add_command(command)


_register()


def _fail(message: str, code: int) -> int:
    """The one place errors are printed: one line, control characters escaped (a file name
    with a newline cannot print a second, forged ``vidscan: error:`` line)."""
    click.echo(f"vidscan: error: {escape_controls(message)}", err=True)
    return code


def _terminate(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM stops at once, without cleanup
    raise Terminated()


@contextlib.contextmanager
def _sigterm_unwinds():
    """SIGTERM raises :class:`Terminated` in the main thread for the length of the command, so
    it unwinds like Ctrl-C: temp files and staged outputs are removed, exit code 143."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _CheckedStdout:
    """``sys.stdout`` while a command runs: a write or flush that fails (disk full, an I/O
    error: ``-o - > /dev/full``) is an :class:`OutputError` (exit 5) instead of a bare OSError
    (exit 70). A broken pipe (``| head``) stays a BrokenPipeError: a quiet exit 0."""

    def __init__(self, stream: object) -> None:
        self._stream = stream
        #: Set once a write failed (a full disk or a broken pipe), and once the pipe broke.
        self.failed = self.broken_pipe = False

    def write(self, text: str) -> int:
        with self._failures():
            return self._stream.write(text)  # type: ignore[attr-defined]

    def flush(self) -> None:
        with self._failures():
            self._stream.flush()  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:  # isatty, fileno, encoding, ... as the stream has them
        return getattr(self._stream, name)

    @contextlib.contextmanager
    def _failures(self) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            self.failed = True
            if isinstance(exc, BrokenPipeError):
                self.broken_pipe = True
                raise
            raise OutputError(f"cannot write to standard output: {exc.strerror or exc}") from exc


@contextlib.contextmanager
def _stdout_checked() -> Iterator[None]:
    """Route stdout through :class:`_CheckedStdout` for the length of the command; when writing
    it failed, point file descriptor 1 at /dev/null so the interpreter's final flush of what is
    still buffered cannot print a second error."""
    real = sys.stdout
    checked = _CheckedStdout(real)
    sys.stdout = checked  # type: ignore[assignment]
    try:
        yield
    except SystemExit:
        if checked.broken_pipe:  # click makes a broken pipe exit 1; the reader only stopped early
            raise BrokenPipeError() from None
        raise
    finally:
        sys.stdout = real
        if checked.failed:
            _silence_stdout(real)


def _silence_stdout(stream: object) -> None:
    """Point the stream's file descriptor at /dev/null (nothing more can reach a full disk or a closed pipe)."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())  # type: ignore[attr-defined]
        os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) the exit code."""
    global _DEBUG
    _DEBUG = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        with _sigterm_unwinds(), _stdout_checked():
            cli.main(args=argv, prog_name="vidscan", standalone_mode=False)
        return 0
    except Terminated:
        return _fail("terminated (SIGTERM)", EXIT_TERMINATED)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except click.ClickException as exc:
        # Bad command line: one line, with a pointer to --help.
        return _fail(f"{exc.format_message()} (see 'vidscan --help')", EXIT_USAGE if exc.exit_code == 2 else exc.exit_code)
    except VidscanError as exc:
        if _DEBUG:
            traceback.print_exc()
        return _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: say so, keep it to one line unless --debug
        if _DEBUG:
            traceback.print_exc()
        return _fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)", EXIT_INTERNAL)


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
