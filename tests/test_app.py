"""The annotator through Textual's Pilot: real key presses, then the store is read back."""

from __future__ import annotations

from pathlib import Path

import pytest
from goldspan.annotations.articles import load_articles
from goldspan.annotations.datamodel import Answer, Article, SpanState
from goldspan.tui.keymap import default_keymap
from goldspan.annotations.store import Store
from goldspan.tui.widgets.article_view import ArticleView

from .apphelpers import SECOND, make_app, search, settle
from .conftest import SEED

def record(db: Path, index: int = 0, annotator: str = "alice"):  # type: ignore[no-untyped-def]
    articles = [*load_articles([SEED]).articles, SECOND]
    with Store(db, read_only=True) as store:
        return store.annotation(articles[index].id, annotator)


def spans_of(db: Path, index: int = 0) -> list[tuple[str, str, str]]:
    text = [*load_articles([SEED]).articles, SECOND][index].text
    rec = record(db, index)
    assert rec is not None
    return [(s.text_in(text), s.label, str(s.state)) for s in rec.spans]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "g.json"


async def test_relabel_and_remove_with_keys(db: Path, pattern_spec) -> None:
    app = make_app(db, pattern_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await search(pilot, "Minsk")
        await pilot.press("2")  # ORG
        await search(pilot, "The Moscow Times")
        await pilot.press("x")
    spans = spans_of(db)
    assert ("Minsk", "ORG", "edited") in spans
    assert "The Moscow Times" not in [t for t, _, _ in spans]


async def test_move_both_boundaries_with_keys(db: Path, pattern_spec) -> None:
    app = make_app(db, pattern_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await search(pilot, "Vladimir Putin")
        await pilot.press("right_square_bracket")  # start one token right: "Putin"
        await pilot.press("left_square_bracket", "left_curly_bracket")  # back, then end one left: "Vladimir"
    assert ("Vladimir", "PERSON", "edited") in spans_of(db)


async def test_add_spans_from_the_token_cursor(db: Path, pattern_spec) -> None:
    app = make_app(db, pattern_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await search(pilot, "Brest")
        await pilot.press("v", "3")  # one token, GPE
        await search(pilot, "Special Operations")
        await pilot.press("v", "l", "l", "2")  # three tokens, ORG
        await search(pilot, "Reuters")
        await pilot.press("4")  # a label key on a bare token makes a one-token entity
    spans = spans_of(db)
    assert ("Brest", "GPE", "added") in spans
    assert ("Special Operations Forces", "ORG", "added") in spans
    assert ("Reuters", "DATE", "added") in spans


async def test_a_new_span_may_not_overlap_and_escape_cancels(db: Path, pattern_spec) -> None:
    app = make_app(db, pattern_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await search(pilot, "capital of Minsk")
        await pilot.press("v", "l", "l", "1")  # "capital of Minsk" would swallow GPE Minsk
        assert "spans may not overlap" in str(app.screen.query_one("#message").render())
        await pilot.press("v", "escape", "h", "1")  # escape drops a new span; "1" then labels the token under the cursor
    spans = spans_of(db)
    assert ("Minsk", "GPE", "suggested") in spans
    assert [t for t, label, _ in spans if label == "PERSON" and t in ("capital", "of")] == ["of"]


async def test_undo_and_redo_across_a_relabel(db: Path, pattern_spec) -> None:
    app = make_app(db, pattern_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await search(pilot, "Minsk")
        await pilot.press("1")
        assert ("Minsk", "PERSON", "edited") in spans_of(db)
        await pilot.press("u")
        assert ("Minsk", "GPE", "suggested") in spans_of(db)
        await pilot.press("ctrl+r")
        assert ("Minsk", "PERSON", "edited") in spans_of(db)
        await pilot.press("backspace")
    assert ("Minsk", "GPE", "suggested") in spans_of(db)


async def test_accept_reject_skip_and_undo_of_an_answer(db: Path, pattern_spec) -> None:
    app = make_app(db, pattern_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert app.session.index == 1
        await pilot.press("X")
        assert record(db, 1).answer is Answer.REJECT
        await pilot.press("u")  # the reject is undone
        assert record(db, 1).answer is None
        await pilot.press("space")
        assert record(db, 1).answer is Answer.IGNORE
    first = record(db, 0)
    assert first.answer is Answer.ACCEPT and all(s.state is SpanState.CONFIRMED for s in first.spans)


async def test_reopen_resumes_at_the_first_unanswered_article(db: Path, pattern_spec) -> None:
    app = make_app(db, pattern_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await search(pilot, "Minsk")
        await pilot.press("2", "a")
    again = make_app(db, pattern_spec)
    async with again.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "article 2/2" in str(again.screen.query_one("#status").render())
        await pilot.press("p")
        await settle(pilot)
        assert any(s.label == "ORG" and again.session.article.text[s.start : s.end] == "Minsk" for s in again.session.spans)


async def test_label_picker_and_goto(db: Path, pattern_spec) -> None:
    app = make_app(db, pattern_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await search(pilot, "Minsk")
        await pilot.press("t", *"dat", "enter")
        await pilot.pause()
        await pilot.press("g", *"second", "enter")
        await settle(pilot)
        assert app.session.index == 1
    assert ("Minsk", "DATE", "edited") in spans_of(db)


async def test_help_lists_every_binding_and_closes(db: Path, pattern_spec) -> None:
    app = make_app(db, pattern_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        shown = app.screen.query_one("Static").render()
        text = shown.plain if hasattr(shown, "plain") else str(shown)
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "AnnotateScreen"
    del text


async def test_a_remapped_key_works(db: Path, pattern_spec) -> None:
    keymap = default_keymap() | {"remove": ("r",)}
    app = make_app(db, pattern_spec, keymap=keymap)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await search(pilot, "Minsk")
        await pilot.press("x")  # no longer bound
        assert record(db) is None
        await pilot.press("r")
    assert "Minsk" not in [t for t, _, _ in spans_of(db)][:3]


async def test_article_text_is_shown_inert(db: Path, pattern_spec) -> None:
    hostile = Article.from_text("Markup [bold red]Minsk[/] and \x1b[31mred\x1b[0m and \x07 bell\nsecond line")
    app = make_app(db, pattern_spec, articles=[hostile])
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(ArticleView)
        line = "".join(seg.text for seg in view.render_line(0))
    assert "[bold red]Minsk" in line and "[/]" in line
    assert "\x1b" not in line and "␛[31mred" in line and "␇" in line


async def test_clicking_an_entity_in_the_list_focuses_it(db: Path, pattern_spec) -> None:
    app = make_app(db, pattern_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.click("#entities", offset=(3, 2))
        await pilot.pause()
        assert app.session.draft.focus == 2


async def test_misaligned_and_overlapping_model_spans_are_snapped_and_reported(db: Path, pattern_spec) -> None:
    from goldspan.annotations.datamodel import Span, Suggestions

    text = SECOND.text
    crooked = (
        Span(text.index("rest"), text.index("rest") + 4, 0, 1, "GPE"),  # inside "Brest"
        Span(text.index("Anna"), text.index("Nowak") + 5, 0, 2, "PERSON"),
        Span(text.index("Nowak"), text.index("Warsaw") + 6, 0, 1, "ORG"),  # overlaps the person, longer
    )
    app = make_app(db, pattern_spec, articles=[SECOND])
    app.session.store.save_suggestions([Suggestions(SECOND.id, pattern_spec.model_id, crooked)])
    app.session._drafts.clear()  # reopen the article from the store as a fresh session would
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        shown = [(s.text_in(text), s.label) for s in app.session.spans]
        notes = [n.message for n in app._notifications]
    assert shown == [("Brest", "GPE"), ("Nowak in Warsaw", "ORG")]
    assert any("snapped" in n for n in notes) and any("overlaps" in n for n in notes)


async def test_a_label_outside_the_session_is_shown_and_can_be_relabelled(db: Path, pattern_spec) -> None:
    from goldspan.annotations.datamodel import Annotation, Origin, Span

    text = SECOND.text
    start = text.index("Anna Nowak")
    imported = Span(start, start + 10, 6, 8, "MISC", Origin.IMPORT)
    app = make_app(db, pattern_spec, articles=[SECOND])
    app.session.store.save_annotation(Annotation(SECOND.id, "alice", (imported,)))
    app.session._drafts.clear()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert [s.label for s in app.session.spans] == ["MISC"]
        await pilot.press("j", "1")
    assert spans_of(db, 1) == [("Anna Nowak", "PERSON", "edited")]


async def test_a_read_only_database_says_so_on_every_editing_key(db: Path, pattern_spec) -> None:
    app = make_app(db, pattern_spec)
    app.session.store.close()
    db.chmod(0o444)
    app.session.store = Store(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "READ-ONLY" in str(app.screen.query_one("#status").render())
        await pilot.press("j")  # moving around is fine; every key that would change something is refused
        for key in ("x", "2", "right_square_bracket", "a"):
            await pilot.press(key)
            assert "read-only" in str(app.screen.query_one("#message").render())
    assert record(db) is None


async def test_a_failed_save_shows_red_and_ctrl_s_saves_it_again(db: Path, pattern_spec) -> None:
    from goldspan.annotations.errors import StoreWriteError

    app = make_app(db, pattern_spec)
    real_save = app.session.store.save_annotation

    def full(annotation: object, edit: object = None) -> None:
        raise StoreWriteError("g.json: the save did not reach the disk (No space left on device); the database is as it was.")

    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await search(pilot, "Minsk")
        app.session.store.save_annotation = full  # type: ignore[method-assign]
        await pilot.press("2")
        message = app.screen.query_one("#message")
        assert "NOT SAVED" in str(message.render()) and message.has_class("error")
        assert "NOT SAVED" in str(app.screen.query_one("#status").render())
        assert any("ctrl+s" in n.message and n.severity == "error" for n in app._notifications)
        assert record(db) is None
        app.session.store.save_annotation = real_save  # type: ignore[method-assign]
        await pilot.press("ctrl+s")
        assert "saved 1 waiting change" in str(message.render())
    assert ("Minsk", "ORG", "edited") in spans_of(db)


async def test_a_terminal_too_small_says_so_and_comes_back(db: Path, pattern_spec) -> None:
    app = make_app(db, pattern_spec)
    async with app.run_test(size=(20, 5)) as pilot:
        await settle(pilot)
        note = app.screen.query_one("#too-small")
        assert note.display and "terminal too small (20x5)" in str(note.render())
        await pilot.press("j", "2")  # keys still work; nothing crashes
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert not note.display and app.screen.query_one(ArticleView).display


async def test_a_model_that_fails_to_load_leaves_the_annotator_usable_and_says_why(db: Path, pattern_spec) -> None:
    from goldspan.annotations.errors import ModelError
    from goldspan.annotations.session.session import Session

    def broken(spec):  # type: ignore[no-untyped-def]
        raise ModelError("--model en_core_web_sm: spaCy could not load it (E050 can't find model).")

    store = Store(db)
    fresh = Article.from_text("Fresh story\nAnna Nowak arrived in Warsaw on Monday.")
    store.add_articles([fresh])
    session = Session(store, [fresh], annotator="alice", labels=("PERSON", "ORG", "GPE"), model=pattern_spec.model_id)
    from goldspan.tui.app import GoldspanApp

    app = GoldspanApp(session, pattern_spec, keymap=default_keymap(), loader=broken)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "model failed to load" in str(app.screen.query_one("#status").render())
        assert any("E050" in n.message for n in app._notifications)
        await search(pilot, "Warsaw")  # tokens still come from spaCy's tokenizer: annotate by hand
        await pilot.press("v", "3")
    with Store(db, read_only=True) as check:
        record = check.annotation(fresh.id, "alice")
    assert record is not None and [(s.text_in(fresh.text), s.label) for s in record.spans] == [("Warsaw", "GPE")]


async def test_quitting_while_the_model_parses_a_long_article_stops_it_after_the_current_piece(db: Path, pattern_spec) -> None:
    """A quit cannot stop a thread: the parse itself must notice, or the background thread would go on
    parsing a 20 MB article (and caching it) after the screen had closed."""
    import threading

    import time

    from goldspan.annotations.nlp import pipelines
    from goldspan.annotations.session.session import Session
    from goldspan.annotations.nlp.suggest import CHUNK, chunks
    from goldspan.tui.app import GoldspanApp

    paragraph = "Anna Nowak arrived in Warsaw on Monday. " * 40
    long = Article.from_text("Long story\n\n" + "\n\n".join([paragraph] * (5 * CHUNK // len(paragraph))))
    pieces: list[int] = []
    inside, release = threading.Event(), threading.Event()

    def gated(spec):  # type: ignore[no-untyped-def]
        nlp = pipelines.load(spec)
        tokenizer = nlp.tokenizer

        def tokenize(text: str):  # type: ignore[no-untyped-def]
            pieces.append(len(text))
            inside.set()
            release.wait(60)  # hold the first piece until the app has quit
            return tokenizer(text)

        nlp.tokenizer = tokenize
        return nlp

    store = Store(db)
    store.add_articles([long])
    session = Session(store, [long], annotator="alice", labels=("PERSON", "ORG", "GPE"), model=pattern_spec.model_id)
    app = GoldspanApp(session, pattern_spec, keymap=default_keymap(), loader=gated)
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 60
        while not inside.is_set():
            assert time.monotonic() < deadline, "the model never started on the article"
            await pilot.pause(0.05)
        await pilot.press("q")
    release.set()
    assert app.background.join(60)  # the background thread has ended
    assert len(chunks(long.text)) >= 5 and len(pieces) == 1
    with Store(db, read_only=True) as check:
        assert not check.has_suggestions(long.id, pattern_spec.model_id)  # nothing half-parsed is cached


async def test_the_text_column_is_as_wide_with_a_scrollbar_as_without(db: Path, pattern_spec) -> None:
    """A scrollbar that shows after the text was wrapped (as at start-up in a real terminal) must not
    cover the ends of its rows: the gutter is kept, so short and long articles wrap alike."""
    short = Article.from_text("Short one\n\n" + "a " * 300)  # one-letter words fill each row to the edge
    app = make_app(db, pattern_spec, articles=[short, *load_articles([SEED]).articles])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(ArticleView)
        assert not view.show_vertical_scrollbar
        rows_short = [view.render_line(y).text.rstrip() for y in range(view.size.height)]
        await pilot.press("n")
        await settle(pilot)
        assert view.show_vertical_scrollbar
        width = view.scrollable_content_region.width
        rows_long = [view.render_line(y).text.rstrip() for y in range(view.size.height)]
    assert max(map(len, rows_short)) in (width - 1, width)
    assert max(map(len, rows_long)) <= width


async def test_rows_drawn_fit_the_width_they_are_drawn_in_whatever_width_they_were_wrapped_for(db: Path, pattern_spec) -> None:
    """A real terminal's start-up can leave the article wrapped for a guessed width with no Resize to
    follow; every word must still be on screen (words cut off at the right edge were the symptom)."""
    import re

    from goldspan.tui.widgets.wrap import WrappedArticle

    app = make_app(db, pattern_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(ArticleView)
        assert view.state is not None
        view.wrapped = WrappedArticle(view.state.text, view.state.spans, 80)  # as wrapped before the layout was known
        view._cache.clear()
        view.refresh()
        await pilot.pause()
        shown = re.findall(r"\w+", " ".join(view.render_line(y).text for y in range(view.size.height)))
        text = view.state.text
    words = re.findall(r"\w+", text)[:150]  # what fits on the screen, whatever the wrap
    at = 0
    for word in words:  # in order; the entity tags come between
        assert word in shown[at:], f"{word!r} is not on the screen"
        at = shown.index(word, at) + 1
