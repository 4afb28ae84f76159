"""A TinyDB ``Storage`` whose writes are atomic and durable.

Stock ``JSONStorage.write`` rewrites the file in place, so a crash mid-write leaves half a file.
Here every write goes to a temporary file beside the DB, is fsync'd, and replaces the DB with
``os.replace`` (atomic on POSIX), followed by an fsync of the folder so the rename itself survives
a power cut. The data stays an ordinary TinyDB JSON file.

Reads are served from memory after the first, because TinyDB reads the whole storage on every
query. ``deferred()`` groups several TinyDB operations into one write, so one user-level save is
one fsync however many tables it touches.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from tinydb.storages import Storage

from .errors import ReadOnlyStoreError, StoreError, StoreWriteError

Data = dict[str, dict[str, Any]]


class AtomicJSONStorage(Storage):
    def __init__(self, path: str | Path, *, read_only: bool = False, file_mode: int = 0o600) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.file_mode = file_mode
        self._data: Data | None = None
        self._loaded = False
        self._defer_depth = 0
        self._dirty = False

    def read(self) -> Data | None:
        if not self._loaded:
            self._data = read_json_file(self.path)
            self._loaded = True
        return self._data

    def write(self, data: Data) -> None:
        if self.read_only:
            raise ReadOnlyStoreError(f"{self.path}: opened read-only; nothing can be saved to it.")
        self._data = data
        self._loaded = True
        if self._defer_depth:
            self._dirty = True
        else:
            self._flush()

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold writes until the outermost block ends, then write once."""
        self._defer_depth += 1
        try:
            yield
        finally:
            self._defer_depth -= 1
        if self._defer_depth == 0 and self._dirty:
            self._flush()

    def _flush(self) -> None:
        assert self._data is not None
        payload = json.dumps(self._data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._dirty = False
        try:
            write_atomically(self.path, payload, self.file_mode)
        except StoreWriteError:
            # TinyDB changed our cached tables in place; forget them so memory agrees with the disk again.
            self._data, self._loaded = None, False
            raise

    def close(self) -> None:
        pass


def read_json_file(path: Path) -> Data | None:
    """The DB's JSON, or None for a file not yet created; a file that is not JSON is refused."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StoreError(f"{path}: cannot be read ({error.strerror}).") from None
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
        _fsync_folder(folder)
    except OSError as error:
        raise StoreWriteError(f"{path}: the save did not reach the disk ({error.strerror}); the file is as it was.") from None


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
