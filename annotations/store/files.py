"""The files of a DB: reading the main file, replacing it atomically, and what makes a path unwritable."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from ..errors import StoreError, StoreWriteError

Data = dict[str, dict[str, Any]]


def signature(path: Path) -> tuple[int, int, int] | None:
    """Inode, modification time and size: enough to notice another process replacing or growing a file."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def write_all(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def unwritable_reason(path: Path) -> str | None:
    """Why goldspan may not write the DB at ``path`` (or create it there); None when it may.

    A file with no write bit at all counts as read-only on purpose, even for root, who could write it.
    """
    folder = path.parent if str(path.parent) else Path(".")
    try:
        st = path.stat()
    except FileNotFoundError:
        st = None
    if st is not None and not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        return "the file has no write permission"
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return "it is on a read-only file system"
    except OSError:
        pass  # no statvfs here: the access checks below still answer
    if st is not None and not os.access(path, os.W_OK):
        return "you may not write to the file"
    if not folder.is_dir():
        return f"its folder {folder} does not exist" if not folder.exists() else f"{folder} is not a folder"
    if not os.access(folder, os.W_OK):
        return f"you may not write to its folder {folder}"
    return None


def read_main(path: Path) -> tuple[bytes, tuple[int, int, int]] | tuple[None, None]:
    """The main file's bytes and the signature of the very file they were read from; Nones for a file not yet created."""
    try:
        with open(path, "rb") as handle:
            st = os.fstat(handle.fileno())
            return handle.read(), (st.st_ino, st.st_mtime_ns, st.st_size)
    except FileNotFoundError:
        return None, None
    except OSError as error:
        raise StoreError(f"{path}: cannot be read ({error.strerror}).") from None


def parse_main(path: Path, raw: bytes) -> Data:
    """The DB's JSON, parsed whole; a file that is not a set of JSON tables is refused."""
    if not raw.strip():
        raise StoreError(f"{path}: the file is empty, so it is not a goldspan database; it was left untouched.")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise StoreError(f"{path}: not a goldspan database (it is not UTF-8 text); it was left untouched.") from None
    except json.JSONDecodeError as error:
        raise StoreError(
            f"{path}: not a goldspan database, or a damaged one (invalid JSON at line {error.lineno}, "
            f"column {error.colno}: {error.msg}); it was left untouched."
        ) from None
    if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
        raise StoreError(f"{path}: not a goldspan database (its JSON is not a set of TinyDB tables); it was left untouched.")
    return data


def write_atomically(path: Path, payload: bytes, file_mode: int) -> None:
    """Replace ``path`` with ``payload`` so that a reader or a crash sees the old file or the new, never a mix."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise StoreWriteError(f"{path}: cannot save, the folder is not writable ({error.strerror}).") from None
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), file_mode)
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
        fsync_folder(folder)
    except OSError as error:
        raise StoreWriteError(f"{path}: the save did not reach the disk ({error.strerror}); the file is as it was.") from None


def fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
