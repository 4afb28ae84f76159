"""`goldspan review` through Pilot: step through differences, take A's or B's span, accept; read the reviewer's record."""

from __future__ import annotations

from pathlib import Path

from goldspan.tui.widgets.text_lines import TextLines
from goldspan.annotations.nlp import pipelines
from goldspan.annotations.articles import load_articles
from goldspan.annotations.datamodel import Annotation, Answer, Role, SpanState
from goldspan.tui.keymap import default_keymap
from goldspan.annotations.session.review import ReviewSession, differences, plan_review
from goldspan.annotations.session.session import Session
from goldspan.annotations.store import Store
from goldspan.annotations.nlp.suggest import preannotate
from goldspan.tui.app import GoldspanApp
from goldspan.tui.screens.review import ReviewScreen

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
        assert "done 0 · 2 differences open" in app.screen._status_text().plain  # type: ignore[attr-defined]
        await pilot.press("d")
        assert "difference 1/2 (label)" in app.screen.query_one("#differences", TextLines).text.plain
        await pilot.press("B")  # bob's ORG for Minsk
        await pilot.press("d", "A")  # alice's ORG "The Moscow Times", which bob left out
        await pilot.press("a")
        await settle(pilot)
        assert "done 1 · 0 differences open" in app.screen._status_text().plain  # type: ignore[attr-defined]
    with Store(db, read_only=True) as check:
        record = check.annotation(seed_id, "lead", Role.REVIEWER)
        text = check.article(seed_id).text  # type: ignore[union-attr]
    assert record is not None and record.answer is Answer.ACCEPT
    chosen = {(s.text_in(text), s.label) for s in record.spans if s.start in (text.index("Minsk"), text.index("The Moscow Times"))}
    assert chosen == {("Minsk", "ORG"), ("The Moscow Times", "ORG")}
    assert all(s.state is SpanState.CONFIRMED for s in record.spans)
    assert record.note == "reviewed from alice, bob, model; took bob ×1, alice+model ×1"


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


def test_a_review_starts_from_the_majority_and_asks_once_before_accepting_differences_not_looked_at(
    tmp_path: Path, pattern_spec: pipelines.PipelineSpec
) -> None:
    """alice and the model call Minsk GPE and have The Moscow Times, bob does not: a stretch's spans
    start as most versions have them. `a` straight away once saved only what every version had."""
    db = tmp_path / "g.json"
    seed_id = two_annotators(db, pattern_spec)
    with Store(db) as store:
        plan = plan_review(store, model=pattern_spec.model_id)
        session = ReviewSession(store, plan, reviewer="lead", labels=("PERSON", "ORG", "GPE"))
        text = session.article.text
        shown = {(s.text_in(text), s.label) for s in session.spans}
        assert {("Minsk", "GPE"), ("The Moscow Times", "ORG")} <= shown
        assert session.answer(Answer.ACCEPT) == "2 differences not looked at: <accept> again to accept with the majority's spans"
        assert store.annotation(seed_id, "lead", Role.REVIEWER) is None  # asked, not saved
        session.answer(Answer.ACCEPT)  # again: accepted with the majority's spans
        record = store.annotation(seed_id, "lead", Role.REVIEWER)
    assert record is not None and record.answer is Answer.ACCEPT
    assert {("Minsk", "GPE"), ("The Moscow Times", "ORG")} <= {(s.text_in(text), s.label) for s in record.spans}
    assert len(record.spans) == len(plan.versions[seed_id][0].spans)  # alice's (= the model's) spans, none lost
    assert record.note == "reviewed from alice, bob, model; took alice+model ×2"


async def test_flags_and_notes_reach_the_review(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    db = tmp_path / "g.json"
    seed_id = two_annotators(db, pattern_spec)
    store = Store(db)
    flagged_id = next(a.id for a in store.articles() if a.id != seed_id)  # an article both agree on
    record = store.annotation(flagged_id, "bob")
    assert record is not None
    store.save_annotation(Annotation(flagged_id, "bob", record.spans, Answer.ACCEPT, comment="ask about the dates", flagged=True))
    plan = plan_review(store, model=pattern_spec.model_id, only="flagged")
    assert [a.id for a in plan.articles] == [flagged_id]  # flagged by bob: reviewed though the versions agree
    assert plan.remarks[flagged_id] == ["bob ⚑ flagged: ask about the dates"]
    session = ReviewSession(store, plan, reviewer="lead", labels=("PERSON", "ORG", "GPE"))
    app = GoldspanApp(session, pipelines.resolve("blank:en"), keymap=default_keymap(), screen=ReviewScreen)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        panel = app.screen.query_one("#differences", TextLines).text.plain
    assert "bob ⚑ flagged: ask about the dates" in panel


def test_review_puts_the_labels_on_the_same_number_keys_as_annotate() -> None:
    from goldspan.annotations.labels import choose_labels, review_labels

    model = pipelines.resolve(None)
    used = ["NORP", "GPE", "PERSON"]  # what the versions happen to use: once, 4 was NORP in review and LOC in annotate
    assert review_labels(model.labels, None, used)[:10] == choose_labels(model.labels, None)[:10]
    assert review_labels(model.labels, "GPE,PERSON", used)[:2] == ("GPE", "PERSON")
    assert review_labels((), None, used) == ("PERSON", "GPE", "NORP")  # no model installed: the labels in use


def test_the_review_screen_in_a_real_terminal_fits_its_top_line_and_keys(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    from .conftest import goldspan_command
    from .helpers.terminal import Terminal

    db = tmp_path / "g.json"
    two_annotators(db, pattern_spec)
    term = Terminal([*goldspan_command(), "review", "--db", str(db), "--as", "lead"], tmp_path, size=(120, 40))
    term.wait_for("difference")
    term.drain()
    rows = term.screen()
    top = rows[0].rstrip()
    assert top.startswith(" review · article 1/1") and not top.endswith("…"), top  # once cut at 120 columns
    assert "versions: alice, bob, model" in top
    assert any("4 LOC" in row for row in rows), "\n".join(rows)  # annotate's keys: 4 is LOC, not NORP
    term.type("q")
    assert term.exit_status() == 0


def test_with_two_versions_a_tie_keeps_the_entities_and_says_it_was_a_tie(tmp_path: Path) -> None:
    """Two versions that differ always tie: the first name must not win every stretch, dropping
    what the other annotator found."""
    from goldspan.annotations.datamodel import Article, Origin, Span

    import spacy

    text = "Story\nAnna Nowak met Piotr in Gdansk."
    article = Article.from_text(text)
    doc = spacy.blank("en").make_doc(text)

    def span(words: str, label: str) -> Span:
        made = doc.char_span(text.index(words), text.index(words) + len(words))
        return Span(made.start_char, made.end_char, made.start, made.end, label, Origin.ANNOTATOR, SpanState.ADDED)

    db = tmp_path / "g.json"
    with Store(db) as store:
        store.add_articles([article])
        store.save_annotation(Annotation(article.id, "bob", (span("Anna Nowak", "PERSON"),), Answer.ACCEPT))
        store.save_annotation(Annotation(article.id, "zed", (span("Anna Nowak", "PERSON"), span("Piotr", "PERSON"), span("Gdansk", "GPE")), Answer.ACCEPT))
        plan = plan_review(store)
        session = ReviewSession(store, plan, reviewer="lead", labels=("PERSON", "GPE"))
        assert [(s.text_in(text), s.label) for s in session.spans] == [("Anna Nowak", "PERSON"), ("Piotr", "PERSON"), ("Gdansk", "GPE")]
        said = session.answer(Answer.ACCEPT)
        assert said == "2 differences not looked at (2 of them ties, where the version with more entities is shown): <accept> again to accept with the majority's spans"
        session.answer(Answer.ACCEPT)
        record = store.annotation(article.id, "lead", Role.REVIEWER)
    assert record is not None and len(record.spans) == 3 and record.note == "reviewed from bob, zed; took zed ×2"


def test_a_review_edits_with_a_tokenizer_of_the_models_language() -> None:
    """Review moves boundaries by tokens: those of the language the suggestions were made in, not always English."""
    from goldspan.annotations.datamodel import ModelId
    from goldspan.annotations.session.opening import _tokenizer_for

    assert _tokenizer_for(ModelId("de_core_news_sm", "3.8.0")).name == "blank:de"
    assert _tokenizer_for(ModelId("blank:fr", "spacy-3.8")).name == "blank:fr"
    assert _tokenizer_for(ModelId("nolanguage_model", "1")).name == "blank:en"
    assert _tokenizer_for(None).name == "blank:en"
