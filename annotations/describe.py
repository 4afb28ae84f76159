"""A change to an article's spans and answer, told in a few words: what undo and redo say they did."""

from __future__ import annotations

from typing import Sequence

from .datamodel import Answer, Span
from .stretch import changed_stretch
from .words import plural


def _shown(text: str, span: Span, limit: int = 30) -> str:
    words = " ".join(text[span.start : span.end].split())
    return repr(words if len(words) <= limit else words[: limit - 1] + "…")


def describe_change(text: str, before: tuple[Sequence[Span], Answer | None], after: tuple[Sequence[Span], Answer | None]) -> str:
    """``before`` → ``after`` in words: "'Putin' PERSON → ORG", "added GPE 'Minsk'", "answer accept"."""
    (old, old_answer), (new, new_answer) = before, after
    head, old_stop, new_stop = changed_stretch(old, new)
    removed, added = list(old[head:old_stop]), list(new[head:new_stop])
    parts = []
    if len(removed) == len(added) == 1:
        a, b = removed[0], added[0]
        if (a.start, a.end) == (b.start, b.end):
            parts.append(f"{_shown(text, b)} {a.label} → {b.label}" if a.label != b.label else f"{_shown(text, b)} {b.label} confirmed")
        else:
            parts.append(f"{b.label} {_shown(text, a)} → {_shown(text, b)}")
    elif removed and not added and len(removed) == 1:
        parts.append(f"removed {removed[0].label} {_shown(text, removed[0])}")
    elif added and not removed and len(added) == 1:
        parts.append(f"added {added[0].label} {_shown(text, added[0])}")
    elif len(removed) == len(added) and all((a.start, a.end, a.label) == (b.start, b.end, b.label) for a, b in zip(removed, added)):
        parts.append(f"{plural(len(added), 'entity', 'entities')} confirmed")
    elif removed or added:
        labels = sorted({s.label for s in added})
        parts.append(f"{plural(len(removed), 'entity', 'entities')} replaced by {len(added)}" + (f" ({', '.join(labels)})" if labels else ""))
    if old_answer != new_answer:
        parts.append(f"answer {new_answer}" if new_answer is not None else f"answer {old_answer} withdrawn")
    return ", ".join(parts) or "no change"
