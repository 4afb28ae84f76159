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
from typing import Callable, Sequence

from ..datamodel import Annotation, Answer, Article, ModelId, Role, SpanState
from .outcome import Kind, done, refused
from .session import Draft, Result, Session, action_name, editing, first
from ..store import Store
from ..words import plural
from ..store.summaries import RecordSummary
from .versions import Difference, Version, _same, consensus, differences, majority, majority_choice, matching

__all__ = ["Difference", "Version", "ReviewPlan", "ReviewSession", "consensus", "differences", "majority", "plan_review"]

MODEL = "model"
ONLY = ("disagreements", "model-errors", "flagged", "all")


@dataclass
class ReviewPlan:
    """Which articles to review and with which versions, from the store and the filters."""

    articles: list[Article]
    versions: dict[str, list[Version]]
    names: list[str]
    skipped: Counter[str] = field(default_factory=Counter)
    remarks: dict[str, list[str]] = field(default_factory=dict)  # per article: the annotators' flags and notes


def plan_review(
    store: Store, *, annotators: Sequence[str] | None = None, model: ModelId | None = None, label: str | None = None, only: str = "disagreements"
) -> ReviewPlan:
    """Articles that two or more versions cover, filtered to those with the differences asked for.

    The versions are annotators' own accepted records (a reviewer's earlier review is not one).
    ``only="flagged"``: the articles an annotator flagged for review, whatever the versions say."""
    # From the summaries the store keeps (no record read): who accepted what, with which spans (as a
    # digest), and the flags and notes. Only the articles that may be reviewed are read then: at
    # 200,000 articles, reading them all took minutes.
    accepted: dict[str, list[RecordSummary]] = {}
    names: set[str] = set()
    remarks: dict[str, list[str]] = {}
    flagged: set[str] = set()
    for summary in store.record_summaries():
        if summary.role is not Role.ANNOTATOR or (annotators and summary.annotator not in annotators):
            continue
        if summary.flagged or summary.comment:
            remarks.setdefault(summary.article_id, []).append(
                f"{summary.annotator}{' ⚑ flagged' if summary.flagged else ''}{': ' + summary.comment if summary.comment else ''}"
            )
            if summary.flagged:
                flagged.add(summary.article_id)
        if summary.answer is Answer.ACCEPT:
            accepted.setdefault(summary.article_id, []).append(summary)
            names.add(summary.annotator)
    suggested: set[str] = set()
    if model is not None:
        stored = store.suggestion_summaries()
        suggested = {a for a, m in zip(stored.article_ids, stored.models) if m == f"{model.name} {model.version}"}
    plan = ReviewPlan([], {}, sorted(names) + ([MODEL] if model else []))
    unread_skip = f"no disagreements{f' with {label}' if label else ''}"
    for article_id in store.article_summaries().ids:
        mine = sorted(accepted.get(article_id, []), key=lambda a: a.annotator)
        count = len(mine) + (article_id in suggested)
        if only == "flagged" and (article_id not in flagged or not count):
            plan.skipped["not flagged" if article_id not in flagged else "no accepted version"] += 1
            continue
        if only != "flagged" and count < 2:
            plan.skipped["fewer than two versions"] += 1
            continue
        if only == "disagreements" and (len(mine) < 2 or len({a.span_digest for a in mine}) == 1):
            plan.skipped[unread_skip] += 1  # the annotators' spans are the same: no difference to find
            continue
        article = store.article(article_id)
        records = [store.annotation(article_id, a.annotator) for a in mine]
        if article is None or any(r is None for r in records):
            continue  # removed by another process since the summaries were read
        versions = [Version(r.annotator, r.spans) for r in records if r is not None]
        if model is not None and (cached := store.suggestions(article.id, model)) is not None:
            versions.append(Version(MODEL, cached.spans))
        if only == "flagged":
            if article.id not in flagged or not versions:
                plan.skipped["not flagged" if article.id not in flagged else "no accepted version"] += 1
                continue
            plan.articles.append(article)
            plan.versions[article.id] = versions
            plan.remarks[article.id] = remarks.get(article.id, [])
            continue
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
        plan.remarks[article.id] = remarks.get(article.id, [])
    return plan


class ReviewSession(Session):
    """A reviewer's session: it writes reviewers' records (``Role.REVIEWER``), which never replace an
    annotator's version, the reviewer's own included."""

    role = Role.REVIEWER

    def __init__(
        self, store: Store, plan: ReviewPlan, *, reviewer: str, labels: Sequence[str], key_name: Callable[[str], str] = action_name
    ) -> None:
        self.plan = plan
        self.diff_index: dict[str, int | None] = {}
        self.looked: dict[str, set[int]] = {}  # per article, the differences the reviewer has stepped to
        self._asked: dict[str, int] = {}  # per article, how many differences were unlooked when `a` last asked
        self._differences: dict[str, list[Difference]] = {}  # per article: its versions never change
        self._open_count: tuple[int | None, int] = (None, 0)  # open_differences, until an answer changes it
        super().__init__(store, plan.articles, annotator=reviewer, labels=labels, model=None, key_name=key_name)

    def versions(self) -> list[Version]:
        return self.plan.versions[self.article.id]

    def differences(self, article_id: str | None = None) -> list[Difference]:
        article_id = article_id or self.article.id
        found = self._differences.get(article_id)
        if found is None:
            found = self._differences[article_id] = differences(self.plan.versions[article_id])
        return found

    def open_differences(self) -> int:
        """Differences on the articles of the review not answered yet: what is left to settle."""
        # Each key answers or un-answers one article at most, and so changes how many are done.
        if self._open_count[0] != self.done:
            self._open_count = (self.done, sum(len(self.differences(a.id)) for a in self.plan.articles if a.id not in self.answered))
        return self._open_count[1]

    def progress_line(self) -> str:
        return f"done {self.done} · {plural(self.open_differences(), 'difference')} open"

    def ties(self) -> set[int]:
        """The differences of this article where no spans have more versions behind them than others."""
        versions = self.versions()
        return {i for i, diff in enumerate(self.differences()) if majority_choice(diff, versions)[1]}

    @property
    def current_difference(self) -> int | None:
        return self.diff_index.get(self.article.id)

    def _open(self, article: Article) -> Draft:
        record = self.store.annotation(article.id, self.annotator, self.role)
        if record is not None:  # a review begun earlier goes on where it was left
            return self._resumed(article, record)
        spans = majority(self.plan.versions[article.id], self.differences(article.id))
        return Draft(article, spans, None, focus=first(spans))

    def unlooked(self) -> int:
        """Differences on this article that the reviewer has not stepped to yet."""
        return len(self.differences()) - len(self.looked.get(self.article.id, ()))

    def step_difference(self, step: int) -> Result:
        diffs = self.differences()
        if not diffs:
            return done(f"the versions agree on this article: {self.key('accept')} accepts it")
        now = self.current_difference
        target = (0 if step > 0 else len(diffs) - 1) if now is None else now + step
        if not 0 <= target < len(diffs):
            return refused("last difference" if step > 0 else "first difference")
        self.diff_index[self.article.id] = target
        self.looked.setdefault(self.article.id, set()).add(target)
        self.draft.focus = None
        outcome = self.cursor_to_offset(diffs[target].start)
        return outcome if outcome is not None and outcome.kind is Kind.WAITING else None

    @editing
    def take(self, version: int) -> Result:
        """Use version number ``version`` (0-based) for the current difference: its spans replace the draft's there."""
        versions, diffs, now = self.versions(), self.differences(), self.current_difference
        if now is None:
            return refused(f"no difference chosen: {self.key('next_difference')} steps to the next one")
        if version >= len(versions):
            return refused(f"there are only {len(versions)} versions")
        diff, name = diffs[now], versions[version].name
        kept = [s for s in self.draft.spans if s.end <= diff.start or s.start >= diff.end]
        chosen = [s.replace(state=SpanState.CONFIRMED) for s in diff.spans[name]]
        if any(c.overlaps(k) for c in chosen for k in kept):
            return refused("spans may not overlap")
        spans = sorted([*kept, *chosen])
        outcome = self._commit(spans, self.draft.answer, spans.index(chosen[0]) if chosen else None)
        return done(f"took {name}'s version") if outcome is None else outcome

    @editing
    def answer(self, answer: Answer) -> Result:
        """As the annotator's, but accepting with differences not looked at asks once first."""
        if answer is Answer.ACCEPT:
            unlooked = self.unlooked()
            if unlooked and self._asked.get(self.article.id) != unlooked:
                self._asked[self.article.id] = unlooked
                ties = len(self.ties() - self.looked.get(self.article.id, set()))
                tied = f" ({ties} of them {'a tie' if ties == 1 else 'ties'}, where the version with more entities is shown)" if ties else ""
                return refused(f"{plural(unlooked, 'difference')} not looked at{tied}: {self.key('accept')} again to accept with the majority's spans")
        return super().answer(answer)

    def note_for(self, draft: Draft) -> str:
        """Which versions the record came from, and for each difference whose spans it took
        (found from the spans themselves, so edits, undo and an earlier session all count)."""
        versions = self.plan.versions[draft.article.id]
        taken: Counter[str] = Counter()
        for diff in self.differences(draft.article.id):
            names = matching(diff, draft.spans)
            taken["+".join(names) if names else "own edit"] += 1
        detail = "; took " + ", ".join(f"{n} ×{c}" for n, c in taken.items()) if taken else ""
        return f"reviewed from {', '.join(v.name for v in versions)}{detail}"
