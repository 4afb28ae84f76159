"""The one data model: articles, entity spans, annotations and cached suggestions.

Offsets are Python ``str`` indices into ``Article.text`` exactly as stored (line ends already
normalised to LF), so what the screen shows, what the store keeps and what spaCy parses agree.
Token indices follow spaCy's ``Span``: ``token_end`` is exclusive.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Iterable, Mapping


class Origin(StrEnum):
    """Where a span came from."""

    MODEL = "model"
    ANNOTATOR = "annotator"
    PATTERN = "pattern"
    IMPORT = "import"


class SpanState(StrEnum):
    """Where a span stands in the annotator's review, shown beside it in the entity list."""

    SUGGESTED = "suggested"  # from the model (or an import), not looked at yet
    CONFIRMED = "confirmed"  # looked at and kept as it was
    EDITED = "edited"  # label or boundaries changed by the annotator
    ADDED = "added"  # made by the annotator


class Answer(StrEnum):
    """An annotator's verdict on a whole article (Prodigy's three answers)."""

    ACCEPT = "accept"
    REJECT = "reject"
    IGNORE = "ignore"


def normalise_text(text: str) -> str:
    """CRLF and lone CR become LF, so offsets match the lines the screen shows."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def article_id(text: str) -> str:
    """A stable id for a text: the same words always get the same id, on any machine."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    title: str
    text: str
    source: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_text(cls, text: str, *, title: str = "", source: str = "", meta: Mapping[str, Any] | None = None) -> Article:
        text = normalise_text(text)
        return cls(id=article_id(text), title=title or first_line(text), text=text, source=source, meta=dict(meta or {}))

    @property
    def word_count(self) -> int:
        """Whitespace-separated words: cheap, and needs no tokenizer."""
        return len(self.text.split())

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "text": self.text, "source": self.source, "meta": dict(self.meta)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Article:
        return cls(id=data["id"], title=data["title"], text=data["text"], source=data.get("source", ""), meta=dict(data.get("meta") or {}))


def first_line(text: str, limit: int = 120) -> str:
    """The first non-empty line, stripped of Markdown heading marks: the article's title."""
    for line in text.split("\n"):
        line = line.strip().lstrip("#").strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


@dataclass(frozen=True, slots=True, order=True)
class Span:
    start: int
    end: int
    token_start: int
    token_end: int
    label: str
    origin: Origin = Origin.MODEL
    state: SpanState = SpanState.SUGGESTED

    def __post_init__(self) -> None:
        if not (0 <= self.start < self.end):
            raise ValueError(f"span offsets must satisfy 0 <= start < end, got {self.start}..{self.end}")
        if not (0 <= self.token_start < self.token_end):
            raise ValueError(f"span tokens must satisfy 0 <= token_start < token_end, got {self.token_start}..{self.token_end}")
        if not self.label:
            raise ValueError("span label must not be empty")

    def text_in(self, text: str) -> str:
        return text[self.start : self.end]

    def replace(self, **changes: Any) -> Span:
        return dataclasses.replace(self, **changes)

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "token_start": self.token_start,
            "token_end": self.token_end,
            "label": self.label,
            "origin": self.origin.value,
            "state": self.state.value,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Span:
        return cls(
            start=data["start"],
            end=data["end"],
            token_start=data["token_start"],
            token_end=data["token_end"],
            label=data["label"],
            origin=Origin(data.get("origin", Origin.MODEL)),
            state=SpanState(data.get("state", SpanState.SUGGESTED)),
        )


def sorted_spans(spans: Iterable[Span]) -> tuple[Span, ...]:
    """Spans in reading order, refusing overlaps (spaCy's ``Doc.ents`` rule)."""
    ordered = tuple(spans)
    # Spans from an editing session are already in order: check that in one pass before sorting.
    if any(a.start > b.start or (a.start == b.start and a.end > b.end) for a, b in zip(ordered, ordered[1:])):
        ordered = tuple(sorted(ordered))
    for before, after in zip(ordered, ordered[1:]):
        if before.overlaps(after):
            raise ValueError(
                f"spans overlap: {before.label} {before.start}..{before.end} and {after.label} {after.start}..{after.end}"
            )
    return ordered


@dataclass(frozen=True, slots=True)
class Annotation:
    """One annotator's version of one article. ``answer`` is None while the work is in progress."""

    article_id: str
    annotator: str
    spans: tuple[Span, ...] = ()
    answer: Answer | None = None
    model: str = ""
    model_version: str = ""
    created: str = field(default_factory=now_iso)
    updated: str = field(default_factory=now_iso)
    note: str = ""  # e.g. a reviewer's record says which versions it came from

    def __post_init__(self) -> None:
        object.__setattr__(self, "spans", sorted_spans(self.spans))
        if not self.annotator:
            raise ValueError("annotator must not be empty")

    @property
    def key(self) -> tuple[str, str]:
        return (self.article_id, self.annotator)

    def to_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "annotator": self.annotator,
            "spans": [s.to_dict() for s in self.spans],
            "answer": None if self.answer is None else str(self.answer),
            "model": self.model,
            "model_version": self.model_version,
            "created": self.created,
            "updated": self.updated,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Annotation:
        answer = data.get("answer")
        return cls(
            article_id=data["article_id"],
            annotator=data["annotator"],
            spans=tuple(Span.from_dict(s) for s in data.get("spans", ())),
            answer=None if answer is None else Answer(answer),
            model=data.get("model", ""),
            model_version=data.get("model_version", ""),
            created=data.get("created", ""),
            updated=data.get("updated", ""),
            note=data.get("note", ""),
        )


@dataclass(frozen=True, slots=True)
class ModelId:
    """Which pipeline made a suggestion: the cache key beside the article id."""

    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


@dataclass(frozen=True, slots=True)
class Suggestions:
    """A pipeline's entities for one article, cached so no article is parsed twice by one model version."""

    article_id: str
    model: ModelId
    spans: tuple[Span, ...]
    created: str = field(default_factory=now_iso)

    def to_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "model": self.model.name,
            "model_version": self.model.version,
            "spans": [s.to_dict() for s in self.spans],
            "created": self.created,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Suggestions:
        return cls(
            article_id=data["article_id"],
            model=ModelId(data["model"], data["model_version"]),
            spans=tuple(Span.from_dict(s) for s in data["spans"]),
            created=data.get("created", ""),
        )
