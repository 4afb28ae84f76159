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
