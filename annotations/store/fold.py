"""Folding a big DB's journal into its main file in a process of its own.

    python -m goldspan.annotations.store.fold DB [--shared]

A close that finds the journal due for a fold (``journal.should_fold``) on a DB too big to fold in
the blink of an eye starts this and returns: the annotator's quit stays instant, and the fold
(seconds at 200,000 articles) holds the writers' lock only to begin and to finish
(``JournalStorage.fold_beside_writers``), so nobody's saves wait for it. It runs in a session of its
own (a closed terminal does not stop it). While it runs it holds a lock on the second byte of the
DB's lock file (an open-file-description lock; the writers' lock is an ``flock``, a separate lock): a second
close does not start a second fold, and an open does not take its temporary file for a crash's.
A crash of this process loses nothing: the journal is only replaced once the new main file is in place.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Iterator


_FLOCK = "hhqqi4x"  # struct flock on Linux: type, whence, start, length, pid (0 for these locks)


def _lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def _try_fold_lock(fd: int) -> bool:
    """An open-file-description lock on byte 1 of the lock file (Linux): unlike ``lockf`` it is not
    dropped when this process closes another descriptor of the file (the writers' lock does, on every
    release), and it is refused to another descriptor even in the same process. Independent of the
    writers' ``flock``."""
    if not hasattr(fcntl, "F_OFD_SETLK"):
        return True  # no such locks here: folds are then only kept apart by their final check
    try:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 1, 1, 0))
    except OSError:
        return False
    return True


@contextlib.contextmanager
def holding_fold_lock(lock_path: Path) -> Iterator[bool]:
    """Whether this process now holds the fold lock (False: another fold is running)."""
    try:
        fd = os.open(lock_path, os.O_RDWR)
    except OSError:
        yield False
        return
    try:
        yield _try_fold_lock(fd)
    finally:
        os.close(fd)  # releases the lock


def fold_running(lock_path: Path) -> bool:
    """Whether some fold holds the fold lock now (asked of the kernel without taking it)."""
    if not hasattr(fcntl, "F_OFD_GETLK"):
        return False
    try:
        fd = os.open(lock_path, os.O_RDWR)
    except OSError:
        return False
    try:
        answer = fcntl.fcntl(fd, fcntl.F_OFD_GETLK, struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 1, 1, 0))
        return struct.unpack(_FLOCK, answer)[0] != fcntl.F_UNLCK
    except OSError:
        return False
    finally:
        os.close(fd)


def start_background_fold(db: Path, *, shared: bool) -> None:
    """Start the fold and return at once; if it cannot start, the journal keeps everything and the next close tries again."""
    command = [sys.executable, "-m", "goldspan.annotations.store.fold", str(db), *(["--shared"] if shared else [])]
    with contextlib.suppress(OSError):
        subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True
        )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m goldspan.annotations.store.fold DB [--shared]", file=sys.stderr)
        return 2
    db = Path(args[0])
    from ..errors import GoldspanError
    from . import Store

    with holding_fold_lock(_lock_path(db)) as mine:
        if not mine:
            return 0  # another fold is running
        try:
            # Group-writable if the DB is (a team's): the new files keep the mode the DB has.
            shared = "--shared" in args or bool(db.exists() and db.stat().st_mode & 0o020)
            store = Store(db, create=False, shared=shared)
            if store.journal_size:  # another fold may have done it since this one was asked for
                store.storage.fold_beside_writers()
        except GoldspanError as error:
            print(error, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
