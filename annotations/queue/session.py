"""An annotation session that takes its articles from the DB's work queue (`goldspan annotate --queue`).

The same screen and keys as any session; what differs is where the next article comes from. The
session holds one lease at a time. Answering (accept, reject or ignore) counts toward the article's
overlap and takes the next one. `n` gives the article back without answering: it is not offered
again in this session, and it does not count. Going back, or going to an article by number or
title, is refused: the queue decides. While the annotator works, the lease is renewed (``keep``),
at most every ``RENEW`` seconds. Closing gives back an article not answered.
"""

from __future__ import annotations

import time
from typing import Callable

from ..datamodel import Answer, ModelId
from ..errors import GoldspanError, StoreError
from ..session.outcome import done, failed, refused
from ..session.session import Session
from ..session.state import Result, action_name
from ..store import Store
from .routing import Offer, release, renew, require_settings, take_next
from .status import progress_of

RENEW = 60.0  # seconds between renewals at most (a lease is minutes long: one fsync a minute is nothing)


class NothingLeft(GoldspanError):
    """The queue has nothing for this annotator now (not an error: the message says why)."""


class QueueSession(Session):
    def __init__(
        self, store: Store, *, annotator: str, labels: tuple[str, ...], model: ModelId | None, key_name: Callable[[str], str] = action_name
    ) -> None:  # fmt: skip
        settings = require_settings(store)
        # Renewed well before it could lapse while the annotator works, however short the lease.
        self.renew_every = min(RENEW, settings.lease_seconds / 3)
        articles = store.article_list()
        super().__init__(store, articles, annotator=annotator, labels=labels, model=model, key_name=key_name)
        self.passed: set[str] = set()  # articles this session moved on from: not offered again
        self.holding: str | None = None  # the article leased now
        self._renewed = 0.0
        self.queue_line = ""
        self.team_share = 0.0
        offer = take_next(store, annotator, passed=self.passed)
        if offer.article_id is None:
            raise NothingLeft(offer.reason)
        self._take(offer)

    def _take(self, offer: Offer) -> Result:
        row = self.articles.row_of(offer.article_id) if offer.article_id else None
        if row is None:  # the DB's list was read before the article was added: read it again
            self.articles = self.store.article_list()
            row = self.articles.row_of(offer.article_id or "")
        if row is None:
            raise StoreError(f"{self.store.path}: the queue gave article {offer.article_id}, which the database does not hold (damaged?).")
        self.holding = offer.article_id
        self._renewed = time.monotonic()
        # Undo reaches back to this article only: a change on another is another queue's business now
        # (undoing an answer would write onto the article held, and the answer was counted).
        self._undo.clear()
        self._redo.clear()
        said = Session.go_to(self, row)
        self._count()
        return said

    def _count(self) -> None:
        try:
            left, share = progress_of(self.store, self.annotator)
        except GoldspanError as error:
            self.queue_line = f"queue: {error}"
            return
        self.queue_line = f"{left:,} left for you · team {share:.0%}"
        self.team_share = share

    def progress_line(self) -> str:
        return self.queue_line

    def progress_share(self) -> tuple[int, int]:
        """The team's share of the queue done, as the status line says beside it (not this annotator's
        answers of every article: in a shared queue those never reach the whole)."""
        return round(self.team_share * 1000), 1000

    # -- the queue decides where to go ---------------------------------------------------------

    def _after_answer(self) -> Result:
        return self._next("answered")

    def next_article(self) -> Result:
        if self.holding is not None:
            self.passed.add(self.holding)
        return self._next("given back")

    def _next(self, what: str) -> Result:
        try:
            offer = take_next(self.store, self.annotator, passed=self.passed)  # ends the lease on the article left
        except GoldspanError as error:
            return failed(f"could not ask the queue for the next article: {error}")
        if offer.article_id is None:
            self.holding = None
            self._count()
            return done(offer.reason)
        try:
            said = self._take(offer)
        except GoldspanError as error:
            return failed(str(error))
        return said or done(f"{what}; next from the queue: {self.article.title}")

    def answer(self, answer: Answer) -> Result:
        if self.holding != self.article.id and self.article.id not in self.answered:
            # Given back (n), or its hold lapsed: someone else may have it now.
            return refused(f"this article is no longer yours to answer (given back, or its hold lapsed); {self.key('next_article')} asks the queue for another")
        return super().answer(answer)

    def previous_article(self) -> Result:
        return refused(f"the queue gives one article at a time; {self.key('next_article')} gives this one back and takes the next")

    def go_to(self, index: int) -> Result:
        return refused("with --queue the queue decides which article comes next")

    def go_to_query(self, query: str) -> Result:
        return self.go_to(0)

    # -- the lease -------------------------------------------------------------------------------

    def note_activity(self, now: float) -> None:
        super().note_activity(now)
        said = self.keep(now)
        if said is not None:
            self.queue_line = said

    def keep(self, now: float | None = None) -> str | None:
        """The annotator is at work: renew the lease if RENEW seconds have passed. Returns a message
        if it had lapsed and the article went to others."""
        now = time.monotonic() if now is None else now
        if self.holding is None or now - self._renewed < self.renew_every or self.read_only:
            return None
        self._renewed = now
        try:
            kept = renew(self.store, self.holding, self.annotator)
        except GoldspanError as error:
            return f"could not renew the hold on this article: {error}"
        if not kept:
            self.holding = None
            return f"your hold on this article lapsed while you were away and others took it; {self.key('next_article')} asks the queue for another"
        return None

    def close(self) -> None:
        if self.holding is not None and not self.read_only:
            try:
                release(self.store, self.holding, self.annotator)
            except GoldspanError:
                pass  # it expires on its own
            self.holding = None
        super().close()
