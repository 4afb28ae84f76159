"""Fitting spans to spaCy's tokens: the one place that snaps offsets and settles overlaps.

Spans from a model already fit; spans from imports, from other tokenizers or from older records
may not. Each is snapped outward to token boundaries with spaCy's own ``Doc.char_span(...,
alignment_mode="expand")`` and overlaps are settled by spaCy's ``filter_spans`` (longest wins).
Nothing is dropped silently: every change is described in the returned notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable

from ..datamodel import Article, Span
from .pipelines import BLANK_PREFIX, PipelineSpec
from .tokens import Tokens

if TYPE_CHECKING:
    from spacy.tokens import Doc


@dataclass
class Aligned:
    tokens: Tokens
    spans: tuple[Span, ...]
    notes: list[str] = field(default_factory=list)


def blank_tokenizer(spec: PipelineSpec) -> Callable[[str], Doc]:
    """The pipeline language's tokenizer without loading any weights (imports spaCy)."""
    import spacy

    lang = spec.name[len(BLANK_PREFIX) :] if spec.is_blank else str((spec.meta or {}).get("lang", "en"))
    return spacy.blank(lang).tokenizer


def tokens_of(doc: Doc) -> Tokens:
    return Tokens(tuple(t.idx for t in doc), tuple(t.idx + len(t) for t in doc))


def align(doc: Doc, spans: Iterable[Span]) -> tuple[tuple[Span, ...], list[str]]:
    """Snap each span to the doc's tokens, then drop overlaps keeping the longest."""
    from spacy.util import filter_spans

    text = doc.text
    notes: list[str] = []
    candidates = []
    originals: dict[tuple[int, int, str], Span] = {}
    for span in spans:
        snapped = doc.char_span(span.start, span.end, label=span.label, alignment_mode="expand") if span.end <= len(text) else None
        if snapped is None or not snapped.text.strip():
            notes.append(f"dropped {span.label} {span.start}..{span.end} {text[span.start:span.end]!r}: it covers no token")
            continue
        if (snapped.start_char, snapped.end_char) != (span.start, span.end):
            notes.append(
                f"snapped {span.label} {text[span.start:span.end]!r} to token boundaries: {snapped.text!r}"
            )
        originals[(snapped.start_char, snapped.end_char, span.label)] = span
        candidates.append(snapped)
    kept = filter_spans(candidates)
    kept_keys = {(s.start_char, s.end_char, s.label_) for s in kept}
    for s in candidates:
        if (s.start_char, s.end_char, s.label_) not in kept_keys:
            notes.append(f"dropped {s.label_} {s.text!r}: it overlaps a longer span")
    result = tuple(
        originals[(s.start_char, s.end_char, s.label_)].replace(start=s.start_char, end=s.end_char, token_start=s.start, token_end=s.end)
        for s in sorted(kept, key=lambda s: s.start)
    )
    return result, notes


def align_article(tokenizer: Callable[[str], Doc], article: Article, spans: Iterable[Span]) -> Aligned:
    doc = tokenizer(article.text)
    aligned, notes = align(doc, spans)
    return Aligned(tokens_of(doc), aligned, notes)
