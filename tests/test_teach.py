"""Teach mode (issue 21): one entity at a time, the least certain first; answers saved as they are
given, undone as far back as the session goes, never asked twice, kept through a kill -9."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import spacy

from goldspan.annotations.datamodel import Answer, Article, Origin, Span, Suggestions
from goldspan.annotations.nlp import pipelines
from goldspan.annotations.store import Store
from goldspan.annotations.teaching.decisions import Decision, stored_decisions
from goldspan.annotations.teaching.stream import TeachStream, context_of
from goldspan.tui.teach_app import open_teach
from goldspan.tui.widgets.text_lines import TextLines

from .conftest import goldspan_command, run_goldspan
from .helpers.scored_corpus import scored_corpus
from .helpers.terminal import Terminal


CORPUS = {
    "First story": [("PERSON", 0.9), ("PERSON", 0.55), ("ORG", 0.5), ("PERSON", 0.995)],
    "Second story": [("PERSON", 0.7), ("PERSON", 0.48), ("PERSON", 0.005)],
}


def blank() -> pipelines.PipelineSpec:
    return pipelines.resolve("blank:en")


async def test_accept_reject_ignore_and_undo_are_saved_and_a_new_session_asks_only_the_rest(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    articles = scored_corpus(db, blank(), CORPUS)
    store = Store(db)
    app = open_teach(store, articles, blank(), labels=["PERSON"], annotator="alice", include_all=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        session = app.session
        # The most uncertain PERSON first (1 - |2p - 1|): 0.48, then 0.55, 0.7, 0.9; ORG is not asked, 0.995 and 0.005 are sure.
        assert session.current is not None and session.current.span.score == 0.48
        assert "0.48" in app.query_one("#example", TextLines).text.plain
        await pilot.press("a")
        assert session.current.span.score == 0.55
        await pilot.press("x")
        await pilot.press("space")  # 0.7, ignored
        await pilot.press("u")  # the ignore taken back: 0.7 is asked again
        assert session.current.span.score == 0.7
        await pilot.press("x")
        assert session.current.span.score == 0.9
        await pilot.press("q")
    store.close()
    with Store(db, read_only=True) as fresh:
        found = {(d.text, d.answer, d.score) for d in stored_decisions(fresh, "alice")}
    assert found == {("Name1", Answer.ACCEPT, 0.48), ("Name1", Answer.REJECT, 0.55), ("Name0", Answer.REJECT, 0.7)}

    store = Store(db)
    again = open_teach(store, articles, blank(), labels=["PERSON"], annotator="alice", include_all=False)
    async with again.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert again.session.current is not None and again.session.current.span.score == 0.9  # the only one left
        await pilot.press("a")
        assert again.session.current is None
        text = again.query_one("#example", TextLines).text.plain
        assert "no more PERSON entities to ask about" in text and "3 answered before" in text and "2 left out as sure" in text
        await pilot.press("q")
    store.close()


def test_the_stream_never_offers_the_same_span_twice() -> None:
    article = Article.from_text("Title\n" + " ".join(f"Name{i} met Name{i}." for i in range(30)))
    spans = tuple(Span(article.text.index(f"Name{i} "), article.text.index(f"Name{i} ") + len(f"Name{i}"), 0, 1, "PERSON", score=(i % 9 + 1) / 10) for i in range(30))
    suggestions = Suggestions(article.id, pipelines.resolve("blank:en").model_id, spans)
    stream = TeachStream(["PERSON"])
    assert stream.add(article, suggestions) == 30
    assert stream.add(article, suggestions) == 0  # the same article again (a second model run, say): nothing new
    seen: list[tuple[str, int, int, str]] = []
    undone = False
    while (candidate := stream.next()) is not None:
        seen.append(candidate.key)
        if len(seen) == 5 and not undone:
            stream.put_back(candidate)  # an undo: asked again, but it is still one span
            seen.pop()
            undone = True
    assert len(seen) == len(set(seen)) == 30
    score_at = {s.start: s.score for s in spans}
    uncertainty = [1 - abs(2 * score_at[k[1]] - 1) for k in seen]
    assert uncertainty == sorted(uncertainty, reverse=True)


def test_the_context_is_the_paragraph_or_a_window_of_it_cut_at_spaces() -> None:
    text = "Headline\n" + "word " * 400 + "Anna Nowak " + "word " * 400 + "\nNext paragraph."
    start = text.index("Anna")
    context, offset = context_of(text, start, start + len("Anna Nowak"))
    assert context[start - offset :].startswith("Anna Nowak") and len(context) <= 600
    assert context.startswith("word") and context.endswith("word") and "\n" not in context
    short, at = context_of("One line.\nAnna met Bob.\nThird.", 10, 14)
    assert (short, at) == ("Anna met Bob.", 10)


def test_a_teach_session_killed_with_sigkill_keeps_every_answer_shown_as_saved(tmp_path: Path) -> None:
    if not Path(goldspan_command()[0]).exists():
        pytest.skip("the goldspan console script is not installed")
    db = tmp_path / "g.json"
    scored_corpus(db, blank(), CORPUS)
    term = Terminal([*goldspan_command(), "teach", "--db", str(db), "--model", "blank:en", "--label", "PERSON", "--annotator", "bob"], tmp_path)
    term.wait_for("Is “Name1” a PERSON?")
    for n, key in enumerate("axa", start=1):
        mark = len(term.seen)
        term.type(key)
        term.wait_for(f"{sum(1 for k in 'axa'[:n] if k == 'a')} accepted, {sum(1 for k in 'axa'[:n] if k == 'x')} rejected", after=mark)
    os.kill(term.pid, signal.SIGKILL)
    assert term.exit_status() == -signal.SIGKILL
    with Store(db, read_only=True) as store:
        answers = sorted(str(d.answer) for d in stored_decisions(store, "bob"))
    assert answers == ["accept", "accept", "reject"]


def test_teach_refuses_what_it_cannot_do_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    for args, words in (
        (["--db", db], "--label: name the label(s) to ask about"),
        (["--db", db, "--label", "PERSON"], "no such database"),
        (["--db", db, "--label", "PERSON", "--scorer", "none", "--model", "blank:en"], "needs a scorer"),
    ):
        result = run_goldspan("teach", *args)
        assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not db.exists()


def test_throughput_matches_a_hand_computed_log() -> None:
    from goldspan.annotations.datamodel import Annotation, ModelId, SpanState
    from goldspan.annotations.teaching.decisions import Decision
    from goldspan.annotations.throughput import MANUAL, TEACH, throughput

    suggested = {"A": [(0, 4), (10, 14), (20, 24)], "B": [(0, 4), (10, 14)]}
    records = [
        # A: one suggestion relabelled, one span added, the suggestion at 20..24 removed: 3 fixed in 30 s.
        Annotation("A", "alice", (Span(0, 4, 0, 1, "ORG", state=SpanState.CONFIRMED), Span(10, 14, 2, 3, "GPE", state=SpanState.EDITED),
                                  Span(30, 34, 6, 7, "PERSON", state=SpanState.ADDED)), Answer.ACCEPT, "m", "1", active_seconds=30),
        Annotation("B", "alice", (Span(0, 4, 0, 1, "ORG", state=SpanState.CONFIRMED), Span(10, 14, 2, 3, "ORG", state=SpanState.CONFIRMED)),
                   Answer.REJECT, "m", "1", active_seconds=20),
        Annotation("C", "alice", (), None, "m", "1", active_seconds=500),  # not answered: no decision yet
    ]  # fmt: skip
    decisions = [
        Decision("A", "alice", 0, 4, "ORG", Answer.ACCEPT, 0, 1, "Acme", active_seconds=2),
        Decision("A", "alice", 10, 14, "ORG", Answer.REJECT, 2, 3, "Oslo", active_seconds=4),
        Decision("B", "alice", 0, 4, "ORG", Answer.IGNORE, 0, 1, "Acme", active_seconds=6),
        Decision("B", "bob", 0, 4, "ORG", Answer.ACCEPT, 0, 1, "Acme", active_seconds=1),
    ]
    rows = {(r.annotator, r.mode): r.as_json() for r in throughput(records, decisions, lambda a, m: suggested[a] if m == ModelId("m", "1") else [])}
    assert rows[("alice", MANUAL)] == {
        "annotator": "alice", "mode": MANUAL, "decisions": 2, "accepted": 1, "rejected": 1, "ignored": 0, "active_seconds": 50.0,
        "per_hour": 144.0, "entities_fixed": 3, "median_seconds_per_entity": 10.0, "median_seconds_per_decision": 25.0,
    }  # fmt: skip
    assert rows[("alice", TEACH)] == {
        "annotator": "alice", "mode": TEACH, "decisions": 3, "accepted": 1, "rejected": 1, "ignored": 1, "active_seconds": 12.0,
        "per_hour": 900.0, "entities_fixed": 0, "median_seconds_per_entity": 4.0, "median_seconds_per_decision": 4.0,
    }  # fmt: skip
    assert rows[("bob", TEACH)]["per_hour"] == 3600.0 and ("bob", MANUAL) not in rows
    only_bob = throughput(records, decisions, None, ["bob"])
    assert [(r.annotator, r.mode) for r in only_bob] == [("bob", TEACH)]


def test_active_time_counts_the_gaps_between_keys_each_up_to_a_minute(tmp_path: Path) -> None:
    from goldspan.annotations.session.session import Session

    article = Article.from_text("Title\nAnna met Bob in Oslo.")
    with Store(tmp_path / "g.json") as store:
        session = Session(store, [article], annotator="alice", labels=["PERSON"])
        for now in (1000.0, 1005.0, 1100.0, 1103.0):  # gaps of 5, 95 (a pause: counts as 60) and 3 seconds
            session.note_activity(now)
        session.note_away(1107.0)  # 4 more seconds, then the terminal loses the focus for 15 minutes
        session.note_back(2007.0)
        session.note_activity(2009.0)  # 2 seconds after the focus came back
        session.answer(Answer.ACCEPT)
    with Store(tmp_path / "g.json", read_only=True) as store:
        record = store.annotation(article.id, "alice")
    assert record is not None and record.active_seconds == 74.0


def test_train_learns_from_teach_answers_as_partial_examples(tmp_path: Path) -> None:
    """Accepted answers become entities and rejected ones incorrect spans, the rest missing; only
    articles without gold and not held out give them; a run on them trains and scores as usual."""
    import random

    from spacy.tokens import DocBin

    from goldspan.annotations.datamodel import Annotation
    from goldspan.annotations.teaching.decisions import Decision
    from goldspan.annotations.training.examples import INCORRECT_SPANS
    from goldspan.annotations.training.trainer import TrainRequest, prepare, run

    from .helpers.gold_corpus import add_gold, gold_article

    db = tmp_path / "g.json"
    add_gold(db, 0, 30)
    nlp = spacy.blank("en")
    with Store(db) as store:
        answered = []
        for i in range(100, 104):  # four articles nobody annotated, with teach answers only
            article, raw = gold_article(i, random.Random(i))
            store.add_articles([article])
            answered.append(article)
            doc = nlp.make_doc(article.text)
            start, end, label = raw[0]  # a right PERSON: accepted
            span = doc.char_span(start, end)
            store.save_decision(Decision(article.id, "alice", start, end, label, Answer.ACCEPT, span.start, span.end, span.text).to_dict())
            start, end, _ = raw[1]  # a GADGET offered as a PERSON: rejected
            span = doc.char_span(start, end)
            store.save_decision(Decision(article.id, "alice", start, end, "PERSON", Answer.REJECT, span.start, span.end, span.text).to_dict())
        gold_one = store.annotations(answered=True)[0]  # an answer on an article with gold is left to the gold
        store.save_decision(Decision(gold_one.article_id, "alice", 0, 6, "PERSON", Answer.REJECT, 0, 1, "Report").to_dict())
        request = TrainRequest(out=tmp_path / "m", eval_split=0.2, max_steps=6, eval_frequency=3)
        prepared = prepare(store, request)
    assert {a.article_id for a in prepared.partial} == {a.id for a in answered}
    assert any("also training on 8 teach answers in 4 articles without gold" in note for note in prepared.notes)
    outcome = run(prepared, request)
    docs = list(DocBin().from_disk(outcome.folder.parent / "train.spacy").get_docs(nlp.vocab))
    taught = [d for d in docs if d.spans.get(INCORRECT_SPANS)]
    assert len(taught) == 4
    for doc in taught:
        assert [e.label_ for e in doc.ents] == ["PERSON"] and [s.label_ for s in doc.spans[INCORRECT_SPANS]] == ["PERSON"]
        assert any(t.ent_iob_ == "" for t in doc)  # the tokens nobody answered for are missing, not O
    assert outcome.train_set.docs == len(docs)
    trained = spacy.load(outcome.folder)
    assert trained.get_pipe("ner").cfg["incorrect_spans_key"] == INCORRECT_SPANS


def test_teach_answers_export_as_prodigy_binary_tasks_and_import_back_as_answers(tmp_path: Path) -> None:
    import json

    db = tmp_path / "g.json"
    articles = scored_corpus(db, blank(), CORPUS)
    with Store(db) as store:
        for score, answer in ((0.55, Answer.ACCEPT), (0.7, Answer.REJECT)):
            [(article, span)] = [(a, s) for a in articles for s in store.suggestions(a.id, blank().model_id).spans if s.score == score]  # type: ignore[union-attr]
            store.save_decision(Decision(article.id, "alice", span.start, span.end, span.label, answer, span.token_start, span.token_end,
                                         span.text_in(article.text), score=score, active_seconds=1.5).to_dict())  # fmt: skip
    out = tmp_path / "tasks.jsonl"
    result = run_goldspan("export", "--db", db, "--format", "prodigy", "--out", out)
    assert result.returncode == 0 and "2 teach answers as binary tasks" in result.stdout, result.stdout + result.stderr
    tasks = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(t["_view_id"], t["answer"], len(t["spans"])) for t in tasks] == [("ner", "accept", 1), ("ner", "reject", 1)]
    span = tasks[0]["spans"][0]
    assert tasks[0]["text"][span["start"] : span["end"]] == span["text"] == "Name1" and span["token_end"] == span["token_start"]  # inclusive, as Prodigy's
    result = run_goldspan("import", out, "--db", tmp_path / "other.json", "--format", "prodigy", "--annotator", "carol")
    assert result.returncode == 0 and "2 binary tasks as teach answers and 0 annotations" in result.stdout, result.stdout + result.stderr
    with Store(db, read_only=True) as one, Store(tmp_path / "other.json", read_only=True) as other:
        mine = {(d.article_id, d.start, d.end, d.label, d.answer, d.score) for d in stored_decisions(one)}
        theirs = {(d.article_id, d.start, d.end, d.label, d.answer, d.score) for d in stored_decisions(other, "carol")}
        assert mine == theirs and other.annotations() == []  # answers, never an article's annotation


def test_a_decisions_time_runs_from_its_showing_to_the_answer_without_the_time_away(tmp_path: Path) -> None:
    from goldspan.annotations.teaching.session import TeachSession

    db = tmp_path / "g.json"
    articles = scored_corpus(db, blank(), {"One": [("PERSON", 0.5), ("PERSON", 0.6)]})
    with Store(db) as store:
        stream = TeachStream(["PERSON"])
        stream.add(articles[0], store.suggestions(articles[0].id, blank().model_id))  # type: ignore[arg-type]
        session = TeachSession(store, stream, annotator="alice")
        session.show_next(100.0)
        session.note_away(110.0)  # 10 s on the example, then elsewhere for 5 minutes
        session.note_back(410.0)
        session.answer(Answer.ACCEPT, 413.0)  # 3 s after coming back
        session.answer(Answer.REJECT, 600.0)  # the next one was shown at 413: 187 s counts as 60
        times = [d.active_seconds for d in stored_decisions(store, "alice")]
    assert times == [13.0, 60.0]


async def test_an_answer_the_store_refuses_is_said_in_red_and_the_example_stays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from goldspan.annotations.errors import StoreError

    db = tmp_path / "g.json"
    articles = scored_corpus(db, blank(), CORPUS)
    store = Store(db)
    app = open_teach(store, articles, blank(), labels=["PERSON"], annotator="alice", include_all=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        shown = app.session.current

        def full_disk(decision: object) -> None:
            raise StoreError(f"{db}: no space left on the device; nothing was saved.")

        monkeypatch.setattr(store, "save_decision", full_disk)
        await pilot.press("a")
        status = app.query_one("#status", TextLines).text
        assert "NOT SAVED" in status.plain and "red" in str(status.style)
        assert app.session.current is shown and app.session.answered == 0  # the same example, to answer again
        monkeypatch.undo()
        await pilot.press("a")
        assert app.session.answered == 1 and "NOT SAVED" not in app.query_one("#status", TextLines).text.plain
        await pilot.press("q")
    store.close()
    with Store(db, read_only=True) as fresh:
        assert [(d.text, d.answer) for d in stored_decisions(fresh, "alice")] == [("Name1", Answer.ACCEPT)]


def test_candidates_sorted_out_off_the_ui_thread_join_as_add_would_put_them() -> None:
    """``sort_out`` (teach's background thread) then ``join`` (its UI thread) is ``add``: the same
    order, and the same counts of spans answered before, sure, and of other labels."""
    article = Article.from_text("Title\n" + " ".join(f"Name{i} met Name{i}." for i in range(40)))
    spans = []
    for i in range(40):
        start = article.text.index(f"Name{i} ")
        score = [0.3, 0.999, 0.6, 0.001, 0.52][i % 5]
        spans.append(Span(start, start + len(f"Name{i}"), 3 * i + 2, 3 * i + 3, "ORG" if i % 7 == 0 else "PERSON", Origin.MODEL, score=score))
    found = Suggestions(article.id, blank().model_id, tuple(spans), scorer="greedy")
    answered = [(article.id, spans[1].start, spans[1].end, "PERSON"), (article.id, spans[2].start, spans[2].end, "PERSON")]

    one = TeachStream(["PERSON"], answered)
    assert one.add(article, found) == len([s for s in spans if s.label == "PERSON" and 0.01 < s.score < 0.99]) - 1
    two = TeachStream(["PERSON"], answered)
    arrival = two.sort_out(article, found)
    assert len(two) == 0 and two.articles == 0  # sorting out changes nothing
    assert two.join(arrival) == len(one)
    assert two.join(two.sort_out(article, found)) == 0  # the same spans again: already in the pool
    # Name1 is sure (0.999) but answered before, and counted so, as add always did.
    assert (one.answered_before, one.sure, one.other_labels) == (2, 13, 6)
    assert (two.sure, two.other_labels) == (one.sure * 2, one.other_labels * 2)
    order_one = [one.next() for _ in range(len(one))]
    order_two = [two.next() for _ in range(len(two))]
    assert [c.key for c in order_one] == [c.key for c in order_two]
    assert [c.span.score for c in order_one][:8] == [0.52] * 7 + [0.6]  # the most uncertain first


async def test_an_article_scored_in_the_background_joins_the_pool_and_is_stored_for_the_next_session(tmp_path: Path) -> None:
    """No stored scores: the model's process scores the article while the screen waits, its entities
    are asked, and its scored suggestions are in the DB (made ready on the background thread)."""
    db = tmp_path / "g.json"
    article = Article.from_text("Summit\nVladimir Putin met Alexander Lukashenko in Sochi on Friday, Reuters reported.")
    spec = pipelines.resolve(None)
    store = Store(db)
    store.add_articles([article])
    app = open_teach(store, [article], spec, labels=["PERSON"], annotator="alice", include_all=True)
    async with app.run_test(size=(100, 30)) as pilot:
        import time

        deadline = time.monotonic() + 120
        while app.session.current is None:
            await pilot.pause(0.05)
            assert time.monotonic() < deadline, "the model's process did not score the article in time"
        await pilot.pause()
        shown = app.session.current
        assert shown.span.label == "PERSON" and shown.span.score is not None and 0 <= shown.span.score <= 1
        assert f"Is “{shown.text}” a PERSON?" in app.query_one("#example", TextLines).text.plain
        await pilot.press("a")
        await pilot.press("q")
    store.close()
    with Store(db, read_only=True) as fresh:
        stored = fresh.suggestions(article.id, spec.model_id)
        assert stored is not None and stored.scorer.startswith("greedy")
        people = {article.text[s.start : s.end] for s in stored.spans if s.label == "PERSON"}
        assert shown.text in people and all(s.score is not None for s in stored.spans)
        assert [(d.text, d.answer) for d in stored_decisions(fresh, "alice")] == [(shown.text, Answer.ACCEPT)]
