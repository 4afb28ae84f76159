"""A session's state that every part of it shares: the draft of each article, the undo steps,
what an action returns, and the guard on changes to a read-only DB."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ..datamodel import Answer, Article, Edit, Span
from .outcome import READ_ONLY, Outcome

if TYPE_CHECKING:
    from ..nlp.tokens import Tokens
    from .session import Session

Result = Outcome | None  # what an action returns: None when it simply happened


def action_name(action: str) -> str:
    """How a message names a key when no keymap is given (tests, scripts): the action, in angle brackets."""
    return f"<{action}>"


def first(spans: Sequence[Span]) -> int | None:
    """The focus an article opens with: its first entity, if it has any."""
    return 0 if spans else None


@dataclass
class Draft:
    """What the annotator sees of one article. ``version`` rises with every change to spans."""

    article: Article
    spans: Sequence[Span]  # OrderedSpans once a change has been checked and saved
    answer: Answer | None
    created: str = ""
    updated: str = ""  # the stored record's `updated` as this session last wrote or read it
    focus: int | None = None
    cursor: int = 0
    anchor: int | None = None  # token where a new span started (`v`), while one is being drawn
    tokens: Tokens | None = None
    version: int = 0
    edit: tuple[int, Edit] | None = None  # a version, and the edit that made it from the one before
    suggestions_pending: bool = False
    unsaved: bool = False
    notes: list[str] = field(default_factory=list)
    stored_tokens_read: bool = False  # the tokens stored with its suggestions were looked at (``Session.stored_tokens_for``)
    comment: str = ""  # the annotator's note on the article, saved with the record
    flagged: bool = False  # flagged for review
    every_mention: bool = False  # `*` was pressed: the next label goes to every mention of the focused entity's text
    active_seconds: float = 0.0  # the annotator's active time on it, stored with each save (``Session.note_activity``)

    @property
    def stretch(self) -> tuple[int, int, int] | None:
        """Where the spans of this version differ from the last version's (``changed_stretch``), if known."""
        return self.edit[1].stretch if self.edit is not None and self.edit[0] == self.version else None


@dataclass(frozen=True)
class Change:
    """One undoable step: an article's spans and answer before and after."""

    article_index: int
    before: tuple[tuple[Span, ...], Answer | None]
    after: tuple[tuple[Span, ...], Answer | None]
    focus_before: int | None
    focus_after: int | None


def editing(method: Callable[..., Result]) -> Callable[..., Result]:
    """Marks a key's action that changes annotations: refused first thing on a read-only DB."""

    @functools.wraps(method)
    def guarded(self: Session, *args: Any) -> Result:
        return READ_ONLY if self.store.read_only else method(self, *args)

    return guarded
