"""Which entity teach mode asks about next: the most uncertain of the scored suggestions not answered
yet, one span at a time, never the same span twice.

Articles join the pool as their scored suggestions arrive (from the store, or from the model's
process in the background); each of their entities with a wanted label becomes a candidate unless
this annotator has answered that span already, or the model is sure of it (score ≥ 0.99 or ≤ 0.01;
``include_all`` keeps those). The pool is a heap on 1 - |2p - 1|, so the next example is ready the
moment a key asks for it. When it runs dry, ``why_dry`` says why in one sentence.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable

from ..datamodel import Article, ModelId, Span, Suggestions
from ..ordering import uncertainty_of
from ..words import plural

SURE = 0.99  # a score at or above this (or at or below 1 - SURE) is not asked unless --all
CONTEXT = 600  # characters of context at most around an entity: its paragraph, else a window in it

Key = tuple[str, int, int, str]  # article id, start, end, label


@dataclass(frozen=True)
class Candidate:
    article_id: str
    title: str
    span: Span
    model: ModelId
    article_text: str  # shared by the article's candidates; the context is cut from it when shown

    @property
    def key(self) -> Key:
        return (self.article_id, self.span.start, self.span.end, self.span.label)

    @cached_property
    def _context(self) -> tuple[str, int]:
        # Cut when first shown, not when the candidate joins the pool: a 50,000-word article's
        # 12,000 entities join at once, on the UI thread, between two keys.
        return context_of(self.article_text, self.span.start, self.span.end)

    @property
    def context(self) -> str:
        """The entity's paragraph (or a window of it)."""
        return self._context[0]

    @property
    def offset(self) -> int:
        """Where ``context`` starts in the article."""
        return self._context[1]

    @property
    def text(self) -> str:
        return self.article_text[self.span.start : self.span.end]


def context_of(text: str, start: int, end: int, limit: int = CONTEXT) -> tuple[str, int]:
    """The paragraph (line) holding text[start:end], cut to about ``limit`` characters at spaces around it."""
    head = text.rfind("\n", 0, start) + 1
    tail = text.find("\n", end)
    tail = len(text) if tail < 0 else tail
    if tail - head > limit:
        room = max(0, (limit - (end - start)) // 2)
        lo, hi = max(head, start - room), min(tail, end + room)
        if lo > head:
            space = text.find(" ", lo, start)
            lo = space + 1 if space >= 0 else lo
        if hi < tail:
            space = text.rfind(" ", end, hi)
            hi = space if space >= 0 else hi
        head, tail = lo, hi
    return text[head:tail], head


@dataclass
class Arrival:
    """An article's candidates sorted out from its suggestions (``TeachStream.sort_out``), not yet in the pool."""

    candidates: list[tuple[float, Candidate, bool]] = field(default_factory=list)  # priority, candidate, sure
    other_labels: int = 0


class TeachStream:
    def __init__(self, labels: Iterable[str], decided: Iterable[Key] = (), *, include_all: bool = False) -> None:
        self.labels = frozenset(labels)
        self.include_all = include_all
        self._seen: set[Key] = set(decided)  # answered before, or put in the pool: never offered again
        self._heap: list[tuple[float, int, Candidate]] = []
        self._order = itertools.count()
        self.articles = 0  # articles whose suggestions joined the pool
        self.answered_before = 0  # candidates left out: this annotator answered them in an earlier session
        self.sure = 0  # candidates left out as sure (unless include_all)
        self.other_labels = 0  # entities of labels not asked for

    def add(self, article: Article, suggestions: Suggestions) -> int:
        """Put the article's wanted entities in the pool; returns how many joined."""
        return self.join(self.sort_out(article, suggestions))

    def sort_out(self, article: Article, suggestions: Suggestions) -> Arrival:
        """The article's candidates, ready to join the pool. It changes nothing, so teach's background
        thread runs it: a 50,000-word article's 12,000 candidates, made on the UI thread, held a key
        for 20 ms."""
        arrival = Arrival()
        for span in suggestions.spans:
            if span.label not in self.labels:
                arrival.other_labels += 1
                continue
            sure = not self.include_all and span.score is not None and not (1 - SURE < span.score < SURE)
            # Most uncertain first; an entity without a score (a pipeline that gives none) after the scored.
            priority = -uncertainty_of(span.score) if span.score is not None else 1.0
            arrival.candidates.append((priority, Candidate(article.id, article.title, span, suggestions.model, article.text), sure))
        return arrival

    def join(self, arrival: Arrival) -> int:
        """Put an arrival's candidates in the pool, but for spans answered or pooled already; returns
        how many joined."""
        self.articles += 1
        self.other_labels += arrival.other_labels
        seen, order, joined = self._seen, self._order, []
        for priority, candidate, sure in arrival.candidates:
            key = candidate.key
            if key in seen:
                self.answered_before += 1
                continue
            if sure:
                self.sure += 1
                continue
            seen.add(key)
            joined.append((priority, next(order), candidate))
        if len(joined) > len(self._heap):  # one heapify, not a push each: 12,000 at once stay a few ms
            self._heap.extend(joined)
            heapq.heapify(self._heap)
        else:
            for entry in joined:
                heapq.heappush(self._heap, entry)
        return len(joined)

    def next(self) -> Candidate | None:
        return heapq.heappop(self._heap)[2] if self._heap else None

    def put_back(self, candidate: Candidate) -> None:
        """An undone answer: asked again, first."""
        heapq.heappush(self._heap, (-2.0, -next(self._order), candidate))

    def __len__(self) -> int:
        return len(self._heap)

    def why_dry(self, waiting: int, labels: str) -> str:
        """Why there is nothing to ask (``waiting``: articles the model has not scored yet)."""
        if waiting:
            return f"waiting for the model: {plural(waiting, 'article')} still to score"
        parts = [f"{plural(self.articles, 'article')} looked at"]
        if self.answered_before:
            parts.append(f"{self.answered_before} answered before")
        if self.sure:
            parts.append(f"{self.sure} left out as sure (score ≥ {SURE} or ≤ {1 - SURE:.2f}; --all asks them too)")
        if self.other_labels:
            parts.append(f"{self.other_labels} of other labels")
        return f"no more {labels} entities to ask about: " + ", ".join(parts)
