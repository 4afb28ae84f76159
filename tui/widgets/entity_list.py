"""The current article's entities in reading order, one row each, in sync with the focus.

Also a Line API ``ScrollView``: an article with thousands of entities renders only the rows in view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from goldspan.annotations.datamodel import Span, SpanState

from .wrap import visible

STATE_MARK = {SpanState.SUGGESTED: "·", SpanState.CONFIRMED: "✓", SpanState.EDITED: "✎", SpanState.ADDED: "+"}


def fit(words: str, room: int) -> str:
    """``words`` in exactly ``room`` cells: padded, or cut with an ellipsis that says there is more."""
    if cell_len(words) <= room:
        return set_cell_size(words, room)
    return set_cell_size(words, room - 1) + "…" if room > 1 else "…"


@dataclass(frozen=True)
class ListState:
    text: str
    spans: tuple[Span, ...]
    focus: int | None
    pending: bool = False


class EntityList(ScrollView):
    DEFAULT_CSS = """
    EntityList { background: $surface; }
    """

    class Clicked(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, colours: Mapping[str, str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.colours = dict(colours)
        self.state = ListState("", (), None)
        # A row's strip by its span and whether it has the focus: a key redraws the list, but only a
        # changed span or a move of the focus makes a row that was not drawn before.
        self._rows: LRUCache[tuple[Span, bool], Strip] = LRUCache(1024)
        self._rows_for: tuple[str, int] = ("", 0)  # the article text and width those rows were drawn for

    def show(self, state: ListState) -> None:
        self.state = state
        self.virtual_size = Size(self.scrollable_content_region.width, max(1, len(state.spans)))
        if state.focus is not None:
            top, height = round(self.scroll_offset.y), self.size.height
            if height and not top <= state.focus < top + height:
                self.scroll_to(y=max(0, state.focus - height // 2), animate=False, immediate=True)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        index = round(self.scroll_offset.y) + y
        width = self.scrollable_content_region.width
        state = self.state
        if not state.spans:
            note = "suggestions are on their way…" if state.pending and index == 0 else ("no entities yet" if index == 0 else "")
            return Strip([Segment(set_cell_size(note, width), Style(dim=True))])
        if index >= len(state.spans):
            return Strip.blank(width)
        span = state.spans[index]
        focused = index == state.focus
        if self._rows_for != (state.text, width):
            self._rows.clear()
            self._rows_for = (state.text, width)
        strip = self._rows.get((span, focused))
        if strip is None:
            strip = self._rows[(span, focused)] = self._render_row(span, focused, width)
        return strip

    def _render_row(self, span: Span, focused: bool, width: int) -> Strip:
        label = f" {span.label} "
        mark = f" {STATE_MARK[span.state]} "
        words = " ".join(visible(span.text_in(self.state.text)).split())
        room = max(1, width - cell_len(label) - cell_len(mark) - 1)
        base = Style(reverse=True, bold=True) if focused else Style()
        colour = self.colours.get(span.label)
        label_style = Style(color=colour, reverse=True, bold=True) if colour else Style(reverse=True)
        segments = [
            Segment(mark, base + Style(dim=span.state is SpanState.SUGGESTED)),
            Segment(fit(words, room) + " ", base),
            Segment(label, base + label_style),
        ]
        return Strip(segments).crop_extend(0, width, None)

    def on_click(self, event: Click) -> None:
        index = round(self.scroll_offset.y) + event.y
        if 0 <= index < len(self.state.spans):
            self.post_message(self.Clicked(index))
