"""The store's layout at scale, on small sizes: when a close folds the journal, reads through mmap and
the binary index while other processes write or cut the file short, migration, and ``compact``.
(The big sizes are measured in bench/corpus_bench.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest
import tinydb

from goldspan.annotations.datamodel import Annotation, Answer, Article, Origin, Role, Span, SpanState
from goldspan.annotations.store import SCHEMA_VERSION, Store, journal
from goldspan.annotations.store.fold import holding_fold_lock
from goldspan.annotations.store.index import MAGIC

from .conftest import assert_one_line_error, run_goldspan


def corpus(n: int, start: int = 0) -> list[tuple[Article, Annotation]]:
    pairs = []
    for i in range(start, start + n):
        head = f"Story {i}\n"
        article = Article.from_text(f"{head}Anna Nowak met Jan Kowalski in Gdansk on day {i}.")
        spans = (Span(len(head), len(head) + 10, 2, 4, "PERSON", Origin.MODEL, SpanState.CONFIRMED),)
        pairs.append((article, Annotation(article.id, "alice", spans, Answer.ACCEPT)))
    return pairs


def stored(db: Path, n: int) -> list[tuple[Article, Annotation]]:
    pairs = corpus(n)
    with Store(db) as store:
        store.add_articles(a for a, _ in pairs)
        store.save_annotations(r for _, r in pairs)
        store.compact()
    return pairs


@pytest.fixture
def big_db_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fold rules of a big DB on a small one: no 'small DB' shortcut, and a threshold of a few KB."""
    monkeypatch.setattr(journal, "FOLD_SMALL", 0)
    monkeypatch.setattr(journal, "FOLD_CAP", 4_000)


def test_the_fold_threshold_follows_the_journal_not_the_close() -> None:
    assert not journal.should_fold(10 << 30, 0)
    assert journal.should_fold(1_000, 10)  # a small DB: always folded, so plain TinyDB sees it after a close
    big = 1 << 30
    assert not journal.should_fold(big, journal.FOLD_CAP - 1) and journal.should_fold(big, journal.FOLD_CAP)
    medium = 6 << 20  # a quarter of it comes before the cap
    assert not journal.should_fold(medium, medium // 4 - 1) and journal.should_fold(medium, medium // 4)


def test_a_close_below_the_threshold_leaves_the_main_file_alone_and_loses_nothing(tmp_path: Path, big_db_rules: None) -> None:
    db = tmp_path / "g.json"
    pairs = stored(db, 40)
    main_before, index_before = db.stat(), db.with_name("g.json.index").read_bytes()
    article, record = pairs[3]
    with Store(db) as store:  # one save: a few hundred bytes of journal, under the threshold
        store.save_annotation(Annotation(article.id, "alice", record.spans, Answer.REJECT))
    after = db.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (main_before.st_ino, main_before.st_mtime_ns, main_before.st_size)
    assert db.with_name("g.json.index").read_bytes() == index_before
    journal_size = db.with_name("g.json.journal").stat().st_size
    assert 0 < journal_size < 4_000
    with Store(db, read_only=True) as store:  # the journal is replayed over the main file
        assert store.annotation(article.id, "alice").answer is Answer.REJECT  # type: ignore[union-attr]
        assert store.journal_size == journal_size
    # Plain TinyDB reads the main file alone: it does not see the save until a fold.
    assert tinydb.TinyDB(db, access_mode="r").table("annotations").get(doc_id=4)["answer"] == "accept"


def wait_for(condition: Callable[[], bool], what: str, limit: float = 120.0) -> None:
    """Poll until ``condition`` holds (a generous limit: only a hang should reach it)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.05)


def test_a_close_past_the_threshold_folds_in_a_process_of_its_own_and_plain_tinydb_sees_everything(tmp_path: Path, big_db_rules: None) -> None:
    db = tmp_path / "g.json"
    pairs = stored(db, 40)
    main_before = db.stat().st_ino
    with Store(db) as store:
        for article, record in pairs:  # whole records this time: well past 4,000 bytes
            store.save_annotation(Annotation(article.id, "alice", record.spans, Answer.IGNORE, note="x" * 100))
    journal_file = db.with_name("g.json.journal")
    wait_for(lambda: journal_file.stat().st_size == 0 and not list(tmp_path.glob(".g.json.*.tmp")), "the background fold")
    assert db.stat().st_ino != main_before  # a new main file, renamed into place
    assert {d["answer"] for d in tinydb.TinyDB(db, access_mode="r").table("annotations").all()} == {"ignore"}
    with Store(db, read_only=True) as store:
        assert store.journal_size == 0 and len(store.annotations(answered=True)) == 40


def test_a_fold_beside_writers_keeps_what_they_saved_while_it_wrote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "g.json"
    pairs = stored(db, 20)
    folder = Store(db)
    folder.save_annotation(Annotation(pairs[0][0].id, "alice", pairs[0][1].spans, Answer.REJECT))
    other = Store(db)  # another annotator, saving while the new main file is being written
    write_new_main = folder.storage._write_new_main

    def slow_write(*args: object, **kwargs: object) -> object:
        written = write_new_main(*args, **kwargs)
        assert list(tmp_path.glob(".g.json.fold-*.tmp"))  # written beside, not yet in place
        other.save_annotation(Annotation(pairs[1][0].id, "bob", (), Answer.IGNORE))  # the lock is free: no wait
        Store(db)  # an open meanwhile (not closed: a close of a DB this small folds) keeps the fold's file
        assert list(tmp_path.glob(".g.json.fold-*.tmp"))
        return written

    monkeypatch.setattr(folder.storage, "_write_new_main", slow_write)
    with holding_fold_lock(db.with_name("g.json.lock")):
        assert folder.storage.fold_beside_writers()
    journal_lines = db.with_name("g.json.journal").read_bytes().splitlines()
    assert len(journal_lines) == 1 and b'"bob"' in journal_lines[0]  # only what the new main file lacks
    plain = tinydb.TinyDB(db, access_mode="r").table("annotations")
    assert {(d["annotator"], d["answer"]) for d in plain.all()} >= {("alice", "reject")} and not plain.search(tinydb.Query().annotator == "bob")
    with Store(db, read_only=True) as store:
        assert store.annotation(pairs[1][0].id, "bob").answer is Answer.IGNORE  # type: ignore[union-attr]
        assert store.annotation(pairs[0][0].id, "alice").answer is Answer.REJECT  # type: ignore[union-attr]
    other.refresh()
    assert other.annotation(pairs[0][0].id, "alice").answer is Answer.REJECT  # type: ignore[union-attr]


def test_a_fold_gives_way_when_another_process_folded_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "g.json"
    pairs = stored(db, 10)
    folder = Store(db)
    folder.save_annotation(Annotation(pairs[0][0].id, "bob", (), Answer.REJECT))
    write_new_main = folder.storage._write_new_main

    def overtaken(*args: object, **kwargs: object) -> object:
        written = write_new_main(*args, **kwargs)
        with Store(db) as other:
            other.compact()
        return written

    monkeypatch.setattr(folder.storage, "_write_new_main", overtaken)
    assert not folder.storage.fold_beside_writers()
    assert not list(tmp_path.glob(".g.json.*.tmp"))  # its own new main file is gone
    with Store(db, read_only=True) as store:
        assert store.annotation(pairs[0][0].id, "bob").answer is Answer.REJECT  # type: ignore[union-attr]


def test_reads_through_the_mapped_main_file_follow_another_process_that_folds_it(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    pairs = stored(db, 30)
    reader = Store(db, read_only=True)
    assert reader.annotation(pairs[0][0].id, "alice").answer is Answer.ACCEPT  # type: ignore[union-attr]
    script = (
        "import sys; from goldspan.annotations.store import Store; from goldspan.annotations.datamodel import Annotation, Answer\n"
        "with Store(sys.argv[1]) as store:\n"
        "    for article_id in sys.argv[2:]:\n"
        "        store.save_annotation(Annotation(article_id, 'bob', (), Answer.REJECT))\n"
        "    store.compact()\n"
    )
    subprocess.run([sys.executable, "-c", script, str(db), *(a.id for a, _ in pairs[:10])], check=True)
    # Not parsed before the other process replaced the main file: read from the file this reader mapped.
    assert reader.annotation(pairs[20][0].id, "alice").answer is Answer.ACCEPT  # type: ignore[union-attr]
    assert reader.annotation(pairs[5][0].id, "bob") is None
    reader.refresh()  # now the new main file, through its new index
    assert reader.annotation(pairs[5][0].id, "bob").answer is Answer.REJECT  # type: ignore[union-attr]
    assert reader.annotation(pairs[25][0].id, "alice").answer is Answer.ACCEPT  # type: ignore[union-attr]
    assert len(reader.annotations(annotator="bob")) == 10
    reader.close()


TRUNCATED_READER = """
import sys
from goldspan.annotations.errors import StoreError
from goldspan.annotations.store import Store
store = Store(sys.argv[1], read_only=True)
ids = store.article_list().ids
print("open", flush=True)
sys.stdin.readline()  # the parent cuts the main file short now
try:
    store.annotation(ids[-1], "alice")  # the annotations table is the last in the file
except StoreError as error:
    print("refused:", error, flush=True)
else:
    print("read it", flush=True)
"""


def test_a_main_file_cut_short_under_a_reader_gives_a_clear_error_not_sigbus(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    stored(db, 200)
    child = subprocess.Popen([sys.executable, "-c", TRUNCATED_READER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline() == "open\n"
    with open(db, "r+b") as handle:  # in place, as some other program might: not goldspan, which always replaces
        handle.truncate(db.stat().st_size // 10)
    child.stdin.write("go\n")
    child.stdin.flush()
    out = child.stdout.read()
    assert child.wait(timeout=60) == 0  # not killed by SIGBUS
    assert out.startswith("refused:") and str(db) in out and "cut short" in out


def test_a_damaged_binary_index_is_only_a_slower_open(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    pairs = stored(db, 20)
    index = db.with_name("g.json.index")
    raw = index.read_bytes()
    assert raw.startswith(MAGIC)
    index.write_bytes(raw[: len(raw) // 2])  # the header names sections past the end
    with Store(db, read_only=True) as store:
        assert [a.id for a in store.articles()] == [a.id for a, _ in pairs]
        assert store.annotation(pairs[7][0].id, "alice") is not None


def test_stats_counts_from_the_index_what_it_would_count_from_the_records(tmp_path: Path) -> None:
    from goldspan.annotations.stats import corpus_stats

    db = tmp_path / "g.json"
    pairs = stored(db, 12)
    with Store(db) as store:  # some changes in the journal, some in the main file; a disagreement; a review
        a = pairs[0][0]
        store.save_annotation(Annotation(a.id, "bob", (), Answer.ACCEPT, comment="no one here?", flagged=True))
        store.save_annotation(Annotation(pairs[1][0].id, "bob", pairs[1][1].spans, Answer.ACCEPT))
        store.save_annotation(Annotation(pairs[2][0].id, "lead", pairs[2][1].spans, Answer.REJECT, role=Role.REVIEWER))
    with Store(db, read_only=True) as store:
        figures = corpus_stats(store, spans=True)
    assert figures.articles == 12 and figures.awaiting_review == 1 and figures.reviewed == 1
    assert figures.final_articles == 10 and figures.gold_per_label == {"PERSON": 10}
    assert figures.by_answer["accept"] == 14 and figures.by_answer["reject"] == 1 and figures.flagged == 1
    assert figures.per_article[0].comments == {"bob": "no one here?"} and figures.per_article[0].flagged_by == ["bob"]
    assert figures.per_article[1].gold == {"PERSON": 1} and figures.per_article[0].gold == {}
    assert len(figures.gold_spans) == 10 and {g.text for g in figures.gold_spans} == {"Anna Nowak"}
    assert figures.words == sum(len(a.text.split()) for a, _ in pairs)


def schema_1_db(path: Path, *, with_review: bool) -> Article:
    article = Article.from_text("Story\nAnna Nowak met Jan Kowalski in Gdańsk.")
    spans = [dict(start=6, end=16, token_start=1, token_end=3, label="PERSON", origin="annotator", state="confirmed")]
    record = {"article_id": article.id, "annotator": "alice", "spans": spans, "answer": "accept", "model": "", "model_version": "",
              "created": "2026-11-30T10:00:00+00:00", "updated": "2026-11-30T10:00:00+00:00", "note": ""}  # fmt: skip
    annotations = {"1": record}
    if with_review:
        annotations["2"] = {**record, "annotator": "lead", "note": "reviewed from alice; took alice ×1"}
    data = {"meta": {"1": {"format": "goldspan", "schema_version": 1, "created": "2026-11-30T10:00:00+00:00"}},
            "articles": {"1": article.to_dict()}, "annotations": annotations}  # fmt: skip
    path.write_text(json.dumps(data), encoding="utf-8")
    return article


def test_a_schema_1_db_is_migrated_on_its_first_write_and_says_so_once(tmp_path: Path) -> None:
    db = tmp_path / "old.json"
    article = schema_1_db(db, with_review=False)
    before = db.read_bytes()
    for read_only in (True, False):  # opened to read, or opened for writing but nothing saved: left as it was
        with Store(db, read_only=read_only) as store:
            assert store.schema_version == 1 and store.notices == []
            assert store.annotation(article.id, "alice") is not None
    assert json.loads(db.read_bytes())["meta"]["1"]["schema_version"] == 1 and json.loads(db.read_bytes()) == json.loads(before)
    with Store(db) as store:
        store.save_annotation(Annotation(article.id, "bob", (), Answer.REJECT))  # the first write
        assert store.schema_version == SCHEMA_VERSION
        assert [n for n in store.notices if f"migrated from schema 1 to {SCHEMA_VERSION}" in n] and len(store.notices) == 1
    with Store(db) as store:
        store.save_annotation(Annotation(article.id, "carol", (), Answer.REJECT))
        assert store.notices == []  # once
    plain = tinydb.TinyDB(db, access_mode="r")
    assert plain.table("meta").get(doc_id=1)["schema_version"] == SCHEMA_VERSION
    assert sorted(d["annotator"] for d in plain.table("annotations").all()) == ["alice", "bob", "carol"]


def test_a_schema_1_review_moves_before_it_could_be_read_as_an_annotation(tmp_path: Path) -> None:
    db = tmp_path / "old.json"
    article = schema_1_db(db, with_review=True)
    with Store(db) as store:  # it would read wrongly: migrated when opened for writing
        assert any("1 review made before schema 2 is now kept as reviewers' records" in n for n in store.notices)
        assert store.annotation(article.id, "lead") is None and store.annotation(article.id, "lead", Role.REVIEWER) is not None


def test_compact_leaves_one_file_that_plain_tinydb_opens_with_every_record(tmp_path: Path, big_db_rules: None) -> None:
    db = tmp_path / "g.json"
    pairs = stored(db, 25)
    with Store(db) as store:  # left in the journal by the big-DB rules
        store.save_annotation(Annotation(pairs[0][0].id, "bob", (), Answer.REJECT))
    assert db.with_name("g.json.journal").stat().st_size > 0
    result = run_goldspan("compact", "--db", db)
    assert result.returncode == 0, result.stderr
    assert "complete TinyDB database" in result.stdout
    handed_on = tmp_path / "handed-on" / "g.json"
    handed_on.parent.mkdir()
    handed_on.write_bytes(db.read_bytes())  # the file alone
    plain = tinydb.TinyDB(handed_on, access_mode="r")
    assert len(plain.table("articles")) == 25 and len(plain.table("annotations")) == 26
    assert plain.table("annotations").search(tinydb.Query().annotator == "bob")[0]["answer"] == "reject"
    assert sorted(p.name for p in handed_on.parent.iterdir()) == ["g.json"]


def test_compact_of_a_db_that_is_not_there_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    result = run_goldspan("compact", "--db", tmp_path / "none.json")
    assert_one_line_error(result, str(tmp_path / "none.json"), "no such database")
    assert list(tmp_path.iterdir()) == []


def test_an_index_damaged_inside_stops_a_command_with_one_line_naming_it(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    stored(db, 30)
    index = db.with_name("g.json.index")
    raw = bytearray(index.read_bytes())
    length = int.from_bytes(raw[len(MAGIC) : len(MAGIC) + 8], "little")
    header_end = len(MAGIC) + 8 + length
    offset, size, _ = json.loads(raw[len(MAGIC) + 8 : header_end])["tables"]["annotations"]["keys"]
    raw[header_end + offset + size // 2] ^= 0x20  # one bit of one key, its checksum left as it was
    index.write_bytes(bytes(raw))
    before = db.read_bytes()
    result = run_goldspan("export", "--db", db, "--format", "doccano", "--out", tmp_path / "out.jsonl")
    assert_one_line_error(result, str(index), "delete it")
    assert db.read_bytes() == before and not (tmp_path / "out.jsonl").exists()


def test_answered_bits_find_the_next_article_to_do_as_a_set_would() -> None:
    import random

    from goldspan.annotations.datamodel import ArticleList
    from goldspan.annotations.session.answered import Answered

    rng = random.Random(18)
    for n in (1, 7, 8, 9, 64, 200, 1001):
        ids = [f"a{i}" for i in range(n)]
        articles = ArticleList(ids, ids, lambda i: None)  # type: ignore[arg-type,return-value]
        for density in (0.0, 0.5, 0.97, 1.0):
            done = {a for a in ids if rng.random() < density}
            bits = bytearray((n + 7) // 8)
            for i, a in enumerate(ids):
                if a in done:
                    bits[i >> 3] |= 1 << (i & 7)
            answered = Answered(bits + b"\xff", articles)  # bits past the list never count
            assert len(answered) == len(done) and all((a in answered) == (a in done) for a in ids)
            todo = [i for i, a in enumerate(ids) if a not in done]
            for after in {0, n // 2, n - 1}:
                expected = next((i for i in todo if i > after), next((i for i in todo if i < after), None))
                assert answered.next_missing(after) == expected, (n, density, after)
            assert answered.first_missing() == (todo[0] if todo else None)
            if n > 1:
                answered.discard(ids[-1])
                answered.add(ids[0])
                assert ids[-1] not in answered and ids[0] in answered
                assert len(answered) == len(done - {ids[-1]} | {ids[0]})


def test_a_session_on_the_dbs_own_list_starts_at_the_first_article_not_answered(tmp_path: Path, big_db_rules: None) -> None:
    """Progress comes from the bits a fold keeps, plus what the journal changed since."""
    from goldspan.annotations.session.session import Session

    db = tmp_path / "g.json"
    pairs = stored(db, 30)
    with Store(db) as store:  # un-answer two in the journal (left there by the big-DB rules), after the fold kept all as answered
        for article, record in (pairs[4], pairs[9]):
            store.save_annotation(Annotation(article.id, "alice", record.spans, None))
    with Store(db) as store:
        assert store.journal_size > 0
        session = Session(store, store.article_list(), annotator="alice", labels=("PERSON",))
        assert session.index == 4 and session.done == 28
        assert session.article.id == pairs[4][0].id
    with Store(db) as store:
        session = Session(store, store.article_list(), annotator="bob", labels=("PERSON",))
        assert session.index == 0 and session.done == 0


def test_a_save_after_another_process_cut_a_crashed_line_keeps_that_process_s_save(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    pairs = stored(db, 5)
    with open(db.with_name("g.json.journal"), "ab") as handle:  # what a kill mid-append leaves
        handle.write(b'{"table":"annotations","doc":{"article_id":"x"')
    first, second = Store(db), Store(db)  # both saw the unfinished line
    second.save_annotation(Annotation(pairs[0][0].id, "bob", (), Answer.REJECT))  # cuts it, appends a whole line
    first.save_annotation(Annotation(pairs[1][0].id, "carol", (), Answer.IGNORE))  # must not cut again
    with Store(db, read_only=True) as store:
        assert store.annotation(pairs[0][0].id, "bob").answer is Answer.REJECT  # type: ignore[union-attr]
        assert store.annotation(pairs[1][0].id, "carol").answer is Answer.IGNORE  # type: ignore[union-attr]
    second.refresh()  # and the journal still reads as whole lines
    assert second.annotation(pairs[1][0].id, "carol") is not None


def test_a_fold_cut_short_after_its_main_file_is_in_place_replays_only_what_that_file_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A patch, then a removal of the same record: replayed over a main file without the record, the
    patch would find nothing to patch. The index names the journal lines the main file holds."""
    db = tmp_path / "g.json"
    pairs = stored(db, 5)
    article, record = pairs[2]
    store = Store(db)
    relabelled = tuple(s.replace(label="ORG") for s in record.spans)
    store.save_annotation(Annotation(article.id, "alice", relabelled, Answer.ACCEPT))  # a patch
    store.remove_annotations([(article.id, "alice", Role.ANNOTATOR)])
    journal_file = db.with_name("g.json.journal")
    old_journal = journal_file.read_bytes()
    assert b'"splice"' in old_journal and b'"remove"' in old_journal

    real = journal.write_atomically

    def power_cut_before_the_journal(path: Path, payload: object, mode: int) -> None:
        if path == journal_file:
            raise KeyboardInterrupt("power cut")
        real(path, payload, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(journal, "write_atomically", power_cut_before_the_journal)
    with pytest.raises(KeyboardInterrupt):
        store.compact()
    monkeypatch.setattr(journal, "write_atomically", real)
    assert journal_file.read_bytes() == old_journal  # the old journal is still there, the new main file in place
    assert "alice" not in {d["annotator"] for d in tinydb.TinyDB(db, access_mode="r").table("annotations").all() if d["article_id"] == article.id}
    with Store(db) as reopened:
        assert reopened.annotation(article.id, "alice") is None
        assert reopened.annotation(pairs[3][0].id, "alice") is not None
        reopened.save_annotation(Annotation(article.id, "bob", (), Answer.REJECT))
    with Store(db, read_only=True) as again:
        assert again.annotation(article.id, "bob") is not None and again.annotation(article.id, "alice") is None
