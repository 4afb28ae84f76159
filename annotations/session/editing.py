"""Editing an article's entities: labels, removal, boundaries, new spans, every mention at once, and the note and flag."""

from __future__ import annotations

import re
from bisect import bisect_left
from operator import attrgetter
from typing import TYPE_CHECKING

from ..datamodel import Origin, Span, SpanState, sorted_spans
from ..ordering import uncertainty_of
from ..words import plural, visible_words
from .outcome import done, refused
from .state import Result, editing

if TYPE_CHECKING:
    from .session import Session as _Session
else:
    _Session = object  # the parts of Session: each sees the whole of it when type-checked

_START = attrgetter("start")


class Editing(_Session):
    # -- drawing a new span ----------------------------------------------------------------

    @editing
    def begin_span(self) -> Result:
        if missing := self._tokens_missing():
            return missing
        draft = self.draft
        draft.anchor = draft.cursor
        draft.focus = None
        draft.every_mention = False
        return done(f"new span: move, then a label key; {self.key('cancel')} cancels")

    def cancel(self) -> Result:
        """Drop the span being drawn, or the pending `*`, if any."""
        draft = self.draft
        if draft.every_mention:
            draft.every_mention = False
            return done("labelling every mention cancelled")
        if draft.anchor is None:
            return None
        draft.anchor = None
        self._focus_from_cursor()
        return done("new span cancelled")

    @editing
    def begin_every_mention(self) -> Result:
        """The next label key labels every mention of the focused entity's text (``label_every_mention``)."""
        span = self.focused
        if span is None:
            return refused("no entity has the focus: every mention of which text?")
        if missing := self._tokens_missing():
            return missing
        self.draft.anchor = None
        self.draft.every_mention = True
        return done(f"every {visible_words(span.text_in(self.article.text))!r}: press a label key ({self.key('cancel')} cancels)")

    def _label_every_mention(self, label: str) -> Result:
        """Give ``label`` to every mention of the focused entity's exact text in this article that has no
        answer yet (a suggestion, or text no span covers), and to the focused one: one undoable step.

        A mention is the text as whole tokens ("Belarus" in "Belarusian" is none). Mentions the
        annotator has already confirmed, edited or added keep theirs; one that would overlap
        another entity is left alone."""
        draft = self.draft
        draft.every_mention = False
        if draft.focus is None or draft.tokens is None:
            return refused("no entity has the focus")
        focused = draft.spans[draft.focus]
        text = draft.article.text
        needle = focused.text_in(text)
        tokens = draft.tokens
        token_at = {start: i for i, start in enumerate(tokens.starts)}
        token_ending = {end: i for i, end in enumerate(tokens.ends)}
        by_bounds = {(s.start, s.end): i for i, s in enumerate(draft.spans)}
        spans = list(draft.spans)
        added: list[Span] = []
        relabelled = confirmed = kept = blocked = 0
        for match in re.finditer(re.escape(needle), text):
            start, end = match.span()
            first, last = token_at.get(start), token_ending.get(end)
            if first is None or last is None:
                continue  # inside a longer word: not a mention
            at = by_bounds.get((start, end))
            if at is not None:
                span = spans[at]
                if at != draft.focus and span.state is not SpanState.SUGGESTED:
                    kept += span.label != label
                    continue
                if span.label != label or span.state is SpanState.SUGGESTED:
                    state = span.state if span.state is SpanState.ADDED else SpanState.EDITED if span.label != label else SpanState.CONFIRMED
                    spans[at] = span.replace(label=label, state=state)
                    relabelled += span.label != label
                    confirmed += span.label == label  # a suggestion that had it already: now confirmed
                continue
            new = Span(start, end, first, last + 1, label, Origin.ANNOTATOR, SpanState.ADDED)
            here = bisect_left(draft.spans, start, key=_START)
            if any(new.overlaps(o) for o in draft.spans[max(0, here - 1) : here + 1]):
                blocked += 1
                continue
            added.append(new)
        if not relabelled and not confirmed and not added:
            overlapping = f"; {blocked} would overlap another entity" if blocked else ""
            return refused(f"every mention of {visible_words(needle)!r} already has {label} or an answer of yours{overlapping}")
        result = sorted_spans([*spans, *added])
        focus = next(i for i, s in enumerate(result) if (s.start, s.end) == (focused.start, focused.end))
        outcome = self._commit(list(result), draft.answer, focus)
        if outcome is not None:
            return outcome
        said = [f"{label} for {plural(relabelled + confirmed + len(added), 'mention')} of {visible_words(needle)!r}"]
        said.append(f"{relabelled} relabelled, {confirmed} confirmed, {len(added)} added")
        if kept:
            said.append(f"{plural(kept, 'mention')} you had answered kept {'its' if kept == 1 else 'their'} label")
        if blocked:
            said.append(f"{blocked} left alone: {'it overlaps' if blocked == 1 else 'they overlap'} another entity")
        return done("; ".join(said))

    # -- the annotator's note and flag ---------------------------------------------------

    @editing
    def set_comment(self, comment: str) -> Result:
        """A free-text note on this article, saved with the annotation (empty: none)."""
        draft = self.draft
        comment = " ".join(comment.split())
        if comment == draft.comment:
            return None
        draft.comment = comment
        outcome = self._write(draft.spans, draft.answer, draft.focus)
        return outcome or done("note saved" if comment else "note removed")

    @editing
    def toggle_flag(self) -> Result:
        """Flag the article for a lead's review, or take the flag off."""
        draft = self.draft
        draft.flagged = not draft.flagged
        outcome = self._write(draft.spans, draft.answer, draft.focus)
        return outcome or done("flagged for review" if draft.flagged else "flag removed")

    # -- editing ---------------------------------------------------------------------------

    def apply_label_key(self, index: int) -> Result:
        """A number key: the label on it (``index`` from 0: key 1 is index 0, key 0 is index 9)."""
        if index >= len(self.labels):
            return refused(f"no label on key {(index + 1) % 10}; {self.key('pick_label')} opens the label picker")
        return self.apply_label(self.labels[index])

    @editing
    def apply_label(self, label: str) -> Result:
        """Label the span being drawn, else the focused entity (confirming it), else the token under the cursor."""
        if label not in self.labels and not any(s.label == label for s in self.spans):
            return refused(f"{label} is not one of this session's labels")
        draft = self.draft
        if draft.every_mention:
            return self._label_every_mention(label)
        if draft.anchor is not None:
            first, last = sorted((draft.anchor, draft.cursor))
            draft.anchor = None
            return self._add(first, last + 1, label)
        if draft.focus is not None:
            span = draft.spans[draft.focus]
            if span.label == label and span.state is not SpanState.SUGGESTED:
                return self._confirm_next()
            state = span.state if span.state is SpanState.ADDED else SpanState.EDITED if span.label != label else SpanState.CONFIRMED
            return self._replace(draft.focus, span.replace(label=label, state=state), advance=False)
        if draft.tokens is None:
            keys = f"{self.key('next_entity')}/{self.key('previous_entity')}"
            return refused(f"no entity has the focus; move to one with {keys}, or start one with {self.key('begin_span')}")
        return self._add(draft.cursor, draft.cursor + 1, label)

    @editing
    def confirm(self) -> Result:
        """Keep the focused entity as it is and go to the next unconfirmed one."""
        draft = self.draft
        if draft.focus is None:
            return self._confirm_next() if draft.spans else refused("no entities in this article")
        span = draft.spans[draft.focus]
        if span.state is SpanState.SUGGESTED:
            return self._replace(draft.focus, span.replace(state=SpanState.CONFIRMED), advance=True)
        return self._confirm_next()

    def _confirm_next(self) -> Result:
        draft = self.draft
        start = -1 if draft.focus is None else draft.focus
        order = list(range(start + 1, len(draft.spans))) + list(range(0, start + 1))
        waiting = [i for i in order if draft.spans[i].state is SpanState.SUGGESTED]
        if self.most_uncertain_next and waiting:
            # The most uncertain first (max is the first of equals: reading order from here breaks ties);
            # an entity with no score comes after the scored ones.
            target: int | None = max(waiting, key=lambda i: _uncertainty(draft.spans[i]))
        else:
            target = waiting[0] if waiting else None
        if target is None:
            return done(f"every entity is reviewed: {self.key('accept')} accepts the article")
        self._focus(target)
        return None

    @editing
    def remove(self) -> Result:
        draft = self.draft
        if draft.focus is None:
            return refused("no entity has the focus")
        index = draft.focus
        spans = [*draft.spans[:index], *draft.spans[index + 1 :]]
        focus = min(index, len(spans) - 1) if spans else None
        return self._commit(spans, draft.answer, focus, (index, index + 1, index))

    @editing
    def move_boundary(self, edge: str, step: int) -> Result:
        """Move the focused entity's start or end (``edge``) one token left (-1) or right (+1)."""
        draft = self.draft
        if draft.focus is None:
            return refused("no entity has the focus")
        if missing := self._tokens_missing():
            return missing
        assert draft.tokens is not None
        span = draft.spans[draft.focus]
        token_start, token_end = span.token_start, span.token_end
        if edge == "start":
            token_start += step
        else:
            token_end += step
        if token_start >= token_end:
            return refused("a span needs at least one token")
        if token_start < 0 or token_end > len(draft.tokens):
            return refused("the article ends there")
        start, end = draft.tokens.chars(token_start, token_end)
        moved = span.replace(
            start=start,
            end=end,
            token_start=token_start,
            token_end=token_end,
            state=SpanState.ADDED if span.state is SpanState.ADDED else SpanState.EDITED,
        )
        # The spans are sorted and disjoint and a move is one token: only the neighbours can be hit.
        neighbours = draft.spans[max(0, draft.focus - 1) : draft.focus] + draft.spans[draft.focus + 1 : draft.focus + 2]
        if any(moved.overlaps(o) for o in neighbours):
            return refused("spans may not overlap")
        return self._replace(draft.focus, moved, advance=False)

    def _add(self, token_start: int, token_end: int, label: str) -> Result:
        draft = self.draft
        assert draft.tokens is not None
        start, end = draft.tokens.chars(token_start, token_end)
        span = Span(start, end, token_start, token_end, label, Origin.ANNOTATOR, SpanState.ADDED)
        # Sorted and disjoint: the new span can only overlap the spans on either side of its place.
        at = bisect_left(draft.spans, (start, end), key=lambda s: (s.start, s.end))
        if any(span.overlaps(o) for o in draft.spans[max(0, at - 1) : at + 1]):
            self._focus_from_cursor()
            return refused("spans may not overlap")
        spans = [*draft.spans[:at], span, *draft.spans[at:]]
        return self._commit(spans, draft.answer, at, (at, at, at + 1))

    def _replace(self, index: int, span: Span, *, advance: bool) -> Result:
        draft = self.draft
        spans = list(draft.spans)
        spans[index] = span
        outcome = self._commit(spans, draft.answer, index, (index, index + 1, index + 1))
        if advance and outcome is None:
            return self._confirm_next()
        return outcome


def _uncertainty(span: Span) -> float:
    return -1.0 if span.score is None else uncertainty_of(span.score)
