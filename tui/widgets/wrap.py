"""Word-wrapping an article into screen rows, in terminal cells, with a label tag after each entity.

Like Textual's WrappedDocument, this keeps only offsets: each row is a tuple of pieces that point
into the text (or name a tag), plus lookup tables from rows to blocks. Styles are applied at render
time from the offsets, never stored.

The text is cut into blocks, a paragraph each, and a paragraph longer than ``BLOCK_CHARS`` is cut
at spaces into several, so no block costs much to wrap. A block is wrapped when a row of it is
first asked for; until then its row count is an estimate from its length. An article up to
``EAGER_CHARS`` is wrapped whole at once (exact from the start); a 20 MB one shows its first
screen at once and wraps the rest as it is scrolled to. Wrapping a block can change its row count
and so move every row below it: ``shifted_from`` tells the view which rows moved. A change to the
spans re-wraps only the blocks it touches; a resize re-wraps from scratch.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import accumulate
from operator import attrgetter, le
from typing import Iterator, Sequence

from rich.cells import cell_len, get_character_cell_size

from goldspan.annotations.datamodel import Span
from goldspan.annotations.stretch import changed_stretch

# Article bytes must never reach the terminal as control sequences: each control character is
# drawn as one visible cell (Unicode "control pictures"), keeping one cell per character.
_CONTROL = {i: chr(0x2400 + i) for i in range(32)} | {0x7F: "\u2421", 0x09: " "}
_CONTROL |= {i: "\ufffd" for i in range(0x80, 0xA0)}


_WORD = re.compile(r"\S+")
_NEEDS_TRANSLATING = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # what _CONTROL changes, bar newlines (never drawn)

BLOCK_CHARS = 2_000
EAGER_CHARS = 100_000
TAG_CELLS = 7  # an entity's tag, on average, in estimates of rows not wrapped yet
PAGE_ROWS = 120  # rows wrapped ahead of (and kept exact above) the row asked for: more than a screen


def visible(text: str) -> str:
    """The text as it is drawn: same length, control characters made inert and visible."""
    return text.translate(_CONTROL)


@dataclass(frozen=True, slots=True)
class Piece:
    """Characters ``start..end`` of the text, or (``tag`` set) the label tag of the span starting at ``span_start``.

    A tag names its span by offset, not by index: adding or removing an entity shifts the indices
    of all later spans, and the rows of blocks it did not touch are kept as they are.
    """

    start: int
    end: int
    tag: str = ""
    span_start: int = -1


Row = tuple[Piece, ...]


def tag_text(label: str) -> str:
    return f" {label} "


def blocks_of(text: str, block_chars: int = BLOCK_CHARS) -> Iterator[tuple[int, int]]:
    """(start, end) of each paragraph, the long ones cut after a space (or anywhere, if none is near)."""
    start = 0
    while True:
        newline = text.find("\n", start)
        end = len(text) if newline < 0 else newline
        while end - start > block_chars:
            cut = text.rfind(" ", start + block_chars // 2, start + block_chars)
            cut = start + block_chars if cut < 0 else cut + 1
            yield start, cut
            start = cut
        yield start, end
        if newline < 0:
            return
        start = newline + 1


class WrappedArticle:
    def __init__(
        self, text: str, spans: Sequence[Span], width: int, *, eager_chars: int = EAGER_CHARS, block_chars: int = BLOCK_CHARS
    ) -> None:
        self.text = text
        # Translating 20 MB takes seconds: most texts need none, the rest is translated a block at a time.
        self._plain = _NEEDS_TRANSLATING.search(text) is None
        self.width = max(4, width)
        self.blocks = list(blocks_of(text, block_chars))
        self._block_starts = [b[0] for b in self.blocks]
        self._paragraph_starts = [0, *(m.end() for m in re.finditer("\n", text))]
        self._set_spans(spans)
        self.rows: list[list[Row] | None] = [None] * len(self.blocks)
        self._counts = [self._estimate(b) for b in range(len(self.blocks))]
        if len(text) <= eager_chars:
            for b in range(len(self.blocks)):
                self._wrap_block(b)
        self._first_row = [0, *accumulate(self._counts)]
        self.shifted_from: int | None = None  # the first row that moved since the view last looked

    # -- lookups -----------------------------------------------------------------------

    @property
    def span_starts(self) -> list[int]:
        """Where each span starts, in order (kept up to date edit by edit: never rebuilt for a key)."""
        return self._span_starts

    def shown_between(self, start: int, end: int) -> str:
        """Characters start..end as they are drawn (see ``visible``)."""
        return self.text[start:end] if self._plain else visible(self.text[start:end])

    @property
    def shown(self) -> str:
        return self.shown_between(0, len(self.text))

    @property
    def row_count(self) -> int:
        return self._first_row[-1]

    def row(self, y: int) -> tuple[int, Row]:
        """The paragraph and the pieces of screen row ``y`` (no pieces past the end)."""
        block = self._block_at_row(y)
        while self.rows[block] is None:
            self._wrap_ahead(block)
            block = self._block_at_row(y)
        rows = self.rows[block]
        assert rows is not None
        index = y - self._first_row[block]
        if not 0 <= index < len(rows):
            return self._paragraph_of(self.blocks[block][0]), ()
        return self._paragraph_of(self.blocks[block][0]), rows[index]

    def row_of_offset(self, offset: int) -> int:
        block = self._block_of(offset)
        self._wrap_above(block)
        rows = self.rows[block]
        assert rows is not None
        for i, row in enumerate(rows):
            text_pieces = [p for p in row if not p.tag]
            if text_pieces and offset < text_pieces[-1].end:
                return self._first_row[block] + i
        return self._first_row[block] + len(rows) - 1

    def offset_at(self, y: int, x: int) -> int | None:
        """The character under cell ``x`` of row ``y`` (None past the text or on a tag)."""
        if not 0 <= y < self.row_count:
            return None
        _, row = self.row(y)
        cell = 0
        for piece in row:
            if piece.tag:
                cell += cell_len(tag_text(piece.tag))
                if x < cell:
                    return None
                continue
            for offset, char in enumerate(self.shown_between(piece.start, piece.end), piece.start):
                cell += get_character_cell_size(char)
                if x < cell:
                    return offset
        return None

    def rows_of(self, start: int, end: int) -> range:
        """The screen rows showing characters start..end."""
        return range(self.row_of_offset(start), self.row_of_offset(max(start, end - 1)) + 1)

    # -- changes -------------------------------------------------------------------------

    def update_spans(self, spans: Sequence[Span], stretch: tuple[int, int, int] | None = None) -> tuple[int, int] | None:
        """Re-wrap only the blocks whose spans changed; the rows to redraw, or None.

        Both lists are sorted and an edit keeps the untouched Span objects, so the changed stretch is
        found by identity (``changed_stretch``, in C): no hashing or walking of thousands of spans.
        ``stretch``, if given, is that stretch as the session already found it.
        """
        old, new = self.spans, spans  # the session keeps its spans sorted, and never changes a version in place
        if stretch is None or len(old) - stretch[1] != len(new) - stretch[2]:
            stretch = changed_stretch(old, new)
        head, old_stop, new_stop = stretch
        changed = [*old[head:old_stop], *new[head:new_stop]]
        if not changed:
            self.spans = new
            return None
        self._splice_spans(new, head, old_stop, new_stop)
        first = self._block_of(min(s.start for s in changed))
        last = self._block_of(max(s.end for s in changed) - 1)
        before = self.rows[first : last + 1]
        moved = False
        for block in range(first, last + 1):
            if self.rows[block] is not None:  # a block not wrapped yet will be wrapped with the new spans
                moved |= self._wrap_block(block)
        if moved:
            self._reindex(first)
            self.shifted_from = None  # the caller redraws everything below anyway
            return (self._first_row[first], self.row_count)
        # The rows that look different: those the re-wrap changed, and those of the changed entities
        # (their colour is the label's). A relabel whose tag is as wide as the old one is one row, not
        # its whole paragraph: the rest of it is redrawn only if it reflowed.
        # One lookup for the stretch from the first changed entity to the last (its tag, wrapped or
        # not, is at its end + 1): a lookup per entity made `*` over 1,421 mentions wrap the whole
        # article (290 ms at 50,000 words), where the rows asked for are one range anyway.
        shifted = self.shifted_from
        entity_rows = self.rows_of(min(s.start for s in changed), max(s.end for s in changed) + 1)
        if self.shifted_from != shifted:  # finding them wrapped blocks above, which moved: redraw it all below
            return (self._first_row[first], self.row_count)
        lo, hi = entity_rows.start, entity_rows.stop - 1
        for block, old_rows in zip(range(first, last + 1), before):
            new_rows = self.rows[block]
            if old_rows is None or new_rows is None:
                continue
            for i, (was, now) in enumerate(zip(old_rows, new_rows)):
                if was != now:
                    lo, hi = min(lo, self._first_row[block] + i), max(hi, self._first_row[block] + i)
        return (lo, hi + 1)

    def _set_spans(self, spans: Sequence[Span]) -> None:
        self.spans = sorted(spans, key=attrgetter("start", "end"))
        self._span_starts = [s.start for s in self.spans]
        self._span_ends = [s.end for s in self.spans]
        self._ends_sorted = all(map(le, self._span_ends, self._span_ends[1:]))  # unless spans overlap

    def _splice_spans(self, new: Sequence[Span], head: int, old_stop: int, new_stop: int) -> None:
        """Take in an edit of spans[head:old_stop] (now new[head:new_stop]) without touching the rest."""
        middle = new[head:new_stop]
        self._span_starts[head:old_stop] = [s.start for s in middle]
        self._span_ends[head:old_stop] = [s.end for s in middle]
        starts = self._span_starts[max(0, head - 1) : new_stop + 1]
        if not all(map(le, starts, starts[1:])):  # not in reading order after all: sort the lot
            self._set_spans(new)
            return
        self.spans = new
        ends = self._span_ends[max(0, head - 1) : new_stop + 1]
        self._ends_sorted = self._ends_sorted and all(map(le, ends, ends[1:]))

    def _block_of(self, offset: int) -> int:
        return max(0, bisect_right(self._block_starts, offset) - 1)

    def _paragraph_of(self, offset: int) -> int:
        return max(0, bisect_right(self._paragraph_starts, offset) - 1)

    def _block_at_row(self, y: int) -> int:
        return min(len(self.blocks) - 1, max(0, bisect_right(self._first_row, y) - 1))

    # -- wrapping on demand ----------------------------------------------------------------

    def _estimate(self, block: int) -> int:
        start, end = self.blocks[block]
        # Its characters and its entities' tags (" PERSON ": 7 cells on average in news), of which a
        # 50,000-word article has 12,265: without them the estimate was 8-14 % short (now within 3 %),
        # and the row count rose as rows were first drawn, changing the view's size (a layout).
        tags = bisect_left(self._span_starts, end) - bisect_left(self._span_starts, start)
        cells = end - start + TAG_CELLS * tags
        return 1 if cells <= self.width else -(-cells * 104 // (100 * self.width))  # words waste ~4% of a row

    def _wrap_block(self, block: int) -> bool:
        """Wrap one block exactly; True when its row count changed."""
        rows = self._wrap(block)
        self.rows[block] = rows
        moved = len(rows) != self._counts[block]
        self._counts[block] = len(rows)
        return moved

    def _wrap_ahead(self, block: int) -> None:
        """Wrap ``block`` and the blocks after it not yet wrapped, a page of rows in all."""
        end, rows, moved = block, 0, False
        while end < len(self.blocks) and rows < PAGE_ROWS:
            if self.rows[end] is None:
                moved |= self._wrap_block(end)
            rows += self._counts[end]
            end += 1
        if moved:
            self._moved(block)

    def wrap_rows(self, first: int, stop: int) -> None:
        """Make rows ``first`` to ``stop`` exact (their blocks wrapped), as drawing them would."""
        y = first
        while y < min(stop, self.row_count):
            block = self._block_at_row(y)
            if self.rows[block] is None:
                self._wrap_ahead(block)
            y = max(y + 1, self._first_row[block] + self._counts[block])

    def _wrap_above(self, block: int) -> None:
        """Make the block and a page of rows above it exact, so the rows around an offset stay put."""
        first, rows, moved = block, 0, False
        while first >= 0 and rows < PAGE_ROWS:
            if self.rows[first] is None:
                moved |= self._wrap_block(first)
            rows += self._counts[first]
            first -= 1
        if moved:
            self._moved(max(0, first))

    def _moved(self, block: int) -> None:
        self._reindex(block)
        row = self._first_row[block]
        self.shifted_from = row if self.shifted_from is None else min(self.shifted_from, row)

    def _reindex(self, block: int) -> None:
        self._first_row[block + 1 :] = list(accumulate(self._counts[block:], initial=self._first_row[block]))[1:]

    # -- wrapping ------------------------------------------------------------------------

    def _tags(self, block: int) -> dict[int, int]:
        """Where in the block each entity's tag goes (its end), to the span's index.

        A span ending at the newline after a block (or at the block's cut) has its tag in that block.
        """
        start, end = self.blocks[block]
        limit = self._block_starts[block + 1] if block + 1 < len(self.blocks) else len(self.text)
        if self._ends_sorted:
            found: Iterator[int] = iter(range(bisect_right(self._span_ends, start), bisect_right(self._span_ends, limit)))
        else:
            found = (i for i, e in enumerate(self._span_ends) if start < e <= limit)
        return {min(self._span_ends[i], end): i for i in found}

    def _units(self, block: int) -> list[Piece]:
        """Unbreakable pieces: a word with the spaces after it, cut where an entity ends (its tag follows)."""
        start, end = self.blocks[block]
        tags = self._tags(block)
        cuts = {m.start() for m in _WORD.finditer(self.text, start, end)} | set(tags) | {start, end}
        units: list[Piece] = []
        ordered = sorted(cuts)
        for left, right in zip(ordered, ordered[1:]):
            if left in tags:
                units.append(Piece(left, left, tag=self.spans[tags[left]].label, span_start=self.spans[tags[left]].start))
            units.append(Piece(left, right))
        if end in tags:
            units.append(Piece(end, end, tag=self.spans[tags[end]].label, span_start=self.spans[tags[end]].start))
        return units

    def _wrap(self, block: int) -> list[Row]:
        width = self.width
        base = self.blocks[block][0]
        shown = self.shown_between(base, self.blocks[block][1])

        def cells(piece: Piece) -> int:
            return cell_len(shown[piece.start - base : piece.end - base])

        rows: list[Row] = []
        row: list[Piece] = []
        used = 0
        for unit in self._units(block):
            if unit.tag:
                size = cell_len(tag_text(unit.tag))
            else:
                size = cells(unit)
                # Trailing spaces may hang past the edge; only the word itself must fit.
                visible_size = cell_len(shown[unit.start - base : unit.end - base].rstrip())
                if row and used + visible_size > width:
                    rows.append(tuple(row))
                    row, used = [], 0
                if visible_size > width:  # a word wider than the pane: cut it by cells
                    for piece in self._split(unit, width - used, shown, base):
                        if row and used + cells(piece) > width:
                            rows.append(tuple(row))
                            row, used = [], 0
                        row.append(piece)
                        used += cells(piece)
                    continue
                row.append(unit)
                used += size
                continue
            if row and used + size > width:
                # Keep the tag beside the end of its entity: carry the entity's last piece over with it.
                carried = [row.pop()] if len(row) > 1 and not row[-1].tag and row[-1].end == unit.start else []
                rows.append(tuple(row))
                row, used = carried, sum(cells(p) for p in carried)
            row.append(unit)
            used += size
        rows.append(tuple(row))
        return rows

    def _split(self, unit: Piece, first_width: int, shown: str, base: int) -> list[Piece]:
        pieces, start, used = [], unit.start, 0
        limit = first_width if first_width > 0 else self.width
        for offset in range(unit.start, unit.end):
            size = get_character_cell_size(shown[offset - base])
            if used + size > limit and offset > start:
                pieces.append(Piece(start, offset))
                start, used, limit = offset, 0, self.width
            used += size
        pieces.append(Piece(start, unit.end))
        return pieces
