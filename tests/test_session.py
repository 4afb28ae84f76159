"""The editing session as plain calls: what each key does, checked in the store afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldspan.annotations.nlp import pipelines
from goldspan.annotations.nlp.align import align_article, blank_tokenizer
from goldspan.annotations.articles import load_articles
from goldspan.annotations.datamodel import Annotation, Answer, Article, Origin, Span, SpanState
from goldspan.annotations.session.outcome import Kind
from goldspan.annotations.session.session import Session
from goldspan.annotations.store import Store
from goldspan.annotations.nlp.suggest import preannotate

from .conftest import SEED

LABELS = ("PERSON", "ORG", "GPE", "DATE")


@pytest.fixture
def session(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> Session:
    articles = load_articles([SEED]).articles + [Article.from_text("Second\nBrest is near Poland.")]
    store = Store(tmp_path / "g.json")
    preannotate(store, articles, pattern_spec)
    s = Session(store, articles, annotator="alice", labels=LABELS, model=pattern_spec.model_id)
    tokenize(s, pattern_spec)
    return s


def tokenize(s: Session, spec: pipelines.PipelineSpec) -> None:
    draft = s.draft
    assert s.set_tokens(draft.article.id, align_article(blank_tokenizer(spec), draft.article, draft.spans), draft.version)


def focus_on(s: Session, text: str, nth: int = 0) -> Span:
    matches = [i for i, sp in enumerate(s.spans) if sp.text_in(s.article.text) == text]
    s.focus_span(matches[nth])
    return s.spans[matches[nth]]


def stored(s: Session) -> list[tuple[str, str, str]]:
    record = s.store.annotation(s.article.id, "alice")
    assert record is not None
    return [(sp.text_in(s.article.text), sp.label, str(sp.state)) for sp in record.spans]


def test_relabel_confirms_and_is_saved_at_once(session: Session) -> None:
    focus_on(session, "Minsk")
    assert session.apply_label("ORG") is None
    assert ("Minsk", "ORG", "edited") in stored(session)
    assert session.last_saved is not None


def test_confirm_moves_to_the_next_unconfirmed_entity(session: Session) -> None:
    first = focus_on(session, "Vladimir Putin")
    session.confirm()
    assert ("Vladimir Putin", "PERSON", "confirmed") in stored(session)
    assert session.focused is not None and session.focused.start > first.start and session.focused.state is SpanState.SUGGESTED


def test_remove_and_move_both_boundaries(session: Session) -> None:
    focus_on(session, "Vladimir Putin")
    session.move_boundary("start", +1)
    assert session.focused.text_in(session.article.text) == "Putin"  # type: ignore[union-attr]
    session.move_boundary("start", -1)
    session.move_boundary("end", -1)
    assert session.focused.text_in(session.article.text) == "Vladimir"  # type: ignore[union-attr]
    assert session.move_boundary("end", -1) == "a span needs at least one token"
    removed = focus_on(session, "Minsk")
    count = len(session.spans)
    session.remove()
    assert len(session.spans) == count - 1
    assert removed.start not in [s.start for s in session.store.annotation(session.article.id, "alice").spans]  # type: ignore[union-attr]
    assert ("Vladimir", "PERSON", "edited") in stored(session)


def test_moving_into_a_neighbour_is_refused_and_changes_nothing(session: Session) -> None:
    text = session.article.text
    focus_on(session, "The Moscow Times")
    before = list(session.spans)
    # "... Lukashenko said, The Moscow Times reported." — grow the start left over "said ," into "Lukashenko"
    for _ in range(2):
        session.move_boundary("start", -1)
    assert session.move_boundary("start", -1) == "spans may not overlap"
    assert session.focused.text_in(text).startswith("said")  # type: ignore[union-attr]
    assert len(session.spans) == len(before)


def test_add_a_span_from_the_token_cursor(session: Session) -> None:
    text = session.article.text
    session.cursor_to_offset(text.index("Brest"))
    assert session.focused is None
    session.begin_span()
    assert session.apply_label("GPE") is None
    assert ("Brest", "GPE", "added") in stored(session)
    record = session.store.annotation(session.article.id, "alice")
    assert any(s.origin is Origin.ANNOTATOR for s in record.spans)  # type: ignore[union-attr]


def test_a_multi_token_span_and_escape(session: Session) -> None:
    text = session.article.text
    session.cursor_to_offset(text.index("Special Operations Forces"))
    session.begin_span()
    session.move_cursor(+1)
    session.move_cursor(+1)
    assert session.selection == (text.index("Special Operations Forces"), text.index("Special Operations Forces") + 25)
    assert session.cancel() == "new span cancelled" and session.selection is None
    session.cursor_to_offset(text.index("Special Operations Forces"))
    session.begin_span()
    session.move_cursor(+2)
    session.apply_label("ORG")
    assert ("Special Operations Forces", "ORG", "added") in stored(session)


def test_undo_and_redo_across_a_relabel_and_an_article_change(session: Session) -> None:
    focus_on(session, "Minsk")
    session.apply_label("ORG")
    session.answer(Answer.ACCEPT)
    assert session.index == 1
    assert session.undo() == "undo: 45 unconfirmed, answer accept taken back (article 1)"  # back on the first article, unanswered
    assert session.index == 0 and session.store.annotation(session.article.id, "alice").answer is None  # type: ignore[union-attr]
    session.undo()
    assert ("Minsk", "GPE", "suggested") in stored(session)
    session.redo()
    assert ("Minsk", "ORG", "edited") in stored(session)
    assert session.undo() == "undo: 'Minsk' ORG → GPE" and session.undo() == "nothing to undo"  # what the undo did


def test_accept_makes_suggestions_gold_reject_and_skip_answer(session: Session) -> None:
    session.answer(Answer.ACCEPT)
    record = session.store.annotation(session.articles[0].id, "alice")
    assert record.answer is Answer.ACCEPT and all(s.state is SpanState.CONFIRMED for s in record.spans)  # type: ignore[union-attr]
    assert session.index == 1
    assert session.answer(Answer.REJECT) == "all 2 articles are answered"
    assert session.store.annotation(session.articles[1].id, "alice").answer is Answer.REJECT  # type: ignore[union-attr]
    session.go_to(0)
    session.answer(Answer.IGNORE)
    assert session.store.annotation(session.articles[0].id, "alice").answer is Answer.IGNORE  # type: ignore[union-attr]


def test_reopening_resumes_at_the_first_unanswered_article_with_work_as_left(session: Session, pattern_spec) -> None:
    focus_on(session, "Minsk")
    session.apply_label("ORG")
    session.answer(Answer.ACCEPT)
    again = Session(session.store, session.articles, annotator="alice", labels=LABELS, model=pattern_spec.model_id)
    assert again.index == 1 and again.done == 1
    again.go_to(0)
    assert any(s.label == "ORG" and s.text_in(again.article.text) == "Minsk" for s in again.spans)
    other = Session(session.store, session.articles, annotator="bob", labels=LABELS, model=pattern_spec.model_id)
    assert other.index == 0 and other.done == 0  # annotations are per annotator


def test_search_and_goto(session: Session) -> None:
    text = session.article.text
    assert session.search("ryanair") is None
    assert session.cursor_chars == (text.index("Ryanair"), text.index("Ryanair") + 7)
    assert session.search("no such words") == "'no such words' is not in this article"
    assert session.find_article("2") == 1 and session.find_article("second") == 1 and session.find_article("99") is None


def test_misaligned_and_overlapping_spans_are_snapped_and_reported(tmp_path: Path, pattern_spec) -> None:
    article = Article.from_text("Title\nVladimir Putin visited Minsk today.")
    t = article.text
    bad = [
        Span(t.index("ladimir"), t.index("Putin") + 3, 0, 1, "PERSON"),  # inside words on both sides
        Span(t.index("Putin"), t.index("Minsk") + 5, 0, 1, "ORG"),  # overlaps the first, longer
        Span(t.index("today"), t.index("today") + 5, 0, 1, "DATE"),
    ]
    aligned = align_article(blank_tokenizer(pattern_spec), article, bad)
    assert [(s.text_in(t), s.label) for s in aligned.spans] == [("Putin visited Minsk", "ORG"), ("today", "DATE")]
    assert any("snapped" in n for n in aligned.notes) and any("overlaps" in n for n in aligned.notes)


def test_search_offsets_stay_exact_where_case_folding_changes_length(tmp_path: Path, pattern_spec) -> None:
    article = Article.from_text("Straße\nDie Straße in Gießen führt nach GIESSEN.")
    store = Store(tmp_path / "g.json")
    s = Session(store, [article], annotator="alice", labels=LABELS)
    tokenize(s, pattern_spec)
    s.search("gießen")
    start, end = s.cursor_chars  # type: ignore[misc]
    assert article.text[start:end] == "Gießen"
    s.search("GIESSEN")
    assert article.text[slice(*s.cursor_chars)] == "GIESSEN"  # type: ignore[misc]


def test_a_read_only_database_refuses_every_edit(tmp_path: Path, pattern_spec) -> None:
    db = tmp_path / "g.json"
    articles = load_articles([SEED]).articles
    with Store(db) as store:
        preannotate(store, articles, pattern_spec)
    db.chmod(0o444)
    with Store(db) as store:
        s = Session(store, articles, annotator="alice", labels=LABELS, model=pattern_spec.model_id)
        tokenize(s, pattern_spec)
        focus_on(s, "Minsk")
        for outcome in (s.apply_label("ORG"), s.remove(), s.move_boundary("end", 1), s.answer(Answer.ACCEPT)):
            assert outcome is not None and outcome.startswith("read-only")
        assert store.annotation(articles[0].id, "alice") is None
        assert any(sp.label == "GPE" and sp.text_in(s.article.text) == "Minsk" for sp in s.spans)


def test_a_failed_save_stays_on_screen_and_is_saved_again(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from goldspan.annotations.errors import StoreWriteError

    def full(*args: object) -> None:
        raise StoreWriteError("g.json: the save did not reach the disk (No space left on device); the database is as it was.")

    focus_on(session, "Minsk")
    with monkeypatch.context() as patch:
        patch.setattr(session.store, "save_annotation", full)
        outcome = session.apply_label("ORG")
    assert outcome is not None and outcome.startswith("NOT SAVED") and "No space left" in outcome
    assert session.draft.unsaved and session.focused.label == "ORG"  # type: ignore[union-attr]
    assert session.store.annotation(session.article.id, "alice") is None
    assert session.save_again() == "saved 1 waiting change"
    assert ("Minsk", "ORG", "edited") in stored(session)


def test_the_same_annotator_in_two_processes_last_save_wins_and_the_other_is_told(tmp_path: Path, pattern_spec) -> None:
    db = tmp_path / "g.json"
    articles = [*load_articles([SEED]).articles, Article.from_text("Second\nBrest is near Poland.")]
    with Store(db) as store:
        preannotate(store, articles, pattern_spec)
    with Store(db) as one_store, Store(db) as two_store:
        one = Session(one_store, articles, annotator="alice", labels=LABELS, model=pattern_spec.model_id)
        two = Session(two_store, articles, annotator="alice", labels=LABELS, model=pattern_spec.model_id)
        for s in (one, two):
            tokenize(s, pattern_spec)
        focus_on(one, "Minsk")
        one.apply_label("ORG")
        two.next_article()
        two.previous_article()  # two reloads on article change and shows one's save
        assert any(sp.label == "ORG" and sp.text_in(two.article.text) == "Minsk" for sp in two.spans)
        focus_on(two, "Minsk")
        two.apply_label("DATE")  # now two saves last
        one.next_article()
        message = one.previous_article()
        assert message is not None and "another goldspan session saved this article as alice" in message
        assert any(sp.label == "DATE" and sp.text_in(one.article.text) == "Minsk" for sp in one.spans)


def test_label_counts_and_order_stay_right_through_any_run_of_edits(session: Session) -> None:
    """Counts are carried from version to version by each change's stretch, only that stretch is checked
    for order, and the store is told which stretch to journal: after every key the counts must equal a
    fresh count and the saved record a fresh sort, also read back from disk, also when another process
    saved the same record in between (its list is not the one the stretch was spliced from)."""
    import random
    from collections import Counter

    from goldspan.annotations.datamodel import sorted_spans

    rng = random.Random(7)
    keys = [
        lambda: session.focus_next(), lambda: session.focus_previous(), lambda: session.move_cursor(rng.choice((-3, 1, 2))),
        lambda: session.apply_label(rng.choice(LABELS)), lambda: session.remove(), lambda: session.undo(), lambda: session.redo(),
        lambda: session.move_boundary(rng.choice(("start", "end")), rng.choice((-1, 1))), lambda: session.begin_span(),
        lambda: session.confirm(),
    ]  # fmt: skip
    for step in range(400):
        if step % 50 == 49:  # another process saves this record (the session has it open: last save wins)
            with Store(session.store.path) as other:
                other.save_annotation(Annotation(session.article.id, "alice", tuple(session.spans)[::2]))
        rng.choice(keys)()
        counts = session.label_counts()
        assert {k: v for k, v in counts.items() if v} == dict(Counter(s.label for s in session.spans))
        assert set(LABELS) <= set(counts)
        record = session.store.annotation(session.article.id, "alice")
        if record is not None:
            assert list(record.spans) == list(sorted_spans(list(session.spans))) == list(session.spans)
    assert session.draft.version > 100  # the walk did edit, many times
    session.apply_label("ORG") if session.focused else session.focus_next()
    session.apply_label("ORG")  # the last word is the session's
    with Store(session.store.path, read_only=True) as fresh:
        record = fresh.annotation(session.article.id, "alice")
    assert record is not None and list(record.spans) == list(session.spans)


def test_the_entity_under_or_after_the_cursor_is_the_one_a_full_scan_would_find(session: Session) -> None:
    tokens = session.draft.tokens
    assert tokens is not None and session.spans
    spans = list(session.spans)
    for token in range(0, len(tokens), 3):
        session.cursor_to_offset(tokens.starts[token])
        cursor = session.draft.cursor
        under = next((i for i, s in enumerate(spans) if s.token_start <= cursor < s.token_end), None)
        assert session.draft.focus == under
        for step in (1, -1):
            session.draft.focus = None
            session.draft.cursor = cursor
            session.focus_next() if step > 0 else session.focus_previous()
            here = tokens.starts[cursor]
            ahead = [i for i, s in enumerate(spans) if (s.start > here if step > 0 else s.start < here)]
            assert session.draft.focus == ((ahead[0] if step > 0 else ahead[-1]) if ahead else (0 if step > 0 else len(spans) - 1))


def test_accept_waits_for_the_models_suggestions(tmp_path: Path) -> None:
    from goldspan.annotations.datamodel import ModelId

    article = Article.from_text("Second\nBrest is near Poland.")
    store = Store(tmp_path / "g.json")
    s = Session(store, [article], annotator="alice", labels=LABELS, model=ModelId("some_model", "1.0"))
    assert s.draft.suggestions_pending
    assert "still on their way" in (s.answer(Answer.ACCEPT) or "")
    assert store.annotation(article.id, "alice") is None  # nothing was saved as gold
    start = article.text.index("Poland")
    assert s.add_suggestions(article.id, [Span(start, start + 6, 4, 5, "GPE", Origin.MODEL)])
    s.answer(Answer.ACCEPT)
    record = store.annotation(article.id, "alice")
    assert record is not None and record.answer is Answer.ACCEPT
    assert [(sp.text_in(article.text), sp.label, sp.state) for sp in record.spans] == [("Poland", "GPE", SpanState.CONFIRMED)]


def test_star_then_a_label_gives_it_to_every_mention_not_answered_yet_in_one_undoable_step(session: Session) -> None:
    text = session.article.text
    mentions = [m.start() for m in __import__("re").finditer(r"\bBelarus\b", text)]
    focus_on(session, "Belarus", 1)
    session.confirm()  # one mention looked at and kept as GPE: an answer of the annotator's
    focus_on(session, "Belarus", 2)
    session.remove()  # one taken away: that text has no span now
    before = stored(session)
    focus_on(session, "Belarus", 0)
    assert session.begin_every_mention() == "every 'Belarus': press a label key (<cancel> cancels)"
    said = session.apply_label("ORG")
    after = stored(session)
    belarus = [(label, state) for t, label, state in after if t == "Belarus"]
    assert belarus.count(("GPE", "confirmed")) == 1  # the one the annotator had confirmed keeps its label
    assert len(belarus) == len(mentions)  # the removed mention is labelled again, as text no span covers
    relabelled = len(mentions) - 2
    assert said == f"ORG for {len(mentions) - 1} mentions of 'Belarus'; {relabelled} relabelled, 0 confirmed, 1 added; 1 mention you had answered kept its label"
    assert session.undo() == f"undo: 'Belarus' → GPE ×{relabelled}, removed ORG 'Belarus'"  # one step: everything as before the star
    assert stored(session) == before


def test_star_is_cancelled_by_escape_and_by_moving_on(session: Session) -> None:
    focus_on(session, "Belarus")
    session.begin_every_mention()
    assert session.cancel() == "labelling every mention cancelled"
    session.begin_every_mention()
    session.next_article()
    session.previous_article()  # leaving the article drops it too
    assert not session.draft.every_mention
    session.begin_every_mention()
    session.focus_next()  # moving on drops it: the next label key labels the focused entity alone
    target = session.focused
    assert target is not None
    session.apply_label("ORG")
    assert sum(1 for t, label, _ in stored(session) if label == "ORG" and t == target.text_in(session.article.text)) == 1


def test_a_note_and_a_flag_are_saved_with_the_annotation_in_fields_of_their_own(session: Session) -> None:
    assert session.set_comment("  Belarus: GPE or ORG?  ") == "note saved"
    assert session.toggle_flag() == "flagged for review"
    record = session.store.annotation(session.article.id, "alice")
    assert record is not None and (record.comment, record.flagged, record.note, record.answer) == ("Belarus: GPE or ORG?", True, "", None)
    assert session.toggle_flag() == "flag removed" and session.set_comment("") == "note removed"
    record = session.store.annotation(session.article.id, "alice")
    assert record is not None and (record.comment, record.flagged) == ("", False)


def test_v_says_how_to_go_on(session: Session) -> None:
    # A session alone names actions; the app gives it the keys as they are bound (test_annotator_screen).
    assert session.begin_span() == "new span: move, then a label key; <cancel> cancels"


def test_a_click_focuses_the_entity_under_it_else_moves_the_cursor(session: Session) -> None:
    minsk = focus_on(session, "Minsk")
    session.focus_span(0)
    assert session.click_at(minsk.start + 2) is None and session.focused == minsk
    outside = minsk.end + 1  # the text just after Minsk: no entity there
    assert session.click_at(outside) is None
    assert session.focused != minsk and session.cursor_chars is not None and session.cursor_chars[0] >= outside - 1


def test_go_to_takes_a_number_as_that_article_and_text_as_a_title(session: Session) -> None:
    assert session.go_to_query("2") is None and session.index == 1
    assert session.go_to_query("putin") is None and session.index == 0  # a piece of the seed's title, any case
    refusal = session.go_to_query("9")
    assert refusal is not None and refusal.kind is Kind.REFUSED and "there are 2" in refusal.text
    refusal = session.go_to_query("Atlantis")
    assert refusal is not None and "no article title has 'Atlantis'" in refusal.text


def test_a_number_key_with_no_label_on_it_names_the_picker(session: Session) -> None:
    focus_on(session, "Minsk")
    assert session.apply_label_key(1) is None and ("Minsk", "ORG", "edited") in stored(session)
    refusal = session.apply_label_key(7)
    assert refusal is not None and refusal.kind is Kind.REFUSED and "no label on key 8" in refusal.text and "<pick_label>" in refusal.text
