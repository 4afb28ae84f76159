"""Hostile databases (issue 25): files that parse but lie. A journal line of valid JSON with the wrong
types, records whose spans overlap or point past their text, an index that lies about offsets, a
main file cut at every 1 % of its length. Each is refused with one line naming the file and what is
wrong (or repaired where repair is certain, as an index rebuilt from the main file), never with a
traceback, and a refused file is left byte for byte as it was."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from goldspan.annotations.datamodel import Annotation, Answer, Article, Origin, Span, SpanState
from goldspan.annotations.store import Store

from .conftest import run_goldspan

TEXT = "Story\nAnna Nowak met Jan Kowalski in Gdańsk."


def spans() -> tuple[Span, ...]:
    out = []
    for words, token in (("Anna Nowak", 2), ("Jan Kowalski", 5), ("Gdańsk", 8)):
        start = TEXT.index(words)
        out.append(Span(start, start + len(words), token, token + len(words.split()), "PERSON", Origin.ANNOTATOR, SpanState.ADDED))
    return tuple(out)


def good_db(folder: Path, *, fold: bool = True) -> Path:
    db = folder / "g.json"
    article = Article.from_text(TEXT)
    with Store(db) as store:
        store.add_articles([article, *(Article.from_text(f"Other {n}\nBrest is near Poland, day {n}.") for n in range(40))])
        store.save_annotation(Annotation(article.id, "alice", spans(), Answer.ACCEPT))
        if fold:
            store.compact()
    return db


def fingerprint(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def probes(db: Path, out: Path, records_only: bool) -> list[list[str | Path]]:
    """Commands that read the DB: its summaries (`stats`, which reads no record: a damaged record is
    found by what reads it), every gold span (`stats --spans`), every record (`export`)."""
    every = [["stats", "--db", db, "--spans"], ["export", "--db", db, "--out", out, "--format", "prodigy"]]
    return every if records_only else [["stats", "--db", db], *every]


def assert_refused_untouched(db: Path, *expected: str, records_only: bool = False) -> None:
    folder = db.parent
    before = fingerprint(folder)
    out = folder.parent / f"{folder.name}-export.jsonl"
    for probe in probes(db, out, records_only):
        result = run_goldspan(*probe)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 2, (probe[0], result.returncode, result.stderr)
        assert len(lines) == 1 and "Traceback" not in result.stderr and "internal error" not in result.stderr, (probe[0], result.stderr)
        assert str(db) in lines[0] or db.name in lines[0], lines[0]
        for fragment in expected:
            assert fragment in lines[0], (probe[0], lines[0])
        assert not out.exists(), "a refused export left a file"
    assert fingerprint(folder) == before, "a refused DB was changed"


WRONG_TYPES = {
    "a doc that is not an object": {"table": "annotations", "doc": 5},
    "spans that are not a list": {"table": "annotations", "doc": {"article_id": "x", "annotator": "bob", "role": "annotator", "spans": "nope", "_rev": 1}},
    "an article whose text is a number": {"table": "articles", "doc": {"id": "abc", "title": "t", "text": 42, "source": "", "meta": {}}},
    "a table that is not a name": {"table": ["annotations"], "doc": {}},
    "a patch whose revision is text": {"table": "annotations", "key": "k", "rev": "two", "set": {}, "splice": ["spans", 0, 1, []]},
}


@pytest.mark.parametrize("case", list(WRONG_TYPES))
def test_a_journal_line_of_valid_json_with_the_wrong_types_is_refused(tmp_path: Path, case: str) -> None:
    (tmp_path / "db").mkdir()
    db = good_db(tmp_path / "db")
    journal = db.with_name(db.name + ".journal")
    with journal.open("ab") as handle:
        handle.write(json.dumps(WRONG_TYPES[case]).encode() + b"\n")
        # a good line after it, so the bad one is not a torn last line (dropped with a notice)
        handle.write(json.dumps({"table": "articles", "doc": Article.from_text("Spare\nMinsk.").to_dict()}).encode() + b"\n")
    assert_refused_untouched(db, "journal")


def bad_record(db: Path, change: str) -> None:
    """Rewrite alice's record in the main file so that its spans overlap, or reach past the text."""
    data = json.loads(db.read_text(encoding="utf-8"))
    (key, doc), = [(k, d) for k, d in data["annotations"].items() if d["annotator"] == "alice"]
    if change == "overlap":
        doc["spans"][1]["start"] = doc["spans"][0]["start"] + 2
    else:
        doc["spans"][2]["end"] = len(TEXT) + 40
    db.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    db.with_name(db.name + ".index").unlink()  # a hand edit leaves no index: goldspan rebuilds it


@pytest.mark.parametrize("change", ["spans as text", "an article's text a number"])
def test_a_main_file_record_of_the_wrong_types_is_refused_when_the_file_is_read_whole(tmp_path: Path, change: str) -> None:
    """Without an index the whole main file is parsed, and each record is checked as a journal line is."""
    (tmp_path / "db").mkdir()
    db = good_db(tmp_path / "db")
    data = json.loads(db.read_text(encoding="utf-8"))
    if change == "spans as text":
        next(iter(data["annotations"].values()))["spans"] = "nope"
    else:
        next(iter(data["articles"].values()))["text"] = 42
    db.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    db.with_name(db.name + ".index").unlink()
    assert_refused_untouched(db, "damaged goldspan database")


@pytest.mark.parametrize("change", ["overlap", "past the text"])
def test_a_record_whose_spans_overlap_or_point_past_the_text_is_refused(tmp_path: Path, change: str) -> None:
    (tmp_path / "db").mkdir()
    db = good_db(tmp_path / "db")
    bad_record(db, change)
    assert_refused_untouched(db, "alice", records_only=True)


def test_an_index_that_lies_about_offsets_is_rebuilt_from_the_main_file(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    db = good_db(tmp_path / "db")
    index = db.with_name(db.name + ".index")
    raw = bytearray(index.read_bytes())
    digits = [i for i, byte in enumerate(raw) if chr(byte).isdigit()]
    for i in digits[len(digits) // 3 : len(digits) // 3 + 6]:  # offsets in its middle, changed
        raw[i] = ord("7") if raw[i] != ord("7") else ord("3")
    index.write_bytes(bytes(raw))
    result = run_goldspan("export", "--db", db, "--out", tmp_path / "out.jsonl", "--format", "prodigy")
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    if result.returncode == 0:  # repaired: the main file is the truth, the index only its cache
        exported = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
        assert [record["text"] for record in exported] == [TEXT]
    else:
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1 and "index" in result.stderr, result.stderr


def test_a_main_file_cut_at_every_percent_of_its_length_is_refused_untouched(tmp_path: Path) -> None:
    """In this process at every percent (an open and a read of every record), through the command
    line at every tenth."""
    from goldspan.annotations.errors import StoreError

    (tmp_path / "whole").mkdir()
    whole = good_db(tmp_path / "whole")
    raw = whole.read_bytes()
    for percent in range(1, 100):
        folder = tmp_path / f"cut{percent}"
        shutil.copytree(whole.parent, folder)
        db = folder / whole.name
        db.write_bytes(raw[: len(raw) * percent // 100])
        before = fingerprint(folder)
        with pytest.raises(StoreError) as refused:
            with Store(db, read_only=True) as store:
                store.annotations()
                store.articles()
        assert str(db) in str(refused.value) and "\n" not in str(refused.value), (percent, str(refused.value))
        with pytest.raises(StoreError):
            Store(db).close()  # opened for writing too: refused, nothing written
        assert fingerprint(folder) == before, percent
        if percent % 10 == 0:
            assert_refused_untouched(db)
        shutil.rmtree(folder)
