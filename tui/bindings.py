"""What each key does: the action ids of ``keymap`` mapped to typed calls on the session, and the
Textual ``Binding``s that carry them (one per action, with its id, so a keymap file can move it).

A key reaches the screen as ``run('<action id>')``; the screen looks the id up here (session
calls) or in its own table (dialogs, search, quit). A reader can go from a key to its code.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

from textual.binding import Binding

from goldspan.annotations.datamodel import Answer
from goldspan.annotations.session.session import Result, Session

from .keymap import ACTIONS, Action

SessionCall = Callable[[Session], Result]

SESSION_ACTIONS: Mapping[str, SessionCall] = {
    "next_entity": Session.focus_next,
    "previous_entity": Session.focus_previous,
    "confirm": Session.confirm,
    "remove": Session.remove,
    "start_left": lambda s: s.move_boundary("start", -1),
    "start_right": lambda s: s.move_boundary("start", 1),
    "end_left": lambda s: s.move_boundary("end", -1),
    "end_right": lambda s: s.move_boundary("end", 1),
    "cursor_left": lambda s: s.move_cursor(-1),
    "cursor_right": lambda s: s.move_cursor(1),
    "word_right": lambda s: s.move_word(1),
    "word_left": lambda s: s.move_word(-1),
    "begin_span": Session.begin_span,
    "every_mention": Session.begin_every_mention,
    "cancel": Session.cancel,
    "undo": Session.undo,
    "redo": Session.redo,
    "accept": lambda s: s.answer(Answer.ACCEPT),
    "reject": lambda s: s.answer(Answer.REJECT),
    "skip": lambda s: s.answer(Answer.IGNORE),
    "next_article": lambda s: s.next_article(),  # through the instance: a queue's session decides itself
    "previous_article": lambda s: s.previous_article(),
    "save_again": Session.save_again,
    "flag": Session.toggle_flag,
}


def screen_bindings(actions: Sequence[Action] = ACTIONS) -> list[Binding]:
    """One Binding per action; actions of one group sit side by side in the footer under one name
    (``[]{} ends``)."""
    groups = {a.group: Binding.Group(a.group, compact=True) for a in actions if a.group}
    return [
        Binding(",".join(a.keys), f"run('{a.id}')", a.footer or a.description, show=bool(a.footer or a.group), id=a.id,
                group=groups.get(a.group))  # fmt: skip
        for a in actions
    ]
