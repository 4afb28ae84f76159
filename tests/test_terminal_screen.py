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


def settle(term: Terminal, key: str) -> None:
    """Press a number key that has no label (three labels: 4 to 9) and wait until what it says is drawn:
    every key and resize before it has been drawn then, whatever the machine's speed (they are handled
    in order). Alternate two keys: a line that does not change is not drawn again."""
    since = len(term.seen)
    term.type(key)
    term.wait_for(f"no label on key {key}", after=since)
    term.drain(quiet=0.2)


def test_what_keys_leave_on_the_screen_is_what_a_full_redraw_draws(tmp_path: Path, annotated: list[str]) -> None:
    """A key now redraws only its rows; no row it changed may be left as it was. After each key the
    screen is compared with one drawn anew from the state alone: at another width every widget is
    laid out and drawn again (Textual keeps a widget's lines while its size stays), then back, where
    Textual writes whatever differs from its last frame."""
    term = Terminal(annotated, tmp_path, size=(120, 40))
    term.wait_for("KEY POINTS")
    term.drain()
    for key in ["j", "j", "2", "j", "]", "}", "{", "u", "u", "ctrl+r", "l", "v", "l", "3", "x", "k", "k", "enter"]:
        term.type({"ctrl+r": "\x12", "enter": "\r"}.get(key, key))
        settle(term, "9")
        after_key = cells(term)
        resize(term, (100, 40))
        settle(term, "8")
        resize(term, (120, 40))
        settle(term, "9")
        redrawn = cells(term)
        stale = [y for y, (a, b) in enumerate(zip(after_key, redrawn)) if a != b]
        assert not stale, f"rows {key!r} left stale: " + ", ".join(f"{y}: {''.join(c[0] for c in after_key[y])!r}" for y in stale[:3])
    term.type("q")
    assert term.exit_status() == 0


def tokens_ready(term: Terminal, limit: float = 60) -> None:
    """Wait until the background thread has handed over the article's tokens (a token key stops saying
    they are not ready): their arrival redraws the article, which would be counted as a key's bytes."""
    import time

    deadline = time.monotonic() + limit
    while True:
        since = len(term.seen)
        term.type("l")
        term.drain(quiet=0.2)
        if b"tokens are not ready yet" not in term.seen[since:]:
            break
        assert time.monotonic() < deadline, "the tokens never arrived"
    term.type("h")


def test_a_focus_move_writes_a_few_rows_not_the_screen(tmp_path: Path, annotated: list[str]) -> None:
    term = Terminal(annotated, tmp_path, size=(120, 40))
    term.wait_for("KEY POINTS")
    tokens_ready(term)
    settle(term, "8")
    before = len(term.seen)
    term.type("jjjjjj")
    settle(term, "9")
    written = len(term.seen) - before
    term.type("q")
    assert term.exit_status() == 0
    # A whole 120x40 screen of truecolor cells is some 19,000 bytes; a focus move is its old and
    # new rows in the text and in the list (and the last key's message line is counted in too).
    assert written / 6 < 2_000, written
