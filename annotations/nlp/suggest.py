"""Asking spaCy for entity suggestions and caching them per (article, model name, model version)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from ..confidence.scoring import Calibration, add_scorer, calibration_for, doc_scores, scored_ner
from ..datamodel import Article, ArticleList, ModelId, Origin, Span, Suggestions
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
    scorer: str = ""  # what scored them ("" if nothing did)


def spans_from_doc(doc: Doc, origin: Origin = Origin.MODEL, calibration: Calibration | None = None) -> tuple[Span, ...]:
    """doc.ents as goldspan spans, each with its calibrated score when a scorer ran; spaCy guarantees
    they sit on tokens and do not overlap."""
    if calibration is None:
        return tuple(Span(e.start_char, e.end_char, e.start, e.end, e.label_, origin) for e in doc.ents)
    raw = doc_scores(doc)
    return tuple(
        Span(e.start_char, e.end_char, e.start, e.end, e.label_, origin, score=_score(calibration, raw.get((e.start_char, e.end_char, e.label_))))
        for e in doc.ents
    )


def _score(calibration: Calibration, raw: float | None) -> float | None:
    return None if raw is None else calibration.at(raw)


# What a suggestion record made with a scorer says when the pipeline has nothing to score (patterns
# alone): it is not made again for the scores it can never have.
UNSCORABLE = "unscorable"

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
    scorer: str = "none",
) -> Iterator[Suggestions]:
    """Run only the entity components over the articles, in batches; yields in input order.

    ``stop`` is asked before each piece: once it says yes nothing more is parsed or yielded (the
    annotator quits without waiting minutes for a 20 MB article to finish). With a ``scorer``
    (confidence.scoring.SCORERS) the NER is decoded by it and each span gets its calibrated score.
    """
    pieces = [(i, offset, piece) for i, a in enumerate(articles) for offset, piece in chunks(a.text)]
    longest = max((len(piece) for _, _, piece in pieces), default=1)
    batch_size = max(1, min(batch_size, BATCH_CHARS // longest))  # a batch's memory grows with its characters
    enabled = entity_components(nlp)
    scoring = add_scorer(nlp, scorer)
    calibration = calibration_for(nlp.meta, scorer) if scoring else None
    if scoring:  # the scorer decodes the NER itself: its entities are the NER's, found once
        enabled = [name for name in enabled if name != scored_ner(nlp)] + [scoring]
    with nlp.select_pipes(enable=enabled):
        docs = nlp.pipe((piece for _, _, piece in pieces), batch_size=batch_size, n_process=n_process)
        current, whole = 0, None
        found: list[tuple[int, int, str, float | None]] = []
        for (i, offset, piece), doc in zip(pieces, docs):
            if stop():
                return
            if i != current:
                yield _suggestions(nlp, articles[current], model, found, whole, origin, calibration, scorer)
                current, found, whole = i, [], None
            if offset == 0 and len(piece) == len(articles[i].text):
                whole = doc
            else:
                # Only the entities' offsets are kept: a piece's Doc holds a tensor row per token,
                # and keeping all of a 20 MB article's would take gigabytes.
                raw = doc_scores(doc)
                found.extend((offset + e.start_char, offset + e.end_char, e.label_, raw.get((e.start_char, e.end_char, e.label_))) for e in doc.ents)
        if articles and not stop():
            yield _suggestions(nlp, articles[current], model, found, whole, origin, calibration, scorer)


def _suggestions(
    nlp: Language, article: Article, model: ModelId, found: list[tuple[int, int, str, float | None]], whole: Doc | None,
    origin: Origin, calibration: Calibration | None, wanted: str,
) -> Suggestions:  # fmt: skip
    scorer = calibration.label if calibration is not None else UNSCORABLE if wanted != "none" else ""
    if whole is not None:
        return Suggestions(article.id, model, spans_from_doc(whole, origin, calibration), tokens=encode_tokens(tokens_of(whole)), scorer=scorer)
    tokens = nlp.tokenizer(article.text)  # the tokenizer alone has no length limit; token indices come from it
    spans = []
    for start, end, label, raw in found:
        span = tokens.char_span(start, end, alignment_mode="expand")
        if span is not None:
            score = _score(calibration, raw) if calibration is not None else None
            spans.append(Span(span.start_char, span.end_char, span.start, span.end, label, origin, score=score))
    return Suggestions(article.id, model, tuple(spans), tokens=encode_tokens(tokens_of(tokens)), scorer=scorer)


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
    scorer: str | None = None,
    remote: Callable[[Sequence[Article], str], Iterable[Suggestions]] | None = None,
) -> PreannotateResult:
    """Store the articles and the suggestions of every one not yet parsed by this model version
    (with a ``scorer``: or parsed without scores).

    The pipeline is loaded only when something needs parsing, so a second run costs no model load.
    ``on_start(count, words)`` is called before parsing, ``on_parsed`` after each article.
    ``remote(articles, scorer)``, if given, makes the suggestions elsewhere (``dask_engine``), in any
    order; they are stored as the local ones are.
    """
    model = spec.model_id
    scorer = spec.scorer if scorer is None else scorer
    # The DB's own list is already stored, and its texts are read only for the articles parsed.
    new_articles = 0 if isinstance(articles, ArticleList) and articles.stored_in == store.path else store.add_articles(articles)
    ids = articles.ids if isinstance(articles, ArticleList) else [a.id for a in articles]
    if scorer == "none":
        rows = [i for i, article_id in enumerate(ids) if not store.has_suggestions(article_id, model)]
    else:  # a record made without scores, or by another scorer, is made again (the same spans, scored so)
        rows = [i for i, article_id in enumerate(ids) if (store.suggestion_scorer(article_id, model) or "").partition(",")[0] not in (scorer, UNSCORABLE)]
    todo = [articles[i] for i in rows]
    words = sum(a.word_count for a in todo)
    spans = 0
    scored_by = ""
    if todo:
        if on_start:
            on_start(len(todo), words)
        by_id = {a.id: a for a in todo}
        results: Iterable[Suggestions]
        if remote is not None:
            results = remote(todo, scorer)
        else:
            nlp = loader(spec)
            origin = Origin.MODEL if "ner" in nlp.pipe_names else Origin.PATTERN
            results = suggest(nlp, todo, model, n_process=n_process, batch_size=batch_size, origin=origin, scorer=scorer)
        # One durable write per batch: a crash loses at most the batch being parsed, never a saved one.
        for chunk in _chunks(results, batch_size):
            store.save_suggestions(chunk)
            for item in chunk:
                spans += len(item.spans)
                scored_by = scored_by or (item.scorer if item.scorer != UNSCORABLE else "")
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
        scorer=scored_by,
    )


def _chunks(items: Iterable[Suggestions], size: int) -> Iterator[list[Suggestions]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
