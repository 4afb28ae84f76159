"""The writers' lock against real processes: another holder makes a writer wait and then say so, a
holder's death frees it, and a shared DB's lock file stays writable by its group."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from goldspan.annotations.store import journal as storage
from goldspan.annotations.errors import StoreWriteError
from goldspan.annotations.store.lock import FileLock, LockTimeout
from goldspan.annotations.store import Store

HOLDER = """
import sys
from goldspan.annotations.store.lock import FileLock
lock = FileLock(sys.argv[1], timeout=10, mode=0o600)
lock.acquire()
print("held", flush=True)
sys.stdin.read()  # holds the lock until the parent closes this pipe, or kills it
lock.release()
"""


@pytest.fixture
def holder(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Start a process that takes the lock of a path and holds it."""
    children: list[subprocess.Popen[str]] = []

    def start(path: Path) -> subprocess.Popen[str]:
        child = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stdout.readline() == "held\n"
        children.append(child)
        return child

    yield start
    for child in children:
        child.kill()
        child.wait()


def test_a_lock_held_by_another_process_times_out_and_is_free_once_that_process_lets_go(tmp_path: Path, holder) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "g.json.lock"
    child = holder(path)
    lock = FileLock(path, timeout=0.2, mode=0o600)
    with pytest.raises(LockTimeout, match="g.json.lock"):
        lock.acquire()
    assert not lock.is_locked
    child.communicate("")  # it releases and exits
    lock.acquire()
    assert lock.is_locked
    lock.release()


def test_a_holder_killed_with_sigkill_leaves_the_lock_free(tmp_path: Path, holder) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "g.json.lock"
    child = holder(path)
    child.send_signal(signal.SIGKILL)
    child.wait()
    lock = FileLock(path, timeout=5, mode=0o600)
    lock.acquire()
    assert lock.is_locked
    lock.release()


def test_the_lock_is_reentrant_and_the_outermost_release_frees_it(tmp_path: Path, holder) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "g.json.lock"
    lock = FileLock(path, timeout=5, mode=0o600)
    lock.acquire()
    lock.acquire()
    lock.release()
    assert lock.is_locked
    lock.release()
    assert not lock.is_locked
    holder(path)  # another process can now take it: the fixture checks that it said so


def test_a_shared_lock_file_is_group_writable_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "g.json.lock"
    old = os.umask(0o022)
    try:
        lock = FileLock(path, timeout=1, mode=0o660)
        lock.acquire()
        lock.release()
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o660


def test_a_store_waiting_too_long_for_the_lock_says_which_file_and_changes_nothing(
    tmp_path: Path, holder, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    db = tmp_path / "g.json"
    Store(db).close()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    holder(db.with_name("g.json.lock"))
    monkeypatch.setattr(storage, "LOCK_TIMEOUT", 0.2)
    with pytest.raises(StoreWriteError, match=r"g\.json\.lock: another goldspan process has held the lock"):
        Store(db)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
