"""The smallest Textual app a terminal annotator could be: the article's start in a Static, 30
one-line Statics under it, a Footer; `j` moves a highlight down one row, `k` up. The terminal
benchmark measures goldspan's keys, start and quit against it, in the same run.

    python minimal_app.py ARTICLE_FILE
"""

from __future__ import annotations

import sys

from textual.app import App, ComposeResult
from textual.widgets import Footer, Static

ROWS = 30


class Minimal(App[None]):
    BINDINGS = [("j", "move(1)", "down"), ("k", "move(-1)", "up"), ("q", "quit", "quit")]
    CSS = "#article { height: 8; } .row { height: 1; } .row.-on { background: $accent; }"

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.at = 0

    def compose(self) -> ComposeResult:
        yield Static(self.text[:2000], id="article")
        for i, line in enumerate(self.text.splitlines()[:ROWS]):
            yield Static(line[:100] or " ", classes="row" + (" -on" if i == 0 else ""))
        yield Footer()

    def action_move(self, step: int) -> None:
        rows = list(self.query(".row"))
        rows[self.at].remove_class("-on")
        self.at = (self.at + step) % len(rows)
        rows[self.at].add_class("-on")


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        Minimal(f.read()).run()
