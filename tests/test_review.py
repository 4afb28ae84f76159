"""`goldspan review` through Pilot: step through differences, take A's or B's span, accept; read the reviewer's record."""

from __future__ import annotations

from pathlib import Path

from goldspan.annotations import pipelines
from goldspan.annotations.articles import load_articles
from goldspan.annotations.datamodel import Annotation, Answer, SpanState
from goldspan.annotations.keymap import default_keymap
from goldspan.annotations.review import ReviewSession, differences, plan_review
from goldspan.annotations.session import Session
from goldspan.annotations.store import Store
from goldspan.annotations.suggest import preannotate
from goldspan.tui.app import GoldspanApp
from goldspan.tui.review import ReviewScreen

from .apphelpers import settle
from .conftest import SAMPLES, SEED, assert_one_line_error, run_goldspan


def two_annotators(db: Path, spec: pipelines.PipelineSpec) -> str:
    """alice accepts the pattern suggestions on every sample; bob too, but on the seed he calls Minsk ORG and drops The Moscow Times."""
    articles = load_articles([SAMPLES]).articles
    [seed] = [a for a in articles if a.text == load_articles([SEED]).articles[0].text]
    with Store(db) as store:
        preannotate(store, articles, spec)
        for article in articles:
            spans = store.suggestions(article.id, spec.model_id).spans  # type: ignore[union-attr]
            store.save_annotation(Annotation(article.id, "alice", spans, Answer.ACCEPT))
            if article.id == seed.id:
                minsk = seed.text.index("Minsk")
                spans = tuple(s.replace(label="ORG") if s.start == minsk else s for s in spans if s.text_in(seed.text) != "The Moscow Times")
            store.save_annotation(Annotation(article.id, "bob", spans, Answer.ACCEPT))
    return seed.id


async def test_step_take_a_take_b_accept(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    db = tmp_path / "g.json"
    seed_id = two_annotators(db, pattern_spec)
    store = Store(db)
    plan = plan_review(store, model=pattern_spec.model_id)
    assert [a.id for a in plan.articles] == [seed_id]  # the only article where alice and bob differ
    assert [d.kind() for d in differences(plan.versions[seed_id])] == ["label", "missing"]
    session = ReviewSession(store, plan, reviewer="lead", labels=("PERSON", "ORG", "GPE"))
    app = GoldspanApp(session, pipelines.resolve("blank:en"), keymap=default_keymap(), screen=ReviewScreen)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        assert "difference 1/2 (label)" in str(app.screen.query_one("#differences").render())
        await pilot.press("B")  # bob's ORG for Minsk
        await pilot.press("d", "A")  # alice's ORG "The Moscow Times", which bob left out
        await pilot.press("a")
    with Store(db, read_only=True) as check:
        record = check.annotation(seed_id, "lead")
        text = check.article(seed_id).text  # type: ignore[union-attr]
    assert record is not None and record.answer is Answer.ACCEPT
    chosen = {(s.text_in(text), s.label) for s in record.spans if s.start in (text.index("Minsk"), text.index("The Moscow Times"))}
    assert chosen == {("Minsk", "ORG"), ("The Moscow Times", "ORG")}
    assert all(s.state is SpanState.CONFIRMED for s in record.spans)
    assert record.note == "reviewed from alice, bob, model; took bob ×1, alice ×1"


def test_filters_pick_the_articles(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    db = tmp_path / "g.json"
    seed_id = two_annotators(db, pattern_spec)
    with Store(db, read_only=True) as store:
        assert [a.id for a in plan_review(store, label="ORG").articles] == [seed_id]
        assert plan_review(store, label="DATE").articles == []
        assert len(plan_review(store, only="all").articles) == len(load_articles([SAMPLES]).articles)
    result = run_goldspan("review", "--db", db, "--label", "DATE")
    assert_one_line_error(result, "nothing to review")


async def test_the_annotator_shows_how_many_differences_other_versions_have(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    db = tmp_path / "g.json"
    seed_id = two_annotators(db, pattern_spec)
    store = Store(db)
    articles = [a for a in store.articles() if a.id == seed_id]
    session = Session(store, articles, annotator="carol", labels=("PERSON", "ORG", "GPE"), model=pattern_spec.model_id)
    app = GoldspanApp(session, pattern_spec, keymap=default_keymap())
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        status = str(app.screen.query_one("#status").render())
    assert "others: alice 0 diff, bob 2 diff" in status
