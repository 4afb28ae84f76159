"""Adjudication: several versions of one article (annotators, the model), where they differ, and a
reviewer's session that settles them into one gold record.

A difference is a stretch of text where the versions' spans are not all the same: another label,
other boundaries, or a span that some versions lack. The reviewer starts from what every version
agrees on, steps through the differences, takes one version's spans for each (or edits them with
the annotator's keys), and accepts the article; the record notes which versions it came from.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from .datamodel import Annotation, Answer, Article, ModelId, SpanState
from .session import Draft, Outcome, Session, editing
from .store import Store
from .versions import Difference, Version, _same, consensus, differences

__all__ = ["Difference", "Version", "ReviewPlan", "ReviewSession", "consensus", "differences", "plan_review"]

MODEL = "model"
ONLY = ("disagreements", "model-errors", "all")


@dataclass
class ReviewPlan:
    """Which articles to review and with which versions, from the store and the filters."""

    articles: list[Article]
    versions: dict[str, list[Version]]
    names: list[str]
    skipped: Counter[str] = field(default_factory=Counter)


def plan_review(
    store: Store, *, annotators: Sequence[str] | None = None, model: ModelId | None = None, label: str | None = None, only: str = "disagreements"
) -> ReviewPlan:
    """Articles that two or more versions cover, filtered to those with the differences asked for."""
    records: dict[str, list[Annotation]] = {}
    names: set[str] = set()
    for ann in store.annotations():
        if ann.answer is None or ann.answer is not Answer.ACCEPT or (annotators and ann.annotator not in annotators):
            continue
        records.setdefault(ann.article_id, []).append(ann)
        names.add(ann.annotator)
    plan = ReviewPlan([], {}, sorted(names) + ([MODEL] if model else []))
    for article in store.articles():
        versions = [Version(a.annotator, a.spans) for a in sorted(records.get(article.id, []), key=lambda a: a.annotator)]
        if model is not None and (cached := store.suggestions(article.id, model)) is not None:
            versions.append(Version(MODEL, cached.spans))
        if len(versions) < 2:
            plan.skipped["fewer than two versions"] += 1
            continue
        diffs = differences(versions)
        if only == "disagreements":
            diffs = differences([v for v in versions if v.name != MODEL]) if sum(v.name != MODEL for v in versions) > 1 else []
        elif only == "model-errors":
            diffs = [d for d in diffs if MODEL in d.spans and any(tuple(map(_same, d.spans[MODEL])) != tuple(map(_same, sp)) for n, sp in d.spans.items() if n != MODEL)]
        if label is not None:
            diffs = [d for d in diffs if label in d.labels()]
        if only != "all" and not diffs:
            plan.skipped[f"no {only.replace('-', ' ')}" + (f" with {label}" if label else "")] += 1
            continue
        plan.articles.append(article)
        plan.versions[article.id] = versions
    return plan


class ReviewSession(Session):
    def __init__(self, store: Store, plan: ReviewPlan, *, reviewer: str, labels: Sequence[str]) -> None:
        self.plan = plan
        self.taken: dict[str, Counter[str]] = {}
        self.diff_index: dict[str, int | None] = {}
        super().__init__(store, plan.articles, annotator=reviewer, labels=labels, model=None)

    def versions(self) -> list[Version]:
        return self.plan.versions[self.article.id]

    def differences(self) -> list[Difference]:
        return differences(self.versions())

    @property
    def current_difference(self) -> int | None:
        return self.diff_index.get(self.article.id)

    def _open(self, article: Article) -> Draft:
        record = self.store.annotation(article.id, self.annotator)
        if record is not None:
            return Draft(article, list(record.spans), record.answer, created=record.created, updated=record.updated)
        return Draft(article, consensus(self.plan.versions[article.id]), None)

    def step_difference(self, step: int) -> Outcome:
        diffs = self.differences()
        if not diffs:
            return "the versions agree on this article: a accepts it"
        now = self.current_difference
        target = (0 if step > 0 else len(diffs) - 1) if now is None else now + step
        if not 0 <= target < len(diffs):
            return "last difference" if step > 0 else "first difference"
        self.diff_index[self.article.id] = target
        self.draft.focus = None
        outcome = self.cursor_to_offset(diffs[target].start)
        return outcome if outcome == "tokens are not ready yet" else None

    @editing
    def take(self, version: int) -> Outcome:
        """Use version number ``version`` (0-based) for the current difference: its spans replace the draft's there."""
        versions, diffs, now = self.versions(), self.differences(), self.current_difference
        if now is None:
            return "no difference chosen: d steps to the next one"
        if version >= len(versions):
            return f"there are only {len(versions)} versions"
        diff, name = diffs[now], versions[version].name
        kept = [s for s in self.draft.spans if s.end <= diff.start or s.start >= diff.end]
        chosen = [s.replace(state=SpanState.CONFIRMED) for s in diff.spans[name]]
        if any(c.overlaps(k) for c in chosen for k in kept):
            return "spans may not overlap"
        spans = sorted([*kept, *chosen])
        outcome = self._commit(spans, self.draft.answer, spans.index(chosen[0]) if chosen else None)
        if outcome is None:
            self.taken.setdefault(self.article.id, Counter())[name] += 1
            return f"took {name}'s version"
        return outcome

    def note_for(self, draft: Draft) -> str:
        names = ", ".join(v.name for v in self.plan.versions[draft.article.id])
        taken = self.taken.get(draft.article.id)
        detail = "; took " + ", ".join(f"{n} ×{c}" for n, c in taken.items()) if taken else ""
        return f"reviewed from {names}{detail}"
