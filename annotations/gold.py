"""The final dataset: one record per article, out of every annotator's version and every review.

The rule (README, "Training data out"), per article:
1. a reviewer's record with an answer, where there is one (the latest, if several leads reviewed it);
2. else the annotators' answered versions, if they do not disagree: every version that accepts has
   the same spans (start, end, label), and the others reject it or skip it; the accepted version is
   the final one (all rejected: rejected; all skipped: skipped);
3. else (accepted with different spans, and nobody reviewed it) there is no final record: the
   article waits for ``goldspan review``, and is counted as such.
Versions still in progress (no answer) have no say. Export and ``stats --model-vs-gold`` both read
the set made here, so a model is scored on each article once, against the gold that is exported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Hashable, Iterable, Protocol, Sequence, TypeVar

from .datamodel import Annotation, Answer, Role


class Version(Protocol):
    """What the rule reads of a record: a whole ``Annotation``, or the store's summary of one."""

    @property
    def article_id(self) -> str: ...
    @property
    def annotator(self) -> str: ...
    @property
    def role(self) -> Role: ...
    @property
    def answer(self) -> Answer | None: ...
    @property
    def updated(self) -> str: ...
    def span_key(self) -> Hashable: ...


V = TypeVar("V", bound=Version)


@dataclass
class FinalSet(Generic[V]):
    """The final record of each article that has one, in the order the records were stored, and
    the articles whose annotators disagree and that no one has reviewed yet."""

    records: list[V] = field(default_factory=list)
    disagreeing: list[str] = field(default_factory=list)  # article ids
    unanswered: list[str] = field(default_factory=list)  # article ids with records but no answer yet
    reviewed: int = 0  # how many final records are reviewers' records

    def answered(self, answer: Answer) -> list[V]:
        return [r for r in self.records if r.answer is answer]


def _same_spans(a: Version, b: Version) -> bool:
    return a.span_key() == b.span_key()  # type: ignore[no-any-return]


def final_record(versions: Sequence[V]) -> tuple[V | None, bool]:
    """The final record among one article's records, and whether its annotators disagree (then
    there is none, until a reviewer settles it); (None, False) while no record has an answer."""
    reviews = [v for v in versions if v.role is Role.REVIEWER and v.answer is not None]
    if reviews:
        return max(reviews, key=lambda v: (v.updated, v.annotator)), False
    answered = sorted((v for v in versions if v.role is Role.ANNOTATOR and v.answer is not None), key=lambda v: v.annotator)
    if not answered:
        return None, False
    accepts = [v for v in answered if v.answer is Answer.ACCEPT]
    if accepts:
        agree = all(_same_spans(accepts[0], other) for other in accepts[1:])
        return (accepts[0] if agree else None), not agree
    rejects = [v for v in answered if v.answer is Answer.REJECT]
    return (rejects or answered)[0], False


def final_set(annotations: Iterable[V]) -> FinalSet[V]:
    """One final record per article (see the module's rule), from all the records given."""
    first: dict[str, V] = {}
    more: dict[str, list[V]] = {}  # articles with several records: no list is made for the many with one
    for ann in annotations:
        if ann.article_id in first:
            more.setdefault(ann.article_id, [first[ann.article_id]]).append(ann)
        else:
            first[ann.article_id] = ann
    result: FinalSet[V] = FinalSet()
    for article_id, only in first.items():
        versions = more.get(article_id)
        if versions is None:  # the rule for one record, without sorting anything
            chosen, disagree = (only if only.answer is not None else None), False
        else:
            chosen, disagree = final_record(versions)
        if disagree:
            result.disagreeing.append(article_id)
        elif chosen is None:
            result.unanswered.append(article_id)
        else:
            result.records.append(chosen)
            result.reviewed += chosen.role is Role.REVIEWER
    return result
