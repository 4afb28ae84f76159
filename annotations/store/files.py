"""The files of a DB: reading the main file, replacing it atomically, and what makes a path unwritable."""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import stat
import tempfile
import zlib
from pathlib import Path
from typing import Any, BinaryIO, Callable

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


class MappedFile:
    """A file's bytes through ``mmap``: the kernel pages in what is read, and those pages are the page
    cache's, not this process's memory, so a DB of 1.3 GB open costs only what is looked at.

    A file replaced by another process (``os.replace``, as every goldspan write does) stays mapped as
    the file it was. A file cut short in place by some other program would make a read past its new
    end kill the process (SIGBUS), so every read first checks the file's size (one ``fstat``) and
    refuses with one line instead."""

    def __init__(self, path: Path, handle: BinaryIO) -> None:
        self.path = path
        self._handle = handle
        st = os.fstat(handle.fileno())
        self.signature = (st.st_ino, st.st_mtime_ns, st.st_size)
        self.size = st.st_size
        self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if st.st_size else None

    def read(self, start: int, end: int) -> bytes:
        if end > self.size or start > end or start < 0:
            raise StoreError(f"{self.path}: a read past the end of the file (bytes {start}-{end} of {self.size:,}); its index is damaged.")
        if os.fstat(self._handle.fileno()).st_size < end:
            raise StoreError(
                f"{self.path}: the file was cut short while goldspan had it open (another program truncated it); "
                "nothing was read from the shortened part. Restore the file from a copy."
            )
        return b"" if self._map is None else self._map[start:end]

    def whole(self) -> bytes:
        return self.read(0, self.size)

    def crc32(self, start: int = 0, end: int | None = None) -> int:
        """The CRC-32 of bytes ``start..end`` (all of them by default), read in place, never copied."""
        end = self.size if end is None else end
        self.read(end, end)  # the size checks, before the pages are touched
        if self._map is None or start >= end:
            return 0
        with memoryview(self._map) as whole, whole[start:end] as part:
            return zlib.crc32(part)

    def close(self) -> None:
        if self._map is not None:
            with contextlib.suppress(BufferError):  # a slice still in use keeps the map; the kernel frees it with the process
                self._map.close()
        self._handle.close()


def read_from(path: Path, offset: int = 0, end: int | None = None) -> bytes | None:
    """The file's bytes from ``offset`` (to ``end``); None for a file not there (removed by another
    process's fold, say). A read the system refuses is said in one line, never a raw OSError."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            return handle.read() if end is None else handle.read(max(0, end - offset))
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StoreError(f"{path}: cannot be read ({error.strerror}).") from None


def open_mapped(path: Path) -> MappedFile | None:
    """The file mapped, with the signature of the very file mapped; None for a file not yet created."""
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StoreError(f"{path}: cannot be read ({error.strerror}).") from None
    try:
        return MappedFile(path, handle)
    except (OSError, ValueError) as error:
        handle.close()
        raise StoreError(f"{path}: cannot be read ({getattr(error, 'strerror', None) or error}).") from None


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


def already_shared(*paths: Path) -> bool:
    """Whether a DB's existing files are group-writable: made with --shared, for a team."""
    for path in paths:
        try:
            if path.stat().st_mode & stat.S_IWGRP:
                return True
        except OSError:
            continue
    return False


def write_atomically(path: Path, payload: bytes | Callable[[BinaryIO], None], file_mode: int) -> None:
    """Replace ``path`` with ``payload`` (bytes, or a function that writes them to a file) so that a
    reader or a crash sees the old file or the new, never a mix."""
    replace_with(write_beside(path, payload, file_mode), path)


def write_beside(path: Path, payload: bytes | Callable[[BinaryIO], None], file_mode: int, tag: str = "") -> Path:
    """``payload`` written and fsync'd to a new temporary file beside ``path``, to be renamed over it
    (``replace_with``). ``tag`` names the temporary file (a fold's, which no open may take for a crash's)."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.{tag}", suffix=".tmp", dir=folder)
    except OSError as error:
        raise StoreWriteError(f"{path}: cannot save, the folder is not writable ({error.strerror}).") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), file_mode)
            if callable(payload):
                payload(handle)
            else:
                handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        if isinstance(error, OSError):
            raise StoreWriteError(f"{path}: the save did not reach the disk ({error.strerror}); the file is as it was.") from None
        raise
    return Path(temp_name)


def replace_with(temp: Path, path: Path) -> None:
    """Rename ``temp`` over ``path`` atomically and make the rename durable (the folder fsync'd)."""
    try:
        try:
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        fsync_folder(path.parent if str(path.parent) else Path("."))
    except OSError as error:
        raise StoreWriteError(f"{path}: the save did not reach the disk ({error.strerror}); the file is as it was.") from None


def fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
