"""Export and import in every format: round trips, Prodigy's own files, and the counts reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goldspan.annotations.datamodel import Annotation, Answer, Article, Origin, Span, SpanState
from goldspan.annotations.errors import InputError
from goldspan.annotations.exchange import export, import_records
from goldspan.annotations.store import Store

from .conftest import assert_one_line_error, run_goldspan, write_jsonl

NLP = spacy.blank("en")
WORDS = st.sampled_from(["Zoë", "Łódź", "習近平", "Müller", "Reykjavík", "Ñandú", "Gdańsk", "said", "met", "in", "the", "Apple",
                         "Inc.", "(", ")", "«", "»", "naïve", "café", "😀", "São", "Paulo", "42", "$", "3.2bn", "—"])  # fmt: skip
LINES = st.lists(st.lists(WORDS, min_size=1, max_size=12).map(" ".join), min_size=1, max_size=4).map("\n".join)
LABELS = st.sampled_from(["PERSON", "GPE", "ORG"])


@st.composite
def annotated(draw: st.DrawFn) -> tuple[str, list[tuple[int, int, str]]]:
    """A text and non-overlapping spans on its tokens, adjacent ones and ones inside longer candidates included."""
    text = "Title\n" + draw(LINES)
    doc = NLP.make_doc(text)
    words = [t for t in doc if not t.is_space]
    spans, i = [], 1
    while i < len(words):
        if draw(st.booleans()):
            length = draw(st.integers(1, 3))
            chunk = words[i : i + length]
            if all(t.i == chunk[0].i + k for k, t in enumerate(chunk)) and "\n" not in doc[chunk[0].i : chunk[-1].i + 1].text:
                spans.append((chunk[0].idx, chunk[-1].idx + len(chunk[-1]), draw(LABELS)))
                i += length
                continue
        i += 1
    return text, spans


def fill(db: Path, items: list[tuple[str, list[tuple[int, int, str]]]]) -> None:
    with Store(db) as store:
        for text, spans in items:
            article = Article.from_text(text)
            store.add_articles([article])
            doc = NLP.make_doc(article.text)
            made = [doc.char_span(s, e, label=l) for s, e, l in spans]
            store.save_annotation(Annotation(article.id, "alice", tuple(
                Span(m.start_char, m.end_char, m.start, m.end, m.label_, Origin.ANNOTATOR, SpanState.ADDED) for m in made), Answer.ACCEPT))  # fmt: skip


def exported_spans(db: Path) -> dict[str, list[tuple[int, int, str]]]:
    with Store(db, read_only=True) as store:
        texts = {a.id: a.text for a in store.articles()}
        return {texts[a.article_id]: [(s.start, s.end, s.label) for s in a.spans] for a in store.annotations()}


OUT = {"spacy": "out", "prodigy": "out.jsonl", "doccano": "out.jsonl", "conll": "out.conll", "brat": "out"}
SOURCE = {"spacy": "out/train.spacy", "prodigy": "out.jsonl", "doccano": "out.jsonl", "conll": "out.conll", "brat": "out"}


@pytest.mark.parametrize("fmt", ["spacy", "prodigy", "doccano", "brat", "conll"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(annotated(), min_size=1, max_size=3, unique_by=lambda item: item[0]))
def test_export_import_export_gives_the_same_spans(tmp_path_factory: pytest.TempPathFactory, fmt: str, items) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp(fmt)
    fill(tmp / "a.json", items)
    with Store(tmp / "a.json", read_only=True) as store:
        export(store, fmt, tmp / "one" / OUT[fmt])
    with Store(tmp / "b.json") as store:
        summary = import_records(store, fmt, tmp / "one" / SOURCE[fmt], annotator="alice")
        assert summary.snapped == summary.dropped == 0 and not summary.problems
        export(store, fmt, tmp / "two" / OUT[fmt], answer="any")
    if fmt == "conll":  # CoNLL rebuilds the text from its tokens: compare the files themselves
        assert (tmp / "one" / OUT[fmt]).read_text(encoding="utf-8") == (tmp / "two" / OUT[fmt]).read_text(encoding="utf-8")
    else:
        assert exported_spans(tmp / "b.json") == {text: sorted(spans) for text, spans in items}


def test_crlf_in_an_imported_file_moves_the_offsets_with_the_text(tmp_path: Path) -> None:
    text = "Title\r\nZoë met Müller\r\nin Łódź."
    src = write_jsonl(tmp_path / "d.jsonl", [{"text": text, "label": [[text.index("Müller"), text.index("Müller") + 6, "PERSON"],
                                                                      [text.index("Łódź"), text.index("Łódź") + 4, "GPE"]]}])  # fmt: skip
    with Store(tmp_path / "g.json") as store:
        import_records(store, "doccano", src, annotator="bob")
        [ann] = store.annotations()
        stored = store.article(ann.article_id).text  # type: ignore[union-attr]
    assert "\r" not in stored
    assert [stored[s.start : s.end] for s in ann.spans] == ["Müller", "Łódź"]


PRODIGY_WITH_TOKENS = {
    "text": "Vladimir Putin met Lukashenko in Minsk.",
    "meta": {"source": "wire"},
    "_input_hash": 123, "_task_hash": 456, "_session_id": "ner-alice", "_view_id": "ner_manual",
    "tokens": [{"text": "Vladimir", "start": 0, "end": 8, "id": 0, "ws": True}],
    "spans": [{"start": 0, "end": 14, "token_start": 0, "token_end": 1, "label": "PERSON"}, {"start": 33, "end": 38, "label": "GPE"}],
    "answer": "accept",
}  # fmt: skip


def test_prodigy_files_as_prodigy_writes_them(tmp_path: Path) -> None:
    records = [
        PRODIGY_WITH_TOKENS,
        {"text": "Brest is near Poland.", "spans": [{"start": 0, "end": 5, "label": "GPE"}], "answer": "accept"},  # no tokens
        {"text": "Nothing to see here.", "spans": [], "answer": "reject"},
        {"text": "Skipped by the annotator.", "answer": "ignore"},
        {"text": "Ukr aine and Poland", "spans": [{"start": 1, "end": 6, "label": "GPE"},  # inside words: snapped
                                                  {"start": 0, "end": 19, "label": "ORG"}], "answer": "accept"},  # overlaps: longest kept
        {"text": 42},
    ]  # fmt: skip
    src = write_jsonl(tmp_path / "db-out.jsonl", records)
    with Store(tmp_path / "g.json") as store:
        summary = import_records(store, "prodigy", src, annotator="alice")
        anns = {store.article(a.article_id).text: a for a in store.annotations()}  # type: ignore[union-attr]
        meta = store.article(anns[PRODIGY_WITH_TOKENS["text"]].article_id).meta  # type: ignore[union-attr, index]
    assert (summary.read, summary.written, summary.snapped, summary.dropped) == (5, 5, 1, 1)
    assert len(summary.problems) == 1 and "db-out.jsonl:6" in summary.problems[0]
    assert [a.answer for a in anns.values()] == [Answer.ACCEPT, Answer.ACCEPT, Answer.REJECT, Answer.IGNORE, Answer.ACCEPT]
    assert [(s.label, s.start, s.end) for s in anns["Ukr aine and Poland"].spans] == [("ORG", 0, 19)]
    assert meta["source"] == "wire" and meta["_session_id"] == "ner-alice" and meta["_input_hash"] == 123


def test_doccano_import_continues_in_the_annotator(tmp_path: Path) -> None:
    from goldspan.annotations.session.session import Session

    src = write_jsonl(tmp_path / "doccano.jsonl", [
        {"id": 7, "text": "Anna Nowak lives in Warsaw.", "entities": [{"id": 1, "label": "PERSON", "start_offset": 0, "end_offset": 10}]},
        {"text": "Brest is near Poland.", "label": [[0, 5, "GPE"]]},
    ])  # fmt: skip
    with Store(tmp_path / "g.json") as store:
        import_records(store, "doccano", src, annotator="alice", as_gold=False)
        articles = store.articles()
        session = Session(store, articles, annotator="alice", labels=("PERSON", "GPE"))
        assert session.index == 0 and session.done == 0  # doccano has no answers: both still to do
        assert [(s.label, str(s.state)) for s in session.spans] == [("PERSON", "suggested")]
        assert session.answer(Answer.ACCEPT) is None
        assert store.annotation(articles[0].id, "alice").spans[0].state is SpanState.CONFIRMED  # type: ignore[union-attr]


def test_bad_options_and_inputs_are_one_line_errors(tmp_path: Path) -> None:
    with Store(tmp_path / "g.json") as store, pytest.raises(InputError, match="--split"):
        export(store, "spacy", tmp_path / "out", split=1.5)
    assert_one_line_error(run_goldspan("export", "--db", tmp_path / "g.json", "--format", "xml", "--out", tmp_path / "x"), "--format xml")
    assert_one_line_error(run_goldspan("export", "--db", tmp_path / "g.json", "--format", "conll"), "--out")  # no file named `corpus` here
    assert_one_line_error(run_goldspan("import", tmp_path / "nope.jsonl", "--db", tmp_path / "g.json"), "nope.jsonl")
    bad = tmp_path / "bad.spacy"
    bad.write_bytes(b"not a docbin")
    result = run_goldspan("import", bad, "--db", tmp_path / "new.json", "--format", "spacy")
    assert_one_line_error(result, "not a spaCy DocBin", "nothing was imported")
    assert not any(p.name.startswith("new.json") for p in tmp_path.iterdir())


def test_export_skips_what_was_not_accepted_and_can_write_rejections_as_negatives(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    with Store(db) as store:
        for text, answer in (("One\nMinsk.", Answer.ACCEPT), ("Two\nBrest.", Answer.REJECT), ("Three\nGdańsk.", None)):
            article = Article.from_text(text)
            store.add_articles([article])
            store.save_annotation(Annotation(article.id, "alice", (Span(len(text) - 6, len(text) - 1, 2, 3, "GPE"),) if answer else (), answer))
        summary = export(store, "doccano", tmp_path / "a.jsonl")
        assert (summary.written, dict(summary.skipped)) == (1, {"rejected": 1, "not answered yet": 1})
        summary = export(store, "doccano", tmp_path / "b.jsonl", rejected_as_negative=True)
    rows = [json.loads(line) for line in (tmp_path / "b.jsonl").read_text(encoding="utf-8").splitlines()]
    assert summary.negatives == 1 and sorted(len(r["label"]) for r in rows) == [0, 1]


def seed_gold_db(db: Path) -> tuple[Article, list[tuple[int, int, str]]]:
    """The seed article with a few gold spans, accepted by alice."""
    from .conftest import SEED
    from goldspan.annotations.articles import load_articles

    [article] = load_articles([SEED]).articles
    doc = NLP.make_doc(article.text)
    wanted = [("Ukraine", "GPE"), ("Lukashenko", "PERSON"), ("Minsk", "GPE")]
    spans = []
    for words, label in wanted:
        start = article.text.index(words)
        made = doc.char_span(start, start + len(words), label=label)
        spans.append(Span(made.start_char, made.end_char, made.start, made.end, label, Origin.ANNOTATOR, SpanState.ADDED))
    with Store(db) as store:
        store.add_articles([article])
        store.save_annotation(Annotation(article.id, "alice", tuple(spans), Answer.ACCEPT))
    return article, sorted((s.start, s.end, s.label) for s in spans)


@pytest.mark.parametrize("fmt", ["doccano", "brat", "conll"])
def test_gold_imported_from_a_format_without_answers_is_accepted_gold(tmp_path: Path, fmt: str) -> None:
    article, spans = seed_gold_db(tmp_path / "a.json")
    out = tmp_path / ("out" if fmt == "brat" else f"out.{fmt}")
    assert run_goldspan("export", "--db", tmp_path / "a.json", "--format", fmt, "--out", out).returncode == 0
    result = run_goldspan("import", out, "--db", tmp_path / "b.json", "--format", fmt, "--annotator", "bob")
    assert result.returncode == 0, result.stderr
    assert "as gold (1 accepted" in result.stdout  # once: "as gold", with answer null
    with Store(tmp_path / "b.json", read_only=True) as store:
        [record] = store.annotations()
    assert record.answer is Answer.ACCEPT and len(record.spans) == len(spans)
    again = run_goldspan("export", "--db", tmp_path / "b.json", "--format", "doccano", "--out", tmp_path / "again.jsonl")
    assert "Exported 1 article (3 spans)" in again.stdout  # once: 0 written, "skipped: 2 answer none yet"


def test_conll_import_attaches_to_the_article_with_the_same_tokens(tmp_path: Path) -> None:
    article, spans = seed_gold_db(tmp_path / "a.json")
    assert run_goldspan("export", "--db", tmp_path / "a.json", "--format", "conll", "--out", tmp_path / "gold.conll").returncode == 0
    result = run_goldspan("import", tmp_path / "gold.conll", "--db", tmp_path / "a.json", "--format", "conll", "--annotator", "bob")
    assert result.returncode == 0, result.stderr
    assert "0 new articles" in result.stdout and "attached to the article in the database with the same tokens" in result.stderr
    with Store(tmp_path / "a.json", read_only=True) as store:
        assert store.article_count() == 1
        bob = store.annotation(article.id, "bob")  # on the very article, with the spans at the same offsets
    assert bob is not None and [(s.start, s.end, s.label) for s in bob.spans] == spans


def test_conll_import_with_no_such_article_rebuilds_the_text_by_spacys_rules_and_says_so(tmp_path: Path) -> None:
    article, spans = seed_gold_db(tmp_path / "a.json")
    assert run_goldspan("export", "--db", tmp_path / "a.json", "--format", "conll", "--out", tmp_path / "gold.conll").returncode == 0
    result = run_goldspan("import", tmp_path / "gold.conll", "--db", tmp_path / "b.json", "--format", "conll")
    assert result.returncode == 0, result.stderr
    assert "the text of 1 article was rebuilt from its tokens" in result.stderr
    with Store(tmp_path / "b.json", read_only=True) as store:
        [rebuilt] = store.articles()
        [record] = store.annotations()
    text = rebuilt.text
    assert "Ukraine's" in text and '"most cruel"' in text and "Lukashenko, a close ally" in text  # not "Ukraine 's", '" most cruel "'
    assert "".join(text.split()) == "".join(article.text.split())  # the same characters, whitespace aside
    assert [(text[s.start : s.end], s.label) for s in record.spans] == [(article.text[a:b], label) for a, b, label in spans]


@pytest.mark.parametrize("args", [["--format", "jsonl"], ["--format", "prodigy"]], ids=["unknown format", "no such file"])
def test_a_failed_import_creates_no_database(tmp_path: Path, args: list[str]) -> None:
    source = tmp_path / ("missing.jsonl" if args[1] == "prodigy" else "x.jsonl")
    if args[1] == "jsonl":
        write_jsonl(source, [{"text": "A\nB", "spans": []}])
    before = set(tmp_path.iterdir())
    result = run_goldspan("import", source, *args, "--db", tmp_path / "i.json")
    assert_one_line_error(result)
    assert set(tmp_path.iterdir()) == before  # no i.json, .index, .journal or .lock


def test_a_file_that_is_not_conll_imported_as_conll_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    """A doccano file given --format conll: its words split on spaces would pass for tokens and tags."""
    source = write_jsonl(tmp_path / "d.jsonl", [{"text": "Putin met Lukashenko in Minsk.", "label": [[0, 5, "PERSON"]]}])
    before = set(tmp_path.iterdir())
    result = run_goldspan("import", source, "--format", "conll", "--db", tmp_path / "i.json")
    assert_one_line_error(result, "d.jsonl:1", "is not an IOB tag", "nothing was imported")
    assert set(tmp_path.iterdir()) == before


def test_a_conll_document_with_a_tag_that_is_not_iob_is_skipped_and_named(tmp_path: Path) -> None:
    source = tmp_path / "two.conll"
    source.write_text(
        "-DOCSTART- -X- O O\n\nPutin\tB-PERSON\nspoke\tO\n\n-DOCSTART- -X- O O\n\nMinsk\tGPE\nwaited\tO\n\n", encoding="utf-8"
    )
    result = run_goldspan("import", source, "--format", "conll", "--as", "gold", "--db", tmp_path / "i.json")
    assert result.returncode == 1, result.stderr
    assert "two.conll:8: 'GPE' is not an IOB tag" in result.stderr and "1 document with such lines skipped" in result.stderr
    with Store(tmp_path / "i.json", read_only=True) as store:
        assert [a.text for a in store.articles()] == ["Putin spoke"]


def test_a_label_no_format_can_carry_is_refused_at_start_import_and_export(tmp_path: Path) -> None:
    from .conftest import SEED

    result = run_goldspan("annotate", SEED, "--db", tmp_path / "g.json", "--labels", "per son,ORG")
    assert_one_line_error(result, "--labels", "'per son'", "whitespace")
    assert not (tmp_path / "g.json").exists()
    source = write_jsonl(tmp_path / "d.jsonl", [{"text": "Anna Nowak spoke.", "label": [[0, 10, "per son"]]}])
    result = run_goldspan("import", source, "--db", tmp_path / "g.json", "--format", "doccano")
    assert_one_line_error(result, "'per son'", "nothing was imported")
    assert not (tmp_path / "g.json").exists()
    article = Article.from_text("Anna Nowak spoke.")
    with Store(tmp_path / "old.json") as store:  # a DB from before the rule
        store.add_articles([article])
        store.save_annotation(Annotation(article.id, "alice", (Span(0, 10, 0, 2, "per son"),), Answer.ACCEPT))
    for fmt, out in (("conll", "x.conll"), ("brat", "brat")):
        result = run_goldspan("export", "--db", tmp_path / "old.json", "--format", fmt, "--out", tmp_path / out)
        assert_one_line_error(result, "'per son'", fmt)
        assert not (tmp_path / out).exists()


def test_the_prodigy_export_carries_every_versions_note_and_flag(tmp_path: Path) -> None:
    article = Article.from_text("One\nMinsk.")
    with Store(tmp_path / "g.json") as store:
        store.add_articles([article])
        store.save_annotation(Annotation(article.id, "alice", (), Answer.ACCEPT, comment="no entities?"))
        store.save_annotation(Annotation(article.id, "bob", (), Answer.ACCEPT, comment="agree", flagged=True))  # agrees: alice's is final
        export(store, "prodigy", tmp_path / "p.jsonl")
        export(store, "prodigy", tmp_path / "all.jsonl", all_versions=True)
    [task] = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text(encoding="utf-8").splitlines()]
    assert task["meta"]["annotator"] == "alice" and task["meta"]["role"] == "annotator"
    assert task["meta"]["comments"] == {"alice": "no entities?", "bob": "agree"} and task["meta"]["flagged_by"] == ["bob"]
    tasks = [json.loads(line) for line in (tmp_path / "all.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [t["meta"].get("comments") for t in tasks] == [{"alice": "no entities?"}, {"bob": "agree"}]  # each version its own


def test_conll_rebuilt_text_keeps_quotes_that_open_a_sentence_with_it(tmp_path: Path) -> None:
    """spaCy ends a sentence with the quote that opens the next one: rebuilt, it once read
    'Market. "\\nThese …' and 'that, "Wójcik'."""
    text = 'Title\n\nThe bridges cost more than that. "These are old," Wójcik said. "We need them."'
    article = Article.from_text(text)
    with Store(tmp_path / "a.json") as store:
        store.add_articles([article])
        store.save_annotation(Annotation(article.id, "alice", (), Answer.ACCEPT))
        export(store, "conll", tmp_path / "x.conll")
    result = run_goldspan("import", tmp_path / "x.conll", "--db", tmp_path / "b.json", "--format", "conll")
    assert result.returncode == 0, result.stderr
    with Store(tmp_path / "b.json", read_only=True) as store:
        [rebuilt] = store.articles()
    assert " ".join(rebuilt.text.split()) == " ".join(text.split())


def test_prodigy_tasks_keep_their_own_answers_even_none(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "p.jsonl", [
        {"text": "Anna Nowak spoke.", "spans": [{"start": 0, "end": 10, "label": "PERSON"}]},  # not answered in Prodigy
        {"text": "Jan Kowalski spoke.", "spans": [], "answer": "reject"},
    ])  # fmt: skip
    with Store(tmp_path / "g.json") as store:
        summary = import_records(store, "prodigy", source, annotator="alice")
        answers = sorted(str(a.answer) for a in store.annotations())
    assert answers == ["None", "reject"] and dict(summary.answers) == {"None": 1, "reject": 1}
