"""Snapshots of the annotator's screens (pytest-textual-snapshot): the seed article with a pattern pipeline.

After an intended change to the look, regenerate with: python -m pytest tests/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from .apphelpers import make_app, settle


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_main_screen(snap_compare, tmp_path: Path, pattern_spec, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(tmp_path / "g.json", pattern_spec), terminal_size=size, run_before=settle)


def test_main_screen_with_an_entity_focused(snap_compare, tmp_path: Path, pattern_spec) -> None:  # type: ignore[no-untyped-def]
    async def focus_third(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("j", "j", "j")
        await pilot.pause()

    assert snap_compare(make_app(tmp_path / "g.json", pattern_spec), terminal_size=(80, 24), run_before=focus_third)


def test_help_screen(snap_compare, tmp_path: Path, pattern_spec) -> None:  # type: ignore[no-untyped-def]
    async def open_help(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(make_app(tmp_path / "g.json", pattern_spec), terminal_size=(80, 24), run_before=open_help)


async def _steady_inputs(pilot: Pilot) -> None:
    """Every Input on screen without its blinking cursor, so two runs draw the same frame."""
    from textual.widgets import Input

    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False
    await pilot.pause()


@pytest.mark.parametrize("key,typed", [("t", "GP"), ("g", "Sec"), ("slash", "Minsk")], ids=["label picker", "go-to", "search"])
def test_dialogs_and_search(snap_compare, tmp_path: Path, pattern_spec, key: str, typed: str) -> None:  # type: ignore[no-untyped-def]
    async def open_it(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press(key, *typed)
        await _steady_inputs(pilot)

    assert snap_compare(make_app(tmp_path / "g.json", pattern_spec), terminal_size=(100, 30), run_before=open_it)


def test_the_terminal_too_small_note(snap_compare, tmp_path: Path, pattern_spec) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(tmp_path / "g.json", pattern_spec), terminal_size=(50, 10), run_before=settle)


def test_review_screen(snap_compare, tmp_path: Path, pattern_spec) -> None:  # type: ignore[no-untyped-def]
    from goldspan.annotations.nlp import pipelines
    from goldspan.annotations.session.review import ReviewSession, plan_review
    from goldspan.annotations.store import Store
    from goldspan.tui.app import GoldspanApp
    from goldspan.tui.keymap import default_keymap
    from goldspan.tui.screens.review import ReviewScreen

    from .test_review import two_annotators

    db = tmp_path / "g.json"
    two_annotators(db, pattern_spec)
    store = Store(db)
    plan = plan_review(store, model=pattern_spec.model_id)
    session = ReviewSession(store, plan, reviewer="lead", labels=("PERSON", "ORG", "GPE"))
    app = GoldspanApp(session, pipelines.resolve("blank:en"), keymap=default_keymap(), screen=ReviewScreen)
    app.model_status = "versions: " + ", ".join(plan.names)

    async def step(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("d")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=step)


GUIDELINES = """# Newsroom guidelines

Mark entities as OntoNotes does; flag the article (`f`) when unsure.

## PERSON
People, fictional ones too; not titles alone.

## GPE
Countries, cities and states: places with a government.
"""


def test_guidelines_screen(snap_compare, tmp_path: Path, pattern_spec) -> None:  # type: ignore[no-untyped-def]
    from goldspan.annotations.guidelines import save_guidelines

    app = make_app(tmp_path / "g.json", pattern_spec)
    save_guidelines(app.session.store, GUIDELINES)

    async def open_them(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("G")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=open_them)
