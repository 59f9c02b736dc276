"""The batch manifest: one SQLite row per video with its state, so a rerun can resume.

SQLite (stdlib) in WAL mode; every state change is its own transaction, so a run killed at
any instant leaves a consistent file. A row is ``done`` only after all of that video's
outputs are in place (see vidscan.batch.runner), so ``done`` can be trusted; ``running`` rows
left by a dead run are set back to ``pending`` when the next run starts (the lock in
:func:`acquire_lock` guarantees no other run is alive). ``synchronous=NORMAL``: a power cut
may forget the last few ``done`` marks (those videos are redone), never corrupt the file.
A row that does not make sense (edited by hand, written by a buggy version: a column of the
wrong type, ``label_seconds`` that is not a JSON object of numbers) is dropped when it is
read, so its video is redone like a new one; the manifest never stops a run.
"""

from __future__ import annotations

import errno
import json
import math
import os
import socket
import sqlite3
import stat
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterator

from vidscan.errors import OutputError, UsageError

MANIFEST_NAME = "manifest.sqlite"
LOCK_NAME = ".vidscan-batch.lock"
#: Files SQLite keeps beside the manifest.
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
#: Every file the driver itself writes at the top of the output folder (checked for planted links).
RUN_FILES = (LOCK_NAME, MANIFEST_NAME, *(MANIFEST_NAME + s for s in _SQLITE_SIDE_FILES),
             "summary.csv", "summary.parquet", "index.html")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
SCHEMA_VERSION = 1
STATES = ("pending", "running", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS videos (
    key           TEXT PRIMARY KEY,   -- resolved absolute path
    path          TEXT NOT NULL,      -- absolute path as given
    output        TEXT NOT NULL,      -- folder under DIR/videos
    state         TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
    size          INTEGER,            -- input fingerprint: size, mtime_ns (with the key)
    mtime_ns      INTEGER,
    settings      TEXT,               -- settings fingerprint the row's state refers to
    error         TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,   -- times a run started this video
    completions   INTEGER NOT NULL DEFAULT 0,   -- times it was processed to the end (done)
    run_id        INTEGER,
    started_at    REAL,
    finished_at   REAL,
    duration_s    REAL,
    segments      INTEGER,
    label_seconds TEXT,               -- JSON {label: seconds}
    wall_s        REAL,
    x_realtime    REAL
);
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY,
    started_at  REAL NOT NULL,
    finished_at REAL,
    host        TEXT,
    pid         INTEGER,
    engine      TEXT,
    settings    TEXT,
    settings_json TEXT,
    total       INTEGER,
    processed   INTEGER,
    failed      INTEGER
);
"""


@dataclass
class VideoRow:
    key: str
    path: str
    output: str
    state: str
    size: int | None
    mtime_ns: int | None
    settings: str | None
    error: str | None
    attempts: int
    completions: int
    run_id: int | None
    started_at: float | None
    finished_at: float | None
    duration_s: float | None
    segments: int | None
    label_seconds: dict[str, float]
    wall_s: float | None
    x_realtime: float | None


def refuse_links(*paths: Path) -> None:
    """Refuse run files that are symlinks or not regular files (checked with ``lstat``), so a link
    planted in the output folder cannot make SQLite create or write a file outside it."""
    for path in paths:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise OutputError(f"cannot use it: {exc.strerror or exc}", path=str(path)) from None
        if stat.S_ISLNK(st.st_mode):
            raise OutputError("is a symlink; refusing to follow it out of the output folder (remove it)", path=str(path))
        if not stat.S_ISREG(st.st_mode):
            raise OutputError("is not a regular file; refusing to use it", path=str(path))


class Manifest:
    """The manifest of one output folder. Only the driver process opens it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        #: Rows dropped because they did not make sense ("key: why"), for a warning.
        self.dropped: list[str] = []
        refuse_links(self.path, *(self.path.with_name(self.path.name + suffix) for suffix in _SQLITE_SIDE_FILES))
        try:
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o644))  # create it here, never at a link's target
        except OSError as exc:
            raise OutputError(f"cannot open the batch manifest: {exc.strerror or exc}", path=str(self.path)) from None
        try:
            self.conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise UsageError(f"manifest schema version {version} is newer than this vidscan understands", path=str(self.path))
            with self._tx():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise OutputError(f"cannot open the batch manifest ({exc})", path=str(self.path)) from None

    def _tx(self):
        """``with self._tx():`` one transaction (BEGIN IMMEDIATE ... COMMIT, rollback on error)."""
        return _Transaction(self.conn)

    def close(self) -> None:
        try:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.DatabaseError:
            pass
        self.conn.close()

    # -- reading -----------------------------------------------------------------------
    def get(self, key: str) -> VideoRow | None:
        """The row of ``key``; None when there is none or it is invalid (then it is deleted)."""
        row = self.conn.execute("SELECT * FROM videos WHERE key = ?", (key,)).fetchone()
        return None if row is None else self._checked(row)

    def rows(self) -> Iterator[VideoRow]:
        """Every valid row, by path (invalid ones are deleted)."""
        for row in self.conn.execute("SELECT * FROM videos ORDER BY path").fetchall():
            checked = self._checked(row)
            if checked is not None:
                yield checked

    def _checked(self, row: sqlite3.Row) -> VideoRow | None:
        try:
            return parse_row(dict(row))
        except (ValueError, TypeError, KeyError) as exc:
            with self._tx():
                self.conn.execute("DELETE FROM videos WHERE key = ?", (row["key"],))
            self.dropped.append(f"{row['key']}: {exc}")
            return None

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATES}
        for state, n in self.conn.execute("SELECT state, COUNT(*) FROM videos GROUP BY state"):
            out[state] = n
        return out

    # -- state changes (one transaction each) ------------------------------------------
    def reset_stale(self) -> int:
        """``running`` rows of a run that died -> ``pending``; returns how many."""
        with self._tx():
            cur = self.conn.execute("UPDATE videos SET state = 'pending' WHERE state = 'running'")
            return cur.rowcount

    def mark_pending(self, key: str, path: str, output: str) -> None:
        with self._tx():
            self.conn.execute(
                "INSERT INTO videos (key, path, output, state) VALUES (?, ?, ?, 'pending') "
                "ON CONFLICT(key) DO UPDATE SET path = excluded.path, output = excluded.output, state = 'pending'",
                (key, path, output),
            )

    def mark_running(self, key: str, size: int, mtime_ns: int, settings: str, run_id: int) -> None:
        with self._tx():
            self.conn.execute(
                "UPDATE videos SET state = 'running', size = ?, mtime_ns = ?, settings = ?, run_id = ?, "
                "attempts = attempts + 1, started_at = ?, error = NULL WHERE key = ?",
                (size, mtime_ns, settings, run_id, time.time(), key),
            )

    def mark_done(self, key: str, *, duration_s: float, segments: int, label_seconds: dict[str, float], wall_s: float) -> None:
        with self._tx():
            self.conn.execute(
                "UPDATE videos SET state = 'done', error = NULL, completions = completions + 1, finished_at = ?, "
                "duration_s = ?, segments = ?, label_seconds = ?, wall_s = ?, x_realtime = ? WHERE key = ?",
                (time.time(), duration_s, segments, json.dumps(label_seconds), wall_s,
                 duration_s / wall_s if wall_s > 0 else None, key),
            )

    def mark_failed(self, key: str, error: str, *, wall_s: float | None = None, size: int | None = None,
                    mtime_ns: int | None = None, settings: str | None = None) -> None:
        with self._tx():
            self.conn.execute(
                "UPDATE videos SET state = 'failed', error = ?, finished_at = ?, wall_s = ?, duration_s = NULL, "
                "segments = NULL, label_seconds = NULL, x_realtime = NULL, "
                "size = COALESCE(?, size), mtime_ns = COALESCE(?, mtime_ns), settings = COALESCE(?, settings) WHERE key = ?",
                (error, time.time(), wall_s, size, mtime_ns, settings, key),
            )

    def start_run(self, engine: str, settings: str, settings_json: dict[str, Any], total: int) -> int:
        with self._tx():
            cur = self.conn.execute(
                "INSERT INTO runs (started_at, host, pid, engine, settings, settings_json, total) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (time.time(), socket.gethostname(), os.getpid(), engine, settings, json.dumps(settings_json, default=str), total),
            )
            return int(cur.lastrowid)

    def finish_run(self, run_id: int, processed: int, failed: int) -> None:
        with self._tx():
            self.conn.execute("UPDATE runs SET finished_at = ?, processed = ?, failed = ? WHERE id = ?", (time.time(), processed, failed, run_id))


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


_TEXT = ("key", "path", "output")
_OPTIONAL_TEXT = ("settings", "error")
_INTS = ("attempts", "completions")
_OPTIONAL_INTS = ("size", "mtime_ns", "run_id", "segments")
_OPTIONAL_FLOATS = ("started_at", "finished_at", "duration_s", "wall_s", "x_realtime")


def parse_row(data: dict[str, Any]) -> VideoRow:
    """A manifest row as a :class:`VideoRow`, checking every column's type (SQLite stores
    whatever it is given); raises ValueError or TypeError on a row that does not make sense."""
    for name in _TEXT:
        if not isinstance(data[name], str) or not data[name]:
            raise TypeError(f"{name} is not a non-empty text")
    for name in _OPTIONAL_TEXT:
        if data[name] is not None and not isinstance(data[name], str):
            raise TypeError(f"{name} is not text")
    if data["state"] not in STATES:
        raise ValueError(f"unknown state {data['state']!r}")
    for name in _INTS + _OPTIONAL_INTS:
        if not (data[name] is None and name in _OPTIONAL_INTS) and type(data[name]) is not int:
            raise TypeError(f"{name} is not an integer")
    for name in _OPTIONAL_FLOATS:
        value = data[name]
        if value is not None and (type(value) not in (int, float) or not math.isfinite(value)):
            raise TypeError(f"{name} is not a number")
    values = {f.name: data[f.name] for f in fields(VideoRow)}
    values["label_seconds"] = parse_label_seconds(data["label_seconds"])
    return VideoRow(**values)


def parse_label_seconds(text: Any) -> dict[str, float]:
    """``label_seconds``: a JSON object {label: seconds}, empty when NULL."""
    if text is None or text == "":
        return {}
    if not isinstance(text, str):
        raise TypeError("label_seconds is not text")
    value = json.loads(text)  # JSONDecodeError is a ValueError
    if not isinstance(value, dict):
        raise TypeError("label_seconds is not a JSON object")
    out = {}
    for label, seconds in value.items():
        if type(seconds) not in (int, float) or not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"label_seconds[{label!r}] is not a number of seconds")
        out[label] = float(seconds)
    return out


class BatchLock:
    """An exclusive lock on the output folder for the life of a run (released by the OS
    when the process dies, even on SIGKILL), so two runs never write the same folder."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> "BatchLock":
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock, documented
            return self
        try:
            # O_NOFOLLOW: a symlink planted in the output folder is refused, never followed out of it.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise OutputError("is a symlink; refusing to follow it out of the output folder (remove it)", path=str(self.path)) from None
            raise OutputError(f"cannot create the lock file: {exc.strerror or exc}", path=str(self.path)) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise OutputError("is not a regular file; refusing to use it as the lock file", path=str(self.path))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise UsageError("another 'vidscan batch' is running on this output folder", path=str(self.path.parent)) from None
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "BatchLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def check_run_files(out_dir: Path) -> None:
    """Refuse (exit 5) an output folder where a symlink (or anything but a regular file) sits
    at the name of a run file: the lock, the manifest and SQLite's files beside it, the
    summaries, before any work (each is checked again where it is opened). Following it would
    create or overwrite a file outside the folder."""
    refuse_links(*(out_dir / name for name in RUN_FILES))
