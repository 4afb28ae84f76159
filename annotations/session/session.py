"""The annotator's editing session: everything the screen can do, as calls a test can make.

The session owns the state (which article, which entity has focus, where the token cursor is,
the undo history) and saves every change to the store before reporting it saved. The Textual app
maps keys to these calls and redraws from ``Session`` state; it decides nothing itself.

Actions return ``None`` when the action simply happened, else an ``Outcome`` (``outcome``): a
short message for the status line and its kind (a refusal such as "spans may not overlap", news
such as "the article is answered", a save that failed). A message that names a key asks
``key_name`` for the key bound to that action now, so a remapped key is named as the user has it.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ..datamodel import (
    Annotation, Answer, Article, ArticleList, Edit, ModelId, Origin, Role, Span, SpanState, Suggestions, make_edit, now_iso, sorted_spans,
)  # fmt: skip
from ..errors import StoreError
from ..store import Store
from ..words import plural, visible_words
from .outcome import READ_ONLY, Outcome, done, failed, not_saved, refused, waiting
from .versions import Version, differences

if TYPE_CHECKING:  # the tokens come from the worker, after the first paint
    from ..nlp.align import Aligned
    from ..nlp.preparation import Work
    from ..nlp.tokens import Tokens

Result = Outcome | None  # what an action returns: None when it simply happened
_START, _TOKEN_START = attrgetter("start"), attrgetter("token_start")


def action_name(action: str) -> str:
    """How a message names a key when no keymap is given (tests, scripts): the action, in angle brackets."""
    return f"<{action}>"


def first(spans: Sequence[Span]) -> int | None:
    """The focus an article opens with: its first entity, if it has any."""
    return 0 if spans else None


def find_all(text: str, query: str) -> list[tuple[int, int]]:
    """Every case-insensitive occurrence of ``query``, as offsets into ``text`` itself.

    A regex over the original text, not ``text.casefold().find``: case folding can change the
    length of a string (ß → ss), which would shift every offset after it.
    """
    if not query:
        return []
    return [m.span() for m in re.finditer(re.escape(query), text, re.IGNORECASE)]


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
    comment: str = ""  # the annotator's note on the article, saved with the record
    flagged: bool = False  # flagged for review
    every_mention: bool = False  # `*` was pressed: the next label goes to every mention of the focused entity's text

    @property
    def change(self) -> tuple[int, int, int] | None:
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


class Session:
    role = Role.ANNOTATOR  # the kind of record this session writes (a review session writes reviewers' records)

    def __init__(
        self,
        store: Store,
        articles: Sequence[Article],
        *,
        annotator: str,
        labels: Sequence[str],
        model: ModelId | None = None,
        key_name: Callable[[str], str] = action_name,
    ) -> None:
        if not articles:
            raise ValueError("a session needs at least one article")
        self.key = key_name  # the key bound to an action now, for messages that name one
        self.store = store
        self.articles = articles if isinstance(articles, ArticleList) else ArticleList.of(articles)
        self.annotator = annotator
        self.labels = tuple(labels)
        self.model = model
        self._drafts: dict[str, Draft] = {}
        self._undo: list[Change] = []
        self._redo: list[Change] = []
        self.last_saved: str | None = None  # ISO time the last change reached the disk
        self.save_error: str | None = None
        self.answered = store.answered_ids(annotator, self.role) & set(self.articles.ids)
        self.index = next((i for i, article_id in enumerate(self.articles.ids) if article_id not in self.answered), 0)
        self._others: dict[str, list[Annotation]] = {}
        self._versus: dict[tuple[str, int], list[tuple[str, int]]] = {}
        self._counts: tuple[Draft | None, int, dict[str, int]] = (None, 0, {})  # a draft, its version, its label counts
        self._load_others()

    # -- what the screen shows -------------------------------------------------------------

    @property
    def article(self) -> Article:
        return self.articles[self.index]

    @property
    def draft(self) -> Draft:
        return self.draft_for(self.index)

    def draft_for(self, index: int) -> Draft:
        article = self.articles[index]
        draft = self._drafts.get(article.id)
        if draft is None:
            draft = self._drafts[article.id] = self._open(article)
        return draft

    @property
    def spans(self) -> Sequence[Span]:
        return self.draft.spans

    @property
    def focused(self) -> Span | None:
        focus = self.draft.focus
        return None if focus is None else self.draft.spans[focus]

    @property
    def selection(self) -> tuple[int, int] | None:
        """Characters of the span being drawn with `v`, from anchor to cursor inclusive."""
        draft = self.draft
        if draft.anchor is None or draft.tokens is None:
            return None
        first, last = sorted((draft.anchor, draft.cursor))
        return draft.tokens.chars(first, last + 1)

    @property
    def cursor_chars(self) -> tuple[int, int] | None:
        draft = self.draft
        if draft.tokens is None or not len(draft.tokens):
            return None
        return draft.tokens.chars(draft.cursor, draft.cursor + 1)

    def label_key(self, label: str) -> str | None:
        """The number key that gives this label (labels past the tenth have none)."""
        i = self.labels.index(label) if label in self.labels else 10
        return str((i + 1) % 10) if i < 10 else None

    def label_counts(self) -> dict[str, int]:
        """Entities per label in this article (asked on every redraw: counted once per article, then
        kept up to date from each change's stretch)."""
        draft = self.draft
        if self._counts[0] is not draft or self._counts[1] != draft.version:
            counts = dict.fromkeys(self.labels, 0)
            counts.update(Counter(map(attrgetter("label"), draft.spans)))
            self._counts = (draft, draft.version, counts)
        return {label: n for label, n in self._counts[2].items() if n or label in self.labels}

    def _count_change(self, draft: Draft, new: Sequence[Span], change: tuple[int, int, int]) -> None:
        """Carry the label counts of the draft's current version over to the next, by the changed stretch alone."""
        if self._counts[0] is not draft or self._counts[1] != draft.version:
            return
        head, old_stop, new_stop = change
        counts = self._counts[2]
        for span in draft.spans[head:old_stop]:
            counts[span.label] -= 1
        for span in new[head:new_stop]:
            counts[span.label] = counts.get(span.label, 0) + 1
        self._counts = (draft, draft.version + 1, counts)

    @property
    def done(self) -> int:
        return len(self.answered)

    def other_versions(self) -> list[tuple[str, int]]:
        """Other annotators' answered versions of this article, each with its number of differences from this one.

        Asked on every redraw, so kept until this article's spans or the others' records change."""
        key = (self.article.id, self.draft.version)
        cached = self._versus.get(key)
        if cached is None:
            mine = Version(self.annotator, tuple(self.spans))
            cached = self._versus[key] = [
                (other.annotator, len(differences([mine, Version(other.annotator, other.spans)])))
                for other in self._others.get(self.article.id, ())
            ]
        return cached

    def _load_others(self) -> None:
        self._versus.clear()
        self._others[self.article.id] = [
            other
            for other in self.store.annotations(article_id=self.article.id, answered=True, role=Role.ANNOTATOR)
            if (other.annotator, other.role) != (self.annotator, self.role)
        ]

    # -- opening articles ------------------------------------------------------------------

    def _open(self, article: Article) -> Draft:
        record = self.store.annotation(article.id, self.annotator, self.role)
        if record is not None:
            return self._resumed(article, record)
        draft = Draft(article, [], None)
        if self.model is not None:
            cached = self.store.suggestions(article.id, self.model)
            if cached is None:
                draft.suggestions_pending = True
            else:
                draft.spans = self._offered(cached.spans)
                draft.focus = first(draft.spans)
        return draft

    def _resumed(self, article: Article, record: Annotation) -> Draft:
        """A draft of this session's stored record of the article, its first entity focused."""
        return Draft(
            article, record.spans, record.answer, created=record.created, updated=record.updated,
            focus=first(record.spans), comment=record.comment, flagged=record.flagged,
        )  # fmt: skip

    def _offered(self, spans: Sequence[Span]) -> list[Span]:
        """Model suggestions restricted to the labels in use (imported spans are always shown)."""
        return [s for s in spans if s.label in self.labels]

    # -- what the model and the tokenizer send (nlp.preparation) ---------------------------

    def work_for(self, index: int) -> Work | None:
        """What the article at ``index`` still needs from spaCy: its suggestions, else its tokens."""
        draft = self.draft_for(index)
        if draft.tokens is not None and not draft.suggestions_pending:
            return None
        from ..nlp.preparation import Work

        spans = draft.spans if isinstance(draft.spans, tuple) else tuple(draft.spans)
        return Work(draft.article, spans, draft.version, draft.suggestions_pending)

    def receive_suggestions(self, article_id: str, spans: Sequence[Span]) -> Result:
        """The model's suggestions for an article: cached in the store (an article is parsed once per
        model version), then shown where they overlap nothing already there."""
        outcome: Result = None
        if self.model is not None:
            try:
                self.store.save_suggestions([Suggestions(article_id, self.model, tuple(spans))])
            except StoreError as error:
                outcome = failed(f"suggestions not cached: {error}")
        self.add_suggestions(article_id, spans)
        return outcome

    def suggestions_failed(self, article_id: str) -> None:
        """The model could not suggest (it failed to load): the article is annotated by hand."""
        draft = self._drafts.get(article_id)
        if draft is not None:
            draft.suggestions_pending = False

    @property
    def notices(self) -> list[str]:
        """What the store had to say on opening (a read-only DB, a crash's leftovers)."""
        return self.store.notices

    def close(self) -> None:
        """Fold the store's journal into its main file, as a clean exit does (every save is in the journal already)."""
        self.store.close()

    def add_suggestions(self, article_id: str, spans: Sequence[Span]) -> bool:
        """Suggestions that arrived from the model worker; kept where they overlap nothing already there."""
        draft = self._drafts.get(article_id)
        if draft is None or not draft.suggestions_pending:
            return False
        draft.suggestions_pending = False
        fresh = [s for s in self._offered(spans) if not any(s.overlaps(o) for o in draft.spans)]
        if fresh:
            draft.spans = sorted_spans([*draft.spans, *fresh])
            draft.version += 1
            self._focus(first(draft.spans), draft)
        return True

    def set_tokens(self, article_id: str, aligned: Aligned, for_version: int) -> bool:
        """Tokens (and spans snapped to them) from the worker; refused if the spans changed meanwhile."""
        draft = self._drafts.get(article_id)
        if draft is None or draft.version != for_version:
            return False
        draft.tokens = aligned.tokens
        draft.notes.extend(aligned.notes)
        if tuple(draft.spans) != aligned.spans:
            if draft.created:  # a stored record did not fit the tokens: store what is now shown
                self._write(list(aligned.spans), draft.answer, None, draft)
            else:
                draft.spans = list(aligned.spans)
                draft.version += 1
            self._focus(first(draft.spans), draft)
        elif draft.focus is not None:
            draft.cursor = draft.spans[draft.focus].token_start
        return True

    # -- moving around ---------------------------------------------------------------------

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
            return self._confirm_next() if draft.spans else "no entities in this article"
        span = draft.spans[draft.focus]
        if span.state is SpanState.SUGGESTED:
            return self._replace(draft.focus, span.replace(state=SpanState.CONFIRMED), advance=True)
        return self._confirm_next()

    def _confirm_next(self) -> Result:
        draft = self.draft
        start = -1 if draft.focus is None else draft.focus
        order = list(range(start + 1, len(draft.spans))) + list(range(0, start + 1))
        target = next((i for i in order if draft.spans[i].state is SpanState.SUGGESTED), None)
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

    # -- answers and articles --------------------------------------------------------------

    @editing
    def answer(self, answer: Answer) -> Result:
        """Accept (suggestions become gold), reject or skip the article, then go to the next one."""
        draft = self.draft
        if answer is Answer.ACCEPT and draft.suggestions_pending:
            # Accepted now, the gold would lack whatever the model is about to suggest.
            return waiting(f"the model's suggestions are still on their way: accept once they are in ({self.key('reject')} and {self.key('skip')} work now)")
        spans = draft.spans
        if answer is Answer.ACCEPT:
            spans = [s.replace(state=SpanState.CONFIRMED) if s.state is SpanState.SUGGESTED else s for s in spans]
        draft.anchor = None
        outcome = self._commit(spans, answer, draft.focus)
        if outcome is not None:
            return outcome
        return self._after_answer()

    def _after_answer(self) -> Result:
        ids = self.articles.ids
        following = [i for i in range(self.index + 1, len(ids)) if ids[i] not in self.answered]
        earlier = [i for i in range(0, self.index) if ids[i] not in self.answered]
        if following or earlier:
            self.go_to((following or earlier)[0])
            return None
        if self.index + 1 < len(self.articles):
            self.go_to(self.index + 1)
        return done("the article is answered" if len(self.articles) == 1 else f"all {len(self.articles):,} articles are answered")

    def go_to(self, index: int) -> Result:
        if not 0 <= index < len(self.articles):
            return refused(f"there is no article {index + 1}; there are {len(self.articles)}")
        self.draft.anchor = None
        self.draft.every_mention = False
        self.index = index
        return self._reload()

    def _reload(self) -> Result:
        """Take in other processes' saves; if one saved this article as this annotator, show theirs (last save wins)."""
        try:
            self.store.refresh()
        except StoreError as error:
            return failed(f"could not look for other sessions' saves: {error}")
        self._load_others()
        draft = self._drafts.get(self.article.id)
        if draft is None or draft.unsaved or self.store.annotation_updated(self.article.id, self.annotator, self.role) in (None, draft.updated):
            return None
        record = self.store.annotation(self.article.id, self.annotator, self.role)
        if record is None:
            return None
        draft.spans, draft.answer = record.spans, record.answer
        draft.created, draft.updated = record.created, record.updated
        draft.comment, draft.flagged = record.comment, record.flagged
        draft.version += 1
        self._focus(first(draft.spans), draft)
        (self.answered.add if record.answer else self.answered.discard)(record.article_id)
        try:
            when = datetime.fromisoformat(record.updated).astimezone().strftime("%H:%M:%S")
        except ValueError:
            when = record.updated
        return done(f"another goldspan session saved this article as {self.annotator} at {when}; showing that version")

    def next_article(self) -> Result:
        return refused("this is the last article") if self.index + 1 >= len(self.articles) else self.go_to(self.index + 1)

    def previous_article(self) -> Result:
        return refused("this is the first article") if self.index == 0 else self.go_to(self.index - 1)

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

    # -- undo ------------------------------------------------------------------------------

    @editing
    def undo(self) -> Result:
        if not self._undo:
            return refused("nothing to undo")
        change = self._undo.pop()
        self._redo.append(change)
        return self._restore(change.article_index, change.before, change.focus_before, "undo: " + self._described(change, undoing=True))

    @editing
    def redo(self) -> Result:
        if not self._redo:
            return refused("nothing to redo")
        change = self._redo.pop()
        self._undo.append(change)
        return self._restore(change.article_index, change.after, change.focus_after, "redo: " + self._described(change, undoing=False))

    def _described(self, change: Change, *, undoing: bool) -> str:
        """What the undo (or redo) does now, in a few words: the change, backwards for an undo."""
        from .describe import describe_change

        text = self.articles[change.article_index].text
        said = describe_change(text, change.after, change.before) if undoing else describe_change(text, change.before, change.after)
        return said if change.article_index == self.index else f"{said} (article {change.article_index + 1})"

    def _restore(self, index: int, state: tuple[tuple[Span, ...], Answer | None], focus: int | None, said: str) -> Result:
        if index != self.index:
            self.go_to(index)
        spans, answer = state
        return self._write(spans, answer, focus) or done(said)

    # -- saving ----------------------------------------------------------------------------

    def note_for(self, draft: Draft) -> str:
        """A note stored with the record; the review session says which versions it came from."""
        return ""

    @editing
    def save_again(self) -> Result:
        """Retry the saves that failed (a full disk, say), once the cause is fixed."""
        pending = [(i, d) for i, article_id in enumerate(self.articles.ids) if (d := self._drafts.get(article_id)) is not None and d.unsaved]
        if not pending:
            return refused("nothing is waiting to be saved")
        for _, draft in pending:
            outcome = self._write(draft.spans, draft.answer, draft.focus, draft)
            if outcome is not None:
                return outcome
        return done(f"saved {plural(len(pending), 'waiting change')}")

    def _commit(self, spans: list[Span], answer: Answer | None, focus: int | None, change: tuple[int, int, int] | None = None) -> Result:
        """Apply a change to the current article, remember it for undo, and save it. ``change``: where
        ``spans`` differs from the draft's, when the caller made it so (see ``make_edit``)."""
        if self.store.read_only:
            return READ_ONLY
        draft = self.draft
        edit = make_edit(draft.spans, spans, change)
        head, old_stop, new_stop = edit.stretch
        if answer == draft.answer and tuple(draft.spans[head:old_stop]) == edit.spans[head:new_stop]:
            self._focus(focus)
            return None
        # Undo keeps the versions' own tuples (a version is never changed in place), not copies of them.
        before = (draft.spans if isinstance(draft.spans, tuple) else tuple(draft.spans), draft.answer)
        self._undo.append(Change(self.index, before, (edit.spans, answer), draft.focus, focus))
        self._redo.clear()
        return self._write(edit.spans, answer, focus, edit=edit)

    def _write(
        self, spans: Sequence[Span], answer: Answer | None, focus: int | None, draft: Draft | None = None, *, edit: Edit | None = None
    ) -> Result:
        """Make this the draft's new version and save it. ``edit``: how ``spans`` was made from the
        draft's (``make_edit``), when the caller has it."""
        draft = draft or self.draft
        if edit is None:
            edit = make_edit(draft.spans, spans)
        spans = edit.spans
        self._count_change(draft, spans, edit.stretch)
        draft.spans = spans
        draft.answer = answer
        draft.version += 1
        draft.edit = (draft.version, edit)
        if draft is self.draft:
            self._focus(focus if focus is None or focus < len(spans) else (len(spans) - 1 if spans else None))
        if answer is None:
            self.answered.discard(draft.article.id)
        else:
            self.answered.add(draft.article.id)
        now = now_iso()
        record = Annotation(
            draft.article.id,
            self.annotator,
            spans,
            answer,
            self.model.name if self.model else "",
            self.model.version if self.model else "",
            created=draft.created or now,
            updated=now,
            note=self.note_for(draft),
            role=self.role,
            comment=draft.comment,
            flagged=draft.flagged,
        )
        try:
            self.store.save_annotation(record, edit)
        except StoreError as error:
            draft.unsaved = True
            self.save_error = str(error)
            return not_saved(str(error))
        draft.created, draft.updated = record.created, record.updated
        draft.unsaved = False
        self.save_error = None
        self.last_saved = now
        return None
