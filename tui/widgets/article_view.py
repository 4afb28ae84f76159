"""The article, word-wrapped, with entities drawn in their label's colour and a tag after each.

A ``ScrollView`` on Textual's Line API, as ``textual.widgets.Log``: the virtual size is (width,
rows) and ``render_line`` builds the ``Strip`` of one visible row only, so a key costs the same on
a 50,000-word article as on a short one. Strips are cached until the state they show changes.
"""

from __future__ import annotations

import sys
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Mapping, Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.events import Click, Resize
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from goldspan.annotations.datamodel import Span
from goldspan.annotations.session.moving import find_all

from .wrap import EAGER_CHARS, WrappedArticle, tag_text

ENTITY_TEXT = Style(underline=True)
FOCUS = Style(reverse=True, bold=True)
CURSOR = Style(reverse=True)
SELECTION = Style(reverse=True, underline=True, italic=True)
SEARCH_HIT = Style(bold=True, underline=True, color="black", bgcolor="yellow")
TITLE = Style(bold=True)
MARKED = Style(overline=True, italic=True, bgcolor="grey30")


@dataclass(frozen=True)
class ViewState:
    """Everything that changes how a row looks; a new one clears the line cache."""

    article_id: str
    text: str
    spans: tuple[Span, ...]
    focus: int | None
    cursor: tuple[int, int] | None
    selection: tuple[int, int] | None
    query: str = ""
    title_paragraph: bool = True
    marks: tuple[tuple[int, int], ...] = ()  # stretches to flag (where review versions differ)
    version: tuple[str, int] | None = None  # (article, the session's version of its spans); None: compare nothing
    stretch: tuple[int, int, int] | None = None  # where these spans differ from the previous version's (changed_stretch)


class ArticleView(ScrollView, can_focus=True):
    # The scrollbar's gutter is always kept: the text is wrapped to one width whether or not a
    # scrollbar shows, so one appearing after the wrap (a real terminal's start-up) covers no text.
    DEFAULT_CSS = """
    ArticleView { background: $surface; padding: 0 1; scrollbar-gutter: stable; }
    """

    class Clicked(Message):
        def __init__(self, offset: int) -> None:
            super().__init__()
            self.offset = offset

    def __init__(self, colours: Mapping[str, str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.colours = dict(colours)
        self.state: ViewState | None = None
        self.wrapped: WrappedArticle | None = None
        self._cache: LRUCache[int, Strip] = LRUCache(1024)
        self._hits: list[tuple[int, int]] = []
        self._hit_starts: list[int] = []

    # -- state in --------------------------------------------------------------------------

    def show(self, state: ViewState) -> None:
        old = self.state
        self.state = state
        width = self._text_width()
        spans_changed = old is None or state.version is None or old.version != state.version
        if old is None or (old.text, old.query) != (state.text, state.query):
            self._hits = find_all(state.text, state.query)
            self._hit_starts = [a for a, _ in self._hits]
        rows_before = self.wrapped.row_count if self.wrapped is not None else 0
        if (
            self.wrapped is None
            or old is None
            or old.article_id != state.article_id
            or self.wrapped.width != width
            or (old.query, old.marks, old.title_paragraph) != (state.query, state.marks, state.title_paragraph)
        ):
            if self.wrapped is None or old is None or old.article_id != state.article_id or self.wrapped.width != width:
                # Before its first layout the view's width is a guess, and it is wrapped again once
                # known: only the rows asked for until then are wrapped, not a screenful ahead.
                eager = EAGER_CHARS if self.size.width else 0
                self.wrapped = WrappedArticle(state.text, state.spans, width, eager_chars=eager)
                if old is None or old.article_id != state.article_id:
                    self.scroll_to(0, 0, animate=False, immediate=True)
            self._cache.clear()
            changed = None  # all of it
        else:
            changed = self._forget_changed_rows(old, state, spans_changed)
            if self.wrapped.row_count != rows_before:  # the rows at the end that came or went
                tail = range(min(rows_before, self.wrapped.row_count), max(rows_before, self.wrapped.row_count))
                self._forget(tail)
                changed.append(tail)
        size = self._virtual_size()
        if self.virtual_size != size:
            self.virtual_size = size
            changed = None  # the scrollbar and all below move
        top = self.scroll_offset.y
        self._keep_in_sight()
        if changed is None or self.scroll_offset.y != top:
            self.refresh()
        else:
            # A key redraws only the rows it changed (the focus's old and new rows, an edit's): a
            # whole-view refresh sends the terminal every visible cell again (docs/performance.md).
            bottom = top + self.size.height + 1
            for stretch in changed:
                if stretch.start < bottom and stretch.stop > top:  # rows out of sight are drawn when scrolled to
                    self.refresh_lines(max(stretch.start, top), min(stretch.stop, bottom) - max(stretch.start, top))

    def _forget_changed_rows(self, old: ViewState, new: ViewState, spans_changed: bool) -> list[range]:
        """Drop from the line cache only the rows whose look this change touched; return them."""
        assert self.wrapped is not None
        rows: list[range] = []
        if spans_changed:
            follows = old.version is not None and new.version is not None and new.version == (old.version[0], old.version[1] + 1)
            changed = self.wrapped.update_spans(new.spans, new.stretch if follows else None)
            if changed is not None:
                rows.append(range(*changed))
        for state in (old, new):
            if state.focus is not None and state.focus < len(state.spans):
                span = state.spans[state.focus]
                rows.append(self.wrapped.rows_of(span.start, span.end + 1))  # + 1: its tag, alone on the next row if it wrapped
            for stretch in (state.cursor, state.selection):
                if stretch is not None:
                    rows.append(self.wrapped.rows_of(*stretch))
        for changed_rows in rows:
            self._forget(changed_rows)
        return rows

    def _forget(self, stretch: range) -> None:
        """Drop the cached rows in ``stretch``: row by row when it is short (a span's rows), else by
        scanning the cache (everything below an edit that moved rows)."""
        if len(stretch) <= len(self._cache):
            for row in stretch:
                self._cache.discard(row)
        else:
            for row in [row for row in self._cache.keys() if row in stretch]:
                self._cache.discard(row)

    def _take_shift(self, drawing: bool) -> None:
        """Forget the cached rows that moved because a block was wrapped on demand.

        While drawing, the rows below the block are drawn after it was wrapped, and only the size is
        synced, once the frame is done; otherwise the rows in sight may have moved: drawn again."""
        wrapped = self.wrapped
        if wrapped is None or wrapped.shifted_from is None:
            return
        first, wrapped.shifted_from = wrapped.shifted_from, None
        self._forget(range(first, sys.maxsize))  # every cached row from there down, however many there were
        if drawing:
            self.call_later(self._sync_size)  # not in the middle of Textual drawing this widget
        else:
            self._sync_size()
            self.refresh()

    def _virtual_size(self) -> Size:
        """The wrapped text's size, its row count kept as it is while the text's own stays within a
        slack of a sixth of the view below it (once the text does not fit).

        A new virtual size is a new layout of the whole screen in Textual: every widget drawn again,
        in two or three frames (60 ms and 25 KB at 120x40 and 50,000 words). An edit whose tag
        changes a paragraph's row count, and the first wrap of rows scrolled to, change the count
        by a row or two: with the slack, the size changes once the count has moved by a sixth of
        the view. Past the text's end the view can scroll up to a third of its height of blank
        rows, as editors scroll past the last line; at least two thirds of it always show text."""
        assert self.wrapped is not None
        rows = self.wrapped.row_count
        height = self.scrollable_content_region.height or self.size.height
        if height and rows > height:
            slack = max(1, height // 6)
            current = self.virtual_size.height
            rows = current if rows <= current <= rows + 2 * slack else rows + slack
        return Size(self.wrapped.width, rows)

    def _sync_size(self) -> None:
        # The width too: wrapped again in render_line for the real width, a view kept the guessed
        # one (80) as its virtual width, and showed a horizontal scrollbar until the first key.
        if self.wrapped is not None:
            size = self._virtual_size()
            if self.virtual_size != size:
                self.virtual_size = size

    def _text_width(self) -> int:
        return max(4, self.scrollable_content_region.width or self.size.width or 80)

    def on_resize(self, event: Resize) -> None:
        if self.state is not None and self.wrapped is not None and self.wrapped.width != self._text_width():
            self.show(self.state)
        else:
            self._sync_size()  # a new height: the text may fit now, or the slack below it changes

    def _keep_in_sight(self) -> None:
        state, wrapped = self.state, self.wrapped
        if state is None or wrapped is None:
            return
        if state.focus is not None and state.focus < len(state.spans):
            target = state.spans[state.focus].start
        elif state.selection is not None:
            target = state.cursor[0] if state.cursor else state.selection[0]
        elif state.cursor is not None:
            target = state.cursor[0]
        else:
            return
        row = wrapped.row_of_offset(target)
        self._take_shift(drawing=False)
        self._sync_size()
        height = self.scrollable_content_region.height or self.size.height
        top = round(self.scroll_offset.y)
        if height and not top <= row < top + height:
            self.scroll_to(y=max(0, row - height // 3), animate=False, immediate=True)
        # Every row in sight wrapped now, not while a key's few rows are drawn: a block first wrapped
        # then can move the rows below it, which that partial redraw would leave as they were.
        if height:
            wrapped.wrap_rows(round(self.scroll_offset.y), round(self.scroll_offset.y) + height)
            self._take_shift(drawing=False)

    # -- rendering ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        text_width = self._text_width()
        if self.state is not None and self.wrapped is not None and self.wrapped.width != text_width:
            # Wrapped for another width than it is drawn in: Textual does not always send a Resize once
            # the final size is known (seen at start-up in a real terminal), so it is checked here.
            self.wrapped = WrappedArticle(self.state.text, self.state.spans, text_width)
            self._cache.clear()
            self.call_later(self._sync_size)
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.scrollable_content_region.width or self.size.width
        strip = self._cache.get(row)
        if strip is None:
            strip = self._render_row(row)
            self._take_shift(drawing=True)  # wrapping this row's block may have moved the rows below it
            self._cache[row] = strip
        # No explicit base style: Textual paints the widget's own colours under every cell alike.
        return strip.crop_extend(scroll_x, scroll_x + width, None).apply_offsets(scroll_x, row)

    def _render_row(self, y: int) -> Strip:
        state, wrapped = self.state, self.wrapped
        if state is None or wrapped is None or y >= wrapped.row_count:
            return Strip.blank(0)
        paragraph, pieces = wrapped.row(y)
        text_pieces = [p for p in pieces if not p.tag]
        if not text_pieces:
            start = end = pieces[0].start if pieces else 0
        else:
            start, end = text_pieces[0].start, text_pieces[-1].end
        focus_start = state.spans[state.focus].start if state.focus is not None and state.focus < len(state.spans) else None
        # One Text for the row's characters, styled once, then cut where the tags go.
        row = Text(wrapped.shown_between(start, end), style=TITLE if paragraph == 0 and state.title_paragraph else "", no_wrap=True, end="")
        self._stylize(row, start, end, state, wrapped.spans, wrapped.span_starts, focus_start)
        cuts = [p.start - start for p in pieces if p.tag]
        parts = row.divide(cuts) if cuts else [row]
        console = self.app.console
        segments: list[Segment] = []
        tags = iter(p for p in pieces if p.tag)
        for i, part in enumerate(parts):
            segments.extend(part.render(console))
            if i < len(cuts):
                tag = next(tags)
                style = self._label_style(tag.tag, tag=True)
                if tag.span_start == focus_start:
                    style += Style(bold=True, underline=True)
                segments.append(Segment(tag_text(tag.tag), style))
        return Strip(segments)

    def _stylize(
        self, text: Text, start: int, end: int, state: ViewState, spans: Sequence[Span], starts: Sequence[int], focus_start: int | None
    ) -> None:
        def mark(a: int, b: int, style: Style) -> None:
            a, b = max(a, start), min(b, end)
            if a < b:
                text.stylize(style, a - start, b - start)

        first = max(0, bisect_right(starts, start) - 1)
        last = bisect_left(starts, end)
        for i in range(first, last):
            span = spans[i]
            mark(span.start, span.end, self._label_style(span.label, tag=False) + (FOCUS if span.start == focus_start else ENTITY_TEXT))
        for a, b in state.marks:
            if a < end and b > start:
                mark(a, b, MARKED)
        hits = self._hits
        for i in range(max(0, bisect_right(self._hit_starts, start) - 1), bisect_left(self._hit_starts, end)):
            mark(*hits[i], SEARCH_HIT)
        if state.selection is not None:
            mark(*state.selection, SELECTION)
        elif state.cursor is not None and state.focus is None:
            mark(*state.cursor, CURSOR)

    def _label_style(self, label: str, *, tag: bool) -> Style:
        colour = self.colours.get(label)
        if colour is None:  # a label outside this session's set (from an import): still visible
            return Style(reverse=True) if tag else Style(italic=True)
        # Reverse video, not a background colour, so tags still stand out with NO_COLOR set.
        return Style(color=colour, reverse=True, bold=True) if tag else Style(color=colour)

    # -- mouse -------------------------------------------------------------------------------

    def on_click(self, event: Click) -> None:
        if self.wrapped is None:
            return
        offset = self.wrapped.offset_at(round(self.scroll_offset.y) + event.y, round(self.scroll_offset.x) + event.x - 1)
        if offset is not None:
            self.post_message(self.Clicked(offset))
