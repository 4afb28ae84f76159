"""Where two versions of a long list differ: found by object identity, in C.

An edit keeps the untouched Span objects (and their cached dicts), so the changed stretch of a
5,000-span list is what lies between the longest common head and tail of identical objects. The
view redraws only those rows and the store journals only those items; a Python loop over the
whole list would cost milliseconds on every key.
"""

from __future__ import annotations

from operator import is_not
from typing import Any, Sequence


def changed_stretch(old: Sequence[Any], new: Sequence[Any]) -> tuple[int, int, int]:
    """``(head, old_stop, new_stop)``: ``old[head:old_stop]`` became ``new[head:new_stop]``, all else is the same objects."""
    differs = list(map(is_not, old, new))
    head = differs.index(True) if True in differs else len(differs)
    differs = list(map(is_not, reversed(old), reversed(new)))
    tail = differs.index(True) if True in differs else len(differs)
    tail = min(tail, min(len(old), len(new)) - head)
    return head, len(old) - tail, len(new) - tail
