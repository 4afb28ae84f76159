"""Figures about a goldspan DB: articles, answers, suggestions and gold spans per label, per annotator.

Plain data, so the CLI can print it as Rich tables or as one JSON object, and tests can read it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from .datamodel import Answer, Span
from .gold import final_set
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
    answers: dict[str, str] = field(default_factory=dict)  # annotator ("lead (review)" for a review) → answer (or "in progress")
    gold: dict[str, int] = field(default_factory=dict)  # label → count in the article's final record, if accepted
    flagged_by: list[str] = field(default_factory=list)  # annotators who flagged it for review
    comments: dict[str, str] = field(default_factory=dict)  # annotator → their note on it


@dataclass
class AnnotatorStats:
    annotator: str  # "lead (review)" for a reviewer's records
    articles: int = 0
    accept: int = 0
    reject: int = 0
    ignore: int = 0
    in_progress: int = 0
    spans: int = 0  # spans in this annotator's accepted articles
    flagged: int = 0
    role: str = "annotator"


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
    gold_per_label: dict[str, int]  # over the final record of each accepted article (what export writes)
    final_articles: int  # articles with a final accepted record
    awaiting_review: int  # articles whose annotators disagree, not reviewed yet
    reviewed: int  # articles settled by a reviewer's record
    flagged: int  # articles someone flagged for review
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
    per_annotator: dict[str, AnnotatorStats] = {}
    annotations = store.annotations()
    for ann in annotations:
        answer = str(ann.answer) if ann.answer else IN_PROGRESS
        by_answer[answer] += 1
        who = per_annotator.setdefault(ann.who, AnnotatorStats(ann.who, role=str(ann.role)))
        who.articles += 1
        who.flagged += ann.flagged
        match ann.answer:
            case Answer.ACCEPT:
                who.accept += 1
                who.spans += len(ann.spans)
            case Answer.REJECT:
                who.reject += 1
            case Answer.IGNORE:
                who.ignore += 1
            case None:
                who.in_progress += 1
        row = rows.get(ann.article_id)
        if row is not None:
            row.answers[ann.who] = answer
            if ann.flagged:
                row.flagged_by.append(ann.who)
            if ann.comment:
                row.comments[ann.who] = ann.comment

    final = final_set(annotations)
    gold: list[Span] = []
    gold_spans: list[GoldSpan] = []
    texts = {a.id: a.text for a in articles}
    for record in final.answered(Answer.ACCEPT):
        gold.extend(record.spans)
        row = rows.get(record.article_id)
        if row is not None:
            row.gold = count_labels(record.spans)
        gold_spans.extend(
            GoldSpan(row.number if row else 0, row.title if row else record.article_id, record.who,
                     s.start, s.end, s.label, s.text_in(texts.get(record.article_id, "")), str(s.state))
            for s in record.spans
        )  # fmt: skip

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
        final_articles=len(final.answered(Answer.ACCEPT)),
        awaiting_review=len(final.disagreeing),
        reviewed=final.reviewed,
        flagged=sum(1 for row in rows.values() if row.flagged_by),
        annotators=sorted(per_annotator.values(), key=lambda a: (a.role, a.annotator)),
        per_article=list(rows.values()),
        gold_spans=sorted(gold_spans, key=lambda g: (g.article, g.annotator, g.start)),
    )
