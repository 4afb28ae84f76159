"""Undo, redo and saving: every change is a step that can be taken back, and reaches the disk before it is shown as saved."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from ..datamodel import Annotation, Answer, Edit, Span, make_edit, now_iso
from ..errors import StoreError
from ..words import plural
from .outcome import READ_ONLY, done, not_saved, refused
from .state import Change, Draft, Result, editing

if TYPE_CHECKING:
    from .session import Session as _Session
else:
    _Session = object  # the parts of Session: each sees the whole of it when type-checked


class History(_Session):
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
            moved = self.go_to(index)
            if self.index != index:  # refused (a queue's session goes only where the queue sends it)
                return moved
        spans, answer = state
        return self._write(spans, answer, focus) or done(said)

    # -- saving ----------------------------------------------------------------------------

    def note_for(self, draft: Draft) -> str:
        """A note stored with the record; the review session says which versions it came from."""
        return ""

    @editing
    def save_again(self) -> Result:
        """Retry the saves that failed (a full disk, say), once the cause is fixed."""
        pending = sorted(((self.articles.row_of(article_id) or 0, d) for article_id, d in self._drafts.items() if d.unsaved), key=lambda p: p[0])
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
            active_seconds=draft.active_seconds,
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
