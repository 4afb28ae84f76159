"""The one data model: articles, entity spans, annotations and cached suggestions.

Offsets are Python ``str`` indices into ``Article.text`` exactly as stored (line ends already
normalised to LF), so what the screen shows, what the store keeps and what spaCy parses agree.
Token indices follow spaCy's ``Span``: ``token_end`` is exclusive.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
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

    def __init__(self, ids: list[str], titles: list[str], read: Callable[[int], Article]) -> None:
        self.ids, self.titles, self._read = ids, titles, read
        self._read_already: dict[int, Article] = {}
        self._positions: dict[str, int] | None = None

    @classmethod
    def of(cls, articles: Iterable[Article]) -> ArticleList:
        articles = list(articles)
        return cls([a.id for a in articles], [a.title for a in articles], articles.__getitem__)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> Article:  # type: ignore[override]
        index = range(len(self.ids))[index]  # negative indices, and IndexError, as a list gives them
        article = self._read_already.get(index)
        if article is None:
            article = self._read_already[index] = self._read(index)
        return article

    def position(self, article_id: str) -> int:
        """Where the article with this id is (ValueError if it is not here)."""
        if self._positions is None:
            self._positions = {found: i for i, found in reversed(list(enumerate(self.ids)))}
        try:
            return self._positions[article_id]
        except KeyError:
            raise ValueError(f"no article {article_id!r} here") from None


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
    # A key on a 5,000-entity article saves the whole record; an edit keeps the untouched Span
    # objects, so each one's dict and JSON are built once, not on every save. Shared: never mutate.
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
        return dataclasses.replace(self, **changes)

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def to_dict(self) -> dict[str, Any]:
        if self._dict is None:
            object.__setattr__(self, "_dict", {
                "start": self.start,
                "end": self.end,
                "token_start": self.token_start,
                "token_end": self.token_end,
                "label": self.label,
                "origin": self.origin.value,
                "state": self.state.value,
            })  # fmt: skip
        return self._dict  # type: ignore[return-value]

    def to_json(self) -> str:
        """``to_dict()`` as compact JSON (json.dumps per span costs 20 µs: 0.1 s for a 5,000-span record)."""
        if self._json is None:
            d = self.to_dict()
            object.__setattr__(self, "_json", _SPAN_JSON % (
                d["start"], d["end"], d["token_start"], d["token_end"], _json_string(d["label"]), _json_string(d["origin"]), _json_string(d["state"])
            ))  # fmt: skip
        return self._json  # type: ignore[return-value]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Span:
        span = cls(
            start=data["start"],
            end=data["end"],
            token_start=data["token_start"],
            token_end=data["token_end"],
            label=data["label"],
            origin=Origin(data.get("origin", Origin.MODEL)),
            state=SpanState(data.get("state", SpanState.SUGGESTED)),
        )
        if type(data) is dict and data.keys() == _SPAN_KEYS:
            # The stored dict itself becomes the span's dict: spans read from the store and left
            # unchanged are then the very objects the store holds, so the first edit of an article
            # after opening is journaled as a patch, not as the whole record.
            object.__setattr__(span, "_dict", data)
        return span


_START, _END = attrgetter("start"), attrgetter("end")
_SPAN_KEYS = {"start", "end", "token_start", "token_end", "label", "origin", "state"}
_SPAN_JSON = '{"start":%d,"end":%d,"token_start":%d,"token_end":%d,"label":%s,"origin":%s,"state":%s}'


@functools.lru_cache(maxsize=1024)
def _json_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _cached(spans: Sequence[Span], slot: str, make: Callable[[Span], Any]) -> list[Any]:
    """Each span's cached dict or JSON, read in C; only the spans new since the last save make theirs."""
    found = list(map(attrgetter(slot), spans))
    if all(found):  # every span has its piece (dicts and JSON strings are never empty)
        return found
    at = 0
    try:
        while True:  # list.index from where the last search stopped: one pass in all, however many are missing
            at = found.index(None, at)
            found[at] = make(spans[at])
            at += 1
    except ValueError:
        return found


class OrderedSpans(tuple):  # type: ignore[type-arg]
    """Spans checked to be in reading order and disjoint: ``sorted_spans`` takes them as they are.

    A version made by ``edited_spans`` also knows the version it was made from and where they differ,
    so the list of its spans' dicts (what the store keeps) is the last version's list with that
    stretch replaced: a save of a 5,000-entity record builds a few dicts and splices one list."""

    dicts: list[dict[str, Any]] | None = None  # the spans' dicts, once made
    made_from: tuple[OrderedSpans, tuple[int, int, int]] | None = None  # (last version, changed stretch) until then
    dicts_from: tuple[list[dict[str, Any]], tuple[int, int, int]] | None = None  # (last version's dicts, stretch), once spliced


def span_dicts(spans: Sequence[Span]) -> list[dict[str, Any]]:
    """Each span's dict, as the store keeps them: spliced from the last version's list where this version
    was made by ``edited_spans`` from one whose list exists, else gathered from the spans' caches."""
    if type(spans) is not OrderedSpans:
        return _cached(spans, "_dict", Span.to_dict)
    if spans.dicts is None:
        made_from, spans.made_from = spans.made_from, None  # the last version is not kept alive by this one
        if made_from is not None and made_from[0].dicts is not None:
            (old, (head, old_stop, new_stop)) = made_from
            middle = _cached(spans[head:new_stop], "_dict", Span.to_dict)
            spans.dicts = [*old.dicts[:head], *middle, *old.dicts[old_stop:]]
            spans.dicts_from = (old.dicts, made_from[1])
        else:
            spans.dicts = _cached(spans, "_dict", Span.to_dict)
    return spans.dicts


def spliced_from(spans: Sequence[Span]) -> tuple[list[dict[str, Any]], tuple[int, int, int]] | None:
    """If ``span_dicts(spans)`` was spliced from another version's list: that list and the stretch replaced."""
    return spans.dicts_from if type(spans) is OrderedSpans else None


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


def edited_spans(
    old: Sequence[Span], new: Sequence[Span], change: tuple[int, int, int] | None = None
) -> tuple[OrderedSpans, tuple[int, int, int]]:
    """``new`` checked as ``sorted_spans`` does, and where it differs from ``old`` (``changed_stretch``).

    When ``old`` was checked already (an editing session's last version), only the changed stretch
    and the spans on either side of it are looked at: a key on a 5,000-entity article then checks a
    few spans, not all of them. ``change``: that stretch, from a caller that made ``new`` from ``old``
    by replacing it (so it need not be searched for)."""
    if change is not None and len(old) - change[1] == len(new) - change[2]:
        stretch = change
    else:
        stretch = changed_stretch(old, new)
    head, _, stop = stretch
    if type(old) is OrderedSpans and _in_order(new[max(0, head - 1) : stop + 1]):
        result = OrderedSpans(new)
        result.made_from = (old, stretch)
        return result, stretch
    ordered = sorted_spans(new)  # may have sorted them: the stretch is found again on the result
    return ordered, changed_stretch(old, ordered)


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "annotator": self.annotator,
            "spans": span_dicts(self.spans),
            **self._fields_but_spans(),
        }

    def to_json(self) -> str:
        """``to_dict()`` as compact JSON, joined from each span's cached JSON."""
        head = json.dumps({"article_id": self.article_id, "annotator": self.annotator}, ensure_ascii=False, separators=(",", ":"))
        tail = json.dumps(self._fields_but_spans(), ensure_ascii=False, separators=(",", ":"))
        return f'{head[:-1]},"spans":[{",".join(_cached(self.spans, "_json", Span.to_json))}],{tail[1:]}'

    def _fields_but_spans(self) -> dict[str, Any]:
        return {
            "answer": None if self.answer is None else str(self.answer),
            "model": self.model,
            "model_version": self.model_version,
            "created": self.created,
            "updated": self.updated,
            "note": self.note,
            "role": str(self.role),
            "comment": self.comment,
            "flagged": self.flagged,
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
            role=Role(data.get("role") or Role.ANNOTATOR),  # records from before roles were annotators'
            comment=data.get("comment", "") or "",
            flagged=bool(data.get("flagged", False)),
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
