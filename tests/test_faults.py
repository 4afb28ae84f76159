"""I/O faults the way SQLite tests them: each store operation is run once per I/O call it makes, with
that call failing (EIO, ENOSPC, EDQUOT or EACCES), in a child process under a shim loaded with
LD_PRELOAD (tests/helpers/faults.c). After each run, in this process: the failure was reported
(a goldspan error, never silence or a raw OSError), the DB opens, holds every save made before and
nothing half-written (it is as before the operation, or as after it), and the operation done again
succeeds and leaves the DB exactly as a run without faults does."""

from __future__ import annotations

import errno
import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from goldspan.annotations.store import Store

from .helpers import fault_ops

HELPERS = Path(__file__).parent / "helpers"
ERRNOS = {"EIO": errno.EIO, "ENOSPC": errno.ENOSPC, "EDQUOT": errno.EDQUOT, "EACCES": errno.EACCES}
SEED = 20261206
VARIES = ("created", "updated", "since", "expires")  # times of day in records: not the same in two runs
# Operations that load spaCy (a second per run) are run at a seeded sample of their I/O calls, one errno
# each; the rest at every call with two errnos. bench/run.py faults runs every call with every errno.
SAMPLED = {"import": 10}
FULL = os.environ.get("GOLDSPAN_FAULTS") == "full"  # bench/run.py faults: every call, every errno, every operation


@pytest.fixture(scope="session")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None or sys.platform != "linux":
        pytest.skip("the I/O fault shim needs Linux and a C compiler (cc)")
    built = tmp_path_factory.mktemp("shim") / "libgoldspanfaults.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", str(built), str(HELPERS / "faults.c"), "-ldl"], check=True)
    return built


def under_fault(shim: Path, operation: str, db: Path, at: int, code: int) -> tuple[str, list[str]]:
    """Run the operation on ``db`` with I/O call number ``at`` failing with ``code`` (0: none); its
    output, and the calls it made ("N OP FILE ok|FAILED")."""
    log = db.parent.parent / "calls.log"
    env = {**os.environ, "LD_PRELOAD": str(shim), "GOLDSPAN_FAULT_DIR": str(db.parent), "GOLDSPAN_FAULT_AT": str(at),
           "GOLDSPAN_FAULT_ERRNO": str(code), "GOLDSPAN_FAULT_LOG": str(log)}  # fmt: skip
    done = subprocess.run([sys.executable, str(HELPERS / "fault_ops.py"), operation, str(db)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, f"{operation}, call {at} failing: a crash\n{done.stderr}"
    calls = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return done.stdout.strip(), calls


def contents(db: Path) -> dict[str, Any]:
    """Every record of the DB, as a fresh open in this process reads it (journal replayed); without the
    time each was saved at, which differs from run to run."""
    with Store(db, read_only=True) as store:  # read-only: the files stay as the run left them (a writable open tidies)
        return {name: sorted(json.dumps({k: v for k, v in doc.items() if k not in VARIES}, sort_keys=True, ensure_ascii=False)
                             for doc in store.db.table(name).all())
                for name in sorted(store.db.tables())}  # fmt: skip


def prepared(tmp_path: Path) -> Path:
    template = tmp_path / "template" / "db" / "g.json"
    if not template.exists():
        template.parent.mkdir(parents=True)
        fault_ops.prepare(template)
    return template


def fresh_copy(template: Path, where: Path) -> Path:
    shutil.rmtree(where, ignore_errors=True)
    shutil.copytree(template.parent, where / "db")
    return where / "db" / template.name


@pytest.mark.parametrize("operation", list(fault_ops.OPERATIONS))
def test_every_io_call_of_an_operation_made_to_fail(shim: Path, tmp_path: Path, operation: str) -> None:
    template = prepared(tmp_path)
    before = contents(fresh_copy(template, tmp_path / "before"))
    clean = fresh_copy(template, tmp_path / "clean")
    said, calls = under_fault(shim, operation, clean, 0, 0)
    assert said == "done" and calls, said
    after = contents(clean)
    rng = random.Random(f"{SEED}-{operation}")
    cases = reported = 0
    handled: set[str] = set()  # calls whose failure the store did without, the operation whole
    points = range(1, len(calls) + 1)
    sampled = operation in SAMPLED and not FULL
    if sampled:
        points = sorted(rng.sample(points, min(SAMPLED[operation], len(points))))
    per_point = len(ERRNOS) if FULL else 1 if sampled else 2
    for at in points:
        for name in rng.sample(sorted(ERRNOS), per_point):  # of the four errnos, seeded
            db = fresh_copy(template, tmp_path / "case")
            said, made = under_fault(shim, operation, db, at, ERRNOS[name])
            where = f"{operation}: call {at} of {len(calls)} ({calls[at - 1].split(' ', 1)[1].rsplit(' ', 1)[0]}) failing with {name}"
            left = [p.name for p in db.parent.iterdir() if p.name.endswith(".tmp")]
            assert not left, f"{where}: temporary files were left: {left}"
            assert any(line.endswith("FAILED") for line in made), f"{where}: the fault was never hit"
            assert not said.startswith("raw failure"), f"{where}: an OSError escaped the store unreported: {said}"
            now = contents(db)  # opens, in a fresh process
            if said == "done":  # the failed call was one the store may do without (and did): the result must be whole
                handled.add(re.sub(r"\.[\w-]{8}\.tmp$", ".*.tmp", calls[at - 1].split(" ", 1)[1].rsplit(" ", 1)[0]))
                assert now == after, f"{where}: reported done, but the DB is not as after the operation"
            else:
                reported += 1
                assert said.startswith("failed: "), f"{where}: {said}"
                assert now in (before, after), f"{where}: half-written ({said})"
                retry, _ = under_fault(shim, operation, db, 0, 0)
                assert retry == "done", f"{where}: the operation done again, after the fault cleared, said {retry}"
                assert contents(db) == after, f"{where}: after the retry the DB differs from a run without faults"
            cases += 1
    print(f"{operation}: {len(points)} of {len(calls)} I/O calls × {per_point} of {len(ERRNOS)} errnos (seed {SEED}) = {cases} cases: {reported} reported; "
          f"done despite the fault: {', '.join(sorted(handled)) or 'none'}")
    assert reported > 0


CUT_UNDER_A_READER = """
import os, sys
from goldspan.annotations.datamodel import Article
from goldspan.annotations.errors import StoreError
from goldspan.annotations.store import Store
db = sys.argv[1]
articles = [Article.from_text(f"Story {n}\\n" + "Anna Nowak met Jan Kowalski in Gdańsk. " * 40) for n in range(200)]
with Store(db) as store:
    store.add_articles(articles)
    store.compact()
with Store(db, read_only=True) as store:
    os.truncate(db, os.path.getsize(db) // 2)  # another program cuts the file short in place
    try:
        for article in articles:
            store.article(article.id)
        print("read everything")
    except StoreError as error:
        print(f"refused: {error}")
"""


def test_a_main_file_cut_short_under_a_reader_is_refused_in_one_line_not_a_crash(tmp_path: Path) -> None:
    """The store reads its main file through mmap: a read past an end that shrank would be SIGBUS
    (the process killed), not an errno. It checks the size first and says so."""
    db = tmp_path / "cut.json"
    done = subprocess.run([sys.executable, "-c", CUT_UNDER_A_READER, str(db)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"the reader died (status {done.returncode}): {done.stderr}"
    assert done.stdout.startswith("refused: ") and "was cut short while goldspan had it open" in done.stdout, done.stdout
    assert str(db) in done.stdout and len(done.stdout.strip().splitlines()) == 1


def traced_events(trace: bytes) -> list[tuple[str, ...]]:
    """faults.c's trace: C NAME (created), O NAME (truncated on open), W NAME OFFSET SIZE + bytes,
    T NAME LENGTH, S NAME (fsync), R FROM TO, D FOLDER (the folder fsync'd), A (a save returned)."""
    events: list[tuple[str, ...]] = []
    at = 0
    while at < len(trace):
        end = trace.index(b"\n", at)
        head = trace[at:end].decode().split(" ")
        at = end + 1
        if head[0] == "W":
            size = int(head[3])
            events.append((*head, trace[at : at + size].decode("latin-1")))
            at += size
        else:
            events.append(tuple(head))
    return events


class Disk:
    """What a folder's files are after the events so far, and what a power cut could leave of them:
    a file's bytes since its last fsync, and names since the folder's last fsync, may be lost."""

    def __init__(self, folder: Path) -> None:
        self.durable: dict[int, bytes] = {}
        self.current: dict[int, bytearray] = {}
        self.names: dict[str, int] = {}
        for n, path in enumerate(sorted(folder.iterdir())):
            self.durable[n], self.current[n] = path.read_bytes(), bytearray(path.read_bytes())
            self.names[path.name] = n
        self.durable_names = dict(self.names)

    def apply(self, event: tuple[str, ...]) -> None:
        kind = event[0]
        if kind == "C":
            new = max(self.current, default=-1) + 1
            self.durable[new], self.current[new] = b"", bytearray()
            self.names[event[1]] = new
        elif kind == "O":
            self.current[self.names[event[1]]] = bytearray()
        elif kind == "W":
            data, offset = event[4].encode("latin-1"), int(event[2])
            content = self.current[self.names[event[1]]]
            content.extend(b"\0" * max(0, offset - len(content)))
            content[offset : offset + len(data)] = data
        elif kind == "T":
            content = self.current[self.names[event[1]]]
            del content[int(event[2]) :]
        elif kind == "S":
            file = self.names[event[1]]
            self.durable[file] = bytes(self.current[file])
        elif kind == "R":
            self.names[event[2]] = self.names.pop(event[1])
        elif kind == "D":
            self.durable_names = dict(self.names)

    def after_a_cut(self) -> dict[str, dict[str, bytes]]:
        """The folder as a power cut now could leave it: all unsynced data lost, or only the names,
        or only the bytes (a file system may keep either)."""
        return {
            "unsynced names and bytes lost": {name: self.durable[f] for name, f in self.durable_names.items()},
            "unsynced bytes lost": {name: self.durable[f] for name, f in self.names.items()},
            "unsynced names lost": {name: bytes(self.current[f]) for name, f in self.durable_names.items()},
        }


@pytest.mark.parametrize("operation", ["save", "patch", "compact"])
def test_a_power_cut_at_every_point_of_an_operation_loses_no_acknowledged_save(shim: Path, tmp_path: Path, operation: str) -> None:
    """The operation's writes are recorded as issued (faults.c's trace); a power cut after each of
    them is rebuilt, pessimistically, and the DB must open as before the operation or after it, and
    as after it once the operation had said its save was done."""
    template = prepared(tmp_path)
    before = contents(fresh_copy(template, tmp_path / "before"))
    run = fresh_copy(template, tmp_path / "run")
    disk = Disk(run.parent)
    trace = tmp_path / "trace"
    env = {**os.environ, "LD_PRELOAD": str(shim), "GOLDSPAN_FAULT_DIR": str(run.parent), "GOLDSPAN_FAULT_TRACE": str(trace)}
    done = subprocess.run([sys.executable, str(HELPERS / "fault_ops.py"), operation, str(run)], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.strip() == "done", done.stderr
    after = contents(run)
    events = traced_events(trace.read_bytes())
    assert ("A",) in events and any(e[0] == "S" for e in events)
    acknowledged = False
    cuts = 0
    for n, event in enumerate([("start",), *events]):
        if event[0] == "A":
            acknowledged = True
        elif event[0] != "start":
            disk.apply(event)
        for how, files in disk.after_a_cut().items():
            folder = tmp_path / "cut" / "db"
            shutil.rmtree(folder.parent, ignore_errors=True)
            folder.mkdir(parents=True)
            for name, data in files.items():
                (folder / name).write_bytes(data)
            where = f"{operation}: a power cut after event {n} of {len(events)} ({' '.join(event[:3])}), {how}"
            try:
                now = contents(folder / template.name)
            except Exception as error:  # noqa: BLE001 - any refusal here is the finding
                raise AssertionError(f"{where}: the DB does not open: {error}") from None
            if acknowledged:
                assert now == after, f"{where}: a save reported done is missing"
            else:
                assert now in (before, after), f"{where}: half-written"
            cuts += 1
    print(f"{operation}: {len(events)} traced events, {cuts} power-cut states checked")
