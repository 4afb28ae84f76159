"""Scores on suggestions (issue 21): made with the suggestions by the English model, kept by the store,
dropped by an edit, shown in the entity list; and the order the articles and entities are taken in
by `annotate --order uncertain`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy

from goldspan.annotations.articles import load_articles
from goldspan.annotations.confidence.scoring import calibration_for
from goldspan.annotations.datamodel import Article, ModelId, Origin, Span, SpanState, Suggestions
from goldspan.annotations.nlp import pipelines
from goldspan.annotations.nlp.suggest import preannotate
from goldspan.annotations.ordering import article_order, uncertainty_of
from goldspan.annotations.session.opening import open_annotation
from goldspan.annotations.store import Store
from goldspan.tui.app import GoldspanApp
from goldspan.tui.keymap import default_keymap

from .apphelpers import settle
from .conftest import SAMPLES, assert_one_line_error, run_goldspan
from .helpers.scored_corpus import scored_corpus


def english() -> pipelines.PipelineSpec:
    return pipelines.resolve(None)


def test_scored_suggestions_are_the_models_own_entities_each_with_a_probability(tmp_path: Path) -> None:
    articles = load_articles([SAMPLES]).articles[:4]
    with Store(tmp_path / "plain.json") as plain, Store(tmp_path / "scored.json") as scored, Store(tmp_path / "two.json") as two:
        preannotate(plain, articles, english(), scorer="none")
        result = preannotate(scored, articles, english(), scorer="greedy")
        preannotate(two, articles, english(), scorer="greedy", n_process=2, batch_size=2)
        model = english().model_id
        for article in articles:
            without, found, in_two = (s.suggestions(article.id, model) for s in (plain, scored, two))
            assert found is not None and without is not None and in_two is not None
            assert found.spans == without.spans  # the same entities: the scorer decodes the NER as spaCy does
            assert all(s.score is None for s in without.spans) and without.scorer == ""
            assert all(s.score is not None and 0.0 <= s.score <= 1.0 for s in found.spans)
            assert [s.score for s in in_two.spans] == [s.score for s in found.spans]  # the same scores in other processes
        assert result.scorer.startswith("greedy, isotonic")  # the shipped calibration for this model was applied
    # A second run with the same scorer parses nothing; another scorer scores again.
    with Store(tmp_path / "scored.json") as scored:
        assert preannotate(scored, articles, english(), scorer="greedy").parsed == 0
        assert preannotate(scored, articles, english(), scorer="none").parsed == 0
        again = preannotate(scored, articles[:1], english(), scorer="dropout")
        assert again.parsed == 1 and again.scorer.startswith("dropout")


def test_the_greedy_score_ranks_a_clearly_right_entity_above_a_clearly_wrong_one() -> None:
    nlp = spacy.load(english().name, exclude=["parser", "tagger", "lemmatizer", "attribute_ruler"])
    from goldspan.annotations.nlp.suggest import suggest

    text = "Vladimir Putin met Alexander Lukashenko in Sochi on Friday, Reuters reported. The Zorblax Corporation of New Bratislava paid Jan."
    [found] = suggest(nlp, [Article.from_text(text)], english().model_id, scorer="greedy")
    by_text = {s.text_in(found_text := text): s.score for s in found.spans}
    assert by_text["Vladimir Putin"] is not None and by_text["Vladimir Putin"] > 0.9
    doubtful = [p for words, p in by_text.items() if "Zorblax" in words or "Bratislava" in words or words.startswith("Jan")]
    assert doubtful and max(p for p in doubtful if p is not None) < by_text["Vladimir Putin"]
    assert found_text == text


def test_the_dropout_scorer_gives_the_same_scores_every_run() -> None:
    nlp = spacy.load(english().name, exclude=["parser", "tagger", "lemmatizer", "attribute_ruler"])
    from goldspan.annotations.nlp.suggest import suggest

    text = "The Zorblax Corporation of New Bratislava paid Jan Kowalski in Gdańsk on Monday."
    runs = [[s.score for s in next(suggest(nlp, [Article.from_text(text)], english().model_id, scorer="dropout")).spans] for _ in range(2)]
    assert runs[0] == runs[1] and all(p is not None for p in runs[0])


def test_calibration_comes_from_the_trained_models_meta_else_the_shipped_fit_else_none() -> None:
    shipped = calibration_for({"lang": "en", "name": "core_web_sm", "version": "3.8.0"}, "greedy")
    assert shipped.fit is not None and shipped.at(0.999) == 1.0 and shipped.at(0.2) == 0.0
    trained = calibration_for({"goldspan": {"calibration": {"greedy": {"xs": [0.1, 0.9], "ys": [0.25, 0.75], "fitted_on": "held-out"}}}}, "greedy")
    assert trained.at(0.5) == 0.5 and trained.at(0.95) == 0.75 and trained.label == "greedy, held-out"
    unknown = calibration_for({"lang": "xx", "name": "other", "version": "1"}, "greedy")
    assert unknown.fit is None and unknown.at(0.123456) == 0.1235


def test_a_score_is_kept_by_the_store_and_a_confirm_but_dropped_by_a_relabel(tmp_path: Path) -> None:
    span = Span(0, 5, 0, 1, "ORG", Origin.MODEL, score=0.4321)
    assert span == Span(0, 5, 0, 1, "ORG")  # not part of the span's value
    assert span.replace(state=SpanState.CONFIRMED).score == 0.4321
    assert span.replace(label="GPE").score is None and span.replace(end=4, token_end=1).score is None
    article = Article.from_text("Minsk is cold.")
    model = ModelId("m", "1")
    with Store(tmp_path / "g.json") as store:
        store.add_articles([article])
        store.save_suggestions([Suggestions(article.id, model, (span, Span(9, 13, 2, 3, "DATE")), scorer="greedy, test")])
    with Store(tmp_path / "g.json", read_only=True) as store:  # a fresh read of the file
        found = store.suggestions(article.id, model)
        assert found is not None and [s.score for s in found.spans] == [0.4321, None] and found.scorer == "greedy, test"
        assert store.suggestion_uncertainty(model) == {article.id: pytest.approx(uncertainty_of(0.4321))}


def person_corpus(db: Path, spec: pipelines.PipelineSpec, scores: dict[str, list[float]]) -> list[Article]:
    return scored_corpus(db, spec, {title: [("PERSON", p) for p in found] for title, found in scores.items()})


def test_order_uncertain_puts_the_article_with_the_most_uncertain_suggestions_first(tmp_path: Path, pattern_spec) -> None:
    scores = {"Sure": [0.99, 0.98], "Doubtful": [0.5, 0.55], "Middling": [0.8, 0.9], "Unscored": []}
    articles = person_corpus(tmp_path / "g.json", pattern_spec, scores)
    with Store(tmp_path / "g.json") as store:
        session = open_annotation(store, articles, annotator="alice", labels=["PERSON"], model=pattern_spec.model_id, order="uncertain")
        assert [a.title for a in session.articles] == ["Doubtful", "Middling", "Sure", "Unscored"]
        assert session.article.title == "Doubtful"
        source = open_annotation(store, articles, annotator="alice", labels=["PERSON"], model=pattern_spec.model_id)
        assert [a.title for a in source.articles] == list(scores)
    with Store(tmp_path / "g.json") as store:  # the DB's own list, read lazily, orders the same
        session = open_annotation(store, None, annotator="alice", labels=["PERSON"], model=pattern_spec.model_id, order="uncertain")
        assert session.articles.titles[:3] == ["Doubtful", "Middling", "Sure"]


def test_answered_articles_go_last_and_random_and_explore_follow_the_seed() -> None:
    ids = [f"a{i}" for i in range(40)]
    uncertainty = {article_id: i / 40 for i, article_id in enumerate(ids)}  # a39 is the most uncertain
    answered = {"a39", "a0"}.__contains__
    ranked = article_order(ids, order="uncertain", answered=answered, uncertainty=uncertainty)
    assert [ids[r] for r in ranked[:3]] == ["a38", "a37", "a36"] and [ids[r] for r in ranked[-2:]] == ["a0", "a39"]
    explored = article_order(ids, order="uncertain", answered=answered, uncertainty=uncertainty, seed=3, explore=0.3)
    assert sorted(explored) == list(range(40)) and explored != ranked  # every article once, some out of rank
    assert explored == article_order(ids, order="uncertain", answered=answered, uncertainty=uncertainty, seed=3, explore=0.3)
    shuffled = article_order(ids, order="random", answered=answered, seed=7)
    assert sorted(shuffled) == list(range(40)) and shuffled == article_order(ids, order="random", answered=answered, seed=7)
    assert shuffled != article_order(ids, order="random", answered=answered, seed=8)
    assert {ids[r] for r in shuffled[-2:]} == {"a0", "a39"}


async def test_with_order_uncertain_enter_confirms_and_goes_to_the_most_uncertain_entity_left(tmp_path: Path, pattern_spec) -> None:
    articles = person_corpus(tmp_path / "g.json", pattern_spec, {"Five": [0.95, 0.5, 0.99, 0.7, 0.6]})
    store = Store(tmp_path / "g.json")
    session = open_annotation(store, articles, annotator="alice", labels=["PERSON"], model=pattern_spec.model_id, order="uncertain")
    app = GoldspanApp(session, pattern_spec, keymap=default_keymap())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "0.50" in str(app.screen.query_one("EntityList").render_line(1).text)  # the score, shown quietly
        await pilot.press("j")
        assert session.draft.spans[session.draft.focus].score == 0.5  # the article opened on the first entity; j went to the second
        seen = []
        for _ in range(4):
            await pilot.press("enter")
            seen.append(session.draft.spans[session.draft.focus].score)
        assert seen == [0.6, 0.7, 0.95, 0.99]  # the most uncertain left each time, not the next in reading order
        assert [s.state for s in session.draft.spans].count(SpanState.CONFIRMED) == 4
    store.close()


def test_the_command_refuses_an_order_it_does_not_know(tmp_path: Path) -> None:
    for args, words in (
        (["--order", "newest"], "--order newest: not an order"),
        (["--explore", "0.2"], "--explore applies to --order uncertain only"),
        (["--order", "uncertain", "--explore", "2"], "--explore 2: give a share between 0 and 1"),
        (["--order", "uncertain", "--scorer", "none"], "--order uncertain needs the suggestions' scores"),
        (["--scorer", "magic"], "--scorer magic: not a scorer"),
        (["--scorer", "spancat"], "--scorer spancat: this model has no span categorizer"),
    ):
        result = run_goldspan("annotate", SAMPLES, "--db", tmp_path / "g.json", *args)
        assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr
        assert not (tmp_path / "g.json").exists()


def test_the_annotators_model_process_scores_its_suggestions_too() -> None:
    from goldspan.annotations.nlp.remote import ProcessPreparer

    article = Article.from_text("Talks in Minsk\nVladimir Putin met Alexander Lukashenko in Sochi on Friday, Reuters reported.")
    preparer = ProcessPreparer(english())  # the worker process annotate uses, with the default scorer
    try:
        found = preparer.suggestions(article, stop=lambda: False)
    finally:
        preparer.close()
    assert found is not None and found.scorer.startswith("greedy, isotonic")
    assert found.spans and all(s.score is not None and 0 <= s.score <= 1 for s in found.spans)


def test_train_fits_a_calibration_on_the_held_out_suggestions_when_there_are_enough(tmp_path: Path) -> None:
    import random as rnd

    from goldspan.annotations.confidence.scoring import calibration_for
    from goldspan.annotations.training.examples import GoldArticle, sentence_nlp, write_docbin
    from goldspan.annotations.training.trainer import fitted_calibration

    from .helpers.gold_corpus import gold_article

    made = [gold_article(i, rnd.Random(i)) for i in range(40)]
    write_docbin(sentence_nlp("en"), [GoldArticle(a.id, a.text, tuple(spans)) for a, spans in made], tmp_path / "eval.spacy")
    # The English model on people and made-up gadgets: right on many people, wrong on every gadget it calls something.
    found = fitted_calibration(english().name, tmp_path / "eval.spacy")
    assert found is not None and "held-out suggestions" in found["greedy"]["fitted_on"]
    calibration = calibration_for({"goldspan": {"calibration": found}}, "greedy")
    assert calibration.fit is not None and 0.0 <= calibration.at(0.2) <= calibration.at(0.99) <= 1.0
    few = [gold_article(i, rnd.Random(i), sentences=1) for i in range(3)]
    write_docbin(sentence_nlp("en"), [GoldArticle(a.id, a.text, tuple(spans)) for a, spans in few], tmp_path / "few.spacy")
    assert fitted_calibration(english().name, tmp_path / "few.spacy") is None  # too few to fit on: scores stay raw


def test_order_uncertain_with_a_bad_keymap_refuses_before_scoring_anything(tmp_path: Path) -> None:
    keys = tmp_path / "keys.toml"
    keys.write_text("[keys]\nnot_an_action = 'z'\n", encoding="utf-8")
    result = run_goldspan("annotate", SAMPLES, "--db", tmp_path / "g.json", "--order", "uncertain", "--keys", keys)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "scoring" not in result.stderr, result.stderr
    assert not (tmp_path / "g.json").exists()


def test_the_beam_scorer_scores_the_greedy_entities_by_the_beams_share() -> None:
    from goldspan.annotations.confidence.scoring import entity_scores

    nlp = spacy.load(english().name, exclude=["parser", "tagger", "lemmatizer", "attribute_ruler"])
    texts = ["Vladimir Putin met Alexander Lukashenko in Sochi on Friday, Reuters reported.", "The Zorblax Corporation of New Bratislava paid Jan."]
    greedy, beam = entity_scores(nlp, texts, "greedy"), entity_scores(nlp, texts, "beam")
    assert [set(found) for found in beam] == [set(found) for found in greedy]  # the NER's own entities
    assert all(p is not None and 0.0 <= p <= 1.0 for found in beam for p in found.values())
    assert beam[0][(0, 14, "PERSON")] > 0.9


def test_a_model_trained_with_spancat_scores_its_suggestions_with_it_and_one_without_is_refused(tmp_path: Path) -> None:
    from .helpers.gold_corpus import add_gold

    db = tmp_path / "g.json"
    add_gold(db, 0, 40)
    trained = run_goldspan("train", "--db", db, "--out", tmp_path / "m", "--spancat", "--max-steps", "120", "--eval-frequency", "40")
    assert trained.returncode == 0, trained.stderr
    meta = json.loads((tmp_path / "m" / "meta.json").read_text(encoding="utf-8"))
    assert meta["pipeline"] == ["ner", "spancat"]
    scored = run_goldspan("preannotate", "--db", db, "--model", tmp_path / "m", "--scorer", "spancat")
    assert scored.returncode == 0, scored.stderr
    assert "scored by spancat" in scored.stdout
    with Store(db, read_only=True) as store:
        spec = pipelines.resolve(str(tmp_path / "m"))
        found = [s for s in (store.suggestions(a.id, spec.model_id) for a in store.articles()) if s is not None]
    spans = [span for s in found for span in s.spans]
    assert found and all(s.scorer.startswith("spancat") for s in found)
    assert spans and all(span.score is None or 0.0 <= span.score <= 1.0 for span in spans)
    assert sum(span.score is not None for span in spans) >= len(spans) // 2  # entities of 1-5 tokens all get one

    before = db.read_bytes()
    refused = run_goldspan("preannotate", "--db", db, "--scorer", "spancat", "--model", english().name)
    assert_one_line_error(refused, "--scorer spancat", "no span categorizer", "goldspan train --spancat")
    assert db.read_bytes() == before
