"""An article's spaCy tokens as character offsets, and the span arithmetic the editor needs.

Built once per article by spaCy's tokenizer (in a worker, see ``align``); everything here after
that is plain Python with binary search, so a key press never touches spaCy.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from ..datamodel import Span


@dataclass(frozen=True)
class Tokens:
    """Each token's first and past-the-end character, in order. Kept as arrays of machine integers:
    as tuples of Python ints the 65,000 tokens of a 50,000-word article took 4.7 MB of the screen's
    memory, as arrays 1 MB."""

    starts: Sequence[int]
    ends: Sequence[int]

    def __post_init__(self) -> None:
        for name in ("starts", "ends"):
            if not isinstance(getattr(self, name), array):
                object.__setattr__(self, name, array("q", getattr(self, name)))

    __hash__ = None  # type: ignore[assignment]  # arrays are not hashable; nothing hashes tokens

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


# Stored with an article's suggestions, so an article already parsed needs no tokenizer when it
# opens: each token as (gap since the previous token's end, length), 32-bit, deflated, base64.
# Under a byte a token, about 15 % of the text's size (docs/schema.md).
def encode_tokens(tokens: Tokens) -> str:
    import base64
    import zlib

    pairs = array("I")
    end = 0
    for start, stop in zip(tokens.starts, tokens.ends):
        pairs.append(start - end)
        pairs.append(stop - start)
        end = stop
    if sys.byteorder == "big":  # stored little-endian: a DB moves between machines
        pairs.byteswap()
    return base64.b64encode(zlib.compress(pairs.tobytes(), 6)).decode("ascii")


def decode_tokens(encoded: str) -> Tokens:
    """``encode_tokens``' result back; ValueError if it is not one."""
    import base64
    import binascii
    import zlib
    from itertools import accumulate

    try:
        pairs = array("I", zlib.decompress(base64.b64decode(encoded, validate=True)))
    except (binascii.Error, zlib.error, ValueError) as error:
        raise ValueError(f"stored tokens are not readable: {error}") from None
    if len(pairs) % 2:
        raise ValueError("stored tokens are not readable: an odd count of numbers")
    if sys.byteorder == "big":
        pairs.byteswap()
    # starts[i] = ends[i-1] + gap[i]; ends[i] = starts[i] + length[i]: one running sum over both
    bounds = array("q", accumulate(pairs))
    return Tokens(bounds[0::2], bounds[1::2])


def fits(tokens: Tokens, text_length: int, spans: Sequence[Span]) -> bool:
    """Every span starts and ends on these tokens, with their indices, and none overlaps the next: the
    spans need no snapping (``align``), which only spaCy's own ``Doc.char_span`` does."""
    if tokens.ends and tokens.ends[-1] > text_length:
        return False
    last_end = -1
    count = len(tokens.starts)
    for span in spans:
        if span.start < last_end or span.token_end > count:
            return False
        if tokens.starts[span.token_start] != span.start or tokens.ends[span.token_end - 1] != span.end:
            return False
        last_end = span.end
    return True
