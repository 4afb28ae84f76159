"""Moving around an article: the entity focus, the token cursor, words, search, and finding an article."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from operator import attrgetter
from typing import TYPE_CHECKING

from .outcome import refused, waiting
from .state import Draft, Result

if TYPE_CHECKING:
    from .session import Session as _Session
else:
    _Session = object  # the parts of Session: each sees the whole of it when type-checked

_START, _TOKEN_START = attrgetter("start"), attrgetter("token_start")


def find_all(text: str, query: str) -> list[tuple[int, int]]:
    """Every case-insensitive occurrence of ``query``, as offsets into ``text`` itself.

    A regex over the original text, not ``text.casefold().find``: case folding can change the
    length of a string (ß → ss), which would shift every offset after it.
    """
    if not query:
        return []
    return [m.span() for m in re.finditer(re.escape(query), text, re.IGNORECASE)]


class Moving(_Session):

    def focus_next(self) -> Result:
        return self._focus_step(+1)

    def focus_previous(self) -> Result:
        return self._focus_step(-1)

    def _focus_step(self, step: int) -> Result:
        draft = self.draft
        if not draft.spans:
            return refused("no entities in this article")
        if draft.focus is None:
            # From the cursor: the first entity after it (or before it, going back), found by bisection
            # (spans are in reading order).
            here = draft.tokens.starts[draft.cursor] if draft.tokens and len(draft.tokens) else -1
            if step > 0:
                target = bisect_right(draft.spans, here, key=_START) % len(draft.spans)  # past the last: the first
            else:
                target = bisect_left(draft.spans, here, key=_START) - 1  # before the first: -1, the last
                target %= len(draft.spans)
        else:
            target = draft.focus + step
            if not 0 <= target < len(draft.spans):
                return refused("last entity" if step > 0 else "first entity")
        self._focus(target)
        return None

    def focus_span(self, index: int) -> None:
        """Focus an entity directly (a mouse click on it)."""
        if 0 <= index < len(self.draft.spans):
            self._focus(index)

    def _focus(self, index: int | None, draft: Draft | None = None) -> None:
        draft = draft or self.draft
        draft.focus = index
        draft.every_mention = False  # moving on drops a pending `*`
        if index is not None and draft.tokens is not None:
            draft.cursor = draft.spans[index].token_start

    def _tokens_missing(self) -> Result:
        """Why a token-based key cannot act yet (the worker has not tokenized the article), if so."""
        tokens = self.draft.tokens
        if tokens is None:
            return waiting("tokens are not ready yet")
        return None if len(tokens) else refused("this article has no tokens")

    def move_cursor(self, step: int) -> Result:
        """One token left or right; the entity under the cursor, if any, takes the focus."""
        if missing := self._tokens_missing():
            return missing
        draft = self.draft
        assert draft.tokens is not None
        if draft.focus is not None and draft.anchor is None:
            span = draft.spans[draft.focus]
            draft.cursor = span.token_end - 1 if step > 0 else span.token_start
        draft.cursor = max(0, min(len(draft.tokens) - 1, draft.cursor + step))
        self._focus_from_cursor()
        return None

    def move_word(self, step: int) -> Result:
        """To the next or previous token that starts with a letter or digit."""
        if missing := self._tokens_missing():
            return missing
        draft = self.draft
        assert draft.tokens is not None
        i = draft.cursor + step
        while 0 <= i < len(draft.tokens) and not draft.tokens.is_word(draft.article.text, i):
            i += step
        if not 0 <= i < len(draft.tokens):
            return refused("no more words")
        draft.cursor = i
        self._focus_from_cursor()
        return None

    def click_at(self, offset: int) -> Result:
        """A click on the text: the entity under it takes the focus, else the cursor goes to the token there."""
        spans = self.draft.spans
        at = bisect_right(spans, offset, key=_START) - 1  # the last entity starting at or before the offset
        if at >= 0 and offset < spans[at].end:
            self.focus_span(at)
            return None
        return self.cursor_to_offset(offset)

    def cursor_to_offset(self, offset: int) -> Result:
        """Put the cursor on the token at (or after) a character offset: search hits, mouse clicks."""
        if missing := self._tokens_missing():
            return missing
        draft = self.draft
        assert draft.tokens is not None
        token = draft.tokens.at_or_after(offset)
        if token is None:
            return None
        draft.cursor = token
        self._focus_from_cursor()
        return None

    def _focus_from_cursor(self) -> None:
        draft = self.draft
        draft.every_mention = False
        if draft.anchor is not None or draft.tokens is None:
            draft.focus = None
            return
        at = bisect_right(draft.spans, draft.cursor, key=_TOKEN_START) - 1  # the last span starting at or before the cursor
        draft.focus = at if at >= 0 and draft.spans[at].token_end > draft.cursor else None

    def find_article(self, query: str) -> int | None:
        """An article by number ("3") or by a piece of its title (case-insensitive)."""
        query = query.strip()
        if query.isdigit():
            number = int(query)
            return number - 1 if 1 <= number <= len(self.articles) else None
        needle = query.casefold()
        order = [*range(self.index + 1, len(self.articles)), *range(0, self.index + 1)]
        return next((i for i in order if needle and needle in self.articles.titles[i].casefold()), None)

    def search(self, query: str, *, after: int | None = None) -> Result:
        """Move the cursor to the next occurrence of ``query`` after the cursor (wrapping), ignoring case."""
        if not query:
            return None
        hits = find_all(self.article.text, query)
        if not hits:
            return refused(f"{query!r} is not in this article")
        here = after if after is not None else (self.cursor_chars or (-1, -1))[0]
        start = next((a for a, _ in hits if a > here), hits[0][0])
        self.draft.anchor = None
        return self.cursor_to_offset(start)

