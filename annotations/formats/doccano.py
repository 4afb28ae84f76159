"""doccano's sequence-labelling JSONL: ``{"text": ..., "label": [[start, end, "LABEL"], ...]}``.

Reading also takes the newer export shape, ``"entities": [{"start_offset", "end_offset", "label"}]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import srsly

from ..jsonl import read_objects
from .records import RawSpan, Record

if TYPE_CHECKING:
    from spacy.language import Language

SUFFIX = ".jsonl"
HAS_ANSWERS = False  # a record is gold or nothing: imported as gold, it is accepted


def write(records: Sequence[Record], out: Path, nlp: Language) -> None:
    srsly.write_jsonl(out, ({"text": r.text, "label": [[s, e, label] for s, e, label in r.spans], "meta": r.meta} for r in records))


def _spans(task: dict[str, Any]) -> list[RawSpan]:
    if isinstance(task.get("entities"), list):
        return [(int(e["start_offset"]), int(e["end_offset"]), str(e["label"])) for e in task["entities"]]
    raw = task.get("label", task.get("labels")) or []
    return [(int(s), int(e), str(label)) for s, e, label in raw]


def read(path: Path, nlp: Language, problems: list[str]) -> Iterator[Record]:
    for where, task in read_objects(path, problems):
        try:
            spans = _spans(task)
        except (KeyError, TypeError, ValueError) as error:
            problems.append(f"{where}: labels must be [start, end, label] triples ({error}); skipped.")
            continue
        meta = dict(task["meta"]) if isinstance(task.get("meta"), dict) else {}
        meta.update({k: v for k, v in task.items() if k not in ("text", "label", "labels", "entities", "meta") and k not in meta})
        yield Record(task["text"], spans, None, meta, where)
