"""A few lines of text that redraw only the rows that changed: the label panel, the review's differences.

A ``Static`` redraws all of itself on every update; a label key changes two counts of an
eight-row panel, and over SSH each redrawn row is a row of cells sent again. Lines longer than the
widget wrap, as in a ``Static``.
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget


class TextLines(Widget):
    DEFAULT_CSS = "TextLines { height: auto; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Text()
        self._rows: list[Text] = []  # the text wrapped at ``_rows_width``
        self._rows_width = -1
        self._strips: dict[int, Strip] = {}

    @property
    def text(self) -> Text:
        """What it shows, before wrapping."""
        return self._text

    def show(self, text: Text) -> None:
        """Show ``text``, redrawing only the rows that differ from what is shown."""
        width = self.content_size.width
        old = self._rows if self._rows_width == width else None
        self._text = text
        self._rows_width = -1
        rows = self._wrap(width)
        if old is None or len(old) != len(rows):
            self.refresh(layout=True)  # its height follows its rows
            return
        for y, (before, after) in enumerate(zip(old, rows)):
            if before != after:
                self.refresh(Region(0, y, width, 1))

    def _wrap(self, width: int) -> list[Text]:
        if width != self._rows_width:
            self._rows = list(self._text.wrap(self.app.console, width, overflow="fold")) if width > 0 and self._text.plain else []
            self._rows_width = width
            self._strips.clear()
        return self._rows

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._wrap(width))

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        rows = self._wrap(width)
        strip = self._strips.get(y)
        if strip is None:
            row = rows[y] if y < len(rows) else Text()
            strip = Strip(row.render(self.app.console, end="")).crop_extend(0, width, None).apply_style(self.rich_style)
            self._strips[y] = strip
        return strip
