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
    version: tuple[str, int] | None = None  # (article, the session's version of its spans)
    stretch: tuple[int, int, int] | None = None  # where these spans differ from the version before (an Edit's stretch)


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
        old, self.state = self.state, state
        size = Size(self.scrollable_content_region.width, max(1, len(state.spans)))
        resized = self.virtual_size != size
        if resized:
            self.virtual_size = size
        top = round(self.scroll_offset.y)
        if state.focus is not None:
            height = self.size.height
            if height and not top <= state.focus < top + height:
                self.scroll_to(y=self._top_for(state.focus, top, height), animate=False, immediate=True)
        rows = self._changed_rows(old, state)
        if resized or rows is None or round(self.scroll_offset.y) != top:
            self.refresh()
        else:  # only the rows that changed: a focus move is two rows, not the whole list
            for first, stop in rows:
                self.refresh_lines(first, stop - first)

    @staticmethod
    def _top_for(focus: int, top: int, height: int) -> int:
        """The first row to show so that ``focus`` is in sight. Stepping past an edge turns the page, as
        mutt's index and ``less`` do, keeping one row of the last page: a scroll redraws every row of
        the list, so it comes once a page of keys, not once every half page (a jump is centred)."""
        if top + height <= focus < top + 2 * height - 1:
            return focus - 1
        if top - height + 1 <= focus < top:
            return max(0, focus - height + 2)
        return max(0, focus - height // 2)

    @staticmethod
    def _changed_rows(old: ListState, new: ListState) -> list[tuple[int, int]] | None:
        """The rows that look different in ``new`` than in ``old``; None: all of them."""
        if (old.text, old.pending) != (new.text, new.pending):
            return None
        rows = [(f, f + 1) for f in {old.focus, new.focus} if f is not None]
        if new.version is None or old.version != new.version:  # the same version: the same spans
            stretch = new.stretch
            follows = old.version is not None and new.version is not None and new.version == (old.version[0], old.version[1] + 1)
            if not follows or stretch is None or len(old.spans) != len(new.spans) or stretch[1] != stretch[2]:
                return None  # an entity added or removed: every row below it moved
            rows.append((stretch[0], stretch[2]))
        return rows

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
        # The model's calibrated confidence, quietly: what --order uncertain and teach order by.
        score = "" if span.score is None else f"{span.score:.2f} "
        words = " ".join(visible(span.text_in(self.state.text)).split())
        room = max(1, width - cell_len(label) - cell_len(mark) - len(score) - 1)
        base = Style(reverse=True, bold=True) if focused else Style()
        colour = self.colours.get(span.label)
        label_style = Style(color=colour, reverse=True, bold=True) if colour else Style(reverse=True)
        segments = [
            Segment(mark, base + Style(dim=span.state is SpanState.SUGGESTED)),
            Segment(fit(words, room) + " ", base),
            Segment(score, base + Style(dim=True)),
            Segment(label, base + label_style),
        ]
        return Strip(segments).crop_extend(0, width, None)

    def on_click(self, event: Click) -> None:
        index = round(self.scroll_offset.y) + event.y
        if 0 <= index < len(self.state.spans):
            self.post_message(self.Clicked(index))
