"""Figures about a goldspan DB: articles, answers, suggestions and gold spans per label, per annotator.

Plain data, so the CLI can print it as Rich tables or as one JSON object, and tests can read it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from .datamodel import Answer, Span
from .store import Store

IN_PROGRESS = "in progress"


def count_labels(spans: Iterable[Span]) -> dict[str, int]:
    """Label → count, most frequent first (ties by name) so tables read the same every run."""
    counts = Counter(span.label for span in spans)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


@dataclass
class ArticleStats:
    number: int
    id: str
    title: str
    words: int
    suggestions: dict[str, dict[str, int]] = field(default_factory=dict)  # model → label → count
    answers: dict[str, str] = field(default_factory=dict)  # annotator → answer (or "in progress")
    gold: dict[str, int] = field(default_factory=dict)  # label → count over accepted annotations


@dataclass
class AnnotatorStats:
    annotator: str
    articles: int = 0
    accept: int = 0
    reject: int = 0
    ignore: int = 0
    in_progress: int = 0
    spans: int = 0  # spans in this annotator's accepted articles


@dataclass
class GoldSpan:
    article: int  # the article's number in the stats
    title: str
    annotator: str
    start: int
    end: int
    label: str
    text: str
    state: str


@dataclass
class CorpusStats:
    db: str
    schema_version: int
    articles: int
    words: int
    annotated: int  # articles with at least one answer
    by_answer: dict[str, int]
    suggestions_per_label: dict[str, dict[str, int]]  # model → label → count
    gold_per_label: dict[str, int]
    annotators: list[AnnotatorStats]
    per_article: list[ArticleStats]
    gold_spans: list[GoldSpan]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def corpus_stats(store: Store) -> CorpusStats:
    articles = store.articles()
    rows = {a.id: ArticleStats(n, a.id, a.title, a.word_count) for n, a in enumerate(articles, start=1)}

    model_spans: dict[str, list[Span]] = {}
    for item in store.all_suggestions():
        model_spans.setdefault(str(item.model), []).extend(item.spans)
        if item.article_id in rows:
            rows[item.article_id].suggestions[str(item.model)] = count_labels(item.spans)

    by_answer: Counter[str] = Counter()
    gold: list[Span] = []
    per_annotator: dict[str, AnnotatorStats] = {}
    gold_by_article: dict[str, list[Span]] = {}
    gold_spans: list[GoldSpan] = []
    texts = {a.id: a.text for a in articles}
    for ann in store.annotations():
        answer = str(ann.answer) if ann.answer else IN_PROGRESS
        by_answer[answer] += 1
        who = per_annotator.setdefault(ann.annotator, AnnotatorStats(ann.annotator))
        who.articles += 1
        match ann.answer:
            case Answer.ACCEPT:
                who.accept += 1
                who.spans += len(ann.spans)
                gold.extend(ann.spans)
                gold_by_article.setdefault(ann.article_id, []).extend(ann.spans)
                row = rows.get(ann.article_id)
                gold_spans.extend(
                    GoldSpan(row.number if row else 0, row.title if row else ann.article_id, ann.annotator,
                             s.start, s.end, s.label, s.text_in(texts.get(ann.article_id, "")), str(s.state))
                    for s in ann.spans
                )  # fmt: skip
            case Answer.REJECT:
                who.reject += 1
            case Answer.IGNORE:
                who.ignore += 1
            case None:
                who.in_progress += 1
        if ann.article_id in rows:
            rows[ann.article_id].answers[ann.annotator] = answer
    for article_id, spans in gold_by_article.items():
        if article_id in rows:
            rows[article_id].gold = count_labels(spans)

    answered = {a for a, row in rows.items() if any(v != IN_PROGRESS for v in row.answers.values())}
    return CorpusStats(
        db=str(store.path),
        schema_version=store.schema_version,
        articles=len(articles),
        words=sum(row.words for row in rows.values()),
        annotated=len(answered),
        by_answer={key: by_answer.get(key, 0) for key in [*map(str, Answer), IN_PROGRESS]},
        suggestions_per_label={model: count_labels(spans) for model, spans in sorted(model_spans.items())},
        gold_per_label=count_labels(gold),
        annotators=sorted(per_annotator.values(), key=lambda a: a.annotator),
        per_article=list(rows.values()),
        gold_spans=sorted(gold_spans, key=lambda g: (g.article, g.annotator, g.start)),
    )
