"""What a user reads in the terminal (issue 13): every command and option explained, nothing cut
with "...", help and tables within 100 columns, counts that read right, progress with labels."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from vidscan.cli.main import cli
from vidscan.plural import plural
from vidscan.progress import ConsoleProgress, plain_line


def every_command(group: click.Group = cli, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from every_command(command, (*prefix, name))


def test_every_command_and_option_has_help_text() -> None:
    missing = [f"{' '.join(path)} {param.opts[0]}" for path, command in every_command() for param in command.params
               if isinstance(param, click.Option) and not param.hidden and not (param.help or "").strip()]
    assert missing == []
    assert all((command.short_help or command.help or "").strip() for _, command in every_command())


@pytest.mark.parametrize("path", [()] + [path for path, _ in every_command()], ids=lambda p: " ".join(p) or "vidscan")
def test_help_fits_100_columns_and_cuts_nothing(path) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 100
    if isinstance(cli if not path else dict(every_command())[path], click.Group):
        listed = lines[lines.index("Commands:") + 1:]
        assert listed and not any(line.rstrip().endswith("...") for line in listed), result.output


def test_counts_read_right() -> None:
    assert plural(1, "segment") == "1 segment" and plural(0, "segment") == "0 segments" and plural(3, "segment") == "3 segments"
    assert plural(1, "boundary", "boundaries") == "1 boundary" and plural(2, "boundary", "boundaries") == "2 boundaries"


def test_progress_labels_its_times_and_speed() -> None:
    line = plain_line("decoding + embedding match.mp4", 30, 120, "s of video", 10.0)
    assert line == "decoding + embedding match.mp4: 30/120 s of video (25%), 3.0x realtime, elapsed 0:00:10, left 0:00:30"


def test_the_progress_bar_shows_stage_elapsed_left_and_speed() -> None:
    import io

    from rich.console import Console

    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    progress = ConsoleProgress(console=console)
    progress.start("decoding + embedding match.mp4", 100.0)
    progress.update(50.0)
    progress._bar.refresh()
    progress.finish()
    text = console.file.getvalue()
    assert "decoding + embedding match.mp4" in text and "elapsed" in text and "left" in text and "x realtime" in text


def test_quiet_off_a_terminal_prints_no_bar(tmp_path) -> None:
    """Not a terminal: no rich bar; periodic plain lines only (none within the first interval)."""
    import io

    from rich.console import Console

    console = Console(file=io.StringIO(), force_terminal=False)
    progress = ConsoleProgress(console=console, interval=3600)
    progress.start("decoding + embedding x.mp4", 10.0)
    progress.update(5.0)
    progress.finish()
    assert progress._bar is None and console.file.getvalue() == ""
