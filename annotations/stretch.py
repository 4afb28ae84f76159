"""Where two versions of a long list differ: found by object identity, in C.

An edit keeps the untouched Span objects (and their cached dicts), so the changed stretch of a
5,000-span list is what lies between the longest common head and tail of identical objects. The
view redraws only those rows and the store journals only those items; a Python loop over the
whole list would cost milliseconds on every key.
"""

from __future__ import annotations

from itertools import compress, count
from operator import is_not
from typing import Any, Callable, Sequence


def changed_stretch(old: Sequence[Any], new: Sequence[Any], differ: Callable[[Any, Any], Any] = is_not) -> tuple[int, int, int]:
    """``(head, old_stop, new_stop)``: ``old[head:old_stop]`` became ``new[head:new_stop]``, all else is the same objects
    (``differ=operator.ne``: equal values, for lists that were not made from one another)."""
    shorter = min(len(old), len(new))
    # The index of the first differing pair, found lazily: nothing is built, the scan stops there.
    head = next(compress(count(), map(differ, old, new)), shorter)
    # From the end, over the rest only. Slicing gives plain lists or tuples, whose reversed() runs in
    # C; on a tuple subclass (OrderedSpans) it would call __getitem__ through Python, four times slower.
    old_rest, new_rest = old[head:], new[head:]
    rest = shorter - head
    tail = next(compress(count(), map(differ, reversed(old_rest), reversed(new_rest))), rest)
    tail = min(tail, rest)
    return head, len(old) - tail, len(new) - tail
