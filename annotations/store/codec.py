"""How records become documents and journal lines, fast enough for a key on a 5,000-entity article.

This is the one place that relies on objects staying the same objects (identity), so it is the one
place to read for why a save of a long record costs what a save of a short one does:
- A span's dict and JSON are made once and kept on the span (its two reserved slots): an edit keeps
  the untouched Span objects, so a save builds a few dicts, not thousands.
- A version of an article's spans (an ``OrderedSpans``) keeps the list of its spans' dicts. The
  next version, made by an ``Edit``, gets its list as the last one with the edit's stretch spliced
  in, and the journal is told that stretch (``spliced``), which it trusts only while the list it
  holds is that very list (another process's save makes it another one).
- A record read from the DB keeps the stored dicts themselves, and its spans' list: its first edit
  after opening is a patch, not the whole record.
- JSON is srsly's ujson once loaded, else the standard json (``json_dumps``).
"""

from __future__ import annotations

import functools
import json
import sys
from operator import attrgetter, is_, ne
from typing import Any, Callable, Mapping, Sequence

from ..datamodel import Annotation, Answer, Edit, OrderedSpans, Role, Span
from ..errors import StoreError
from ..stretch import changed_stretch

Spliced = tuple[list[Any], tuple[int, int, int]]  # (the list a list was spliced from, the stretch replaced)
_DICT = attrgetter("_dict")
_SPAN_KEYS = {"start", "end", "token_start", "token_end", "label", "origin", "state"}
_SCORED_SPAN_KEYS = _SPAN_KEYS | {"score"}
_SPAN_JSON = '{"start":%d,"end":%d,"token_start":%d,"token_end":%d,"label":%s,"origin":%s,"state":%s}'
_SCORED_SPAN_JSON = _SPAN_JSON[:-1] + ',"score":%r}'


@functools.lru_cache(maxsize=1024)
def _json_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def span_dict(span: Span) -> dict[str, Any]:
    """The span as the store keeps it, made once (shared: never mutate it)."""
    if span._dict is None:
        object.__setattr__(span, "_dict", span.to_dict())
    return span._dict  # type: ignore[return-value]


def span_json(span: Span) -> str:
    """``span_dict`` as compact JSON, made once (json.dumps per span, for thousands of spans, is a key's whole budget)."""
    if span._json is None:
        d = span_dict(span)
        values = (d["start"], d["end"], d["token_start"], d["token_end"], _json_string(d["label"]), _json_string(d["origin"]), _json_string(d["state"]))
        if span.score is None:
            object.__setattr__(span, "_json", _SPAN_JSON % values)
        else:
            object.__setattr__(span, "_json", _SCORED_SPAN_JSON % (*values, float(span.score)))
    return span._json  # type: ignore[return-value]


def span_from_doc(data: Mapping[str, Any]) -> Span:
    """A stored span; the stored dict itself becomes its dict, so it is the very object the store holds."""
    # Span.from_dict looks its enums up in dicts: with Origin(...) and SpanState(...) calls the spans
    # of a resumed 50,000-word record took 34 ms to make before the first paint, 22 ms so.
    span = Span.from_dict(data)
    if type(data) is dict and (data.keys() == _SPAN_KEYS or data.keys() == _SCORED_SPAN_KEYS):
        object.__setattr__(span, "_dict", data)
    return span


def _made(spans: Sequence[Span], slot: str, make: Callable[[Span], Any]) -> list[Any]:
    """Each span's dict or JSON, read in C; only the spans new since the last save make theirs."""
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


def span_dicts(spans: Sequence[Span], edit: Edit | None = None) -> tuple[list[dict[str, Any]], Spliced | None]:
    """The spans' dicts as the store keeps them, and, when spliced from the version ``edit`` was made
    from, that version's list and the stretch replaced (for the journal's patch)."""
    if type(spans) is OrderedSpans and spans._codec is not None:
        return spans._codec, None
    spliced: Spliced | None = None
    before = edit.before if edit is not None and edit.spans is spans else None
    if type(before) is OrderedSpans and before._codec is not None:
        head, old_stop, new_stop = edit.stretch  # type: ignore[union-attr]
        old = before._codec
        dicts = [*old[:head], *_made(spans[head:new_stop], "_dict", span_dict), *old[old_stop:]]
        spliced = (old, edit.stretch)  # type: ignore[union-attr]
    else:
        dicts = _made(spans, "_dict", span_dict)
    if type(spans) is OrderedSpans:
        spans._codec = dicts
    return dicts, spliced


def _fields_but_spans(a: Annotation) -> dict[str, Any]:
    return {
        "answer": None if a.answer is None else str(a.answer), "model": a.model, "model_version": a.model_version,
        "created": a.created, "updated": a.updated, "note": a.note, "role": str(a.role), "comment": a.comment, "flagged": a.flagged,
        "active_seconds": round(a.active_seconds, 1),
    }  # fmt: skip


def annotation_doc(a: Annotation, edit: Edit | None = None) -> tuple[dict[str, Any], Spliced | None]:
    """The record as the store keeps it (``Annotation.to_dict``'s shape), and what its spans were spliced from."""
    dicts, spliced = span_dicts(a.spans, edit)
    return {"article_id": a.article_id, "annotator": a.annotator, "spans": dicts, **_fields_but_spans(a)}, spliced


def annotation_json(a: Annotation) -> str:
    """``annotation_doc`` as compact JSON, joined from each span's JSON."""
    head = json.dumps({"article_id": a.article_id, "annotator": a.annotator}, ensure_ascii=False, separators=(",", ":"))
    tail = json.dumps(_fields_but_spans(a), ensure_ascii=False, separators=(",", ":"))
    return f'{head[:-1]},"spans":[{",".join(_made(a.spans, "_json", span_json))}],{tail[1:]}'


SPAN_INTS = ("start", "end", "token_start", "token_end")


def check_spans(stored: Any) -> None:
    """A record's spans as stored: a list of spans with whole-number offsets, each ending after it
    starts, in order and not overlapping. ValueError says what is wrong (a hostile or damaged file)."""
    if not isinstance(stored, list):
        raise ValueError(f"its spans are {type(stored).__name__}, not a list")
    end = 0
    for n, span in enumerate(stored):
        if not isinstance(span, dict) or any(type(span.get(k)) is not int for k in SPAN_INTS) or not isinstance(span.get("label"), str):
            raise ValueError(f"its span {n} is not a span (offsets must be whole numbers, the label text)")
        if not 0 <= span["start"] < span["end"] or span["token_start"] >= span["token_end"]:
            raise ValueError(f"its span {n} ends before it starts ({span['start']}-{span['end']})")
        if span["start"] < end:
            raise ValueError(f"its span {n} ({span['start']}-{span['end']}) overlaps the one before it or is out of order")
        end = span["end"]


def check_splice(stored: Any, start: Any, stop: Any, items: Any) -> None:
    """A patch's change to a stored list of spans: whole-number bounds within it, and the new spans
    in order with the ones either side of the stretch (the rest of the list was checked before)."""
    if not isinstance(stored, list) or type(start) is not int or type(stop) is not int or not 0 <= start <= stop <= len(stored):
        raise ValueError(f"it changes spans {start!r}..{stop!r} of a list of {len(stored) if isinstance(stored, list) else '?'}")
    if not isinstance(items, list):
        raise ValueError(f"its new spans are {type(items).__name__}, not a list")
    check_spans([*stored[max(0, start - 1) : start], *items, *stored[stop : stop + 1]])


def check_record(table: str, doc: Any) -> None:
    """A document read from a journal line (or the main file) has the shape its table needs; else
    ValueError naming what is wrong. Only the fields goldspan relies on are checked."""
    if not isinstance(doc, dict):
        raise ValueError(f"a {table} record that is {type(doc).__name__}, not an object")
    if table == "articles":
        for field in ("id", "text"):
            if not isinstance(doc.get(field), str):
                raise ValueError(f"an article whose {field} is {type(doc.get(field)).__name__}, not text")
    elif table in ("annotations", "reviews"):
        for field in ("article_id", "annotator"):
            if not isinstance(doc.get(field), str):
                raise ValueError(f"a record whose {field} is {type(doc.get(field)).__name__}, not text")
        try:
            check_spans(doc.get("spans", []))
        except ValueError as error:
            raise ValueError(f"{doc['annotator']}'s record of article {doc['article_id']}: {error}") from None


def annotation_from_doc(data: Mapping[str, Any]) -> Annotation:
    """A stored record, its spans the stored span dicts' own objects and its list of them the stored list."""
    stored = data.get("spans", ())
    answer = data.get("answer")
    try:
        record = _annotation(data, stored, answer)
    except (ValueError, TypeError, KeyError) as error:
        raise StoreError(f"damaged record: {data.get('annotator')}'s record of article {data.get('article_id')}: {error}.") from None
    if type(stored) is list and len(stored) == len(record.spans) and all(map(is_, map(_DICT, record.spans), stored)):
        record.spans._codec = stored  # type: ignore[attr-defined]  # in the order stored: sorted_spans took them as they were
    return record


def _annotation(data: Mapping[str, Any], stored: Any, answer: Any) -> Annotation:
    return Annotation(
        article_id=data["article_id"], annotator=data["annotator"], spans=tuple(span_from_doc(s) for s in stored),
        answer=None if answer is None else Answer(answer), model=data.get("model", ""), model_version=data.get("model_version", ""),
        created=data.get("created", ""), updated=data.get("updated", ""), note=data.get("note", ""),
        role=Role(data.get("role") or Role.ANNOTATOR), comment=data.get("comment", "") or "", flagged=bool(data.get("flagged", False)),
        active_seconds=float(data.get("active_seconds", 0.0) or 0.0),
    )  # fmt: skip

REV = "_rev"  # a patchable document's revision: how a replayed patch knows whether it is already in


def patch(
    stored: Mapping[str, Any], doc: Mapping[str, Any], field: str, spliced: tuple[list[Any], tuple[int, int, int]] | None = None
) -> dict[str, Any] | None:
    """``doc`` as a change to ``stored``: the changed stretch of its list field and the other fields that
    changed; None when the whole document is as cheap to write (a new shape, or most items changed)."""
    old, new = stored.get(field), doc.get(field)
    if not isinstance(old, list) or not isinstance(new, list) or stored.keys() - {REV} != doc.keys() - {REV}:
        return None
    # Trusted only when made from the very list stored here (identity): then it is that list but the stretch.
    head, old_stop, new_stop = spliced[1] if spliced is not None and spliced[0] is old else changed_stretch(old, new)
    limit = max(8, len(new) // 4)
    if (new_stop - head) + (old_stop - head) > limit:
        # Not the same objects (the stored record was read again since, or the record was built
        # elsewhere): compare values, in C, before writing it whole (which costs as much again).
        head, old_stop, new_stop = changed_stretch(old, new, ne)
        if (new_stop - head) + (old_stop - head) > limit:
            return None
    changed = {k: v for k, v in doc.items() if k not in (field, REV) and stored[k] != v}
    return {"splice": [field, head, old_stop, new[head:new_stop]], "set": changed}


def json_dumps() -> Callable[[Any], str]:
    """srsly's ujson once something has imported it (spaCy does, in the model worker): about twice as fast
    as json on a 5,000-span record. Until then the standard json, because importing srsly brings numpy
    along (~0.1 s) and the first saves happen before the first paint. Both write one line, no raw newline.
    """
    # getattr: the background thread may be importing spaCy at this very moment, and sys.modules then
    # holds a srsly that is only partly initialised (a quit during the model's load met one).
    dumps = getattr(sys.modules.get("srsly"), "json_dumps", None)
    if dumps is not None:
        return dumps  # type: ignore[no-any-return]
    return functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))
