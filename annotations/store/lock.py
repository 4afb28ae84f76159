"""The writers' lock of a DB: an exclusive ``fcntl.flock`` on a file beside it, waited for up to a timeout.

This is what filelock's Unix lock does, in the lines goldspan needs. filelock 4 loads some twenty
modules for what goldspan never uses (soft locks, Windows, asyncio, undoing an acquisition cut off
by a signal), all before the first paint (docs/performance.md has what that cost). goldspan runs on POSIX
systems only (a compaction fsyncs the DB's folder, which Windows cannot open) and takes the lock
from one thread. A flock belongs to the open file, so the kernel releases it when its holder dies,
however it dies: a killed writer never leaves the DB locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

POLL_SECONDS = 0.05


class LockTimeout(TimeoutError):
    pass


class FileLock:
    """Reentrant within its process: a nested acquire only counts, the outermost release unlocks."""

    def __init__(self, path: str | Path, *, timeout: float, mode: int) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.mode = mode
        self._fd: int | None = None
        self._depth = 0

    @property
    def is_locked(self) -> bool:
        return self._depth > 0

    def acquire(self) -> None:
        """Take the lock, waiting for another process to release it; LockTimeout after ``timeout`` s."""
        if self._depth:
            self._depth += 1
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, self.mode)
        try:
            # The umask may have narrowed the mode os.open gave; only the file's owner may widen it.
            with contextlib.suppress(PermissionError):
                os.fchmod(fd, self.mode)
            deadline = time.monotonic() + self.timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockTimeout(f"{self.path}: held by another process for {self.timeout:g} s") from None
                    time.sleep(POLL_SECONDS)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._depth = fd, 1

    def release(self) -> None:
        if not self._depth:
            return
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
