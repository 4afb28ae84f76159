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
    assert done.returncode == 0 and not done.stderr, f"{operation}, call {at} failing: a crash\n{done.stderr}"
    calls = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return done.stdout.strip(), calls


def contents(db: Path) -> dict[str, Any]:
    """Every record of the DB, as a fresh open in this process reads it (journal replayed); without the
    time each was saved at, which differs from run to run."""
    with Store(db) as store:
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
            assert not [p.name for p in db.parent.iterdir() if p.name.endswith(".tmp")], f"{where}: a temporary file was left"
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
