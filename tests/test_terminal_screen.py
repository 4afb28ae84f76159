"""What a real terminal shows: keys redraw only what changed, and what they leave is what a full
redraw draws. A child process on a pty, its output read through pyte (a terminal emulator)."""

from __future__ import annotations

import fcntl
import os
import struct
import termios
from pathlib import Path

import pytest

from goldspan.annotations.articles import load_articles
from goldspan.annotations.nlp import pipelines
from goldspan.annotations.store import Store
from goldspan.annotations.nlp.suggest import preannotate

from .conftest import SEED, goldspan_command
from .helpers.terminal import Terminal


def cells(term: Terminal) -> list[list[tuple[str, str, str, bool, bool, bool]]]:
    screen = term.emulated()
    return [[(c.data, c.fg, c.bg, c.bold, c.reverse, c.underscore) for c in (screen.buffer[y][x] for x in range(screen.columns))]
            for y in range(screen.lines)]  # fmt: skip


def resize(term: Terminal, size: tuple[int, int]) -> None:
    fcntl.ioctl(term.fd, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    os.kill(term.pid, __import__("signal").SIGWINCH)


@pytest.fixture
def annotated(tmp_path: Path, pattern_spec: pipelines.PipelineSpec, patterns_file: Path) -> list[str]:
    db = tmp_path / "g.json"
    with Store(db) as store:
        preannotate(store, load_articles([SEED]).articles, pattern_spec)
    return [*goldspan_command(), "annotate", str(SEED), "--db", str(db), "--model", "blank:en", "--patterns", str(patterns_file),
            "--labels", "PERSON,ORG,GPE", "--annotator", "alice"]  # fmt: skip


def test_what_keys_leave_on_the_screen_is_what_a_full_redraw_draws(tmp_path: Path, annotated: list[str]) -> None:
    """A key now redraws only its rows; no row it changed may be left as it was."""
    term = Terminal(annotated, tmp_path, size=(120, 40))
    term.wait_for("KEY POINTS")
    term.drain()
    for keys in ["j", "j", "j", "2", "j", "]", "}", "{", "u", "u", "ctrl+r", "l", "l", "v", "l", "3", "x", "k", "k", "enter"]:
        term.type({"ctrl+r": "\x12", "enter": "\r"}.get(keys, keys))
        term.drain(quiet=0.3)
    after_keys = cells(term)
    resize(term, (121, 40))  # a resize redraws everything, from the state alone
    term.drain(quiet=0.3)
    resize(term, (120, 40))
    term.drain(quiet=0.5)
    redrawn = cells(term)
    differing = [y for y, (a, b) in enumerate(zip(after_keys, redrawn)) if a != b]
    assert not differing, "rows the keys left stale: " + ", ".join(f"{y}: {''.join(c[0] for c in after_keys[y])!r}" for y in differing[:3])
    term.type("q")
    assert term.exit_status() == 0


def test_a_focus_move_writes_a_few_rows_not_the_screen(tmp_path: Path, annotated: list[str]) -> None:
    term = Terminal(annotated, tmp_path, size=(120, 40))
    term.wait_for("KEY POINTS")
    term.drain()
    sizes = []
    for _ in range(6):
        before = len(term.seen)
        term.type("j")
        term.drain(quiet=0.3)
        sizes.append(len(term.seen) - before)
    term.type("q")
    assert term.exit_status() == 0
    # A whole 120x40 screen of truecolor cells is some 19,000 bytes; a focus move is its old and
    # new rows in the text and in the list.
    assert sorted(sizes)[len(sizes) // 2] < 2_000, sizes
