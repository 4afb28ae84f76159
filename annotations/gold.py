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
from typing import Iterable, Sequence

from .datamodel import Annotation, Answer, Role


@dataclass
class FinalSet:
    """The final record of each article that has one, in the order the records were stored, and
    the articles whose annotators disagree and that no one has reviewed yet."""

    records: list[Annotation] = field(default_factory=list)
    disagreeing: list[str] = field(default_factory=list)  # article ids
    unanswered: list[str] = field(default_factory=list)  # article ids with records but no answer yet
    reviewed: int = 0  # how many final records are reviewers' records

    def answered(self, answer: Answer) -> list[Annotation]:
        return [r for r in self.records if r.answer is answer]


def _same_spans(a: Annotation, b: Annotation) -> bool:
    return [(s.start, s.end, s.label) for s in a.spans] == [(s.start, s.end, s.label) for s in b.spans]


def final_record(versions: Sequence[Annotation]) -> tuple[Annotation | None, bool]:
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


def final_set(annotations: Iterable[Annotation]) -> FinalSet:
    """One final record per article (see the module's rule), from all the records given."""
    by_article: dict[str, list[Annotation]] = {}
    for ann in annotations:
        by_article.setdefault(ann.article_id, []).append(ann)
    result = FinalSet()
    for article_id, versions in by_article.items():
        chosen, disagree = final_record(versions)
        if disagree:
            result.disagreeing.append(article_id)
        elif chosen is None:
            result.unanswered.append(article_id)
        else:
            result.records.append(chosen)
            result.reviewed += chosen.role is Role.REVIEWER
    return result
