"""The durable store against real processes: kill -9 at random moments, and four writers at once."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import tinydb

from goldspan.annotations.datamodel import Annotation, Answer, Article, Span
from goldspan.annotations.errors import StoreError
from goldspan.annotations.store import Store

from .conftest import assert_one_line_error, run_goldspan
from .helpers.saver import article_of, edited

SAVER = Path(__file__).parent / "helpers" / "saver.py"


def start_saver(db: Path, worker: str, count: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(SAVER), str(db), worker, str(count), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def reported(output: str) -> list[str]:
    return [line.split()[1] for line in output.splitlines() if line.startswith("saved ")]


def kill_after(child: subprocess.Popen[str], saves: int) -> str:
    """SIGKILL the child once it has reported ``saves`` saves (0: during its start-up), by its own
    progress, not a clock: the same kill points on a fast machine and on a loaded one. Its output."""
    assert child.stdout is not None
    seen: list[str] = []
    while len([line for line in seen if line.startswith("saved ")]) < saves:
        line = child.stdout.readline()
        if not line:
            break  # it ended first
        seen.append(line)
    child.send_signal(signal.SIGKILL)
    child.wait()
    # Not communicate(): with two pipes it reads their file descriptors directly, and the lines that
    # readline() had already taken into child.stdout's buffer (a child that ran ahead of us) were lost,
    # so saves the child reported went uncounted.
    rest = child.stdout.read()
    assert child.stderr is not None
    child.stderr.read()
    child.stdout.close()
    child.stderr.close()
    return "".join(seen) + rest


def test_every_reported_save_survives_kill_9_at_random_moments(tmp_path: Path) -> None:
    db = tmp_path / "crash.json"
    rng = random.Random(20261125)
    promised: list[str] = []
    kills = 0
    planned = 0
    while kills < 50:
        child = start_saver(db, f"run{kills}", 0, "--compact-every", "7")
        saves = rng.randint(0, 16)  # 0: dies starting up; after a 7th or 14th: in or around a compaction
        planned += saves
        out = kill_after(child, saves)
        kills += 1
        promised += reported(out)
        with Store(db) as store:  # must open after every kill, holding every save that was reported
            keys = {a.annotator for a in store.annotations()}
            assert set(promised) <= keys, sorted(set(promised) - keys)[:5]
    assert len(promised) >= planned  # every kill landed where it was meant to (a save may report before the kill lands)
    plain = tinydb.TinyDB(db)  # after the last clean close, plain TinyDB sees all of it
    assert set(promised) <= {doc["annotator"] for doc in plain.table("annotations").all()}
    plain.close()


def test_four_processes_saving_at_once_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "shared.json"
    Store(db).close()
    children = [start_saver(db, f"w{n}", 200) for n in range(4)]
    outputs = [child.communicate(timeout=300) for child in children]
    assert all(child.returncode == 0 for child in children), [err for _, err in outputs]
    assert sum(len(reported(out)) for out, _ in outputs) == 800
    with Store(db, read_only=True) as store:
        assert len(store.annotations()) == 800
        assert len(store.articles()) == 4
    json.loads(db.read_text(encoding="utf-8"))  # the main file is valid JSON
    assert db.with_name("shared.json.journal").stat().st_size == 0  # the last to close compacted it all


def test_another_process_sees_saves_after_a_refresh_and_the_same_key_last_save_wins(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    article = Article.from_text("Title\nMinsk.")
    with Store(db) as one, Store(db) as two:
        one.add_articles([article])
        one.save_annotation(Annotation(article.id, "alice", answer=Answer.ACCEPT))
        assert two.annotation(article.id, "alice") is None  # not looked yet
        two.refresh()
        assert two.annotation(article.id, "alice").answer is Answer.ACCEPT  # type: ignore[union-attr]
        two.save_annotation(Annotation(article.id, "bob", answer=Answer.REJECT))
        two.save_annotation(Annotation(article.id, "alice", answer=Answer.IGNORE))  # same key: the later save wins
        one.refresh()
        assert one.annotation(article.id, "alice").answer is Answer.IGNORE  # type: ignore[union-attr]
        assert one.annotation(article.id, "bob").answer is Answer.REJECT  # type: ignore[union-attr]
        one.compact()  # one compacts while two is open: two must follow
        one.save_annotation(Annotation(article.id, "carol", answer=Answer.ACCEPT))
        two.refresh()
        assert {a.annotator for a in two.annotations()} == {"alice", "bob", "carol"}


def test_a_torn_last_journal_line_is_dropped_with_a_notice(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    article = Article.from_text("Title\nMinsk.")
    crashed = Store(db)  # never closed: as if the process died
    crashed.add_articles([article])
    crashed.save_annotation(Annotation(article.id, "alice", answer=Answer.ACCEPT))
    with open(db.with_name("g.json.journal"), "ab") as handle:  # what a kill mid-append leaves
        handle.write(b'{"table":"annotations","doc":{"article_id":"')
    with Store(db) as store:
        assert any("unfinished last record" in n for n in store.notices)
        assert store.annotation(article.id, "alice").answer is Answer.ACCEPT  # type: ignore[union-attr]
        store.save_annotation(Annotation(article.id, "bob", answer=Answer.REJECT))  # appends after cutting the torn tail
    with Store(db) as store:
        assert store.notices == [] and len(store.annotations()) == 2


def test_a_damaged_journal_line_stops_with_one_line_and_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    crashed = Store(db)  # never closed, so its saves stay in the journal
    crashed.add_articles([Article.from_text("Title\nMinsk.")])
    journal = db.with_name("g.json.journal")
    journal.write_bytes(b"not json at all\n" + journal.read_bytes())
    before = (db.read_bytes(), journal.read_bytes())
    with pytest.raises(StoreError, match="damaged journal"):
        Store(db)
    assert_one_line_error(run_goldspan("stats", "--db", db), "damaged journal")
    assert (db.read_bytes(), journal.read_bytes()) == before


def test_a_db_without_write_permission_opens_read_only(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    article = Article.from_text("Title\nMinsk.")
    with Store(db) as store:
        store.add_articles([article])
    db.chmod(0o444)
    with Store(db) as store:
        assert store.read_only and "read-only" in store.notices[0]
        assert store.article(article.id) == article
        with pytest.raises(StoreError, match="read-only"):
            store.save_annotation(Annotation(article.id, "alice"))


def test_shared_databases_are_group_writable(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    with Store(db, shared=True) as store:
        store.add_articles([Article.from_text("Title\nMinsk.")])
    for path in (db, db.with_name("g.json.journal"), db.with_name("g.json.lock")):
        assert path.stat().st_mode & 0o777 == 0o660, path
    # Opened again without --shared (a teammate who forgot it), saved to and compacted: still the team's.
    with Store(db) as store:
        store.add_articles([Article.from_text("Title\nBrest.")])
        store.compact()
    for path in (db, db.with_name("g.json.journal"), db.with_name("g.json.lock"), db.with_name("g.json.index")):
        if path.exists():
            assert path.stat().st_mode & 0o777 == 0o660, path


def test_a_power_cut_between_compactions_write_and_rename_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "cut.json"
    child = start_saver(db, "cut", 25, "--die-in-compaction")
    out, _ = child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL
    assert len(reported(out)) == 25
    assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())  # the cut left its temp file
    with Store(db) as store:
        assert {a.annotator for a in store.annotations()} == set(reported(out))
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())  # the next writer cleared it


def edits_reported(output: str) -> int:
    return max((int(key.rsplit("-", 1)[1]) for key in reported(output)), default=0)


def labels_in(store: Store, worker: str) -> list[str]:
    record = store.annotation(article_of(worker).id, worker)
    return [] if record is None else [s.label for s in record.spans]


def test_every_reported_edit_survives_kill_9_when_edits_are_journaled_as_patches(tmp_path: Path) -> None:
    """One record of many spans, one relabelled per save: the journal holds patches, not whole records."""
    db = tmp_path / "edits.json"
    rng = random.Random(20261126)
    patched = 0
    for kill in range(15):
        child = start_saver(db, "ed", 0, "--edits", "--compact-every", "9")
        out = kill_after(child, rng.choice([2, 3, 5, 8, 11, 13, 16]))  # never just after a compaction (9, 18)
        done = edits_reported(out)
        journal = db.with_name("edits.json.journal")
        patched += journal.read_bytes().count(b'"splice"') if journal.exists() else 0
        with Store(db) as store:  # the last reported edit is there, or the one after it (saved, not yet reported)
            assert labels_in(store, "ed") in (edited(done), edited(done + 1)), (kill, done)
        # Each run starts again from the original spans: its first save writes the record, the rest patch it.
    assert patched >= 15  # every kill left patches in the journal to replay


def test_a_power_cut_after_compaction_replaced_the_main_file_applies_no_patch_twice(tmp_path: Path) -> None:
    db = tmp_path / "cut.json"
    child = start_saver(db, "cut", 25, "--edits", "--compact-every", "10", "--die-after-main")
    out, _ = child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL and edits_reported(out) == 25
    journal = db.with_name("cut.json.journal").read_bytes()
    # Saves 21-25 as patches of a record already in the main file (from the compaction after save 20).
    assert journal.count(b"\n") == journal.count(b'"splice"') == 5
    assert json.loads(db.read_text(encoding="utf-8"))["annotations"]  # and the new main file holds them all
    with Store(db) as store:  # replays the 5 patches over the main file they were folded into
        assert labels_in(store, "cut") == edited(25)
    with Store(db, read_only=True) as store:
        assert labels_in(store, "cut") == edited(25)


def test_a_patch_that_skips_a_revision_stops_with_one_line_and_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    crashed = Store(db)  # never closed: its saves stay in the journal
    article = article_of("gap")
    crashed.add_articles([article])
    spans = [Span(0, 6, 0, 1, "PERSON"), Span(7, 10, 1, 2, "PERSON")]
    crashed.save_annotation(Annotation(article.id, "alice", tuple(spans)))
    spans[0] = spans[0].replace(label="GPE")
    crashed.save_annotation(Annotation(article.id, "alice", tuple(spans)))
    spans[1] = spans[1].replace(label="ORG")
    crashed.save_annotation(Annotation(article.id, "alice", tuple(spans)))
    journal = db.with_name("g.json.journal")
    lines = journal.read_bytes().splitlines(keepends=True)
    assert b'"splice"' in lines[-1] and b'"splice"' in lines[-2] and b'"splice"' not in lines[-3]
    journal.write_bytes(b"".join(lines[:-2] + lines[-1:]))  # revision 2 lost, revision 3 kept
    before = (db.read_bytes(), journal.read_bytes())
    assert_one_line_error(run_goldspan("stats", "--db", db), "damaged journal", "revision")
    assert (db.read_bytes(), journal.read_bytes()) == before
