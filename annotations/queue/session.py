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

from ..datamodel import ModelId
from ..errors import GoldspanError
from ..session.outcome import done, failed, refused
from ..session.session import Session
from ..session.state import Result, action_name
from ..store import Store
from .routing import Offer, release, renew, require_settings, take_next
from .status import queue_status

RENEW = 60.0  # seconds between renewals at most (a lease is minutes long: one fsync a minute is nothing)


class NothingLeft(GoldspanError):
    """The queue has nothing for this annotator now (not an error: the message says why)."""


class QueueSession(Session):
    def __init__(
        self, store: Store, *, annotator: str, labels: tuple[str, ...], model: ModelId | None, key_name: Callable[[str], str] = action_name
    ) -> None:  # fmt: skip
        self.settings = require_settings(store)
        articles = store.article_list()
        super().__init__(store, articles, annotator=annotator, labels=labels, model=model, key_name=key_name)
        self.passed: set[str] = set()  # articles this session moved on from: not offered again
        self.holding: str | None = None  # the article leased now
        self._renewed = 0.0
        self.queue_line = ""
        offer = take_next(store, annotator, passed=self.passed)
        if offer.article_id is None:
            raise NothingLeft(offer.reason)
        self._take(offer)

    def _take(self, offer: Offer) -> None:
        row = self.articles.row_of(offer.article_id) if offer.article_id else None
        if row is None:  # the DB's list was read before the article was added: read it again
            self.articles = self.store.article_list()
            row = self.articles.row_of(offer.article_id or "")
        assert row is not None
        self.holding = offer.article_id
        self._renewed = time.monotonic()
        Session.go_to(self, row)
        self._count()

    def _count(self) -> None:
        status = queue_status(self.store)
        mine = status.annotators.get(self.annotator)
        left = mine.remaining if mine is not None else 0
        self.queue_line = f"{left:,} left for you · team {status.share_done:.0%}"

    def progress_line(self) -> str:
        return self.queue_line

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
        self._take(offer)
        return done(f"{what}; next from the queue: {self.article.title}")

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
        if self.holding is None or now - self._renewed < RENEW or self.read_only:
            return None
        self._renewed = now
        try:
            kept = renew(self.store, self.holding, self.annotator)
        except GoldspanError as error:
            return f"could not renew the hold on this article: {error}"
        if not kept:
            return "your hold on this article lapsed while you were away and others took it; your answer still counts"
        return None

    def close(self) -> None:
        if self.holding is not None and not self.read_only:
            try:
                release(self.store, self.holding, self.annotator)
            except GoldspanError:
                pass  # it expires on its own
            self.holding = None
        super().close()
