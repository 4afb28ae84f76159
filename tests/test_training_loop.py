"""`goldspan annotate --retrain-every N`: training in a process of its own after every N accepted
articles, and a switch to its model only when it beats the one in use on the same evaluation set
(Pilot, with real keys, a real training process and the real model worker)."""

from __future__ import annotations

import time
from pathlib import Path

from textual.pilot import Pilot

from goldspan.annotations.datamodel import Answer
from goldspan.annotations.nlp import pipelines
from goldspan.annotations.session.session import Session
from goldspan.annotations.store import Store
from goldspan.annotations.training.registry import best_model_path, records
from goldspan.tui.app import GoldspanApp
from goldspan.tui.keymap import default_keymap

from .apphelpers import settle
from .conftest import run_goldspan
from .helpers.gold_corpus import add_gold


def loop_app(db: Path, spec: pipelines.PipelineSpec, steps: int) -> GoldspanApp:
    store = Store(db)
    # The labels annotate gives the session: the model's own (the base's 18, without GADGET, before a switch).
    session = Session(store, store.article_list(), annotator="bob", labels=spec.labels, model=spec.model_id)
    args = ("--max-steps", str(steps), "--eval-frequency", str(max(1, steps // 3)))
    return GoldspanApp(session, spec, keymap=default_keymap(), retrain_every=2, retrain_args=args)


async def until(pilot: Pilot, done, what: str, timeout: float = 240) -> None:  # type: ignore[no-untyped-def]
    """Wait for the app's state (the training runs in another process: wait for what it reports)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what} (status: {pilot.app.model_status!r} · {pilot.app.training_status!r})")  # type: ignore[attr-defined]
        await pilot.pause(0.05)


async def test_a_better_model_is_switched_to_and_suggests_for_the_articles_not_started(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    add_gold(db, 0, 20)  # alice's gold: 20 accepted articles
    add_gold(db, 20, 12, annotator="zed")
    base = pipelines.resolve(None)
    app = loop_app(db, base, steps=30)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        first = app.session.article.id
        for _ in range(2):
            await pilot.press("a")
            await settle(pilot)
        await until(pilot, lambda: "re-suggested" in app.model_status, "the switch to the new model")
        assert app.model_status.startswith("model goldspan-1 · F ") and app.spec.display_name == "goldspan-1"
        assert app.session.model == app.spec.model_id
        await pilot.press("n")  # an article not started before the switch: the new model's suggestions
        await settle(pilot)
        labels = {span.label for span in app.session.draft.spans}
        assert labels and labels <= {"PERSON", "GADGET"}
        assert "GADGET" in labels  # a label only the trained model knows, offered after the base's
        assert app.session.labels[: len(base.labels)] == base.labels and app.session.labels[-1] == "GADGET"
    with Store(db, read_only=True) as store:
        answered = store.annotation(first, "bob")
        assert answered is not None and answered.answer is Answer.ACCEPT and answered.model == base.model_id.name
        [record] = records(store)
        assert record.in_use and record.compared_with == base.name and best_model_path(store) == record.path


async def test_a_model_that_scores_worse_is_kept_aside(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    add_gold(db, 0, 20)
    add_gold(db, 20, 12, annotator="zed")
    trained = run_goldspan("train", "--db", db, "--out", tmp_path / "good", "--max-steps", "40", "--eval-frequency", "10")
    assert trained.returncode == 0, trained.stderr
    good = pipelines.resolve(str(tmp_path / "good"))
    app = loop_app(db, good, steps=1)  # one update: worse than goldspan-1
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        for _ in range(2):
            await pilot.press("a")
            await settle(pilot)
        await until(pilot, lambda: "kept aside" in app.training_status, "the verdict on the new model")
        assert app.training_status.startswith("goldspan-2 F ") and "not better than goldspan-1" in app.training_status
        assert app.spec.display_name == "goldspan-1" and app.session.model == good.model_id
        assert app.model_status.startswith("model goldspan-1 · F ")
    with Store(db, read_only=True) as store:
        assert [(r.version, r.in_use) for r in records(store)] == [("goldspan-1", True), ("goldspan-2", False)]
        assert best_model_path(store) == str((tmp_path / "good").resolve())
