"""A change to an article's spans and answer, told in a few words: what undo and redo say they did."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from ..datamodel import Answer, Span, SpanState
from ..stretch import changed_stretch
from ..words import plural, visible_words


# A span's state as a change to it reads: undoing a confirmation makes it "unconfirmed" again.
STATE_WORDS = {SpanState.CONFIRMED: "confirmed", SpanState.SUGGESTED: "unconfirmed", SpanState.EDITED: "edited", SpanState.ADDED: "added"}


def _shown(text: str, span: Span) -> str:
    return repr(visible_words(text[span.start : span.end]))


def describe_change(text: str, before: tuple[Sequence[Span], Answer | None], after: tuple[Sequence[Span], Answer | None]) -> str:
    """``before`` → ``after`` in words: "'Putin' PERSON → ORG", "added GPE 'Minsk'", "'Belarus' → GPE ×4,
    8 confirmed", "answer accept". Spans are paired by their bounds within the stretch that changed."""
    (old, old_answer), (new, new_answer) = before, after
    head, old_stop, new_stop = changed_stretch(old, new)
    was = {(s.start, s.end): s for s in old[head:old_stop]}
    now = {(s.start, s.end): s for s in new[head:new_stop]}
    relabelled = [(was[b], now[b]) for b in was.keys() & now.keys() if was[b].label != now[b].label]
    restated = [now[b] for b in was.keys() & now.keys() if was[b].label == now[b].label and was[b].state != now[b].state]
    removed = sorted((was[b] for b in was.keys() - now.keys()), key=lambda s: s.start)
    added = sorted((now[b] for b in now.keys() - was.keys()), key=lambda s: s.start)
    parts = []
    if len(removed) == len(added) == 1 and removed[0].label == added[0].label and removed[0].overlaps(added[0]) and not relabelled:
        parts.append(f"{added[0].label} {_shown(text, removed[0])} → {_shown(text, added[0])}")  # a boundary moved
        removed, added = [], []
    if len(relabelled) == 1:
        a, b = relabelled[0]
        parts.append(f"{_shown(text, b)} {a.label} → {b.label}")
    elif relabelled:
        shapes = Counter((text[b.start : b.end], b.label) for _, b in relabelled)
        if len(shapes) == 1:
            [(words, label)] = shapes
            parts.append(f"{visible_words(words)!r} → {label} ×{len(relabelled)}")
        else:
            parts.append(f"{plural(len(relabelled), 'entity', 'entities')} relabelled")
    if len(restated) == 1:
        parts.append(f"{_shown(text, restated[0])} {restated[0].label} {STATE_WORDS[restated[0].state]}")
    elif restated:
        states = {s.state for s in restated}
        parts.append(f"{len(restated)} {STATE_WORDS[states.pop()]}" if len(states) == 1 else f"{plural(len(restated), 'entity', 'entities')} re-marked")
    for verb, spans in (("added", added), ("removed", removed)):
        if len(spans) == 1:
            parts.append(f"{verb} {spans[0].label} {_shown(text, spans[0])}")
        elif spans:
            parts.append(f"{len(spans)} {verb}")
    if old_answer != new_answer:
        parts.append(f"answer {new_answer}" if new_answer is not None else f"answer {old_answer} taken back")
    return ", ".join(parts) or "no change"
