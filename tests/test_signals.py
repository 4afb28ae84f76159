"""Real child processes in a pseudo-terminal: what the screen showed as saved survives quit, ctrl+c, SIGTERM, SIGHUP, SIGINT;
and annotating what a DB already holds."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from goldspan.annotations.nlp import pipelines
from goldspan.annotations.articles import load_articles
from goldspan.annotations.datamodel import Article
from goldspan.annotations.store import Store
from goldspan.annotations.nlp.suggest import preannotate

from .conftest import SEED, goldspan_command
from .helpers.terminal import Terminal


@pytest.fixture
def prepared(tmp_path: Path, pattern_spec: pipelines.PipelineSpec, patterns_file: Path) -> tuple[Path, list[str]]:
    db = tmp_path / "g.json"
    with Store(db) as store:
        preannotate(store, load_articles([SEED]).articles, pattern_spec)
    argv = [*goldspan_command(), "annotate", str(SEED), "--db", str(db), "--model", "blank:en", "--patterns", str(patterns_file),
            "--labels", "PERSON,ORG,GPE", "--annotator", "alice"]  # fmt: skip
    return db, argv


@pytest.mark.parametrize("ending", ["q", "ctrl+c", "SIGTERM", "SIGHUP", "SIGINT"])
def test_a_change_shown_as_saved_survives_the_end(tmp_path: Path, prepared: tuple[Path, list[str]], ending: str) -> None:
    db, argv = prepared
    if not Path(argv[0]).exists():
        pytest.skip("the goldspan console script is not installed")
    term = Terminal(argv, tmp_path)
    term.wait_for("KEY POINTS")  # the first entity, "Lukashenko" (PERSON) in the title, has the focus
    term.type("2")  # make it ORG; the status line then says "saved HH:MM:SS"
    term.wait_for("saved ")
    if ending == "q":
        term.type("q")
    elif ending == "ctrl+c":
        term.type("\x03")
    else:
        os.kill(term.pid, getattr(signal, ending))
    status = term.exit_status()
    assert status in (0, -signal.SIGTERM, -signal.SIGHUP, 128 + signal.SIGTERM, 128 + signal.SIGHUP)
    [article] = load_articles([SEED]).articles
    with Store(db, read_only=True) as store:
        record = store.annotation(article.id, "alice")
    assert record is not None
    assert [(s.text_in(article.text), s.label) for s in record.spans][0] == ("Lukashenko", "ORG")


def test_the_line_after_quitting_counts_what_was_answered_in_the_session(tmp_path: Path, prepared: tuple[Path, list[str]]) -> None:
    db, argv = prepared
    if not Path(argv[0]).exists():
        pytest.skip("the goldspan console script is not installed")
    term = Terminal(argv, tmp_path)
    term.wait_for("KEY POINTS")
    term.type("a")  # accept the only article
    term.wait_for("done 1")
    term.type("q")
    term.wait_for("every change was saved")
    assert f"{db}: 1 of 1 article answered by alice; every change was saved.".encode() in term.seen.replace(b"\r\n", b"\n")
    assert term.exit_status() == 0


def test_annotate_without_sources_opens_the_articles_already_in_the_db(tmp_path: Path, prepared: tuple[Path, list[str]]) -> None:
    db, argv = prepared
    if not Path(argv[0]).exists():
        pytest.skip("the goldspan console script is not installed")
    second = Article.from_text("Second story\n\nAngela Merkel spoke in Berlin on Monday.")
    with Store(db) as store:
        store.add_articles([second])
    term = Terminal([a for a in argv if a != str(SEED)], tmp_path)  # compacted on close: read through the index
    term.wait_for("KEY POINTS")
    term.type("a")  # accept the seed; the next unanswered article, read from the DB, comes up
    term.wait_for("Angela Merkel")
    term.type("q")
    term.wait_for("every change was saved")
    assert f"{db}: 1 of 2 articles answered by alice; every change was saved.".encode() in term.seen.replace(b"\r\n", b"\n")
    assert term.exit_status() == 0


def test_annotate_without_sources_or_db_says_what_to_give(tmp_path: Path) -> None:
    result = subprocess.run([*goldspan_command(), "annotate", "--db", str(tmp_path / "none.json")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"goldspan: {tmp_path / 'none.json'}: no such database; name the article files or folders to annotate (e.g. goldspan annotate sample_articles/)."
    ]
    assert list(tmp_path.iterdir()) == []


def test_no_word_of_the_article_is_hidden_under_its_scrollbar(tmp_path: Path, prepared: tuple[Path, list[str]]) -> None:
    """In a real terminal the first wrap happens before the scrollbar shows; the text must wrap
    beside it, not under it (Pilot's headless start does not show this)."""
    import re

    db, argv = prepared
    if not Path(argv[0]).exists():
        pytest.skip("the goldspan console script is not installed")
    term = Terminal(argv, tmp_path)
    term.wait_for("KEY POINTS")
    term.drain()
    rows = term.screen()
    article_pane = " ".join(row.split("│")[0] for row in rows[1:-2])
    assert "▁" in " ".join(rows) or any(ch in " ".join(rows) for ch in "▂▃▄▅▆▇█")  # the article has a scrollbar
    [article] = load_articles([SEED]).articles
    paragraph = next(p for p in article.text.split("\n\n") if p.startswith("Belarusian President"))
    shown = re.findall(r"\w+", article_pane)
    at = 0
    for word in re.findall(r"\w+", paragraph):  # every word, in order (the entity tags come between)
        assert word in shown[at:], f"{word!r} is not on the screen:\n" + "\n".join(rows)
        at = shown.index(word, at) + 1
    term.type("q")
    assert term.exit_status() == 0


# Each dialog, and what it shows once open.
DIALOGS = {"g": "Go to article", "t": "Label (type to filter", "?": "goldspan keys", "/": "leave search", "c": "Note on"}


@pytest.mark.parametrize("ending", ["hang up", "SIGTERM"])
@pytest.mark.parametrize("key", list(DIALOGS))
def test_closing_the_terminal_with_a_dialog_open_ends_goldspan_within_two_seconds(
    tmp_path: Path, prepared: tuple[Path, list[str]], key: str, ending: str
) -> None:
    """A closed terminal (SIGHUP) or a SIGTERM with go-to, the label picker, help, search or the
    note open once left goldspan running forever as an orphan; whatever is open, it ends, with
    everything shown as saved kept."""
    db, argv = prepared
    if not Path(argv[0]).exists():
        pytest.skip("the goldspan console script is not installed")
    term = Terminal(argv, tmp_path)
    term.wait_for("KEY POINTS")
    term.type("2")  # the focused first entity, Lukashenko, becomes ORG
    term.wait_for("saved ")
    term.type(key)
    term.wait_for(DIALOGS[key])
    if ending == "hang up":
        term.hang_up()
    else:
        os.kill(term.pid, signal.SIGTERM)
    status = term.ends_within(2.0)
    assert status is not None, f"goldspan was still running 2 s after {ending} with {key!r} open"
    # A gone terminal: the journal folded and out at once (128 + SIGHUP), not Textual's shutdown, which
    # hung on it. SIGTERM with the terminal there: the clean way out, as q (not the forced exit, 143).
    assert status == (128 + signal.SIGHUP if ending == "hang up" else 0)
    assert db.with_name(db.name + ".journal").stat().st_size == 0  # the journal was folded in, as a clean close does
    [article] = load_articles([SEED]).articles
    with Store(db, read_only=True) as store:
        record = store.annotation(article.id, "alice")
    assert record is not None and (record.spans[0].text_in(article.text), record.spans[0].label) == ("Lukashenko", "ORG")


@pytest.mark.parametrize("where", ["screen", "g", "t", "/"])
def test_ctrl_c_quits_from_everywhere(tmp_path: Path, prepared: tuple[Path, list[str]], where: str) -> None:
    db, argv = prepared
    if not Path(argv[0]).exists():
        pytest.skip("the goldspan console script is not installed")
    term = Terminal(argv, tmp_path)
    term.wait_for("KEY POINTS")
    if where != "screen":
        term.type(where)
        term.wait_for(DIALOGS[where])
    term.type("\x03")
    term.wait_for("every change was saved")
    assert term.exit_status() == 0


def test_ctrl_c_while_the_model_loads_says_stopping_and_does_not_wait_for_it(tmp_path: Path) -> None:
    """The model's load cannot be interrupted; quitting must not wait for it (a blank terminal for the
    3-4 s the load still took). Here it never ends: a quit that waited would never return."""
    import sys

    script = Path(__file__).parent / "helpers" / "blocked_model.py"
    term = Terminal([sys.executable, str(script), str(tmp_path / "g.json"), str(SEED)], tmp_path)
    term.wait_for("loading")  # the status line: the model is loading, and will never be done
    term.type("\x03")
    term.wait_for("stopping…")
    term.wait_for("answered; every change was saved")
    assert term.ends_within(20) == 0


def test_no_color_means_the_terminals_own_colours_with_reverse_video_for_labels(tmp_path: Path, prepared: tuple[Path, list[str]]) -> None:
    """NO_COLOR once drew labels grey on near-black (59,59,59 on 30,30,30): no colour means none."""
    db, argv = prepared
    if not Path(argv[0]).exists():
        pytest.skip("the goldspan console script is not installed")
    term = Terminal(argv, tmp_path, env={"NO_COLOR": "1"})
    term.wait_for("KEY POINTS")
    term.drain()
    screen = term.emulated()
    rows = list(screen.display)
    y = next(i for i, row in enumerate(rows) if " GPE " in row.split("│")[0])
    x = rows[y].index(" GPE ") + 1
    cells = [screen.buffer[y][x + i] for i in range(3)]  # the tag "GPE"
    assert all(c.reverse for c in cells), "labels are drawn in reverse video"
    coloured = {(c.fg, c.bg) for row in screen.buffer.values() for c in row.values()} - {("default", "default")}
    assert not coloured, f"colours drawn with NO_COLOR: {sorted(coloured)[:5]}"
    term.type("q")
    assert term.exit_status() == 0


def test_quitting_gives_the_terminal_back_as_it_was_and_typing_reaches_the_shell(tmp_path: Path, prepared: tuple[Path, list[str]]) -> None:
    """The screen's input thread is woken on quit (tui/driver.py) and the process ends without the
    interpreter's teardown (tui/cli.py): the terminal must still be left cooked, echoing, out of the
    alternate screen, with the cursor shown."""
    import termios

    db, argv = prepared
    if not Path(argv[0]).exists():
        pytest.skip("the goldspan console script is not installed")
    term = Terminal(argv, tmp_path)
    term.wait_for("KEY POINTS")
    assert not termios.tcgetattr(term.fd)[3] & termios.ICANON  # raw while the screen runs
    term.type("q")
    term.wait_for("every change was saved")
    lflag = termios.tcgetattr(term.fd)[3]
    assert lflag & termios.ICANON and lflag & termios.ECHO
    tail = term.seen[term.seen.rfind(b"\x1b[?1049l") :]
    assert tail.startswith(b"\x1b[?1049l") and b"\x1b[?25h" in tail and b"every change was saved" in tail
    assert term.exit_status() == 0


def test_the_app_uses_the_driver_that_hears_a_quit_at_once() -> None:
    from textual.app import App
    from textual.drivers.linux_driver import LinuxDriver

    from goldspan.tui.app import GoldspanApp
    from goldspan.tui.driver import PromptLinuxDriver

    if App.get_driver_class(App()) is not LinuxDriver:
        pytest.skip("Textual picks another driver here")
    assert GoldspanApp.get_driver_class(GoldspanApp.__new__(GoldspanApp)) is PromptLinuxDriver
    assert issubclass(PromptLinuxDriver, LinuxDriver)
