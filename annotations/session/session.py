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

from collections import Counter
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Callable, Sequence

from ..datamodel import IDLE_CUT, Annotation, Answer, Article, ArticleList, ModelId, Role, Span, SpanState, Suggestions, sorted_spans
from ..errors import StoreError
from ..store import Store
from .answered import Answered
from .editing import Editing
from .history import History
from .moving import Moving, find_all
from .outcome import done, failed, refused, waiting
from .state import Change, Draft, Result, action_name, editing, first
from .versions import Version, differences

if TYPE_CHECKING:  # the tokens come from the worker, after the first paint
    from ..nlp.align import Aligned
    from ..nlp.preparation import Work

__all__ = ["Change", "Draft", "Result", "Session", "action_name", "editing", "find_all", "first"]


class Session(Moving, Editing, History):
    """The session's state and its opening, answering and moving between articles; moving within one
    (``moving``), editing (``editing``) and undo and saving (``history``) are its parts."""

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
        self.answered = Answered(store.answered_in(self.articles, annotator, self.role), self.articles)
        self.index = self.answered.first_missing() or 0
        self._others: dict[str, list[Annotation]] = {}
        self._versus: dict[tuple[str, int], list[tuple[str, int]]] = {}
        self._counts: tuple[Draft | None, int, dict[str, int]] = (None, 0, {})  # a draft, its version, its label counts
        self.accepted_here = 0  # articles accepted in this session (what `annotate --retrain-every N` counts)
        # `annotate --order uncertain`: confirming an entity moves the focus to the most uncertain one left,
        # not to the next in reading order.
        self.most_uncertain_next = False
        self._last_activity: float | None = None  # monotonic time of the annotator's last key
        self._load_others()

    def note_activity(self, now: float) -> None:
        """A key at ``now`` (monotonic seconds): the time since the last one was spent on the article on
        screen, up to IDLE_CUT. Saved with the article's next save."""
        last, self._last_activity = self._last_activity, now
        if last is not None and now > last:
            self.draft.active_seconds += min(now - last, IDLE_CUT)

    def note_away(self, now: float) -> None:
        """The terminal lost the focus (the annotator went to another window): the time since the last
        key counts, what follows does not, until ``note_back``."""
        self.note_activity(now)
        self._last_activity = None

    def note_back(self, now: float) -> None:
        """The terminal has the focus again: the time from now to the next key counts."""
        self._last_activity = now

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

    def guidelines(self) -> str | None:
        """The annotation guidelines the DB holds (Markdown), if a lead stored some."""
        from ..guidelines import stored_guidelines

        return stored_guidelines(self.store)

    def label_definitions(self) -> dict[str, str]:
        """Each label's one-line definition from the guidelines (their ``## LABEL`` sections)."""
        from ..guidelines import label_definitions

        return label_definitions(self.guidelines())

    def progress_line(self) -> str:
        """How far the annotator is, for the status line (a queue's session says what is left)."""
        return f"done {self.done}"

    def progress_share(self) -> tuple[int, int]:
        """How much is done of how much, for the status line's progress strip: articles answered of all."""
        return self.done, len(self.articles)

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
        # Either way the tokens stored with the suggestions are read later (``stored_tokens_for``), once
        # the screen is painted: decoding and checking them is 9 ms at 50,000 words, and the first
        # paint shows no token. A resumed record also never makes the suggestions' spans for them.
        record = self.store.annotation(article.id, self.annotator, self.role)
        if record is not None:
            return self._resumed(article, record)
        draft = Draft(article, [], None)
        if self.model is not None:
            cached = self.store.suggestions(article.id, self.model)
            if cached is None:
                draft.suggestions_pending = True
                draft.stored_tokens_read = True  # none stored: they come with the suggestions
            else:
                draft.spans = self._offered(cached.spans)
                draft.focus = first(draft.spans)
        return draft

    def stored_tokens_for(self, index: int) -> bool:
        """The article's tokens from those stored with its suggestions, if its spans sit on them (looked
        at once); True if the draft has tokens now. Else the worker makes them (``work_for``)."""
        draft = self.draft_for(index)
        if draft.tokens is None and not draft.stored_tokens_read:
            draft.stored_tokens_read = True  # looked at, found or not: never again for this draft
            encoded = self.store.suggestion_tokens(draft.article.id, self.model) if self.model is not None else ""
            if encoded:
                self._take_encoded_tokens(draft, encoded)
        return draft.tokens is not None

    def _take_encoded_tokens(self, draft: Draft, encoded: str) -> bool:
        """Encoded tokens (stored with the suggestions, or just sent with them) for the draft, if its
        spans sit on them as they are (else the worker snaps them, with spaCy's own code): the article
        is then ready to edit without spaCy at all."""
        from ..nlp.tokens import decode_tokens, fits

        try:
            tokens = decode_tokens(encoded)
        except ValueError:
            return False  # the worker tokenizes it afresh
        if not fits(tokens, len(draft.article.text), draft.spans):
            return False
        draft.tokens = tokens
        if draft.focus is not None:
            draft.cursor = draft.spans[draft.focus].token_start
        return True

    def _resumed(self, article: Article, record: Annotation) -> Draft:
        """A draft of this session's stored record of the article, its first entity focused."""
        return Draft(
            article, record.spans, record.answer, created=record.created, updated=record.updated,
            focus=first(record.spans), comment=record.comment, flagged=record.flagged, active_seconds=record.active_seconds,
        )  # fmt: skip

    def add_labels(self, labels: Sequence[str]) -> list[str]:
        """Labels a newly used model predicts, after those in use (whose keys do not move); returns the new ones."""
        new = [label for label in dict.fromkeys(labels) if label not in self.labels]
        if new:
            self.labels = (*self.labels, *new)
            self._counts = (None, 0, {})
        return new

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

    def work_ahead(self, index: int) -> Work | None:
        """The next article's suggestions, to be asked for while this one is annotated, so that it opens
        ready: None if there is no next article or model, or its suggestions are stored already."""
        following = index + 1
        if self.model is None or following >= len(self.articles):
            return None
        if self.store.has_suggestions(self.articles.ids[following], self.model):
            return None
        from ..nlp.preparation import Work

        return Work(self.articles[following], (), -1, True)  # no draft yet: no version of its own

    def receive_suggestions(self, article_id: str, spans: Sequence[Span], tokens: str = "") -> Result:
        """The model's suggestions for an article (and its tokens, encoded): cached in the store (an
        article is parsed once per model version), then shown where they overlap nothing already there."""
        outcome: Result = None
        if self.model is not None:
            try:
                self.store.save_suggestions([Suggestions(article_id, self.model, tuple(spans), tokens=tokens)])
            except StoreError as error:
                outcome = failed(f"suggestions not cached: {error}")
        self.add_suggestions(article_id, spans)
        draft = self._drafts.get(article_id)
        if tokens and draft is not None and draft.tokens is None:
            self._take_encoded_tokens(draft, tokens)
        return outcome

    def suggestions_failed(self, article_id: str) -> None:
        """The model could not suggest (it failed to load): the article is annotated by hand."""
        draft = self._drafts.get(article_id)
        if draft is not None:
            draft.suggestions_pending = False

    @property
    def read_only(self) -> bool:
        """The database is open for looking only: every change is refused."""
        return self.store.read_only

    def take_notices(self) -> list[str]:
        """What the store has to say and has not said yet (on opening: a read-only DB, a crash's leftovers)."""
        return self.store.take_notices()

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
        self.accepted_here += answer is Answer.ACCEPT
        return self._after_answer()

    def _after_answer(self) -> Result:
        missing = self.answered.next_missing(self.index)
        if missing is not None:
            self.go_to(missing)
            return None
        if self.index + 1 < len(self.articles):
            self.go_to(self.index + 1)
        return done("the article is answered" if len(self.articles) == 1 else f"all {len(self.articles):,} articles are answered")

    def go_to_query(self, query: str) -> Result:
        """Go-to: a number is that article (never a title with the digit in it); text, the next title holding it."""
        query = query.strip()
        if query.isdigit():
            return self.go_to(int(query) - 1)
        index = self.find_article(query)
        return refused(f"no article title has {query!r} in it") if index is None else self.go_to(index)

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
