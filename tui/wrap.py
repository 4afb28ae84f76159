"""Word-wrapping an article into screen rows, in terminal cells, with a label tag after each entity.

Like Textual's WrappedDocument, this keeps only offsets: each row is a tuple of pieces that point
into the text (or name a tag), plus lookup tables from rows to paragraphs. A change to the spans
re-wraps only the paragraphs it touches; a resize re-wraps everything once. Styles are applied at
render time from the offsets, never stored.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import accumulate
from typing import Sequence

from rich.cells import cell_len, get_character_cell_size

from goldspan.annotations.datamodel import Span

# Article bytes must never reach the terminal as control sequences: each control character is
# drawn as one visible cell (Unicode "control pictures"), keeping one cell per character.
_CONTROL = {i: chr(0x2400 + i) for i in range(32)} | {0x7F: "\u2421", 0x09: " "}
_CONTROL |= {i: "\ufffd" for i in range(0x80, 0xA0)}


_WORD = re.compile(r"\S+")


def visible(text: str) -> str:
    """The text as it is drawn: same length, control characters made inert and visible."""
    return text.translate(_CONTROL)


@dataclass(frozen=True, slots=True)
class Piece:
    """Characters ``start..end`` of the text, or (``tag`` set) the label tag of span ``span``."""

    start: int
    end: int
    tag: str = ""
    span: int = -1


Row = tuple[Piece, ...]


def tag_text(label: str) -> str:
    return f" {label} "


class WrappedArticle:
    def __init__(self, text: str, spans: Sequence[Span], width: int) -> None:
        self.text = text
        self.shown = visible(text)
        self.width = max(4, width)
        self.paragraphs: list[tuple[int, int]] = []
        start = 0
        for line in text.split("\n"):
            self.paragraphs.append((start, start + len(line)))
            start += len(line) + 1
        self._paragraph_starts = [p[0] for p in self.paragraphs]
        self._set_spans(spans)
        self.rows: list[list[Row]] = [self._wrap(i) for i in range(len(self.paragraphs))]
        self._reindex()

    # -- lookups -----------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return self._first_row[-1]

    def row(self, y: int) -> tuple[int, Row]:
        """The paragraph and the pieces of screen row ``y``."""
        paragraph = bisect_right(self._first_row, y) - 1
        return paragraph, self.rows[paragraph][y - self._first_row[paragraph]]

    def row_of_offset(self, offset: int) -> int:
        paragraph = max(0, bisect_right(self._paragraph_starts, offset) - 1)
        rows = self.rows[paragraph]
        for i, row in enumerate(rows):
            text_pieces = [p for p in row if not p.tag]
            if text_pieces and offset < text_pieces[-1].end:
                return self._first_row[paragraph] + i
        return self._first_row[paragraph] + len(rows) - 1

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
            for offset in range(piece.start, piece.end):
                cell += get_character_cell_size(self.shown[offset])
                if x < cell:
                    return offset
        return None

    # -- changes -------------------------------------------------------------------------

    def update_spans(self, spans: Sequence[Span]) -> tuple[int, int] | None:
        """Re-wrap only the paragraphs whose spans changed.

        Both lists are sorted and an edit keeps the untouched Span objects, so the changed stretch is
        found by walking in from both ends comparing identities: no hashing of thousands of spans.
        """
        old, new = self.spans, list(spans)  # the session keeps its spans sorted
        head = 0
        while head < len(old) and head < len(new) and old[head] is new[head]:
            head += 1
        tail = 0
        while tail < len(old) - head and tail < len(new) - head and old[-1 - tail] is new[-1 - tail]:
            tail += 1
        changed = [*old[head : len(old) - tail], *new[head : len(new) - tail]]
        self.spans, self._span_starts = new, [s.start for s in new]
        if not changed:
            return None
        first = self._paragraph_of(min(s.start for s in changed))
        last = self._paragraph_of(max(s.end for s in changed) - 1)
        before = self.row_count
        for paragraph in range(first, last + 1):
            self.rows[paragraph] = self._wrap(paragraph)
        self._reindex()
        if self.row_count != before:
            return (0, self.row_count)  # rows below moved: all of them look different now
        return (self._first_row[first], self._first_row[last + 1])

    def rows_of(self, start: int, end: int) -> range:
        """The screen rows showing characters start..end."""
        return range(self.row_of_offset(start), self.row_of_offset(max(start, end - 1)) + 1)

    def _set_spans(self, spans: Sequence[Span]) -> None:
        self.spans = sorted(spans)
        self._span_starts = [s.start for s in self.spans]

    def _paragraph_of(self, offset: int) -> int:
        return max(0, bisect_right(self._paragraph_starts, offset) - 1)

    def _reindex(self) -> None:
        self._first_row = [0, *accumulate(len(rows) for rows in self.rows)]

    # -- wrapping ------------------------------------------------------------------------

    def _units(self, paragraph: int) -> list[Piece]:
        """Unbreakable pieces: a word with the spaces after it, cut where an entity ends (its tag follows)."""
        start, end = self.paragraphs[paragraph]
        first = bisect_left(self._span_starts, start)
        last = bisect_right(self._span_starts, end)
        tags = {self.spans[i].end: i for i in range(first, last) if self.spans[i].end <= end}
        cuts = {m.start() for m in _WORD.finditer(self.text, start, end)} | set(tags) | {start, end}
        units: list[Piece] = []
        ordered = sorted(cuts)
        for left, right in zip(ordered, ordered[1:]):
            if left in tags:
                units.append(Piece(left, left, tag=self.spans[tags[left]].label, span=tags[left]))
            units.append(Piece(left, right))
        if end in tags:
            units.append(Piece(end, end, tag=self.spans[tags[end]].label, span=tags[end]))
        return units

    def _wrap(self, paragraph: int) -> list[Row]:
        width = self.width
        rows: list[Row] = []
        row: list[Piece] = []
        used = 0
        for unit in self._units(paragraph):
            if unit.tag:
                size = cell_len(tag_text(unit.tag))
            else:
                size = cell_len(self.shown[unit.start : unit.end])
                # Trailing spaces may hang past the edge; only the word itself must fit.
                visible_size = cell_len(self.shown[unit.start : unit.end].rstrip())
                if row and used + visible_size > width:
                    rows.append(tuple(row))
                    row, used = [], 0
                if visible_size > width:  # a word wider than the pane: cut it by cells
                    for piece in self._split(unit, width - used):
                        if row and used + cell_len(self.shown[piece.start : piece.end]) > width:
                            rows.append(tuple(row))
                            row, used = [], 0
                        row.append(piece)
                        used += cell_len(self.shown[piece.start : piece.end])
                    continue
                row.append(unit)
                used += size
                continue
            if row and used + size > width:
                # Keep the tag beside the end of its entity: carry the entity's last piece over with it.
                carried = [row.pop()] if len(row) > 1 and not row[-1].tag and row[-1].end == unit.start else []
                rows.append(tuple(row))
                row, used = carried, sum(cell_len(self.shown[p.start : p.end]) for p in carried)
            row.append(unit)
            used += size
        rows.append(tuple(row))
        return rows

    def _split(self, unit: Piece, first_width: int) -> list[Piece]:
        pieces, start, used = [], unit.start, 0
        limit = first_width if first_width > 0 else self.width
        for offset in range(unit.start, unit.end):
            size = get_character_cell_size(self.shown[offset])
            if used + size > limit and offset > start:
                pieces.append(Piece(start, offset))
                start, used, limit = offset, 0, self.width
            used += size
        pieces.append(Piece(start, unit.end))
        return pieces
