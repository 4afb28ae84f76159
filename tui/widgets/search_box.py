"""The search box: an Input whose own keys are the ones the footer shows while it has the keyboard."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class SearchBox(Input):
    BINDINGS = [
        Binding("enter", "submit", "next hit"),
        Binding("escape", "leave", "leave search"),
        # The app's ctrl+c quits from anywhere; this one, a priority binding too, is what the footer shows here.
        Binding("ctrl+c", "app.quit_now", "quit", priority=True),
    ]

    class Left(Message):
        """Escape: the search is over."""

    def action_leave(self) -> None:
        self.post_message(self.Left())
