"""Building the annotator app for Pilot and snapshot tests, on the seed article and a pattern pipeline."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from goldspan.annotations.nlp import pipelines
from goldspan.annotations.articles import load_articles
from goldspan.annotations.datamodel import Article
from goldspan.tui.keymap import default_keymap
from goldspan.annotations.session.session import Session
from goldspan.annotations.store import Store
from goldspan.annotations.nlp.suggest import preannotate
from goldspan.tui.app import GoldspanApp

from .conftest import SEED

LABELS = ("PERSON", "ORG", "GPE", "DATE")
SECOND = Article.from_text("Second story\nThe mayor of Brest met Anna Nowak in Warsaw on Monday.")


def make_app(db: Path, spec: pipelines.PipelineSpec, keymap=None, articles=None) -> GoldspanApp:  # type: ignore[no-untyped-def]
    articles = articles or [*load_articles([SEED]).articles, SECOND]
    store = Store(db)
    preannotate(store, articles, spec)
    session = Session(store, articles, annotator="alice", labels=LABELS, model=spec.model_id)
    return GoldspanApp(session, spec, keymap=keymap or default_keymap())


async def settle(pilot: Pilot, timeout: float = 60) -> None:
    """Wait until the article on screen has its suggestions and tokens: the background thread hands them
    over one after the other (tokens are fetched only once the suggestions are in), so wait for the
    state, not a count."""
    import time

    app = pilot.app
    deadline = time.monotonic() + timeout
    while True:
        await pilot.pause(0.01)
        draft = app.session.draft  # type: ignore[attr-defined]
        if draft.tokens is not None and not draft.suggestions_pending:
            break
        if time.monotonic() > deadline:
            raise AssertionError("the app's workers did not deliver suggestions and tokens in time")
    await pilot.pause()


async def search(pilot: Pilot, words: str) -> None:
    await pilot.press("slash", *words, "enter", "escape")
    await settle(pilot)


