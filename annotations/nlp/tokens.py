"""An article's spaCy tokens as character offsets, and the span arithmetic the editor needs.

Built once per article by spaCy's tokenizer (in a worker, see ``align``); everything here after
that is plain Python with binary search, so a key press never touches spaCy.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass


@dataclass(frozen=True)
class Tokens:
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.starts)

    def at_or_after(self, offset: int) -> int | None:
        """The token holding ``offset``, else the first token starting after it."""
        i = bisect_right(self.ends, offset)
        return i if i < len(self.starts) else None

    def chars(self, token_start: int, token_end: int) -> tuple[int, int]:
        """Character offsets of tokens [token_start, token_end)."""
        return self.starts[token_start], self.ends[token_end - 1]

    def is_word(self, text: str, index: int) -> bool:
        """A token that starts with a letter or digit: what `w` / `b` jump between."""
        return text[self.starts[index]].isalnum()
