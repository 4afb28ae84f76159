from __future__ import annotations

import array
import json
import os
import stat
import zlib
from pathlib import Path

import pytest
import tinydb

from goldspan.annotations.datamodel import Annotation, Answer, Article, ModelId, Origin, Span, Suggestions
from goldspan.annotations.errors import ReadOnlyStoreError, StoreError, StoreWriteError
from goldspan.annotations.store import SCHEMA_VERSION, Store
from goldspan.annotations.store.index import MAGIC

from .conftest import assert_one_line_error, run_goldspan

TEXT = "Zoë 👩🏽‍🔬 met 習近平 in Łódź.\nThen she flew to Reykjavík."


def span_of(text: str, needle: str, label: str, token_start: int, token_end: int) -> Span:
    start = text.index(needle)
    return Span(start, start + len(needle), token_start, token_end, label, Origin.ANNOTATOR)


def test_offsets_survive_a_save_and_a_reopen(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    article = Article.from_text(TEXT, source="t.txt")
    spans = (span_of(TEXT, "習近平", "PERSON", 3, 4), span_of(TEXT, "Łódź", "GPE", 5, 6), span_of(TEXT, "Reykjavík", "GPE", 11, 12))
    with Store(db) as store:
        store.add_articles([article])
        store.save_annotation(Annotation(article.id, "alice", spans, Answer.ACCEPT))
    with Store(db, read_only=True) as store:
        stored = store.article(article.id)
        ann = store.annotation(article.id, "alice")
    assert stored == article
    assert ann is not None and ann.spans == spans and ann.answer is Answer.ACCEPT
    assert [s.text_in(stored.text) for s in ann.spans] == ["習近平", "Łódź", "Reykjavík"]


def test_a_save_is_on_disk_when_it_returns(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    article = Article.from_text(TEXT)
    with Store(db) as store:
        store.add_articles([article])
        store.save_annotation(Annotation(article.id, "alice", (span_of(TEXT, "Łódź", "GPE", 5, 6),)))
        with Store(db, read_only=True) as reader:  # another reader, while the writer is still open
            seen = reader.annotation(article.id, "alice")
        assert seen is not None and seen.spans[0].label == "GPE"
    on_disk = json.loads(db.read_text(encoding="utf-8"))  # after a clean close, all in the main file
    [doc] = on_disk["annotations"].values()
    assert doc["annotator"] == "alice" and doc["spans"][0]["label"] == "GPE"


def test_annotations_are_keyed_by_article_and_annotator(tmp_path: Path) -> None:
    a, b = Article.from_text("One\nMinsk."), Article.from_text("Two\nBrest.")
    with Store(tmp_path / "g.json") as store:
        store.add_articles([a, b])
        store.save_annotation(Annotation(a.id, "alice", answer=Answer.ACCEPT))
        store.save_annotation(Annotation(a.id, "bob", answer=Answer.REJECT))
        store.save_annotation(Annotation(a.id, "alice", answer=Answer.IGNORE))  # replaces alice's first
        store.save_annotation(Annotation(b.id, "alice"))
    with Store(tmp_path / "g.json") as store:
        assert {(x.annotator, x.answer) for x in store.annotations(article_id=a.id)} == {("alice", Answer.IGNORE), ("bob", Answer.REJECT)}
        assert len(store.annotations(annotator="alice")) == 2


def test_articles_are_stored_once_per_text(tmp_path: Path) -> None:
    with Store(tmp_path / "g.json") as store:
        assert store.add_articles([Article.from_text("A\nx"), Article.from_text("B\ny")]) == 2
        assert store.add_articles([Article.from_text("A\r\nx")]) == 0
        assert store.article_count() == 2


def test_suggestions_are_cached_per_model_name_and_version(tmp_path: Path) -> None:
    article = Article.from_text(TEXT)
    v1, v2 = ModelId("en_core_web_sm", "3.8.0"), ModelId("en_core_web_sm", "3.9.0")
    with Store(tmp_path / "g.json") as store:
        store.add_articles([article])
        store.save_suggestions([Suggestions(article.id, v1, (span_of(TEXT, "Łódź", "GPE", 5, 6),))])
    with Store(tmp_path / "g.json") as store:
        assert store.has_suggestions(article.id, v1) and not store.has_suggestions(article.id, v2)
        cached = store.suggestions(article.id, v1)
        assert cached is not None and cached.spans[0].text_in(TEXT) == "Łódź"


def test_the_db_is_a_plain_tinydb_file_readable_by_the_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    with Store(db) as store:
        store.add_articles([Article.from_text(TEXT)])
    for path in (db, db.with_name("g.json.journal"), db.with_name("g.json.lock"), db.with_name("g.json.index")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    plain = tinydb.TinyDB(db)
    assert {"meta", "articles"} <= plain.tables()
    assert plain.table("meta").all()[0]["schema_version"] == SCHEMA_VERSION
    plain.close()


def stored_corpus(db: Path, n: int = 30) -> tuple[list[Article], list[Annotation]]:
    articles = [Article.from_text(f"Story {i}\n\n{TEXT} ({i})") for i in range(n)]
    annotations = [Annotation(a.id, "alice", (span_of(a.text, "Łódź", "GPE", 5, 6),), Answer.ACCEPT if i % 3 else None) for i, a in enumerate(articles)]
    with Store(db) as store:
        store.add_articles(articles)
        store.save_annotations(annotations)
    return articles, annotations


def read_back(db: Path) -> tuple[list[str], list[Article], set[str], list[Annotation]]:
    with Store(db, read_only=True) as store:
        listed = store.article_list()
        return list(listed.titles), [*listed], store.answered_ids("alice"), store.annotations(annotator="alice")


def test_a_db_reopened_through_its_index_reads_as_it_was_saved(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    articles, annotations = stored_corpus(db)
    with Store(db) as store:  # a patch in the journal, over records read through the index
        store.save_annotation(Annotation(articles[4].id, "alice", (), Answer.REJECT))
        record = store.annotation(articles[4].id, "alice")
        assert record is not None and (record.spans, record.answer) == ((), Answer.REJECT)
    titles, listed, answered, stored = read_back(db)
    assert titles == [a.title for a in articles] and listed == articles
    assert answered == {a.id for i, a in enumerate(articles) if i % 3 or i == 4}
    assert [(a.article_id, a.spans) for a in stored] == [(a.article_id, () if i == 4 else a.spans) for i, a in enumerate(annotations)]
    plain = tinydb.TinyDB(db)  # and the main file is still plain TinyDB
    assert len(plain.table("articles")) == 30 and len(plain.table("annotations")) == 30
    plain.close()


@pytest.mark.parametrize("change", ["edited by plain TinyDB", "index damaged", "index deleted", "copied elsewhere"])
def test_an_index_that_does_not_match_the_main_file_is_not_used(tmp_path: Path, change: str) -> None:
    db = tmp_path / "g.json"
    articles, _ = stored_corpus(db)
    index = db.with_name("g.json.index")
    expected = [a.title for a in articles]
    if change == "edited by plain TinyDB":
        plain = tinydb.TinyDB(db)
        plain.table("articles").update({"title": "Retitled"}, doc_ids=[2])
        plain.close()
        expected[1] = "Retitled"
    elif change == "index damaged":
        index.write_bytes(index.read_bytes()[:100])
    elif change == "index deleted":
        index.unlink()
    else:
        copy = tmp_path / "copy" / "g.json"
        copy.parent.mkdir()
        copy.write_bytes(db.read_bytes())  # a new inode and time: the index is trusted by its content alone
        copy.with_name("g.json.index").write_bytes(index.read_bytes())
        db = copy
    assert read_back(db)[0] == expected
    with Store(db):  # a writable open rewrites a stale index on close
        pass
    assert read_back(db)[0] == expected


def test_an_index_tampered_to_point_elsewhere_is_named_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    stored_corpus(db)
    index = db.with_name("g.json.index")
    raw = index.read_bytes()  # every record's offsets moved by one, with the section's checksum made to match
    length = int.from_bytes(raw[len(MAGIC) : len(MAGIC) + 8], "little")
    header_end = len(MAGIC) + 8 + length
    header = json.loads(raw[len(MAGIC) + 8 : header_end])
    offset, size, _ = header["tables"]["annotations"]["at"]
    sections = bytearray(raw[header_end:])
    at = array.array("q", sections[offset : offset + size])
    sections[offset : offset + size] = array.array("q", [value + 1 for value in at]).tobytes()
    header["tables"]["annotations"]["at"][2] = zlib.crc32(sections[offset : offset + size])
    body = json.dumps(header).encode()
    index.write_bytes(MAGIC + len(body).to_bytes(8, "little") + body + bytes(sections))
    before = db.read_bytes()
    result = run_goldspan("stats", "--db", db, "--spans")  # --spans reads the gold records themselves
    assert_one_line_error(result, str(db), str(index), "delete")
    assert db.read_bytes() == before


DAMAGED = {
    "truncated": b'{"meta": {"1": {"format": "goldspan", "schema_versi',
    "not json": b"hello, world\n",
    "foreign json": b'{"users": [1, 2, 3]}',
    "tinydb but not goldspan": b'{"_default": {"1": {"name": "x"}}}',
    "empty": b"",
    "newer schema": b'{"meta": {"1": {"format": "goldspan", "schema_version": 999}}}',
}


@pytest.mark.parametrize("case", DAMAGED)
def test_a_file_that_is_not_a_readable_goldspan_db_is_refused_and_left_unchanged(tmp_path: Path, case: str) -> None:
    db = tmp_path / "g.json"
    db.write_bytes(DAMAGED[case])
    before = db.stat().st_mtime_ns
    for read_only in (False, True):
        with pytest.raises(StoreError, match=str(db)):
            Store(db, read_only=read_only)
    assert db.read_bytes() == DAMAGED[case] and db.stat().st_mtime_ns == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.json"]  # no temp or side files left


def test_stats_on_a_foreign_file_exits_2_with_one_line_and_leaves_it_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "package.json"
    db.write_bytes(b'{"name": "left-pad", "version": "1.3.0"}\n')
    result = run_goldspan("stats", "--db", db)
    assert_one_line_error(result, str(db), "not a goldspan database")
    assert db.read_bytes() == b'{"name": "left-pad", "version": "1.3.0"}\n'


def test_a_read_only_store_refuses_saves_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such database"):
        Store(tmp_path / "missing.json", read_only=True)
    assert not (tmp_path / "missing.json").exists()
    with Store(tmp_path / "g.json") as store:
        store.add_articles([Article.from_text(TEXT)])
    with Store(tmp_path / "g.json", read_only=True) as store, pytest.raises(ReadOnlyStoreError):
        store.save_annotation(Annotation(Article.from_text(TEXT).id, "alice"))


def test_a_failed_write_leaves_the_file_and_the_store_as_they_were(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "g.json"
    article = Article.from_text(TEXT)
    real_write = os.write

    def disk_fills_up(fd: int, data: bytes) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".journal"):
            real_write(fd, bytes(data[: len(data) // 2]))  # half a record reaches the disk, then it is full
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    with Store(db) as store:
        store.add_articles([article])
        store.save_annotation(Annotation(article.id, "alice", answer=Answer.ACCEPT))
        journal = db.with_name("g.json.journal")
        before = (db.read_bytes(), journal.read_bytes())
        monkeypatch.setattr(os, "write", disk_fills_up)
        with pytest.raises(StoreWriteError, match="No space left"):
            store.save_annotation(Annotation(article.id, "alice", answer=Answer.REJECT))
        assert (db.read_bytes(), journal.read_bytes()) == before
        assert store.annotation(article.id, "alice").answer is Answer.ACCEPT  # type: ignore[union-attr]
        monkeypatch.undo()
        store.save_annotation(Annotation(article.id, "alice", answer=Answer.REJECT))  # retry after "space is freed"
    with Store(db) as store:
        assert store.annotation(article.id, "alice").answer is Answer.REJECT  # type: ignore[union-attr]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.json", "g.json.index", "g.json.journal", "g.json.lock"]


def test_a_change_to_one_span_of_thousands_journals_that_span_alone_and_reopens_exact(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    text = "Big\n" + " ".join(f"w{i}" for i in range(4000))
    article = Article.from_text(text)
    spans = [Span(text.index(f" w{i} ") + 1, text.index(f" w{i} ") + 1 + len(f"w{i}"), i + 1, i + 2, "PERSON") for i in range(2, 4000, 2)]
    journal = db.with_name("g.json.journal")
    with Store(db) as store:
        store.add_articles([article])
        store.save_annotation(Annotation(article.id, "alice", tuple(spans)))
        whole = journal.stat().st_size
        for i, label in ((7, "GPE"), (1000, "ORG"), (1998, "LOC")):  # as the annotator edits: other Span objects kept
            before = journal.stat().st_size
            spans[i] = spans[i].replace(label=label)
            store.save_annotation(Annotation(article.id, "alice", tuple(spans), Answer.ACCEPT if label == "LOC" else None))
            assert journal.stat().st_size - before < 1_000 < 100_000 < whole
        del spans[500]
        store.save_annotation(Annotation(article.id, "alice", tuple(spans), Answer.ACCEPT))
        with Store(db, read_only=True) as reader:  # replays the record and its four patches
            assert reader.annotation(article.id, "alice") == store.annotation(article.id, "alice")
            assert reader.annotation(article.id, "alice").spans == tuple(spans)  # type: ignore[union-attr]
    [doc] = tinydb.TinyDB(db).table("annotations").all()  # compacted: plain TinyDB sees the record as it ended
    assert doc["_rev"] == 5 and len(doc["spans"]) == 1998 and doc["spans"][1998 - 1]["label"] == "LOC" and doc["answer"] == "accept"


def test_two_open_stores_patching_one_record_agree_and_the_last_save_wins(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    text = "Title\nAnna met Boris and Carl in Minsk."
    article = Article.from_text(text)
    mine = [span_of(text, name, "PERSON", i, i + 1) for i, name in ((0, "Anna"), (2, "Boris"), (4, "Carl"))]
    with Store(db) as one, Store(db) as two:
        one.add_articles([article])
        one.save_annotation(Annotation(article.id, "alice", tuple(mine)))
        mine[1] = mine[1].replace(label="ORG")
        one.save_annotation(Annotation(article.id, "alice", tuple(mine)))  # a patch
        two.refresh()
        theirs = list(two.annotation(article.id, "alice").spans)  # type: ignore[union-attr]
        assert [s.label for s in theirs] == ["PERSON", "ORG", "PERSON"]
        theirs[2] = theirs[2].replace(label="GPE")
        two.save_annotation(Annotation(article.id, "alice", tuple(theirs)))  # the same record, from the other screen
        mine[0] = mine[0].replace(label="NORP")
        one.save_annotation(Annotation(article.id, "alice", tuple(mine)))  # catches up first, then its version wins
        two.refresh()
        for store in (one, two):
            assert [s.label for s in store.annotation(article.id, "alice").spans] == ["NORP", "ORG", "PERSON"]  # type: ignore[union-attr]
    with Store(db, read_only=True) as reader:
        assert [s.label for s in reader.annotation(article.id, "alice").spans] == ["NORP", "ORG", "PERSON"]  # type: ignore[union-attr]


def schema_1_db(path: Path) -> Article:
    """A DB as goldspan wrote it before schema 2: lead's review saved as lead's own annotation."""
    article = Article.from_text("Story\nAnna Nowak met Jan Kowalski in Gdańsk.")
    spans = [dict(start=6, end=16, token_start=1, token_end=3, label="PERSON", origin="annotator", state="confirmed")]
    record = lambda who, note="": {"article_id": article.id, "annotator": who, "spans": spans, "answer": "accept", "model": "",  # noqa: E731
                                   "model_version": "", "created": "2026-11-30T10:00:00+00:00", "updated": "2026-11-30T10:00:00+00:00", "note": note}
    data = {
        "meta": {"1": {"format": "goldspan", "schema_version": 1, "created": "2026-11-30T10:00:00+00:00"}},
        "articles": {"1": article.to_dict()},
        "annotations": {"1": record("alice"), "2": {**record("bob"), "spans": []}, "3": record("lead", "reviewed from alice, bob; took alice ×1")},
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return article


def test_a_schema_1_db_opened_for_writing_moves_its_reviews_to_the_reviewers_table(tmp_path: Path) -> None:
    from goldspan.annotations.datamodel import Role

    db = tmp_path / "old.json"
    article = schema_1_db(db)
    with Store(db, read_only=True) as store:  # looking only: nothing changes, the review is still lead's annotation
        assert store.schema_version == 1 and store.annotation(article.id, "lead") is not None
    assert json.loads(db.read_text(encoding="utf-8"))["meta"]["1"]["schema_version"] == 1
    with Store(db) as store:
        assert any("1 review made before schema 2 is now kept as reviewers' records" in n for n in store.notices)
        assert store.schema_version == SCHEMA_VERSION
        assert store.annotation(article.id, "lead") is None
        review = store.annotation(article.id, "lead", Role.REVIEWER)
        assert review is not None and review.note.startswith("reviewed from") and review.role is Role.REVIEWER
        assert sorted(a.annotator for a in store.annotations(role=Role.ANNOTATOR)) == ["alice", "bob"]
    with Store(db) as store:  # migrated once: opening again changes nothing
        assert store.notices == [] and len(store.annotations()) == 3
    plain = tinydb.TinyDB(db, access_mode="r")
    assert sorted(d["annotator"] for d in plain.table("annotations").all()) == ["alice", "bob"]
    assert [d["annotator"] for d in plain.table("reviews").all()] == ["lead"]
    result = run_goldspan("export", "--db", db, "--format", "doccano", "--out", tmp_path / "x.jsonl")
    assert "Exported 1 article" in result.stdout  # settled by the review, not left out as a disagreement


def test_a_goldspan_that_does_not_know_reviews_stops_at_them_instead_of_misfiling_them(tmp_path: Path) -> None:
    """A schema-1 goldspan still running on a shared DB would have filed a review in place of the
    reviewer's own annotation; the reviews table (and journaled removals) are lines it cannot read."""
    from goldspan.annotations.datamodel import Role
    from goldspan.annotations.store.journal import JournalStorage
    from goldspan.annotations.store import KEYS, REVIEWS

    db = tmp_path / "g.json"
    article = Article.from_text("Story\nAnna Nowak spoke.")
    with Store(db) as store:
        store.add_articles([article])
        store.save_annotation(Annotation(article.id, "lead", (), Answer.ACCEPT))
    schema_1_keys = {table: key for table, key in KEYS.items() if table != REVIEWS}
    old = JournalStorage(db, key_of=schema_1_keys)  # what a schema-1 process holds open
    new = Store(db)
    new.save_annotation(Annotation(article.id, "lead", (), Answer.ACCEPT, note="reviewed from alice, bob", role=Role.REVIEWER))
    with pytest.raises(StoreError, match="damaged journal"):
        old.refresh()
    assert new.annotation(article.id, "lead") is not None  # lead's own annotation is intact
    new.close()


def test_a_removed_record_stays_removed_through_reopen_compaction_and_replay(tmp_path: Path) -> None:
    from goldspan.annotations.store import ANNOTATIONS

    db = tmp_path / "g.json"
    article = Article.from_text("Story\nAnna Nowak spoke.")
    with Store(db) as store:
        store.add_articles([article])
        store.save_annotations([Annotation(article.id, who, (), Answer.ACCEPT) for who in ("alice", "bob")])
    store = Store(db)
    other = Store(db)
    store.storage.remove([(ANNOTATIONS, json.dumps([article.id, "alice"]))])
    other.refresh()  # another process sees the removal
    assert [a.annotator for a in other.annotations()] == ["bob"]
    journal = (tmp_path / "g.json.journal").read_bytes()
    other.close()
    store.close()
    (tmp_path / "g.json.journal").write_bytes(journal)  # as after a crash between compaction's two steps
    with Store(db) as again:
        assert [a.annotator for a in again.annotations()] == ["bob"]
