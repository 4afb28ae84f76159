"""What the index keeps of each record besides where it is: the few fields that listing articles,
finding who answered what, and ``goldspan stats`` need, so none of them parses a record.

Each summary is a function of the stored record. It is computed when a record is saved only if
this process already holds that column (a session never reads label counts, so a key press never
counts labels); otherwise when the column is first read, or when a fold writes the index.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..datamodel import Answer, Role
from ..ordering import uncertainty_of
from .schema import ANNOTATIONS, ARTICLES, EVAL_SET, REVIEWS, SUGGESTIONS

Record = Mapping[str, Any]


def by_frequency(counts: Mapping[str, int]) -> dict[str, int]:
    """Label -> count, most frequent first (ties by name), so tables read the same every run."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def label_counts(record: Record) -> dict[str, int]:
    """Label -> spans, in the order stats shows them (``by_frequency``), so it sorts nothing."""
    return by_frequency(Counter(span.get("label") or "" for span in record.get("spans", ())))


def span_key(record: Record) -> str:
    """A digest of the record's spans (start, end, label, in offset order, as JSON: a label may hold any
    punctuation): two records agree on their spans exactly when their digests are equal (what the
    final dataset's rule compares; ``Annotation.span_key`` is the same list)."""
    spans = sorted((s.get("start"), s.get("end"), s.get("label")) for s in record.get("spans", ()))
    return hashlib.blake2b(json.dumps(spans, ensure_ascii=False).encode("utf-8"), digest_size=12).hexdigest()


def uncertainty(record: Record) -> float | None:
    """How unsure the model was of a suggestion record: the mean over its scored spans of 1 - |2p - 1|
    (1 for a score of 0.5, 0 for 0 or 1); None when no span has a score. What ``--order uncertain``
    sorts by (annotations/ordering.py)."""
    scores = [s["score"] for s in record.get("spans", ()) if s.get("score") is not None]
    return round(sum(map(uncertainty_of, scores)) / len(scores), 6) if scores else None


def _field(name: str, default: Any = None) -> Callable[[Record], Any]:
    return lambda record: record.get(name, default)


_RECORD = {
    "article_id": _field("article_id"), "annotator": _field("annotator"), "answer": _field("answer"), "updated": _field("updated"),
    "flagged": lambda r: bool(r.get("flagged", False)), "comment": lambda r: r.get("comment") or "",
    "labels": label_counts, "span_key": span_key,
}  # fmt: skip

SUMMARIES: dict[str, dict[str, Callable[[Record], Any]]] = {
    ARTICLES: {"id": _field("id"), "title": _field("title"), "words": lambda r: len(str(r.get("text", "")).split())},
    SUGGESTIONS: {
        "article_id": _field("article_id"), "model": lambda r: f"{r.get('model')} {r.get('model_version')}", "labels": label_counts,
        "uncertainty": uncertainty,
    },  # fmt: skip
    ANNOTATIONS: _RECORD,
    REVIEWS: _RECORD,
    EVAL_SET: {"article_id": _field("article_id"), "eval": _field("eval")},  # read whole by every train and export --split
}


@dataclass(frozen=True)
class ArticleColumns:
    """Each article's id, title and word count, column by column in table order."""

    ids: list[str]
    titles: list[str]
    words: list[int]


@dataclass(frozen=True)
class SuggestionColumns:
    article_ids: list[str]
    models: list[str]  # "name version", as ModelId prints
    labels: list[dict[str, int]]


_ANSWERS = {str(a): a for a in Answer}


@dataclass(slots=True)  # not frozen: stats makes 200,000 of them, and a frozen init costs twice as much
class RecordSummary:
    """An annotator's or reviewer's record without its spans: enough for the final dataset's rule and for counting."""

    article_id: str
    annotator: str
    role: Role
    answer: Answer | None
    updated: str
    flagged: bool
    comment: str
    labels: dict[str, int]
    span_digest: str

    who: str = ""  # the name as people read it: "lead (review)" for a reviewer's record

    def __post_init__(self) -> None:
        self.who = f"{self.annotator} (review)" if self.role is Role.REVIEWER else self.annotator

    @property
    def span_count(self) -> int:
        return sum(self.labels.values())

    def span_key(self) -> str:
        return self.span_digest

    @staticmethod
    def of_columns(role: Role) -> Callable[..., RecordSummary]:
        def make(article_id: str, annotator: str, answer: str | None, updated: str | None, flagged: bool, comment: str,
                 labels: dict[str, int], digest: str) -> RecordSummary:  # fmt: skip
            return RecordSummary(article_id, annotator, role, None if answer is None else _ANSWERS[answer], updated or "", bool(flagged),
                                 comment or "", labels, digest)  # fmt: skip

        return make
