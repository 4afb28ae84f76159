"""The gold as spaCy training examples: one final accepted record per article, cut into sentences.

An article is held out or trained on as a whole (``eval_split``), but its examples are its sentences:
a news article of 800 words would be one update, and a handful of articles a handful of updates.
Sentences come from spaCy's rule-based ``sentencizer``; where a sentence boundary falls inside an
entity, the two sentences stay one example, so no gold entity is ever cut.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from ..datamodel import Answer, Role
from ..formats.records import Record
from ..formats.spacy_docbin import to_doc
from ..gold import final_set
from ..store import Store

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, DocBin


@dataclass(frozen=True)
class GoldArticle:
    article_id: str
    text: str
    spans: tuple[tuple[int, int, str], ...]


def gold_articles(store: Store, annotator: str | None = None) -> list[GoldArticle]:
    """Each article's accepted gold: the final record (a reviewer's first, else the annotators'
    agreeing version, ``gold.final_set``), or with ``annotator`` that person's accepted versions."""
    if annotator is not None:
        records = [a for a in store.annotations(annotator=annotator, role=Role.ANNOTATOR, answered=True) if a.answer is Answer.ACCEPT]
    else:
        records = final_set(store.annotations(answered=True)).answered(Answer.ACCEPT)
    found = []
    for record in records:
        article = store.article(record.article_id)
        if article is not None:
            found.append(GoldArticle(article.id, article.text, record.span_key()))
    return found


def gold_digest(articles: Iterable[GoldArticle]) -> str:
    """A hash of exactly what was trained on: the articles and their spans, in a fixed order."""
    canonical = json.dumps(sorted((a.article_id, [list(s) for s in a.spans]) for a in articles), ensure_ascii=False)
    return hashlib.blake2b(canonical.encode(), digest_size=8).hexdigest()


def sentence_nlp(lang: str) -> Language:
    from ..exchange import blank

    nlp = blank(lang)
    nlp.add_pipe("sentencizer")
    return nlp


def sentence_docs(nlp: Language, article: GoldArticle) -> list[Doc]:
    """The article's gold Doc cut into sentences (never inside an entity), blank ones left out."""
    doc = nlp.get_pipe("sentencizer")(to_doc(nlp, Record(article.text, list(article.spans))))
    inside: set[int] = set()
    for ent in doc.ents:
        inside.update(range(ent.start + 1, ent.end))  # a boundary before one of these tokens would cut the entity
    starts = [sent.start for sent in doc.sents if sent.start == 0 or sent.start not in inside] + [len(doc)]
    docs = []
    for start, end in zip(starts, starts[1:]):
        if any(not token.is_space for token in doc[start:end]):
            docs.append(doc[start:end].as_doc())
    return docs


def example_counter(articles: Sequence[GoldArticle], lang: str = "en") -> Callable[[str], int]:
    """An article's number of examples (sentences), counted when first asked for."""
    by_id = {a.article_id: a for a in articles}
    counted: dict[str, int] = {}
    nlp: list[Language] = []

    def examples_of(article_id: str) -> int:
        if article_id not in counted:
            if not nlp:
                nlp.append(sentence_nlp(lang))
            article = by_id.get(article_id)
            counted[article_id] = 0 if article is None else len(sentence_docs(nlp[0], article))
        return counted[article_id]

    return examples_of


@dataclass
class ExampleSet:
    """The examples of one side (training or evaluation) and what they hold."""

    articles: int = 0
    docs: int = 0
    words: int = 0
    labels: Counter[str] | None = None

    def __post_init__(self) -> None:
        if self.labels is None:
            self.labels = Counter()


def write_docbin(
    nlp: Language, articles: Sequence[GoldArticle], path: Path, labels: set[str] | None = None, span_key: str | None = None
) -> ExampleSet:
    """The articles' sentence examples as a DocBin (``spacy train``'s input); ``labels``: keep only
    entities of these labels (the others are left unlabelled, as O); ``span_key``: the entities also
    as that span group (a span categorizer's gold)."""
    from spacy.tokens import DocBin

    def docs_of(article: GoldArticle) -> list[Doc]:
        spans = article.spans if labels is None else tuple(s for s in article.spans if s[2] in labels)
        docs = sentence_docs(nlp, GoldArticle(article.article_id, article.text, spans))
        if span_key is not None:
            for doc in docs:
                doc.spans[span_key] = list(doc.ents)
        return docs

    return _kept(DocBin(attrs=["ORTH", "ENT_IOB", "ENT_TYPE"]), articles, docs_of, path)


def _kept(kept: DocBin, articles: Sequence[Any], docs_of: Callable[[Any], list[Doc]], path: Path) -> ExampleSet:
    """Each article's examples added to ``kept``, written to ``path``; what they hold."""
    summary = ExampleSet(articles=len(articles))
    for article in articles:
        for doc in docs_of(article):
            kept.add(doc)
            summary.docs += 1
            summary.words += len(doc)
            assert summary.labels is not None
            summary.labels.update(ent.label_ for ent in doc.ents)
    kept.to_disk(path)
    return summary


# -- teach mode's answers as partial examples ------------------------------------------------------

INCORRECT_SPANS = "incorrect_spans"  # the span group spaCy's NER reads known-wrong spans from (its incorrect_spans_key)


@dataclass(frozen=True)
class PartialArticle:
    """An article known only through teach-mode answers: spans said to be entities, spans said not to
    be (that label there), and nothing known of the rest."""

    article_id: str
    text: str
    accepted: tuple[tuple[int, int, str], ...]
    rejected: tuple[tuple[int, int, str], ...]


def partial_articles(store: Store, leave_out: set[str], annotator: str | None = None) -> list[PartialArticle]:
    """Teach answers grouped by article, for the articles in no gold and not held out (``leave_out``);
    an ignored answer says nothing and is left out."""
    from ..teaching.decisions import stored_decisions

    accepted: dict[str, list[tuple[int, int, str]]] = {}
    rejected: dict[str, list[tuple[int, int, str]]] = {}
    for decision in stored_decisions(store, annotator):
        if decision.article_id in leave_out or decision.answer is Answer.IGNORE:
            continue
        side = accepted if decision.answer is Answer.ACCEPT else rejected
        side.setdefault(decision.article_id, []).append((decision.start, decision.end, decision.label))
    found = []
    for article_id in dict.fromkeys([*accepted, *rejected]):
        article = store.article(article_id)
        if article is not None:
            found.append(PartialArticle(article_id, article.text, tuple(sorted(set(accepted.get(article_id, ())))),
                                        tuple(sorted(set(rejected.get(article_id, ()))))))  # fmt: skip
    return found


def partial_docs(nlp: Language, article: PartialArticle, labels: set[str] | None = None) -> list[Doc]:
    """The sentences holding an answer, each a Doc whose accepted spans are entities, whose rejected ones
    are in the ``incorrect_spans`` group, and whose other tokens are missing (not O): spaCy's NER then
    learns from what was answered and nothing else."""
    from spacy.tokens import Span as SpacySpan
    from spacy.util import filter_spans

    doc = nlp.get_pipe("sentencizer")(nlp.make_doc(article.text))

    def spans_in(found: Iterable[tuple[int, int, str]]) -> list[SpacySpan]:
        made = [doc.char_span(start, end, label=label, alignment_mode="expand") for start, end, label in found if labels is None or label in labels]
        return [span for span in made if span is not None]

    accepted, rejected = filter_spans(spans_in(article.accepted)), spans_in(article.rejected)
    inside: set[int] = set()
    for span in [*accepted, *rejected]:
        inside.update(range(span.start + 1, span.end))
    starts = [sent.start for sent in doc.sents if sent.start == 0 or sent.start not in inside] + [len(doc)]
    docs = []
    for start, end in zip(starts, starts[1:]):
        mine = [s for s in accepted if start <= s.start and s.end <= end]
        wrong = [s for s in rejected if start <= s.start and s.end <= end]
        if not mine and not wrong:
            continue  # a sentence nobody answered for teaches nothing
        sentence = doc[start:end].as_doc()
        sentence.set_ents([SpacySpan(sentence, s.start - start, s.end - start, s.label_) for s in mine], default="missing")
        sentence.spans[INCORRECT_SPANS] = [SpacySpan(sentence, s.start - start, s.end - start, s.label_) for s in wrong]
        docs.append(sentence)
    return docs


def add_partial_docs(nlp: Language, articles: Sequence[PartialArticle], path: Path, labels: set[str] | None = None) -> ExampleSet:
    """Append the partial examples to the training DocBin at ``path``."""
    from spacy.tokens import DocBin

    kept = DocBin(attrs=["ORTH", "ENT_IOB", "ENT_TYPE"]).from_disk(path)
    return _kept(kept, articles, lambda article: partial_docs(nlp, article, labels), path)
