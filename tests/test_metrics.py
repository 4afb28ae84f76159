"""Agreement and model quality against small cases computed by hand, and against spaCy's Scorer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy
from spacy.scorer import Scorer
from spacy.training import Example

from goldspan.annotations.datamodel import Annotation, Answer, Article, ModelId, Origin, Role, Span, SpanState, Suggestions
from goldspan.annotations.metrics import cohens_kappa, model_vs_gold, pairwise_agreement, span_scores, word_labels
from goldspan.annotations.store import Store

from .conftest import run_goldspan

NLP = spacy.blank("en")
TEXT = "Anna Nowak met Jan Kowalski in Gdańsk and Warsaw."


def span(text: str, words: str, label: str, nth: int = 0) -> Span:
    start = text.index(words)
    for _ in range(nth):
        start = text.index(words, start + 1)
    found = NLP.make_doc(text).char_span(start, start + len(words))
    return Span(found.start_char, found.end_char, found.start, found.end, label, Origin.ANNOTATOR, SpanState.ADDED)


def test_span_scores_by_hand() -> None:
    reference = [("a", 0, 5, "PERSON"), ("a", 10, 15, "GPE")]
    predicted = [("a", 0, 5, "PERSON"), ("a", 10, 15, "ORG"), ("a", 20, 25, "GPE")]
    overall, per_label = span_scores(reference, predicted)
    assert (overall.tp, overall.fp, overall.fn) == (1, 2, 1)
    assert overall.p == pytest.approx(1 / 3) and overall.r == pytest.approx(1 / 2) and overall.f == pytest.approx(0.4)
    assert (per_label["GPE"].tp, per_label["GPE"].fp, per_label["GPE"].fn) == (0, 1, 1)
    assert (per_label["ORG"].p, per_label["PERSON"].f) == (0.0, 1.0)


def test_an_empty_article_and_disjoint_label_sets() -> None:
    overall, per_label = span_scores([], [])
    assert (overall.p, overall.r, overall.f, per_label) == (0.0, 0.0, 0.0, {})
    overall, per_label = span_scores([("a", 0, 5, "PERSON")], [("a", 0, 5, "GPE")])
    assert overall.f == 0.0 and per_label["PERSON"].fn == 1 and per_label["GPE"].fp == 1


def test_cohens_kappa_by_hand() -> None:
    first = ["O", "O", "PER", "PER", "O", "GPE"]
    second = ["O", "O", "PER", "O", "O", "O"]
    # observed 4/6; expected (3*5 + 2*1 + 1*0) / 36 = 17/36; kappa = (4/6 - 17/36) / (1 - 17/36) = 7/19
    assert cohens_kappa(first, second) == pytest.approx(7 / 19)
    assert cohens_kappa(["O", "PER", "O"], ["O", "O", "O"]) == pytest.approx(0.0)  # one annotator marked nothing
    assert cohens_kappa(["O", "O"], ["O", "O"]) == 1.0 and cohens_kappa([], []) == 1.0


def test_pairwise_agreement_on_articles_both_accepted() -> None:
    a1, a2 = Article.from_text("One\n" + TEXT), Article.from_text("Two\n" + TEXT)
    alice = [Annotation(a1.id, "alice", (span(a1.text, "Anna Nowak", "PERSON"), span(a1.text, "Gdańsk", "GPE")), Answer.ACCEPT),
             Annotation(a2.id, "alice", (span(a2.text, "Warsaw", "GPE"),), Answer.ACCEPT)]  # fmt: skip
    bob = [Annotation(a1.id, "bob", (span(a1.text, "Anna Nowak", "PERSON"), span(a1.text, "Gdańsk", "LOC")), Answer.ACCEPT),
           Annotation(a2.id, "bob", (), Answer.REJECT)]  # fmt: skip
    spaces = {a.id: tuple(t.is_space for t in NLP.make_doc(a.text)) for a in (a1, a2)}
    lead = Annotation(a1.id, "lead", alice[0].spans, Answer.ACCEPT, role=Role.REVIEWER)  # settles them: not an annotator
    [pair] = pairwise_agreement([*alice, *bob, lead], spaces)
    assert (pair.first, pair.second, pair.articles, pair.both_answered, pair.same_answer) == ("alice", "bob", 1, 2, 1)
    assert (pair.overall.tp, pair.overall.fp, pair.overall.fn) == (1, 1, 1)
    first = word_labels(spaces[a1.id], alice[0].spans)
    second = word_labels(spaces[a1.id], bob[0].spans)
    # "One \n Anna Nowak met ...": the line end is a whitespace token, left out of the kappa
    assert spaces[a1.id].count(True) == 1 and pair.whitespace_tokens == 1
    assert pair.tokens == len(spaces[a1.id]) - 1 == len(first) and pair.kappa == pytest.approx(cohens_kappa(first, second))


def test_model_vs_gold_agrees_with_spacys_scorer_and_explains_the_errors() -> None:
    article = Article.from_text(TEXT)
    gold = Annotation(article.id, "alice", (span(TEXT, "Anna Nowak", "PERSON"), span(TEXT, "Jan Kowalski", "PERSON"),
                                            span(TEXT, "Gdańsk", "GPE"), span(TEXT, "Warsaw", "GPE")), Answer.ACCEPT)  # fmt: skip
    model = (span(TEXT, "Anna Nowak", "PERSON"), span(TEXT, "Jan Kowalski", "GPE"), span(TEXT, "Gdańsk", "GPE"), span(TEXT, "met", "ORG"))
    report = model_vs_gold({article.id: article}, [gold], {article.id: model}, "toy 1")
    overall, per_label = span_scores([(article.id, s.start, s.end, s.label) for s in gold.spans], [(article.id, s.start, s.end, s.label) for s in model])
    assert report.scores["ents_p"] == pytest.approx(overall.p) == pytest.approx(2 / 4)
    assert report.scores["ents_r"] == pytest.approx(overall.r) == pytest.approx(2 / 4)
    assert report.scores["ents_per_type"]["PERSON"]["r"] == pytest.approx(per_label["PERSON"].r) == pytest.approx(0.5)
    assert report.confusion["PERSON"] == {"PERSON": 1, "GPE": 1} and report.confusion["GPE"] == {"GPE": 1, "—": 1}
    kinds = {(e["kind"], e["text"], e["change"]) for e in report.errors}
    assert kinds == {("wrong label", "Jan Kowalski", "PERSON → GPE"), ("missed", "Warsaw", "GPE → —"), ("spurious", "met", "— → ORG")}
    # the same examples straight through spaCy's Scorer
    reference, predicted = NLP.make_doc(TEXT), NLP.make_doc(TEXT)
    reference.ents = [reference.char_span(s.start, s.end, label=s.label) for s in gold.spans]
    predicted.ents = [predicted.char_span(s.start, s.end, label=s.label) for s in model]
    assert Scorer.score_spans([Example(predicted, reference)], "ents")["ents_f"] == pytest.approx(report.scores["ents_f"])


def test_stats_agreement_and_model_vs_gold_from_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    article = Article.from_text(TEXT)
    with Store(db) as store:
        store.add_articles([article])
        store.save_annotation(Annotation(article.id, "alice", (span(TEXT, "Anna Nowak", "PERSON"), span(TEXT, "Gdańsk", "GPE")), Answer.ACCEPT))
        store.save_annotation(Annotation(article.id, "bob", (span(TEXT, "Anna Nowak", "PERSON"),), Answer.ACCEPT))
        store.save_suggestions([Suggestions(article.id, ModelId("toy", "1"), (span(TEXT, "Gdańsk", "ORG"),))])
        # the lead settles it: the final record, and no annotator of the agreement
        store.save_annotation(Annotation(article.id, "lead", (span(TEXT, "Anna Nowak", "PERSON"), span(TEXT, "Gdańsk", "GPE")), Answer.ACCEPT,
                                         role=Role.REVIEWER))  # fmt: skip
    result = run_goldspan("stats", "--db", db, "--agreement", "--model-vs-gold", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    [pair] = figures["agreement"]
    assert pair["overall"]["p"] == 1.0 and pair["overall"]["r"] == 0.5 and pair["overall"]["f"] == pytest.approx(2 / 3)
    # tokens: Anna Nowak met Jan Kowalski in Gdańsk and Warsaw . = 10; alice O except 2 PER + 1 GPE, bob 2 PER
    assert pair["tokens"] == 10 and pair["kappa"] == pytest.approx(cohens_kappa(["PER"] * 2 + ["O"] * 4 + ["GPE"] + ["O"] * 3,
                                                                                ["PER"] * 2 + ["O"] * 8))  # fmt: skip
    report = figures["model_vs_gold"]
    assert report["model"] == "toy 1" and report["articles"] == 1  # the article once, against the lead's final record
    assert report["scores"]["ents_p"] == 0.0 and report["confusion"]["GPE"] == {"ORG": 1}
    table = run_goldspan("stats", "--db", db, "--agreement")
    assert table.returncode == 0 and "token kappa" in table.stdout and "overall" in table.stdout
