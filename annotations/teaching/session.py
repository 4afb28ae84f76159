"""A teach session: the example on screen, the annotator's answers to it, and their undo.

Every answer is saved (journaled and synced) before the next example shows, so what the screen
reports as answered survives a kill. Undo takes back this session's answers one by one, as far back
as they go, and shows each example again. The time of a decision is the time from its example's
showing to the answer, up to IDLE_CUT (a longer wait was a pause).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..datamodel import IDLE_CUT, Answer
from ..errors import StoreError
from ..store import Store
from .decisions import Decision
from .stream import Candidate, TeachStream


@dataclass(frozen=True)
class Said:
    """What a key did, for the status line."""

    message: str
    failed: bool = False  # the store refused it (a full disk, say): nothing was saved, the example stays


class TeachSession:
    def __init__(self, store: Store, stream: TeachStream, *, annotator: str) -> None:
        self.store, self.stream, self.annotator = store, stream, annotator
        self.current: Candidate | None = None
        self._shown_at = 0.0
        self._done: list[tuple[Candidate, Decision]] = []  # this session's answers, for undo
        self.counts: Counter[Answer] = Counter()
        self._away_since: float | None = None  # the terminal lost the focus then

    def show_next(self, now: float) -> Candidate | None:
        """The next example, if none is on screen (the most uncertain in the pool)."""
        if self.current is None:
            self.current = self.stream.next()
            self._shown_at = now
        return self.current

    def note_away(self, now: float) -> None:
        """The terminal lost the focus: the time until it is back is not the example's."""
        self._away_since = now

    def note_back(self, now: float) -> None:
        if self._away_since is not None:
            self._shown_at += max(0.0, now - self._away_since)
            self._away_since = None

    def answer(self, answer: Answer, now: float) -> Said:
        candidate = self.current
        if candidate is None:
            return Said("nothing to answer")
        if self.store.read_only:
            return Said("the database is open read-only: answers are not saved", failed=True)
        span = candidate.span
        decision = Decision(
            candidate.article_id, self.annotator, span.start, span.end, span.label, answer, span.token_start, span.token_end,
            candidate.text, candidate.model.name, candidate.model.version, span.score, min(max(0.0, now - self._shown_at), IDLE_CUT),
        )  # fmt: skip
        try:
            self.store.save_decision(decision.to_dict())
        except StoreError as error:
            return Said(f"NOT SAVED: {error}", failed=True)  # the example stays on screen: the key can be pressed again
        self._done.append((candidate, decision))
        self.counts[answer] += 1
        self.current = None
        self.show_next(now)
        return Said(f"{answer} {span.label} “{candidate.text}”")

    def undo(self, now: float) -> Said:
        if not self._done:
            return Said("nothing to undo in this session")
        candidate, decision = self._done[-1]
        try:
            self.store.remove_decision(decision.article_id, decision.annotator, decision.start, decision.end, decision.label)
        except StoreError as error:
            return Said(f"NOT UNDONE: {error}", failed=True)
        self._done.pop()
        self.counts[decision.answer] -= 1
        if self.current is not None:
            self.stream.put_back(self.current)
        self.stream.put_back(candidate)
        self.current = None
        self.show_next(now)
        return Said(f"undone: {decision.answer} {decision.label} “{decision.text}”")

    @property
    def answered(self) -> int:
        return len(self._done)
