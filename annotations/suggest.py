"""Asking spaCy for entity suggestions and caching them per (article, model name, model version)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from .datamodel import Article, ModelId, Origin, Span, Suggestions
from .pipelines import PipelineSpec, entity_components, load
from .store import Store

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc


@dataclass(frozen=True)
class PreannotateResult:
    model: ModelId
    articles: int  # articles in the source
    new_articles: int  # of which were not in the store before
    parsed: int  # articles spaCy parsed in this run
    cached: int  # articles whose suggestions were already in the store
    parsed_words: int
    spans: int  # suggestions found in the parsed articles


def spans_from_doc(doc: Doc, origin: Origin = Origin.MODEL) -> tuple[Span, ...]:
    """doc.ents as goldspan spans; spaCy guarantees they sit on tokens and do not overlap."""
    return tuple(Span(e.start_char, e.end_char, e.start, e.end, e.label_, origin) for e in doc.ents)


def suggest(
    nlp: Language, articles: Sequence[Article], model: ModelId, *, n_process: int = 1, batch_size: int = 32, origin: Origin = Origin.MODEL
) -> Iterator[Suggestions]:
    """Run only the entity components over the articles, in batches; yields in input order."""
    with nlp.select_pipes(enable=entity_components(nlp)):
        docs = nlp.pipe((a.text for a in articles), batch_size=batch_size, n_process=n_process)
        for article, doc in zip(articles, docs):
            yield Suggestions(article.id, model, spans_from_doc(doc, origin))


def preannotate(
    store: Store,
    articles: Sequence[Article],
    spec: PipelineSpec,
    *,
    n_process: int = 1,
    batch_size: int = 32,
    on_start: Callable[[int, int], None] | None = None,
    on_parsed: Callable[[Article], None] | None = None,
    loader: Callable[[PipelineSpec], Language] = load,
) -> PreannotateResult:
    """Store the articles and the suggestions of every one not yet parsed by this model version.

    The pipeline is loaded only when something needs parsing, so a second run costs no model load.
    ``on_start(count, words)`` is called before parsing, ``on_parsed`` after each article.
    """
    model = spec.model_id
    new_articles = store.add_articles(articles)
    todo = [a for a in articles if not store.has_suggestions(a.id, model)]
    words = sum(a.word_count for a in todo)
    spans = 0
    if todo:
        if on_start:
            on_start(len(todo), words)
        nlp = loader(spec)
        origin = Origin.MODEL if "ner" in nlp.pipe_names else Origin.PATTERN
        by_id = {a.id: a for a in todo}
        results = suggest(nlp, todo, model, n_process=n_process, batch_size=batch_size, origin=origin)
        # One durable write per batch: a crash loses at most the batch being parsed, never a saved one.
        for chunk in _chunks(results, batch_size):
            store.save_suggestions(chunk)
            for item in chunk:
                spans += len(item.spans)
                if on_parsed:
                    on_parsed(by_id[item.article_id])
    return PreannotateResult(
        model=model,
        articles=len(articles),
        new_articles=new_articles,
        parsed=len(todo),
        cached=len(articles) - len(todo),
        parsed_words=words,
        spans=spans,
    )


def _chunks(items: Iterable[Suggestions], size: int) -> Iterator[list[Suggestions]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
