"""The dataset after review: one final record per article in every export and in model-vs-gold, a
train/dev split by article, and a reviewer's record that never replaces anyone's annotation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

from goldspan.annotations.nlp import pipelines
from goldspan.annotations.articles import load_articles
from goldspan.annotations.datamodel import Annotation, Answer, Article, Role, Span
from goldspan.annotations.exchange import export
from goldspan.annotations.gold import final_set
from goldspan.annotations.session.review import ReviewSession, plan_review
from goldspan.annotations.store import Store
from goldspan.annotations.nlp.suggest import preannotate

from .conftest import SAMPLES, SEED, run_goldspan

SEVILLE = SAMPLES / "4-seville-cup-final.txt"


def newcomer_db(db: Path, spec: pipelines.PipelineSpec) -> tuple[Article, Article]:
    """As on the newcomer's run: root and bob accept the Putin article with different spans, root alone
    accepts Seville, and root, with review's default --as (the user name, root again), settles Putin."""
    [putin] = load_articles([SEED]).articles
    [seville] = load_articles([SEVILLE]).articles
    with Store(db) as store:
        preannotate(store, [putin, seville], spec)
        suggested = store.suggestions(putin.id, spec.model_id).spans  # type: ignore[union-attr]
        store.save_annotation(Annotation(putin.id, "root", suggested, Answer.ACCEPT))
        minsk = putin.text.index("Minsk")
        bobs = tuple(s.replace(label="ORG") if s.start == minsk else s for s in suggested if s.text_in(putin.text) != "The Moscow Times")
        store.save_annotation(Annotation(putin.id, "bob", bobs, Answer.ACCEPT))
        store.save_annotation(Annotation(seville.id, "root", store.suggestions(seville.id, spec.model_id).spans, Answer.ACCEPT))  # type: ignore[union-attr]
    return putin, seville


def review_as_root(db: Path, spec: pipelines.PipelineSpec, putin: Article) -> None:
    with Store(db) as store:
        plan = plan_review(store, model=spec.model_id)
        session = ReviewSession(store, plan, reviewer="root", labels=("PERSON", "ORG", "GPE"))
        assert session.article.id == putin.id
        names = [v.name for v in session.versions()]
        session.step_difference(1)  # Minsk: GPE (root, model) or ORG (bob)
        assert session.take(names.index("bob")) == "took bob's version"
        session.step_difference(1)  # The Moscow Times, which bob left out
        assert session.answer(Answer.ACCEPT) == "the article is answered"  # every difference looked at: no question


def test_a_review_by_an_annotator_never_replaces_their_own_annotation(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    db = tmp_path / "g.json"
    putin, _ = newcomer_db(db, pattern_spec)
    with Store(db, read_only=True) as store:
        own_before = store.annotation(putin.id, "root")
    review_as_root(db, pattern_spec, putin)
    with Store(db, read_only=True) as store:
        own = store.annotation(putin.id, "root")
        review = store.annotation(putin.id, "root", Role.REVIEWER)
        assert own == own_before  # root's independent annotation, untouched
        assert review is not None and review.role is Role.REVIEWER and review.answer is Answer.ACCEPT
        assert review.note == "reviewed from bob, root, model; took bob ×1, root+model ×1"  # every version taken is named
        text = putin.text
        assert ("Minsk", "ORG") in [(s.text_in(text), s.label) for s in review.spans]
        assert ("Minsk", "GPE") in [(s.text_in(text), s.label) for s in own.spans]  # type: ignore[union-attr]
    result = run_goldspan("stats", "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)  # a reviewer's records are shown apart from the same person's own
    assert {(a["annotator"], a["role"], a["accept"]) for a in figures["annotators"]} == {
        ("bob", "annotator", 1), ("root", "annotator", 2), ("root (review)", "reviewer", 1)}
    assert (figures["final_articles"], figures["reviewed"], figures["awaiting_review"]) == (2, 1, 0)


def test_export_writes_one_final_record_per_article(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    db = tmp_path / "g.json"
    putin, seville = newcomer_db(db, pattern_spec)
    before = run_goldspan("export", "--db", db, "--format", "doccano", "--out", tmp_path / "before.jsonl")
    assert before.returncode == 0, before.stderr
    rows = [json.loads(line) for line in (tmp_path / "before.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == [seville.text]  # Putin: two versions that disagree, not reviewed: left out
    assert "1 article left out: the annotators disagree and nobody has reviewed it yet; settle it with goldspan review" in before.stderr

    review_as_root(db, pattern_spec, putin)
    result = run_goldspan("export", "--db", db, "--format", "doccano", "--out", tmp_path / "after.jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "after.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(r["text"] for r in rows) == sorted([putin.text, seville.text])  # one record per article
    [reviewed] = [r for r in rows if r["text"] == putin.text]
    assert reviewed["meta"]["annotator"] == "root" and reviewed["meta"]["role"] == "reviewer"
    assert [putin.text[s:e] for s, e, label in reviewed["label"] if label == "ORG"].count("Minsk") == 1
    assert "Exported 2 articles" in result.stdout and "goldspan review" not in result.stderr  # nothing left to settle

    every = run_goldspan("export", "--db", db, "--format", "doccano", "--out", tmp_path / "all.jsonl", "--all-versions")
    rows = [json.loads(line) for line in (tmp_path / "all.jsonl").read_text(encoding="utf-8").splitlines()]
    assert every.returncode == 0 and len(rows) == 4  # root's, bob's and the review of Putin, root's Seville
    assert "Exported 4 records of 2 articles" in every.stdout


def test_final_records_follow_the_rule(pattern_spec: pipelines.PipelineSpec) -> None:
    spans = ()
    agree = [Annotation("a", "x", spans, Answer.ACCEPT), Annotation("a", "y", spans, Answer.ACCEPT), Annotation("a", "z", spans, Answer.REJECT)]
    skipped = [Annotation("b", "x", spans, Answer.IGNORE), Annotation("b", "y", spans, None)]
    rejected = [Annotation("c", "x", spans, Answer.REJECT)]
    final = final_set([*agree, *skipped, *rejected])
    assert [(r.article_id, r.answer) for r in final.records] == [("a", Answer.ACCEPT), ("b", Answer.IGNORE), ("c", Answer.REJECT)]
    assert final.disagreeing == [] and final.unanswered == []
    in_progress = final_set([Annotation("d", "x", spans, None)])
    assert in_progress.records == [] and in_progress.unanswered == ["d"]
    other = (Span(0, 5, 0, 1, "GPE"),)
    disagree = [Annotation("e", "x", spans, Answer.ACCEPT), Annotation("e", "y", other, Answer.ACCEPT)]
    assert final_set(disagree).records == [] and final_set(disagree).disagreeing == ["e"]
    older = Annotation("e", "lead", other, Answer.ACCEPT, role=Role.REVIEWER, updated="2026-12-01T10:00:00+00:00")
    newer = Annotation("e", "boss", spans, Answer.REJECT, role=Role.REVIEWER, updated="2026-12-01T11:00:00+00:00")
    settled = final_set([*disagree, older, newer])  # the latest review wins, whatever the annotators said
    assert [(r.annotator, r.answer) for r in settled.records] == [("boss", Answer.REJECT)] and settled.reviewed == 1


def test_split_leaves_neither_side_empty_and_says_how_many_each_has(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    db = tmp_path / "g.json"
    putin, seville = newcomer_db(db, pattern_spec)
    review_as_root(db, pattern_spec, putin)
    result = run_goldspan("export", "--db", db, "--format", "spacy", "--split", "0.8", "--out", tmp_path / "corpus")
    assert result.returncode == 0, result.stderr
    assert "train.spacy (1 article)" in result.stdout and "dev.spacy (1 article)" in result.stdout  # round(2 × 0.8) left dev empty


def test_an_export_with_nothing_to_write_exits_1(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    db = tmp_path / "g.json"
    newcomer_db(db, pattern_spec)
    result = run_goldspan("export", "--db", db, "--format", "doccano", "--out", tmp_path / "x.jsonl", "--answer", "reject")
    assert result.returncode == 1 and "Exported 0 articles" in result.stdout


@pytest.mark.parametrize("all_versions", [False, True])
def test_split_never_puts_an_article_on_both_sides(tmp_path: Path, pattern_spec: pipelines.PipelineSpec, all_versions: bool) -> None:
    db = tmp_path / "g.json"
    articles = load_articles([SAMPLES]).articles
    with Store(db) as store:
        preannotate(store, articles, pattern_spec)
        for article in articles:  # two annotators who agree on every article: one final record each
            spans = store.suggestions(article.id, pattern_spec.model_id).spans  # type: ignore[union-attr]
            store.save_annotation(Annotation(article.id, "root", spans, Answer.ACCEPT))
            store.save_annotation(Annotation(article.id, "bob", spans, Answer.ACCEPT))
    nlp = spacy.blank("en")
    for seed in range(6):
        out = tmp_path / f"split{seed}"
        with Store(db, read_only=True) as store:
            export(store, "spacy", out, split=0.8, seed=seed, all_versions=all_versions)
        train = [d.text for d in DocBin().from_disk(out / "train.spacy").get_docs(nlp.vocab)]
        dev = [d.text for d in DocBin().from_disk(out / "dev.spacy").get_docs(nlp.vocab)]
        assert not set(train) & set(dev), f"seed {seed}: an article is in both train and dev"
        assert len(set(train) | set(dev)) == len(articles)
        assert len(train) + len(dev) == len(articles) * (2 if all_versions else 1)


def test_model_vs_gold_scores_each_article_once_against_its_final_record(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    db = tmp_path / "g.json"
    putin, _ = newcomer_db(db, pattern_spec)
    review_as_root(db, pattern_spec, putin)
    result = run_goldspan("stats", "--db", db, "--model-vs-gold", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)["model_vs_gold"]
    assert report["articles"] == 2  # Putin once (the review), Seville once; not 4
    assert report["confusion"]["ORG"].get("GPE") == 1  # the review's Minsk ORG, which the patterns call GPE
    table = run_goldspan("stats", "--db", db, "--model-vs-gold")
    assert "2 accepted articles, one final record each" in table.stdout
