"""Who gets which article: leases taken, renewed and given back, each as one step under the DB's
writers' lock (``Store.transact``), so two processes asking at once never take the same lease.

An annotator who asks (``take_next``) gets, in the queue's order, the first article that they have
not answered and that still needs an annotator: its answers (accept, reject or ignore, by different
annotators) and the leases others hold on it now are fewer than it needs. A lease ends when its
article is answered or given back (``release``: moving on with `n`, or quitting), or when it
expires: ``lease_minutes`` after the last sign of life (``renew``, while the annotator works). An
expired lease is cleared by the next process that asks, so its article is back in the queue at
once. When nothing is left, ``Offer.reason`` says why in one sentence.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Collection, Mapping, Sequence

from ..errors import InputError, StoreError
from ..store import LEASES, QUEUE, Store
from .settings import RECORD, QueueSettings


@dataclass(frozen=True)
class Lease:
    article_id: str
    annotator: str
    since: float  # epoch seconds (processes compare them, so wall-clock time)
    expires: float

    def to_dict(self) -> dict[str, Any]:
        return {"article_id": self.article_id, "annotator": self.annotator, "since": self.since, "expires": self.expires}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Lease:
        try:
            return cls(str(doc["article_id"]), str(doc["annotator"]), float(doc["since"]), float(doc["expires"]))
        except (KeyError, TypeError, ValueError):
            raise StoreError(f"damaged lease record in the work queue ({dict(doc)!r:.120}); run `goldspan queue setup` again to clear the leases.") from None


@dataclass(frozen=True)
class Offer:
    """The article given (None: nothing left) and, when nothing is, why."""

    article_id: str | None
    reason: str = ""
    resumed: bool = False  # the annotator's own lease, still running, given back to them


def settings_of(store: Store) -> QueueSettings | None:
    doc = store.queue_record(RECORD)
    return None if doc is None else QueueSettings.from_dict(doc, str(store.path))


def require_settings(store: Store) -> QueueSettings:
    settings = settings_of(store)
    if settings is None:
        raise InputError(f"{store.path}: has no work queue; a lead sets one up with `goldspan queue setup --db {store.path} --overlap 1`.")
    return settings


KEPT = "kept "  # queue records "kept ARTICLE": an article done before the settings asked more of it


@dataclass(frozen=True)
class Saved:
    replaced: QueueSettings | None  # the settings these replaced
    kept: int  # articles done under them that keep their answers (the new settings would ask more)


def save_settings(store: Store, settings: QueueSettings) -> Saved:
    """Store the settings. They apply to the articles not done yet: an article already done keeps the
    number of answers it was done with (a ``kept`` record), even if the new overlap asks more."""
    found: list[Saved] = []

    def decide(store: Store) -> tuple[list[tuple[str, Mapping[str, Any]]], list[tuple[str, str]]]:
        try:
            old = settings_of(store)
        except StoreError as error:
            if "newer goldspan" in str(error):
                raise
            old = None  # damaged: replaced by these (what the refusal told the user to do)
        removes = []
        for doc in store.lease_docs():  # a damaged lease is cleared with the settings it was refused with
            try:
                Lease.from_dict(doc)
            except StoreError:
                removes.append((LEASES, store.lease_key(str(doc.get("article_id")), str(doc.get("annotator")))))
        puts: list[tuple[str, Mapping[str, Any]]] = [(QUEUE, settings.to_dict())]
        if old is not None:
            kept, answers = kept_needs(store), store.answers_by_article()
            for article_id, who in answers.items():
                before = kept.get(article_id, old.needed(article_id))
                if len(who) >= before and settings.needed(article_id) > before and article_id not in kept:
                    puts.append((QUEUE, {"name": KEPT + article_id, "needed": before}))
        found.append(Saved(old, len(puts) - 1))
        return puts, removes

    store.transact(decide)
    return found[-1]


def kept_needs(store: Store) -> dict[str, int]:
    """Article -> the answers it needs, for the articles done before the settings changed."""
    from ..store import QUEUE as TABLE

    found = {}
    for doc in store.storage.table(TABLE).values():
        name = str(doc.get("name", ""))
        if name.startswith(KEPT):
            needed = doc.get("needed")
            if not isinstance(needed, int) or needed < 1:
                raise StoreError(f"{store.path}: damaged work queue record {name!r}; it was left untouched.")
            found[name[len(KEPT) :]] = needed
    return found


def needs(store: Store, settings: QueueSettings) -> Callable[[str], int]:
    """How many answers each article needs: the settings', or what it was done with before they changed."""
    kept = kept_needs(store)
    if not kept:
        return settings.needed
    return lambda article_id: kept.get(article_id) or settings.needed(article_id)


def queue_order(store: Store, settings: QueueSettings) -> list[str]:
    """The DB's articles, as they are now, in the queue's order. ``uncertain`` ranks them by the
    uncertainty of the suggestions of the model most of them were suggested by."""
    from ..ordering import article_order

    ids = list(store.article_list().ids)
    uncertainty = None
    if settings.order == "uncertain":
        models = Counter(store.suggestion_summaries().models)
        if models:
            from ..datamodel import ModelId

            name, _, version = models.most_common(1)[0][0].partition(" ")
            uncertainty = store.suggestion_uncertainty(ModelId(name, version))
    rows = article_order(ids, order=settings.order, answered=lambda _: False, uncertainty=uncertainty, seed=settings.seed)
    return [ids[row] for row in rows]


def take_next(store: Store, annotator: str, now: float | None = None, passed: Collection[str] = ()) -> Offer:
    """Lease the next article for ``annotator`` (or give back the one they hold); ``passed``: articles
    they moved on from in this session, not offered again."""
    now = time.time() if now is None else now
    settings = require_settings(store)
    if not settings.may_join(annotator):
        raise InputError(f"--annotator {annotator}: not on this queue's list ({', '.join(settings.annotators or ())}); the lead adds names with `goldspan queue setup --annotators`.")
    found: list[Offer] = []

    def decide(store: Store) -> tuple[list[tuple[str, Mapping[str, Any]]], list[tuple[str, str]]]:
        settings = require_settings(store)  # as stored now, under the lock
        answers = store.answers_by_article()
        leases = [Lease.from_dict(doc) for doc in store.lease_docs()]
        # A lease ends when it expires, or when its holder has answered (the answer is what it was for).
        ended = [l for l in leases if l.expires <= now or l.annotator in answers.get(l.article_id, ())]
        removes = [(LEASES, store.lease_key(l.article_id, l.annotator)) for l in ended]
        active = [l for l in leases if l not in ended]
        for lease in active:
            if lease.annotator == annotator:
                if lease.article_id not in passed:
                    found.append(Offer(lease.article_id, resumed=True))
                    renewed = Lease(lease.article_id, annotator, lease.since, now + settings.lease_seconds)
                    return [(LEASES, renewed.to_dict())], removes
                removes.append((LEASES, store.lease_key(lease.article_id, annotator)))  # moved on from: it ends
        held = Counter(l.article_id for l in active if l.annotator != annotator)
        needed = needs(store, settings)
        for article_id in queue_order(store, settings):
            if article_id in passed:
                continue
            who = answers.get(article_id, ())
            if annotator in who or len(who) + held[article_id] >= needed(article_id):
                continue
            found.append(Offer(article_id))
            return [(LEASES, Lease(article_id, annotator, now, now + settings.lease_seconds).to_dict())], removes
        found.append(Offer(None, _why_none(store, needed, annotator, answers, active, passed)))
        return [], removes

    store.transact(decide)
    return found[-1]


def release(store: Store, article_id: str, annotator: str) -> None:
    """Give the article back to the queue (answered, moved on from, or the screen closing)."""
    key = store.lease_key(article_id, annotator)

    def decide(store: Store) -> tuple[list[tuple[str, Mapping[str, Any]]], list[tuple[str, str]]]:
        exists = any(doc["article_id"] == article_id and doc["annotator"] == annotator for doc in store.lease_docs())
        return [], [(LEASES, key)] if exists else []

    store.transact(decide)


def renew(store: Store, article_id: str, annotator: str, now: float | None = None) -> bool:
    """The annotator is still at work on the article: their lease runs ``lease_minutes`` from now.
    False if it had lapsed and the article has since gone to others (their answer still counts)."""
    now = time.time() if now is None else now
    kept: list[bool] = []

    def decide(store: Store) -> tuple[list[tuple[str, Mapping[str, Any]]], list[tuple[str, str]]]:
        settings = require_settings(store)
        leases = [Lease.from_dict(doc) for doc in store.lease_docs()]
        mine = next((l for l in leases if l.article_id == article_id and l.annotator == annotator), None)
        if mine is None:  # lapsed and cleared: taken again only if the article still needs someone
            who = store.answers_by_article().get(article_id, set())
            others = sum(1 for l in leases if l.article_id == article_id and l.expires > now and l.annotator not in who)
            if annotator in who or len(who) + others >= needs(store, settings)(article_id):
                kept.append(False)
                return [], []
        kept.append(True)
        since = mine.since if mine is not None else now
        return [(LEASES, Lease(article_id, annotator, since, now + settings.lease_seconds).to_dict())], []

    store.transact(decide)
    return kept[-1]


def _why_none(
    store: Store, needed: Callable[[str], int], annotator: str, answers: Mapping[str, Collection[str]], active: Sequence[Lease], passed: Collection[str]
) -> str:  # fmt: skip
    total = done = mine_waiting = 0
    leased_by: dict[str, float] = {}  # holder -> when their last lease ends
    held = {l.article_id for l in active if l.annotator != annotator}
    for article_id in store.article_list().ids:
        total += 1
        who = answers.get(article_id, ())
        if len(who) >= needed(article_id):
            done += 1
        elif annotator in who:
            mine_waiting += 1
        elif article_id in held:
            for lease in active:
                if lease.article_id == article_id and lease.annotator != annotator:
                    leased_by[lease.annotator] = max(leased_by.get(lease.annotator, 0.0), lease.expires)
    parts = [f"{done:,} of {total:,} articles done"]
    leased = sum(1 for a in held if len(answers.get(a, ())) < needed(a) and annotator not in answers.get(a, ()))
    if leased and leased_by:
        until = time.strftime("%H:%M", time.localtime(max(leased_by.values())))
        parts.append(f"{leased:,} leased by {', '.join(sorted(leased_by))} (back in the queue by {until} if left)")
    if mine_waiting:
        parts.append(f"{mine_waiting:,} you answered wait for another annotator")
    if passed:
        parts.append(f"{len(passed):,} you moved on from in this session")
    return f"nothing left for {annotator}: " + "; ".join(parts)
