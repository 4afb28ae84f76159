"""Where a team's queue stands (`goldspan queue status`): per annotator, what they hold now, what they
have answered (today and in all) and how many articles they may still take; per article, its
answers against what it needs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..store import Store
from .routing import Lease, needs, require_settings
from .settings import QueueSettings


@dataclass
class AnnotatorStatus:
    leased: list[tuple[str, str, float]] = field(default_factory=list)  # article id, title, seconds held
    answered_today: int = 0
    answered: int = 0
    remaining: int = 0  # articles that still need an annotator and that they have not answered


@dataclass
class QueueStatus:
    settings: QueueSettings
    annotators: dict[str, AnnotatorStatus]
    total: int = 0
    done: int = 0  # articles with all the answers they need
    in_progress: int = 0  # some answers or a lease, not done
    waiting: int = 0  # neither
    answers: int = 0
    needed: int = 0  # answers the queue asks for in all

    @property
    def share_done(self) -> float:
        """Answers given towards what the queue needs (an article answered more often counts once per need)."""
        return self.answers / self.needed if self.needed else 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "settings": self.settings.to_dict(),
            "annotators": {
                name: {"leased": [{"article_id": a, "title": t, "seconds": round(s, 1)} for a, t, s in st.leased],
                       "answered_today": st.answered_today, "answered": st.answered, "remaining": st.remaining}
                for name, st in sorted(self.annotators.items())
            },
            "articles": {"total": self.total, "done": self.done, "in_progress": self.in_progress, "waiting": self.waiting},
            "answers": {"given": self.answers, "needed": self.needed},
        }  # fmt: skip


def queue_status(store: Store, now: float | None = None) -> QueueStatus:
    now = time.time() if now is None else now
    settings = require_settings(store)
    active = [lease for lease in map(Lease.from_dict, store.lease_docs()) if lease.expires > now]
    today = datetime.fromtimestamp(now).astimezone().date()
    names: set[str] = set(settings.annotators or ())
    answers: dict[str, set[str]] = {}
    from ..store.schema import ANNOTATIONS

    table = store.storage.table(ANNOTATIONS)
    per: dict[str, AnnotatorStatus] = {}
    for article_id, annotator, answer, updated in zip(table.column("article_id"), table.column("annotator"), table.column("answer"), table.column("updated")):
        if not answer:
            continue
        answers.setdefault(article_id, set()).add(annotator)
        st = per.setdefault(annotator, AnnotatorStatus())
        st.answered += 1
        try:
            st.answered_today += datetime.fromisoformat(str(updated)).astimezone().date() == today
        except ValueError:
            pass
    names |= set(per) | {lease.annotator for lease in active}  # (a holder who has answered is still a name)
    for name in names:
        per.setdefault(name, AnnotatorStatus())
    articles = store.article_list()
    active = [lease for lease in active if lease.annotator not in answers.get(lease.article_id, ())]  # answered: ended
    holders: dict[str, set[str]] = {}
    for lease in active:
        holders.setdefault(lease.article_id, set()).add(lease.annotator)
    status = QueueStatus(settings, per)
    needed = needs(store, settings)
    for article_id in articles.ids:
        need, who = needed(article_id), answers.get(article_id, set())
        held = holders.get(article_id, set())
        status.total += 1
        status.needed += need
        status.answers += min(len(who), need)
        if len(who) >= need:
            status.done += 1
            continue
        if who or held:
            status.in_progress += 1
        else:
            status.waiting += 1
        for name in names:
            # Theirs to take: not answered by them, and not filled by the others who hold it now.
            if name not in who and (name in held or len(who) + len(held - {name}) < need):
                per[name].remaining += 1
    for lease in active:
        row = articles.row_of(lease.article_id)
        title = articles.titles[row] if row is not None else lease.article_id
        per[lease.annotator].leased.append((lease.article_id, title, now - lease.since))
    return status


def progress_of(store: Store, annotator: str, now: float | None = None) -> tuple[int, float]:
    """What the status line shows: the articles still left for ``annotator``, and the share of the
    answers the whole queue needs that have been given. One pass over the articles, nothing per
    other annotator (``queue_status`` counts for every name: too much after every answer)."""
    now = time.time() if now is None else now
    settings = require_settings(store)
    needed = needs(store, settings)
    answers = store.answers_by_article()
    held: dict[str, set[str]] = {}
    for lease in map(Lease.from_dict, store.lease_docs()):
        if lease.expires > now and lease.annotator not in answers.get(lease.article_id, ()):
            held.setdefault(lease.article_id, set()).add(lease.annotator)
    left = given = wanted = 0
    for article_id in store.article_list().ids:
        need, who = needed(article_id), answers.get(article_id, ())
        wanted += need
        given += min(len(who), need)
        holders = held.get(article_id, set())
        if len(who) < need and annotator not in who and (annotator in holders or len(who) + len(holders - {annotator}) < need):
            left += 1
    return left, (given / wanted if wanted else 1.0)
