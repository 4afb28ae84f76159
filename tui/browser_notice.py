"""What a command says instead of opening its screen (an error, "nothing left"), shown in the browser
tab when it runs there (``goldspan serve``; ``cli.in_browser``): a tab has no terminal to print to,
and textual-serve reads the process's output as its own protocol."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Static

class NoticeApp(App[None]):
    CSS = "Static { margin: 1 2; }"
    BINDINGS = [Binding("q", "quit", "close"), Binding("ctrl+c", "quit", show=False)]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble((self.message, "bold"), "\n\nq closes this session; reload the page to start again."))


def show_in_browser(message: str) -> None:
    NoticeApp(message).run()
