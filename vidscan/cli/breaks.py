"""``vidscan breaks``: the ad breaks of a broadcast and the spots inside them."""

from __future__ import annotations

import click

from vidscan.cli.common import CREATES_FOLDERS, TaskSetup, default_output, format_option, task_options
from vidscan.cli.exports import declared_outputs, export_options, write_exports


@click.command(short_help="Ad breaks and their spots, from sound, black frames and the station logo.")
@click.argument("video", type=click.Path(dir_okay=True, path_type=str))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str),
              help="The breaks table: .csv, .json, .jsonl or .parquet (default ./<video>.breaks.csv; '-' for stdout). "
                   f"JSON holds every break with its spots and the programme/ad totals. {CREATES_FOLDERS}")
@format_option("Breaks table")
@click.option("--spots", is_flag=True, help="One row per spot (break, spot, times) instead of one per break.")
@task_options(sampling=None, detector=False, decode=True, cache=True, quiet="table", embedder=False)
@export_options
def breaks(video: str, output: str | None, fmt: str | None, spots: bool, run: TaskSetup, **exports) -> None:
    """List the ad breaks in VIDEO and the spots inside each, with durations.

    Reads cues that need no model: the station logo vanishing, black frames and silence at
    break edges, louder sound and music in ads, and spots at standard lengths (10, 15, 20,
    30 s...). Breaks without black separators are found from the other cues. The picture is
    decoded once (sound alongside); nothing is downloaded.

    \b
    Examples:
      vidscan breaks match.ts
      vidscan breaks match.ts -o breaks.json --comskip match.txt   # + Comskip's list and .edl
      vidscan breaks match.ts --spots -o spots.csv --chapters chapters.txt
    """
    from vidscan.broadcast.table import breaks_document, breaks_table, find_ad_breaks
    from vidscan.formats import format_for, table_text, write_table
    from vidscan.video.base import check_readable_file

    check_readable_file(video)
    fmt = format_for(output, fmt)
    target = None if output == "-" else output or str(default_output(video, "breaks", fmt))
    outputs = declared_outputs([video], target, exports)  # all checked before decoding (exit 5)
    result = find_ad_breaks(video, decode=run.decode, cache=run.cache(), progress=run.progress(), warn=run.warner)
    table = breaks_table(result.timeline, spots=spots)
    document = breaks_document(result)
    with outputs:  # all of them or none
        write_exports(result.timeline, video, totals=result.totals, quiet=run.quiet, **exports)
        if target is not None:
            write_table(target, fmt, table, document, rows_key="breaks")
    if target is None:
        from vidscan.cli.common import write_stdout

        write_stdout(table_text(fmt, table, document))
        return
    if not run.quiet:
        from vidscan.cli.tables import print_breaks

        print_breaks(document)
        click.echo(f"breaks: {target}")

