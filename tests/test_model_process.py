"""The model in a process of its own: the screen's process never imports spaCy, a killed worker is
started again and said so with no key lost, quitting ends both, and no full collection of Python's
cycle collector reaches a key."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from goldspan.annotations.articles import load_articles
from goldspan.annotations.datamodel import Article
from goldspan.annotations.nlp import pipelines
from goldspan.annotations.nlp.suggest import CHUNK, preannotate
from goldspan.annotations.session.session import Session
from goldspan.annotations.store import Store
from goldspan.tui.app import GoldspanApp
from goldspan.tui.keymap import default_keymap

from .apphelpers import LABELS, settle
from .conftest import SEED, goldspan_command
from .helpers.terminal import Terminal

HELPERS = Path(__file__).parent / "helpers"


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def mapped_from(pid: int, folder: str) -> bool:
    """A file of that package is mapped into the process: its compiled modules are loaded."""
    return any(f"/{folder}/" in line for line in Path(f"/proc/{pid}/maps").read_text().splitlines())


def wait_until(condition, what: str, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"{what} did not happen")
        time.sleep(0.05)


def annotate_argv(db: Path, source: Path, patterns_file: Path) -> list[str]:
    return [*goldspan_command(), "annotate", str(source), "--db", str(db), "--model", "blank:en", "--patterns", str(patterns_file),
            "--labels", "PERSON,ORG,GPE", "--annotator", "alice"]  # fmt: skip


def test_the_screen_process_never_loads_spacy_its_worker_does(tmp_path: Path, pattern_spec: pipelines.PipelineSpec, patterns_file: Path) -> None:
    db = tmp_path / "g.json"  # nothing cached: the model must parse the article
    [seed] = load_articles([SEED]).articles
    term = Terminal(annotate_argv(db, SEED, patterns_file), tmp_path)
    term.wait_for("KEY POINTS")

    def parsed() -> bool:
        with Store(db, read_only=True) as store:
            return store.has_suggestions(seed.id, pattern_spec.model_id)

    wait_until(lambda: db.exists() and parsed(), "the worker's suggestions reaching the store")
    term.type("2")  # the first suggestion, now shown and focused, becomes ORG
    term.wait_for("saved ")
    [worker] = children(term.pid)
    assert mapped_from(worker, "spacy") and mapped_from(worker, "thinc")
    assert not mapped_from(term.pid, "spacy") and not mapped_from(term.pid, "thinc")
    term.type("q")
    assert term.exit_status() == 0
    with Store(db, read_only=True) as store:
        record = store.annotation(seed.id, "alice")
    assert record is not None and record.spans[0].label == "ORG"


@pytest.mark.parametrize("ending", ["q", "SIGKILL"])
def test_quitting_during_a_parse_ends_both_processes(tmp_path: Path, patterns_file: Path, ending: str) -> None:
    paragraph = "Anna Nowak arrived in Warsaw on Monday. " * 40
    source = tmp_path / "long.txt"
    source.write_text("Long story\n\n" + "\n\n".join([paragraph] * (20 * CHUNK // len(paragraph))), encoding="utf-8")
    term = Terminal(annotate_argv(tmp_path / "g.json", source, patterns_file), tmp_path)
    term.wait_for("Long story")
    wait_until(lambda: len(children(term.pid)) == 1, "the worker's start")
    [worker] = children(term.pid)
    if ending == "q":
        term.type("q")
        assert term.exit_status() == 0
    else:
        os.kill(term.pid, signal.SIGKILL)  # its pipe to the worker closes with it
        assert term.exit_status() == -signal.SIGKILL
    wait_until(lambda: not alive(worker), "the worker's end", timeout=20)


async def test_a_killed_worker_is_started_again_and_said_so_with_no_key_lost(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    [seed] = load_articles([SEED]).articles
    second = Article.from_text("Second story\n\nVladimir Putin flew from Minsk to Russia on Monday.")
    third = Article.from_text("Third story\n\nAlexander Lukashenko stayed in Belarus.")
    store = Store(tmp_path / "g.json")
    store.add_articles([seed, second, third])  # nothing cached: each article asks the worker
    session = Session(store, [seed, second, third], annotator="alice", labels=LABELS, model=pattern_spec.model_id)
    app = GoldspanApp(session, pattern_spec, keymap=default_keymap())

    async def until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
        end = time.monotonic() + 60
        while not condition():
            assert time.monotonic() < end, f"{what} did not happen"
            await pilot.pause(0.05)

    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await until(lambda: store.has_suggestions(second.id, pattern_spec.model_id) and not app.background.busy, "the look-ahead")
        first_worker = app.preparer.pid  # type: ignore[union-attr]
        assert first_worker is not None
        os.kill(first_worker, signal.SIGKILL)
        await pilot.press("2", "n", "3")  # relabel; the next article (parsed ahead); relabel there
        # the article after it is asked for ahead: the dead worker is found, and another started
        await until(lambda: store.has_suggestions(third.id, pattern_spec.model_id), "the third article's suggestions")
        assert any("SIGKILL" in n.message and "started again" in n.message for n in app._notifications)
        assert app.preparer.pid not in (None, first_worker)  # type: ignore[union-attr]
        assert app.session.index == 1 and [s.text_in(second.text) for s in app.session.draft.spans] == ["Vladimir Putin", "Minsk", "Russia"]
    with Store(tmp_path / "g.json", read_only=True) as check:
        first, then = check.annotation(seed.id, "alice"), check.annotation(second.id, "alice")
    assert first is not None and first.spans[0].label == "ORG"
    assert then is not None and then.spans[0].label == "GPE"


def test_no_full_collection_reaches_a_key(tmp_path: Path, pattern_spec: pipelines.PipelineSpec, patterns_file: Path) -> None:
    """Python's full collections walk every object the process holds (79-86 ms each, measured when the
    model lived in the screen's process); 200 keys must not meet one."""
    db = tmp_path / "g.json"
    with Store(db) as store:
        preannotate(store, load_articles([SEED]).articles, pattern_spec)
    log = tmp_path / "gc.log"
    argv = [sys.executable, str(HELPERS / "gc_watch.py"), str(log), *annotate_argv(db, SEED, patterns_file)[len(goldspan_command()) :]]
    term = Terminal(argv, tmp_path, size=(120, 40))
    term.wait_for("KEY POINTS")
    wait_until(log.exists, "the first full collection, once the start is over and no key has come")
    before = log.read_text().splitlines()
    keys = "jjjjkkkk2121jjkkllhh" * 10  # moves, relabels (each saved), token moves
    for key in keys:
        term.type(key)
        term.drain(quiet=0.01)
    term.drain()
    during = log.read_text().splitlines()[len(before) :]
    term.type("q")
    assert term.exit_status() == 0
    assert len(keys) == 200 and during == []


async def test_the_next_article_is_parsed_ahead_and_opens_ready(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    [seed] = load_articles([SEED]).articles
    second = Article.from_text("Second story\n\nVladimir Putin flew from Minsk to Russia on Monday.")
    store = Store(tmp_path / "g.json")
    store.add_articles([seed, second])
    session = Session(store, [seed, second], annotator="alice", labels=LABELS, model=pattern_spec.model_id)
    app = GoldspanApp(session, pattern_spec, keymap=default_keymap())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        end = time.monotonic() + 60
        while not store.has_suggestions(second.id, pattern_spec.model_id):  # asked for while the seed is shown
            assert time.monotonic() < end, "the next article's suggestions never came"
            await pilot.pause(0.05)
        assert app.session.index == 0
        await pilot.press("n")
        draft = app.session.draft
        assert not draft.suggestions_pending and draft.tokens is not None  # ready the moment it opens
        assert [s.text_in(second.text) for s in draft.spans] == ["Vladimir Putin", "Minsk", "Russia"]


def test_a_cancelled_request_does_not_answer_the_next_one(pattern_spec: pipelines.PipelineSpec) -> None:
    """A parse the annotator stopped waiting for (a quit, or a parse ahead giving way) may still be
    answered by the worker: that answer must never be taken for the next request's."""
    from goldspan.annotations.nlp.remote import ProcessPreparer

    paragraph = "Vladimir Putin met Alexander Lukashenko in Minsk. " * 40
    long = Article.from_text("Long story\n\n" + "\n\n".join([paragraph] * (4 * CHUNK // len(paragraph))))
    short = Article.from_text("Short story\n\nRussia and Ukraine.")
    restarts: list[str] = []
    preparer = ProcessPreparer(pattern_spec, on_restart=restarts.append)
    try:
        assert preparer.suggestions(long, stop=lambda: True) is None  # asked, then given up at once
        found = preparer.suggestions(short, stop=lambda: False)
        assert found is not None and [s.text_in(short.text) for s in found.spans] == ["Russia", "Ukraine"]
        aligned = preparer.tokens(short, found.spans)
        assert aligned.spans == found.spans and restarts == []
        worker = preparer.pid
        assert worker is not None
    finally:
        preparer.close()
    wait_until(lambda: not alive(worker), "the worker's end on close", timeout=20)


async def test_an_article_already_parsed_needs_no_worker_resumed_or_not(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    [seed] = load_articles([SEED]).articles
    store = Store(tmp_path / "g.json")
    preannotate(store, [seed], pattern_spec)  # its suggestions, and its tokens with them
    first = Session(store, [seed], annotator="alice", labels=LABELS, model=pattern_spec.model_id)
    assert first.apply_label_key(1) is None  # alice's record: the next session resumes it
    session = Session(store, [seed], annotator="alice", labels=LABELS, model=pattern_spec.model_id)
    app = GoldspanApp(session, pattern_spec, keymap=default_keymap())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)  # tokens in: read from the store once the screen was painted
        await pilot.press("l", "l")
        assert app.session.draft.cursor == app.session.draft.spans[0].token_start + 2
        assert app.preparer.pid is None and app.model_status == "model not needed yet"  # type: ignore[union-attr]
