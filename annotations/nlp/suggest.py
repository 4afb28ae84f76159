"""Asking spaCy for entity suggestions and caching them per (article, model name, model version)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from ..datamodel import Article, ModelId, Origin, Span, Suggestions
from .align import tokens_of
from .pipelines import PipelineSpec, entity_components, load
from .tokens import encode_tokens
from ..store import Store

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


# spaCy refuses texts over nlp.max_length (1,000,000 characters): its NER needs memory in
# proportion. Longer articles go through the model in pieces cut at paragraph breaks, and a batch
# holds at most BATCH_CHARS characters. Measured with en_core_web_sm on a 50,000-word article
# (330,000 characters): pieces of 100,000 in one batch peaked at 942 MB, one piece at a time at
# 443 MB, pieces of 20,000 four at a time at 264 MB, with the same 12,265 entities
# (docs/performance.md).
CHUNK = 20_000
BATCH_CHARS = 80_000


def chunks(text: str, size: int = CHUNK) -> list[tuple[int, str]]:
    """(offset, piece) covering the text, cut at paragraph (else line, else any) breaks, each at most ``size``."""
    pieces, start = [], 0
    while len(text) - start > size:
        window = text[start : start + size]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        end = start + (cut + 1 if cut > 0 else size)
        pieces.append((start, text[start:end]))
        start = end
    pieces.append((start, text[start:]))
    return pieces


def suggest(
    nlp: Language,
    articles: Sequence[Article],
    model: ModelId,
    *,
    n_process: int = 1,
    batch_size: int = 32,
    origin: Origin = Origin.MODEL,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[Suggestions]:
    """Run only the entity components over the articles, in batches; yields in input order.

    ``stop`` is asked before each piece: once it says yes nothing more is parsed or yielded (the
    annotator quits without waiting minutes for a 20 MB article to finish).
    """
    pieces = [(i, offset, piece) for i, a in enumerate(articles) for offset, piece in chunks(a.text)]
    longest = max((len(piece) for _, _, piece in pieces), default=1)
    batch_size = max(1, min(batch_size, BATCH_CHARS // longest))  # a batch's memory grows with its characters
    with nlp.select_pipes(enable=entity_components(nlp)):
        docs = nlp.pipe((piece for _, _, piece in pieces), batch_size=batch_size, n_process=n_process)
        current, found, whole = 0, [], None
        for (i, offset, piece), doc in zip(pieces, docs):
            if stop():
                return
            if i != current:
                yield _suggestions(nlp, articles[current], model, found, whole, origin)
                current, found, whole = i, [], None
            if offset == 0 and len(piece) == len(articles[i].text):
                whole = doc
            else:
                # Only the entities' offsets are kept: a piece's Doc holds a tensor row per token,
                # and keeping all of a 20 MB article's would take gigabytes.
                found.extend((offset + e.start_char, offset + e.end_char, e.label_) for e in doc.ents)
        if articles and not stop():
            yield _suggestions(nlp, articles[current], model, found, whole, origin)


def _suggestions(
    nlp: Language, article: Article, model: ModelId, found: list[tuple[int, int, str]], whole: Doc | None, origin: Origin
) -> Suggestions:
    if whole is not None:
        return Suggestions(article.id, model, spans_from_doc(whole, origin), tokens=encode_tokens(tokens_of(whole)))
    tokens = nlp.tokenizer(article.text)  # the tokenizer alone has no length limit; token indices come from it
    spans = []
    for start, end, label in found:
        span = tokens.char_span(start, end, alignment_mode="expand")
        if span is not None:
            spans.append(Span(span.start_char, span.end_char, span.start, span.end, label, origin))
    return Suggestions(article.id, model, tuple(spans), tokens=encode_tokens(tokens_of(tokens)))


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
