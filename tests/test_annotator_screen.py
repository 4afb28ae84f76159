"""What a newcomer met on the annotator's screen, through Pilot's real keys: the focus on opening,
go-to by number, the footer, the label panel, messages that say what happened, `*`, notes and flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets._footer import FooterKey

from goldspan.annotations.nlp import pipelines
from goldspan.annotations.articles import load_articles
from goldspan.annotations.datamodel import Article
from goldspan.tui.keymap import default_keymap
from goldspan.annotations.labels import NEWS_FIRST
from goldspan.annotations.session.session import Session
from goldspan.annotations.store import Store
from goldspan.tui.app import GoldspanApp
from goldspan.tui.widgets.article_view import ArticleView
from goldspan.tui.widgets.entity_list import EntityList

from .apphelpers import make_app, search, settle
from .conftest import SAMPLES, SEED


def message(app: GoldspanApp) -> str:
    return str(app.screen.query_one("#message").render())


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "g.json"


async def test_with_cached_suggestions_the_first_entity_has_the_focus_in_text_and_list(db: Path, pattern_spec) -> None:
    app = make_app(db, pattern_spec)  # preannotated: the suggestions are in the DB when the article opens
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        view, listing = app.screen.query_one(ArticleView), app.screen.query_one(EntityList)
        assert app.session.draft.focus == 0
        assert view.state is not None and view.state.focus == 0 and listing.state.focus == 0
        first = app.session.spans[0]
        await pilot.press("j")
        assert app.session.draft.focus == 1  # j goes to the second
        await pilot.press("k", "x")  # back to the first; x removes it (it said nothing before)
        assert first not in app.session.spans and message(app) == ""


async def test_with_fresh_suggestions_the_first_entity_has_the_focus_too(db: Path, pattern_spec) -> None:
    [seed] = load_articles([SEED]).articles
    store = Store(db)
    store.add_articles([seed])  # no suggestions cached: the model parses it after the first paint
    session = Session(store, [seed], annotator="alice", labels=("PERSON", "ORG", "GPE"), model=pattern_spec.model_id)
    app = GoldspanApp(session, pattern_spec, keymap=default_keymap())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.session.spans and app.session.draft.focus == 0
        assert app.screen.query_one(EntityList).state.focus == 0
        assert app.session.draft.cursor == app.session.spans[0].token_start
        await pilot.press("j")
        assert app.session.draft.focus == 1


async def test_go_to_a_number_opens_that_article_and_text_matches_titles(db: Path, pattern_spec) -> None:
    articles = load_articles([SAMPLES]).articles
    app = make_app(db, pattern_spec, articles=articles)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("g", "4", "enter")  # once it opened article 2 ("… €420 million …": a 4 in its title)
        assert app.session.index == 3
        await pilot.press("g", *"Gdańsk", "enter")
        assert "Gdańsk" in app.session.article.title
        await pilot.press("g", *"99", "enter")
        assert message(app) == f"there is no article 99; there are {len(articles)}"


async def test_the_search_box_footer_shows_the_keys_that_work_there(db: Path, pattern_spec) -> None:
    app = make_app(db, pattern_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.pause()
        shown = {key.description for key in app.screen.query(FooterKey)}
        assert {"next hit", "leave search", "quit"} <= shown and "del" not in shown and "accept" not in shown
        await pilot.press("escape")
        await pilot.pause()
        assert "del" in {key.description for key in app.screen.query(FooterKey)}


async def test_at_100_columns_the_footer_shows_every_key_through_quit(db: Path, pattern_spec) -> None:
    app = make_app(db, pattern_spec)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        keys = {key.key_display: key.region for key in app.screen.query(FooterKey)}
    for key in ("[", "]", "{", "}", "g", "n", "p", "?", "q", "a", "X", "␣", "u", "v", "t", "x", "/"):
        assert key in keys, f"{key} is not in the footer"
        assert keys[key].width and keys[key].right <= 100, f"{key} is cut off the footer at 100 columns"


async def test_at_60_columns_the_label_panel_keeps_each_label_on_its_row(db: Path, pattern_spec) -> None:
    [seed] = load_articles([SEED]).articles
    store = Store(db)
    store.add_articles([seed])
    session = Session(store, [seed], annotator="alice", labels=NEWS_FIRST)
    app = GoldspanApp(session, pipelines.resolve("blank:en"), keymap=default_keymap())
    async with app.run_test(size=(60, 15)) as pilot:
        await settle(pilot)
        panel = app.screen.query_one("#labels")
        rows = [line.text.rstrip() for line in panel.render_lines(panel.region.reset_offset)]
    assert any("9 FAC 0" in row and "0 PRODUCT 0" in row for row in rows), rows
    assert all(row.strip() not in ("0", "PRODUCT 0") for row in rows)


async def test_messages_say_what_happened(db: Path, pattern_spec) -> None:
    long = Article.from_text("Long names\n\nThe Democratic People's Republic of Korea Football Association met the press.")
    app = make_app(db, pattern_spec, articles=[*load_articles([SEED]).articles, long])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await search(pilot, "Minsk")
        await pilot.press("2")
        await pilot.press("u")
        assert message(app) == "undo: 'Minsk' ORG → GPE"  # what the undo did
        await pilot.press("ctrl+r")
        assert message(app) == "redo: 'Minsk' GPE → ORG"
        await pilot.press("v")
        assert message(app) == "new span: move, then a label key; esc cancels"
        await pilot.press("escape", "n")
        await settle(pilot)
        await search(pilot, "The Democratic")
        await pilot.press("v", *"llllllll", "2")
        rows = [app.screen.query_one(EntityList).render_line(y).text for y in range(3)]
    assert any("…" in row and "ORG" in row for row in rows), rows  # cut with an ellipsis, not silently


async def test_star_then_a_label_key_relabels_every_mention(db: Path, pattern_spec) -> None:
    app = make_app(db, pattern_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await search(pilot, "Belarus ")
        assert app.session.focused is not None and app.session.focused.text_in(app.session.article.text) == "Belarus"
        await pilot.press("asterisk")
        assert message(app) == "every 'Belarus': press a label key (esc cancels)"
        await pilot.press("2")
        assert message(app).startswith("ORG for ") and "mentions of 'Belarus'" in message(app)
        text = app.session.article.text
        assert all(s.label == "ORG" for s in app.session.spans if s.text_in(text) == "Belarus")


async def test_a_note_and_a_flag_from_the_keyboard(db: Path, pattern_spec) -> None:
    app = make_app(db, pattern_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.press(*"is Belarus a GPE here?", "enter")
        assert message(app) == "note saved"
        await pilot.press("f")
        assert message(app) == "flagged for review"
        status = str(app.screen.query_one("#status").render())
        assert "⚑ flagged" in status and "✉ note" in status
        await pilot.press("c", "escape")  # escape leaves the note as it was
    [seed] = load_articles([SEED]).articles
    with Store(db, read_only=True) as store:
        record = store.annotation(seed.id, "alice")
    assert record is not None and (record.comment, record.flagged) == ("is Belarus a GPE here?", True)


async def test_messages_name_the_keys_as_the_keymap_binds_them(db: Path, pattern_spec) -> None:
    """Once a key is remapped, a message that names it names the new key, not the default."""
    keymap = {**default_keymap(), "cancel": ("ctrl+g",), "begin_span": ("s",)}
    app = make_app(db, pattern_spec, keymap=keymap)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        assert message(app) == "new span: move, then a label key; ctrl+g cancels"
        await pilot.press("ctrl+g")
        assert message(app) == "new span cancelled"


async def test_the_entity_list_turns_a_page_when_the_focus_steps_past_its_edge(db: Path, pattern_spec) -> None:
    """Past the last row the list shows the focus on its second row (one row of the last page kept),
    and past the first row on its second-to-last: a scroll redraws every row, so it comes once a page,
    not every half page."""
    app = make_app(db, pattern_spec)
    async with app.run_test(size=(120, 16)) as pilot:
        await settle(pilot)
        listing = app.screen.query_one(EntityList)
        height = listing.size.height
        assert len(app.session.spans) > 2 * height + 2, "the sample has too few entities for this size"
        await pilot.press(*["j"] * (height - 1))
        assert listing.state.focus == height - 1 and listing.scroll_offset.y == 0  # the last row: no scroll yet
        await pilot.press("j")
        assert listing.scroll_offset.y == height - 1  # the focus on the page's second row
        await pilot.press("k", "k")
        assert listing.state.focus == height - 2 and listing.scroll_offset.y == 0  # back a page: on its second-to-last row


async def test_the_article_view_never_scrolls_to_a_blank_pane(db: Path, pattern_spec) -> None:
    """The view's height is kept with some slack below the text (a new one is a new layout of the
    screen), but scrolled to the end at least two thirds of it show text, at any height."""
    app = make_app(db, pattern_spec)
    async with app.run_test(size=(60, 16)) as pilot:
        await settle(pilot)
        view = app.screen.query_one(ArticleView)
        for size in [(60, 16), (60, 12), (60, 30), (60, 16)]:
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert view.wrapped is not None
            height = view.scrollable_content_region.height
            view.scroll_end(animate=False, immediate=True)
            await pilot.pause()
            blank = round(view.scroll_offset.y) + height - view.wrapped.row_count
            assert view.wrapped.row_count > height and blank <= height // 3, (size, blank, height)
