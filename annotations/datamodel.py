"""The one data model: articles, entity spans, annotations and cached suggestions.

Offsets are Python ``str`` indices into ``Article.text`` exactly as stored (line ends already
normalised to LF), so what the screen shows, what the store keeps and what spaCy parses agree.
Token indices follow spaCy's ``Span``: ``token_end`` is exclusive.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from operator import attrgetter, le
from typing import Any, Callable, Iterable, Mapping, Sequence

from .stretch import changed_stretch
from .text import normalise_text


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


class Role(StrEnum):
    """Whose kind of record an annotation is: an annotator's own version, or a reviewer's settled one.

    A reviewer's record never replaces anyone's annotation, the reviewer's own included: reviews
    are stored in a table of their own (docs/schema.md)."""

    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"


class Answer(StrEnum):
    """An annotator's verdict on a whole article (Prodigy's three answers)."""

    ACCEPT = "accept"
    REJECT = "reject"
    IGNORE = "ignore"


def article_id(text: str) -> str:
    """A stable id for a text: the same words always get the same id, on any machine."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


IDLE_CUT = 60.0  # seconds: a longer gap between two keys counts as this much active time, no more


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


class ArticleList(Sequence[Article]):
    """Articles in order, with each one's id and title at hand; the whole article (its text) is read
    when it is first asked for, so a session over a stored corpus of 10,000 articles reads only the
    ones it shows."""

    def __init__(
        self, ids: Sequence[str], titles: Sequence[str], read: Callable[[int], Article],
        row_of: Callable[[str], int | None] | None = None, stored_in: object = None,
    ) -> None:  # fmt: skip
        """``ids`` and ``titles`` may be read lazily (a DB's list of 200,000 is); ``row_of`` finds an id's
        place without a dict of them all; ``stored_in``: the DB whose own list of articles this is, in its order."""
        self.ids, self.titles, self._read, self._row_of, self.stored_in = ids, titles, read, row_of, stored_in
        self._read_already: dict[int, Article] = {}
        self._rows: dict[str, int] | None = None

    @classmethod
    def of(cls, articles: Iterable[Article]) -> ArticleList:
        articles = list(articles)
        return cls([a.id for a in articles], [a.title for a in articles], articles.__getitem__)

    def row_of(self, article_id: str) -> int | None:
        """Where the article is in the list (None if it is not)."""
        if self._row_of is not None:
            row = self._row_of(article_id)
            return row if row is not None and row < len(self.ids) else None
        if self._rows is None:
            self._rows = {a: i for i, a in enumerate(self.ids)}
        return self._rows.get(article_id)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> Article:  # type: ignore[override]
        index = range(len(self.ids))[index]  # negative indices, and IndexError, as a list gives them
        article = self._read_already.get(index)
        if article is None:
            article = self._read_already[index] = self._read(index)
        return article


def first_line(text: str, limit: int = 120) -> str:
    """The first non-empty line, stripped of Markdown heading marks: the article's title."""
    start = 0
    while start <= len(text):  # line by line, not text.split: asked on every redraw of a 20 MB article
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end].strip().lstrip("#").strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
        start = end + 1
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
    # The model's confidence that this is an entity of this label, calibrated to a probability
    # (annotations/confidence); None where no scorer ran or the annotator changed the span. Not part
    # of the value: a confirmed suggestion equals the gold span whatever it was scored.
    score: float | None = field(default=None, compare=False)
    # Reserved for the store's codec (store/codec.py), which keeps the span's dict and JSON here once
    # made: an edit keeps the untouched Span objects, so a save of a 5,000-entity record builds a
    # few. Not part of the value: equality, hashing and repr ignore them; nothing else reads them.
    _dict: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)
    _json: str | None = field(default=None, init=False, repr=False, compare=False)

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
        """The span changed; a new label or new boundaries drop the score, which was the model's for this one."""
        if "score" not in changes and self.score is not None and _RESHAPING.intersection(changes):
            changes["score"] = None
        return dataclasses.replace(self, **changes)

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start, "end": self.end, "token_start": self.token_start, "token_end": self.token_end,
            "label": self.label, "origin": self.origin.value, "state": self.state.value,
        } if self.score is None else {
            "start": self.start, "end": self.end, "token_start": self.token_start, "token_end": self.token_end,
            "label": self.label, "origin": self.origin.value, "state": self.state.value, "score": self.score,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Span:
        # Positional, with the enums looked up in dicts: a 50,000-word article's 12,265 suggestions
        # took 66 ms to build with keywords and Origin(...) calls, 17 ms so (docs/performance.md).
        origin, state = data.get("origin", "model"), data.get("state", "suggested")
        return cls(
            data["start"], data["end"], data["token_start"], data["token_end"], data["label"],
            _ORIGINS.get(origin) or Origin(origin), _STATES.get(state) or SpanState(state), data.get("score"),
        )  # fmt: skip


_RESHAPING = frozenset({"start", "end", "label"})
_ORIGINS: dict[str, Origin] = {o.value: o for o in Origin}
_STATES: dict[str, SpanState] = {s.value: s for s in SpanState}


_START, _END = attrgetter("start"), attrgetter("end")


class OrderedSpans(tuple):  # type: ignore[type-arg]
    """A version of an article's spans, checked to be in reading order and disjoint (``sorted_spans``
    takes it as it is). Versions are never changed: an edit makes a new one (``make_edit``)."""

    _codec: Any = None  # the store's codec keeps this version's list of span dicts here (store/codec.py)


@dataclass(frozen=True)
class Edit:
    """One change to an article's spans: ``before[head:old_stop]`` became ``spans[head:new_stop]`` and all
    else is the same Span objects (``stretch`` is ``(head, old_stop, new_stop)``). The session makes
    it; the store's codec and the view's wrap only read it, to save and redraw that stretch alone."""

    before: Sequence[Span]
    spans: OrderedSpans
    stretch: tuple[int, int, int]


def sorted_spans(spans: Iterable[Span]) -> OrderedSpans:
    """Spans in reading order, refusing overlaps (spaCy's ``Doc.ents`` rule)."""
    if type(spans) is OrderedSpans:
        return spans
    ordered = tuple(spans)
    # Records of 5,000 entities pass here, so the checks run in C (map over offsets). A span ends
    # after it starts, so "each ends by the time the next starts" means ordered and disjoint at once.
    if _in_order(ordered):
        return OrderedSpans(ordered)
    ordered = tuple(sorted(ordered))
    if not _in_order(ordered):  # a span ends after the next one starts
        before, after = next((a, b) for a, b in zip(ordered, ordered[1:]) if a.end > b.start)
        raise ValueError(f"spans overlap: {before.label} {before.start}..{before.end} and {after.label} {after.start}..{after.end}")
    return OrderedSpans(ordered)


def _in_order(spans: Sequence[Span]) -> bool:
    return all(map(le, map(_END, spans), map(_START, itertools.islice(spans, 1, None))))


def make_edit(old: Sequence[Span], new: Sequence[Span], stretch: tuple[int, int, int] | None = None) -> Edit:
    """``new`` checked as ``sorted_spans`` does, as an ``Edit`` of ``old``.

    When ``old`` was checked already (an editing session's last version), only the changed stretch
    and the spans on either side of it are looked at: a key on a 5,000-entity article then checks a
    few spans, not all of them. ``stretch``: where they differ, from a caller that made ``new`` from
    ``old`` by replacing it; else it is found (``changed_stretch``: the same Span objects either side)."""
    if stretch is None or len(old) - stretch[1] != len(new) - stretch[2]:
        stretch = changed_stretch(old, new)
    head, _, stop = stretch
    if type(old) is OrderedSpans and _in_order(new[max(0, head - 1) : stop + 1]):
        return Edit(old, OrderedSpans(new), stretch)
    ordered = sorted_spans(new)  # may have sorted them: the stretch is found again on the result
    return Edit(old, ordered, changed_stretch(old, ordered))


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
    note: str = ""  # a reviewer's record says which versions it came from
    role: Role = Role.ANNOTATOR
    comment: str = ""  # the annotator's own free-text note on the article
    flagged: bool = False  # "flag for review": the annotator wants a lead to look at it
    # Seconds the annotator was at work on it: the gaps between their keys, each counted up to
    # IDLE_CUT (a longer one was a pause, not work). What `stats --throughput` adds up.
    active_seconds: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "spans", sorted_spans(self.spans))
        if not self.annotator:
            raise ValueError("annotator must not be empty")

    @property
    def is_review(self) -> bool:
        return self.role is Role.REVIEWER

    @property
    def who(self) -> str:
        """The name as people read it: ``lead (review)`` for a reviewer's record."""
        return f"{self.annotator} (review)" if self.is_review else self.annotator

    def span_key(self) -> tuple[tuple[int, int, str], ...]:
        """What two versions must share to agree: each span's offsets and label, in offset order."""
        return tuple(sorted((s.start, s.end, s.label) for s in self.spans))

    def to_dict(self) -> dict[str, Any]:
        """The record as the store keeps it (the store builds it faster, in store/codec.py)."""
        return {
            "article_id": self.article_id, "annotator": self.annotator, "spans": [s.to_dict() for s in self.spans],
            "answer": None if self.answer is None else str(self.answer), "model": self.model, "model_version": self.model_version,
            "created": self.created, "updated": self.updated, "note": self.note, "role": str(self.role),
            "comment": self.comment, "flagged": self.flagged, "active_seconds": round(self.active_seconds, 1),
        }  # fmt: skip

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
            role=Role(data.get("role") or Role.ANNOTATOR),  # records from before roles were annotators'
            comment=data.get("comment", "") or "",
            flagged=bool(data.get("flagged", False)), active_seconds=float(data.get("active_seconds", 0.0) or 0.0),
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
    # The article's tokens as the model's tokenizer cut them (``nlp.tokens.encode_tokens``), kept so
    # the article opens ready to edit without spaCy; "" where a record has none (older ones).
    tokens: str = ""
    # What made the spans' scores ("greedy, isotonic fit on ..."); "" where the spans have none.
    scorer: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = {
            "article_id": self.article_id,
            "model": self.model.name,
            "model_version": self.model.version,
            "spans": [s.to_dict() for s in self.spans],
            "created": self.created,
        }
        if self.tokens:
            data["tokens"] = self.tokens
        if self.scorer:
            data["scorer"] = self.scorer
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Suggestions:
        return cls(
            article_id=data["article_id"],
            model=ModelId(data["model"], data["model_version"]),
            spans=tuple(Span.from_dict(s) for s in data["spans"]),
            created=data.get("created", ""),
            tokens=data.get("tokens", ""),
            scorer=data.get("scorer", ""),
        )
