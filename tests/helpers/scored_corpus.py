"""Articles with crafted scored suggestions, stored under a pipeline's model id: what --order
uncertain and teach mode read, with scores a test chooses."""

from __future__ import annotations

from pathlib import Path

from goldspan.annotations.datamodel import Article, Origin, Span, Suggestions
from goldspan.annotations.nlp import pipelines
from goldspan.annotations.store import Store


def scored_corpus(db: Path, spec: pipelines.PipelineSpec, scores: dict[str, list[tuple[str, float]]]) -> list[Article]:
    """One article per title, one sentence per (label, score): its first word, NameN, is the entity."""
    import spacy

    nlp = spacy.blank("en")
    articles, suggestions = [], []
    for title, entities in scores.items():
        text = f"{title}\n" + " ".join(f"Name{i} spoke in Town{i}." for i in range(len(entities)))
        article = Article.from_text(text)
        doc = nlp(text)
        spans = []
        for i, (label, p) in enumerate(entities):
            at = text.index(f"Name{i} ")
            ent = doc.char_span(at, at + len(f"Name{i}"))
            assert ent is not None
            spans.append(Span(ent.start_char, ent.end_char, ent.start, ent.end, label, Origin.MODEL, score=p))
        articles.append(article)
        suggestions.append(Suggestions(article.id, spec.model_id, tuple(spans), scorer="greedy, crafted"))
    with Store(db) as store:
        store.add_articles(articles)
        store.save_suggestions(suggestions)
    return articles
