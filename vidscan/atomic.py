"""Every output vidscan writes goes through here: where it may go, and how it is written.

The rules, in one place (README "Exit codes"):

* **What may be replaced.** A missing path or a regular file is written to a temp file in the
  same folder, fsynced and renamed over it, so a failed or interrupted write never leaves a
  half-written file and never replaces a good output with a broken one. A character device or
  a FIFO (``-o /dev/null``, ``-o >(gzip > x.gz)``) is written *through* (opened and written,
  no temp file, no rename), so it stays what it is. Anything else (a directory, a block
  device, a socket) is refused: :class:`~vidscan.errors.OutputError`, exit code 5.
* **Inputs are never outputs.** A target that is the same file as an input of the run (the
  same path, a symlink to it or a hard link: same ``st_dev``/``st_ino``) is refused (exit 5).
* **Symlinks.** A symlink given as an output is followed, as shell redirection does (the link
  stays, the file it points to is replaced). Files a command places in its own folders (the
  batch's run files) are written with ``follow_symlinks=False``: a link planted there is refused.
* **Temp names** are short and recognisable, ``.vs-<8 hex>.tmp`` (:data:`TEMP_NAME`), so a
  255-byte output name still works and :func:`sweep_temp_files` can find leftovers.
* **Checked up front, committed together.** :class:`Outputs` checks every output of a run
  before any decoding (:func:`check_target`), then, while it is active, stages every write to
  those outputs as a temp file and renames them all into place only when the run succeeded;
  on any failure (disk full, an error, Ctrl-C, SIGTERM) it removes them all, and any folder
  it created, so a failed run writes none of its outputs.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import os
import re
import secrets
import shutil
import signal
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Iterator

from vidscan.errors import OutputError

#: Every temp file vidscan writes is named like this (and nothing else is); an external encoder
#: that picks its format by the extension gets the output's extension after ``.tmp``.
TEMP_NAME = re.compile(r"\.vs-[0-9a-f]{8}\.tmp(\.[A-Za-z0-9]{1,8})?")
#: Temp names of vidscan 0.1 (``.<output name>.<mkstemp's 8 characters>.tmp``), still swept.
LEGACY_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")

_StrPath = str | os.PathLike


def is_temp_name(name: str, legacy: bool = False) -> bool:
    """Is ``name`` one of vidscan's temp file names (``legacy``: also 0.1's)?"""
    return bool(TEMP_NAME.fullmatch(name) or (legacy and LEGACY_TEMP_NAME.fullmatch(name)))


@dataclass(frozen=True)
class Target:
    """An output path that passed :func:`check_target`."""

    path: Path   # as given
    real: Path   # where it is written (a followed symlink resolved)
    kind: str    # "new" (missing), "file" (regular, replaced), "stream" (char device/FIFO, written through), "folder"


def check_target(path: _StrPath, *, inputs: Iterable[_StrPath] = (), folder: bool = False, follow_symlinks: bool = True) -> Target:
    """Check that ``path`` can be written as an output (a folder of outputs with ``folder``);
    raises :class:`OutputError` (exit 5) with the reason. Writes nothing."""
    given = Path(path)
    shown = str(path)
    if not str(path):
        raise OutputError("empty output path")
    st = _lstat(given, shown)
    real = Path(os.path.abspath(given))
    if st is not None and stat.S_ISLNK(st.st_mode):
        if not follow_symlinks:
            raise OutputError("is a symlink; refusing to follow it out of the output folder (remove it)", path=shown)
        try:
            followed = os.stat(given)  # follows /dev/stdout -> /proc/self/fd/1 -> a pipe, which realpath cannot name
        except FileNotFoundError:
            followed = None
        except OSError as exc:  # ELOOP
            raise OutputError(f"cannot write here: {exc.strerror or exc}", path=shown) from None
        if followed is not None and (stat.S_ISCHR(followed.st_mode) or stat.S_ISFIFO(followed.st_mode)):
            if not os.access(given, os.W_OK):
                raise OutputError(f"cannot write: permission denied on this {_describe(followed.st_mode)}", path=shown)
            return Target(given, real, "stream")  # opened through the link
        real = Path(os.path.realpath(given))
        st = _lstat(real, shown)
    if st is None:
        _check_creatable(real, shown)
        return Target(given, real, "folder" if folder else "new")
    mode = st.st_mode
    if folder:
        if not stat.S_ISDIR(mode):
            raise OutputError(f"exists and is not a folder ({_describe(mode)})", path=shown)
        if not os.access(real, os.W_OK | os.X_OK):
            raise OutputError("cannot write here: permission denied", path=shown)
        return Target(given, real, "folder")
    if stat.S_ISDIR(mode):
        raise OutputError("is a directory, not a file", path=shown)
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        if not os.access(real, os.W_OK):
            raise OutputError(f"cannot write: permission denied on this {_describe(mode)}", path=shown)
        return Target(given, real, "stream")
    if not stat.S_ISREG(mode):
        raise OutputError(f"is a {_describe(mode)}, not a regular file; refusing to replace it", path=shown)
    _refuse_inputs(real, inputs, shown)
    if not os.access(real.parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write here: permission denied on {real.parent}", path=shown)
    return Target(given, real, "file")


def _lstat(path: Path, shown: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:  # ENOTDIR (a file where a folder should be), ENAMETOOLONG, EACCES, ELOOP
        raise OutputError(f"cannot write here: {exc.strerror or exc}", path=shown) from None


def _check_creatable(real: Path, shown: str) -> None:
    """The nearest existing folder above ``real`` must be a writable folder, and the name must fit."""
    folder = real.parent
    while True:
        try:
            st = os.stat(folder)
            break
        except FileNotFoundError:
            if folder == folder.parent:
                raise OutputError("cannot write here: no existing folder above it", path=shown) from None
            folder = folder.parent
        except OSError as exc:
            raise OutputError(f"cannot write here: {exc.strerror or exc}", path=shown) from None
    if not stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write here: {folder} is not a folder", path=shown)
    if not os.access(folder, os.W_OK | os.X_OK):
        reason = "read-only file system" if _read_only(folder) else "permission denied"
        raise OutputError(f"cannot write here: {reason} on {folder}", path=shown)
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    for part in real.relative_to(folder).parts:
        if len(os.fsencode(part)) > limit:
            raise OutputError(f"file name too long ({len(os.fsencode(part))} bytes; this file system allows {limit})", path=shown)


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def _refuse_inputs(real: Path, inputs: Iterable[_StrPath], shown: str) -> None:
    """Refuse ``real`` if it is the same file as one of ``inputs`` (path, symlink or hard link)."""
    try:
        st = os.stat(real)
    except OSError:
        return
    for item in inputs:
        if item is None or str(item) in ("", "-"):
            continue
        try:
            other = os.stat(item)
        except OSError:
            continue
        if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino) or os.path.realpath(item) == str(real):
            raise OutputError(f"is an input of this run ({item}); refusing to overwrite it", path=shown)


def _describe(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "directory"), (stat.S_ISCHR, "character device"), (stat.S_ISFIFO, "FIFO"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"), (stat.S_ISLNK, "symlink"), (stat.S_ISREG, "regular file")):
        if test(mode):
            return name
    return "special file"


# -- a run's outputs: declared and checked up front, staged, committed together ---------------

_ACTIVE: contextvars.ContextVar["Outputs | None"] = contextvars.ContextVar("vidscan_outputs", default=None)


@dataclass
class _Staged:
    target: Target
    tmp: Path | None = None          # a temp file beside the target (renamed over it on commit)
    spool: IO[bytes] | None = None   # for a stream target: the bytes, written through on commit


class Outputs:
    """The outputs of one run. Declare them (:meth:`file`, :meth:`folder`: checked at once),
    then do the writing inside ``with outputs:``. Every :func:`atomic_open` of a declared file,
    or of a file directly inside a declared folder, is staged; on a clean exit all are put in
    place (streams written through first, then renames, in the order written), on an exception
    all are removed, with the folders created for them, and nothing is replaced."""

    def __init__(self, inputs: Iterable[_StrPath | None] = ()) -> None:
        self.inputs = [str(i) for i in inputs if i is not None and str(i) not in ("", "-")]
        self._files: dict[str, Target] = {}
        self._folders: dict[str, Target] = {}
        self._staged: list[_Staged] = []
        self._created: list[Path] = []
        self._discard: list[Path] = []
        self._after: list = []
        self._token: contextvars.Token | None = None

    # -- declaring -------------------------------------------------------------------------
    def file(self, path: _StrPath, *, follow_symlinks: bool = True) -> Path:
        """Declare an output file; raises :class:`OutputError` if it cannot be written."""
        key = os.path.abspath(path)
        target = check_target(path, inputs=self.inputs, follow_symlinks=follow_symlinks)
        for other in self._files.values():
            if other.real == target.real and target.kind != "stream":
                raise OutputError(f"is given for two outputs ({other.path} too)", path=str(path))
        self._files[key] = target
        return Path(path)

    def folder(self, path: _StrPath) -> Path:
        """Declare a folder that receives output files (created on commit if missing)."""
        self._folders[os.path.abspath(path)] = check_target(path, folder=True)
        return Path(path)

    def covers(self, path: _StrPath) -> bool:
        key = os.path.abspath(path)
        return key in self._files or os.path.dirname(key) in self._folders

    def after_commit(self, action) -> None:
        """Call ``action()`` once the outputs are in place (e.g. to say what was written)."""
        self._after.append(action)

    def discard(self, path: _StrPath) -> None:
        """Remove ``path`` (an output of an earlier run) once the new outputs are in place."""
        self._discard.append(Path(path))

    # -- the transaction -------------------------------------------------------------------
    def __enter__(self) -> "Outputs":
        self._token = _ACTIVE.set(self)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._token is not None:
            _ACTIVE.reset(self._token)
            self._token = None
        if exc_type is None:
            self.commit()
        else:
            self.rollback()

    def commit(self) -> None:
        staged, self._staged = self._staged, []
        try:
            for item in staged:  # streams first: a failed write-through leaves nothing replaced
                if item.spool is not None:
                    item.spool.seek(0)
                    _write_through(item.target, lambda handle, s=item.spool: shutil.copyfileobj(s, handle), "wb", None)
            with _signals_held():  # Ctrl-C or SIGTERM now would leave some renamed and some not: they wait
                folders = set()
                for item in staged:
                    if item.tmp is not None:
                        os.replace(item.tmp, item.target.real)
                        item.tmp = None
                        folders.add(item.target.real.parent)
                for folder in folders:
                    fsync_dir(folder)
        except BaseException as exc:
            self._staged = staged
            self.rollback()
            if isinstance(exc, OSError):
                raise OutputError(f"cannot put the outputs in place: {exc.strerror or exc}") from exc
            raise
        for item in staged:
            _close(item.spool)
        self._created = []
        for path in self._discard:
            with contextlib.suppress(OSError):
                path.unlink()
        self._discard = []
        after, self._after = self._after, []
        for action in after:
            action()

    def rollback(self) -> None:
        for item in self._staged:
            if item.tmp is not None:
                with contextlib.suppress(OSError):
                    item.tmp.unlink()
            _close(item.spool)
        self._staged = []
        _remove_created(self._created)
        self._created = []
        self._discard = []
        self._after = []


def active_outputs() -> "Outputs | None":
    """The :class:`Outputs` whose ``with`` block is running, if any."""
    return _ACTIVE.get()


@contextlib.contextmanager
def output_group(files: Iterable[_StrPath] = (), folders: Iterable[_StrPath] = (), inputs: Iterable[_StrPath | None] = ()) -> Iterator[Outputs]:
    """The active :class:`Outputs` if it already covers ``files`` and ``folders`` (a command
    that declared them), else a new one for them: library functions that write several files
    use it so that they, too, write all of them or none."""
    files, folders = list(files), list(folders)
    outer = _ACTIVE.get()
    if outer is not None and all(outer.covers(f) for f in files) and all(os.path.abspath(d) in outer._folders for d in folders):
        yield outer
        return
    outputs = Outputs(inputs)
    for f in files:
        outputs.file(f)
    for d in folders:
        outputs.folder(d)
    with outputs:
        yield outputs


def discard_output(path: _StrPath) -> None:
    """Remove an earlier run's output file: after the commit inside :class:`Outputs`, now otherwise."""
    outputs = _ACTIVE.get()
    if outputs is not None:
        outputs.discard(path)
    else:
        Path(path).unlink(missing_ok=True)


# -- writing one file -------------------------------------------------------------------------

@contextlib.contextmanager
def atomic_open(path: _StrPath, mode: str = "w", encoding: str | None = "utf-8", *, follow_symlinks: bool = True) -> Iterator[IO]:
    """Open ``path`` for writing under the rules of this module.

    ``mode`` is ``"w"`` (text) or ``"wb"`` (binary). A regular (or missing) file gets a temp
    file beside it that is renamed over it when the body succeeds (or, inside an active
    :class:`Outputs` that declared it, when the whole run succeeds); if the body raises, the
    temp file is removed and ``path`` is left untouched. A character device or FIFO is
    written through. Anything else raises :class:`OutputError`.
    """
    if mode not in ("w", "wb"):
        raise ValueError("atomic_open supports modes 'w' and 'wb'")
    outputs = _ACTIVE.get()
    if outputs is not None and not outputs.covers(path):
        outputs = None
    target = check_target(path, inputs=outputs.inputs if outputs else (), follow_symlinks=follow_symlinks)
    if target.kind == "stream":
        if outputs is None:
            with _write_through_handle(target, mode, encoding) as handle:
                yield handle
            return
        spool = tempfile.TemporaryFile()  # unnamed: nothing to clean up, whatever happens
        try:
            with _wrap(os.dup(spool.fileno()), mode, encoding) as handle:
                yield handle
        except BaseException:
            spool.close()
            raise
        outputs._staged.append(_Staged(target, spool=spool))
        return
    shown = str(target.path)
    created: list[Path] = []
    try:
        created = _make_folders(target.real.parent)
        fd, tmp = _temp_file(target.real.parent)
    except OSError as exc:
        _remove_created(created)
        raise OutputError(f"cannot write here: {exc.strerror or exc}", path=shown) from exc
    try:
        with _wrap(fd, mode, encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _keep_existing_permissions(target.real, tmp)
        if outputs is not None:
            outputs._staged.append(_Staged(target, tmp=tmp))
            outputs._created += created
            return
        os.replace(tmp, target.real)
        fsync_dir(target.real.parent)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        _remove_created(created)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write: {exc.strerror or exc}", path=shown) from exc
        raise


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back (delivered on exit) while outputs are renamed into place."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _wrap(fd: int, mode: str, encoding: str | None) -> IO:
    binary = "b" in mode
    return open(fd, mode, encoding=None if binary else encoding, newline=None if binary else "")


@contextlib.contextmanager
def _write_through_handle(target: Target, mode: str, encoding: str | None) -> Iterator[IO]:
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(target.real, flags)
        kind = os.fstat(fd).st_mode
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", path=str(target.path)) from exc
    if not (stat.S_ISCHR(kind) or stat.S_ISFIFO(kind)):  # it changed since the check
        os.close(fd)
        raise OutputError("is no longer a device or FIFO; refusing to write into it in place", path=str(target.path))
    try:
        with _wrap(fd, mode, encoding) as handle:
            yield handle
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", path=str(target.path)) from exc


def _write_through(target: Target, body, mode: str, encoding: str | None) -> None:
    with _write_through_handle(target, mode, encoding) as handle:
        body(handle)


def _temp_file(folder: Path, suffix: str = "") -> tuple[int, Path]:
    """A new empty file ``folder/.vs-<8 hex>.tmp[suffix]`` (mode 0600), opened for writing."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = folder / f".vs-{secrets.token_hex(4)}.tmp{suffix}"
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue
    raise OSError(errno.EEXIST, "no free temp file name")


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; returns those created, outermost first."""
    missing: list[Path] = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        if probe == probe.parent:
            break
        probe = probe.parent
    created: list[Path] = []
    try:
        for path in reversed(missing):
            path.mkdir()
            created.append(path)
    except FileExistsError:
        pass
    except OSError:
        _remove_created(created)
        raise
    return created


def _remove_created(created: list[Path]) -> None:
    """Remove folders a failed write created (innermost first), if they are empty."""
    for path in reversed(created):
        with contextlib.suppress(OSError):
            path.rmdir()


def _close(handle: IO | None) -> None:
    if handle is not None:
        with contextlib.suppress(OSError):
            handle.close()


def _keep_existing_permissions(target: Path, tmp: Path) -> None:
    """The temp file is 0600; give the output the mode the file it replaces had, or a normal open()'s."""
    try:
        mode = target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)


def fsync_dir(folder: Path) -> None:
    """fsync a folder, so a rename in it survives a crash (best effort: some file systems refuse)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def staged_path(path: _StrPath, *, inputs: Iterable[_StrPath] = ()) -> Iterator[Path]:
    """For a writer that needs a file name (an external encoder such as ffmpeg): yields a temp
    path (``.vs-<8 hex>.tmp<ext>``, ``<ext>`` being ``path``'s extension); when the body
    succeeds it is put in place under the rules of this module, otherwise removed."""
    suffix = Path(path).suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", Path(path).suffix) else ""
    target = check_target(path, inputs=inputs)
    try:
        if target.kind == "stream":
            fd, name = tempfile.mkstemp(prefix=".vs-", suffix=suffix)  # the system temp folder: the stream's may hold none
            tmp, created = Path(name), []
        else:
            created = _make_folders(target.real.parent)
            fd, tmp = _temp_file(target.real.parent, suffix)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot write here: {exc.strerror or exc}", path=str(path)) from exc
    outputs = active_outputs()
    staged = False
    try:
        yield tmp
        if target.kind == "stream":
            with open(tmp, "rb") as src, atomic_open(path, "wb") as dst:  # written through (or spooled, in a transaction)
                shutil.copyfileobj(src, dst)
        else:
            _keep_existing_permissions(target.real, tmp)
            if outputs is not None and outputs.covers(path):
                outputs._staged.append(_Staged(target, tmp=tmp))
                outputs._created += created
                staged = True
            else:
                os.replace(tmp, target.real)
                fsync_dir(target.real.parent)
    except BaseException as exc:
        _remove_created(created)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write: {exc.strerror or exc}", path=str(path)) from exc
        raise
    finally:
        if not staged:
            with contextlib.suppress(OSError):
                tmp.unlink()


def atomic_write_text(path: _StrPath, text: str, *, follow_symlinks: bool = True) -> None:
    """Write ``text`` to ``path`` under the rules of this module."""
    with atomic_open(path, "w", follow_symlinks=follow_symlinks) as handle:
        handle.write(text)


def atomic_write_bytes(path: _StrPath, data: bytes, *, follow_symlinks: bool = True) -> None:
    """Write ``data`` to ``path`` under the rules of this module."""
    with atomic_open(path, "wb", follow_symlinks=follow_symlinks) as handle:
        handle.write(data)


def sweep_temp_files(root: _StrPath, *, legacy: bool = True) -> int:
    """Remove vidscan's own temp files (:data:`TEMP_NAME`, and 0.1's names with ``legacy``)
    anywhere under ``root``, without following symlinks; returns how many. For a folder only
    vidscan writes (a batch's ``--out``), at the start of a run that holds its lock."""
    removed = 0
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in files:
            if is_temp_name(name, legacy):
                path = Path(folder) / name
                with contextlib.suppress(OSError):
                    if stat.S_ISREG(os.lstat(path).st_mode):
                        path.unlink()
                        removed += 1
    return removed
