"""Table output formats: what an output's extension means, and one writer per format.

Every table vidscan writes (a timeline, classify's totals, search hits, a batch's per-video
timelines) goes through :func:`write_table`, and every command picks the format with
:func:`format_for`, so a file's contents always match its name: ``x.parquet`` is Parquet,
never CSV under another name. JSON holds the rows and all the metadata (video, settings,
version); CSV and JSONL hold the rows; Parquet holds the rows (the CSV's columns and dtypes)
and the JSON's metadata as JSON under the file's key-value metadata key ``b"vidscan"``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidscan.atomic import atomic_write_bytes, atomic_write_text
from vidscan.errors import ModelUnavailableError, UsageError
from vidscan.extras import require

if TYPE_CHECKING:
    import pandas as pd

#: The key-value metadata key under which a Parquet file carries the JSON output's metadata.
PARQUET_METADATA_KEY = b"vidscan"


@dataclass(frozen=True)
class TableFormat:
    """One output format: its name (``--format``), the extensions that mean it, and whether it can go to a terminal."""

    name: str
    extensions: tuple[str, ...]
    description: str
    to_stdout: bool = True
    extra: str | None = None  # the optional part of vidscan it needs (vidscan.extras)


#: Every table format, by ``--format`` name; the first is the default.
FORMATS: dict[str, TableFormat] = {
    f.name: f
    for f in (
        TableFormat("csv", (".csv",), "rows, one line each (pandas.read_csv)"),
        TableFormat("json", (".json",), "rows and metadata: video, settings, version (json.load; follows the JSON schema)"),
        TableFormat("jsonl", (".jsonl", ".ndjson"), "one JSON object per row (pandas.read_json(lines=True))"),
        TableFormat("parquet", (".parquet", ".pq"), "rows with typed columns, the JSON's metadata under key 'vidscan' "
                    "(pandas.read_parquet)", to_stdout=False, extra="parquet"),
    )
}
DEFAULT_FORMAT = "csv"


def format_names() -> list[str]:
    """The ``--format`` choices."""
    return list(FORMATS)


def format_of_extension(path: str | Path) -> str | None:
    """The format an extension names (``.parquet`` -> ``parquet``); None for an unknown one."""
    suffix = Path(path).suffix.lower()
    return next((f.name for f in FORMATS.values() if suffix in f.extensions), None)


def format_for(output: str | Path | None, fmt: str | None) -> str:
    """The one format for ``output`` (a path, ``-`` for standard output, or None for the
    default file) and ``--format``; a usage error, before any work, when they disagree, when
    the extension means no format and none was given, when the format cannot go to standard
    output, or when its library is not installed."""
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if output is not None and str(output) != "-":
        named = format_of_extension(output)
        suffix = Path(output).suffix
        if named is None and fmt is None and _is_stream(output):
            named = DEFAULT_FORMAT  # -o /dev/null, a FIFO: no name to go by, like standard output (a socket is refused later)
        if named is None and fmt is None:
            raise UsageError(f"{output}: the extension {suffix or '(none)'!s} names no output format; use one of "
                             f"{', '.join(e for f in FORMATS.values() for e in f.extensions)} or give --format")
        if named is not None and fmt is not None and named != fmt:
            raise UsageError(f"{output} names {named} output but --format is {fmt}: make them agree")
        fmt = fmt or named
    chosen = FORMATS[fmt or DEFAULT_FORMAT]
    if str(output) == "-" and not chosen.to_stdout:
        raise UsageError(f"{chosen.name} is binary and cannot go to standard output: give a file name (-o x{chosen.extensions[0]})")
    if chosen.extra:
        try:
            require(chosen.extra)
        except ModelUnavailableError as exc:  # an option that cannot be used here: a usage error, before any work
            raise UsageError(str(exc)) from None
    return chosen.name


def extension(fmt: str) -> str:
    """The usual extension of ``fmt`` (``.parquet``), for default file names."""
    return FORMATS[fmt].extensions[0]


def table_text(fmt: str, rows: "pd.DataFrame", document: dict[str, Any]) -> str:
    """A text format's contents: ``rows`` (CSV, JSONL) or the whole ``document`` (JSON)."""
    if fmt == "csv":
        return rows.to_csv(index=False)
    if fmt == "json":
        return json_text(document)
    if fmt == "jsonl":
        return "".join(json.dumps(record, allow_nan=False) + "\n" for record in _records(rows))
    raise UsageError(f"{fmt} is not a text format")


def json_text(document: dict[str, Any]) -> str:
    """A JSON output's text: indented, no NaN (strict JSON), ending in a newline."""
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def csv_text(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """What ``pandas.DataFrame(rows, columns=columns).to_csv(index=False)`` writes, for
    columns of ints, floats, strings, booleans and None, without importing pandas (0.35 s,
    a tenth of finding the shots of a small file). As pandas types them: a column of numbers
    holding a float or a None is a float column (1 -> ``1.0``, None -> empty)."""
    floats = {c for c in columns if _is_float_column([row.get(c) for row in rows])}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(row.get(c), c in floats) for c in columns])
    return out.getvalue()


def _is_float_column(values: list[Any]) -> bool:
    numbers = [v for v in values if v is not None]
    if not numbers or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers):
        return False
    return len(numbers) < len(values) or any(isinstance(v, float) for v in numbers)


def _csv_value(value: Any, is_float: bool) -> Any:
    if value is None or (is_float and math.isnan(value)):
        return ""
    return repr(float(value)) if is_float else value


def write_table(path: str | Path, fmt: str, rows: "pd.DataFrame", document: dict[str, Any], *, rows_key: str) -> None:
    """Write one table atomically in ``fmt``. ``rows`` are the CSV's rows; ``document`` is the
    JSON output, whose ``rows_key`` entry holds the rows (left out of Parquet's metadata)."""
    if fmt == "parquet":
        atomic_write_bytes(path, parquet_bytes(rows, {k: v for k, v in document.items() if k != rows_key}))
    else:
        atomic_write_text(path, table_text(fmt, rows, document))


def parquet_bytes(rows: "pd.DataFrame", metadata: dict[str, Any]) -> bytes:
    """``rows`` as a Parquet file with ``metadata`` (as JSON) under :data:`PARQUET_METADATA_KEY`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(rows, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           PARQUET_METADATA_KEY: json.dumps(metadata, allow_nan=False).encode()})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def read_parquet_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata vidscan stored in a Parquet file it wrote (an empty dict if none)."""
    import pyarrow.parquet as pq

    raw = (pq.read_schema(path).metadata or {}).get(PARQUET_METADATA_KEY)
    return json.loads(raw) if raw else {}


def _is_stream(path: str | Path) -> bool:
    """An existing special file (``/dev/null``, a named pipe, a socket), whose name names no format."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _records(rows: "pd.DataFrame") -> list[dict[str, Any]]:
    """Rows as plain Python values (NaN/None -> null), so JSONL parses back to the CSV's frame."""
    return json.loads(rows.to_json(orient="records"))
