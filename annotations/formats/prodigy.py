"""Prodigy's task JSONL, as ``prodigy db-out`` writes it for ``ner_manual``.

Tokens carry ``text/start/end/id/ws``; spans carry ``start/end/token_start/token_end`` (token_end
inclusive, as Prodigy has it) and ``label``/``text``. Files written by Prodigy load with or without
``tokens`` and spans with or without token indices; top-level keys goldspan has no field for are
kept in the article's meta.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import srsly
from murmurhash import mrmr

from ..jsonl import read_objects
from ..teaching.decisions import Decision
from .records import Record, parse_answer

if TYPE_CHECKING:
    from spacy.language import Language

SUFFIX = ".jsonl"
HAS_ANSWERS = True  # a task's own answer is imported as it is; the other formats have none
TASK_KEYS = frozenset({"text", "meta", "tokens", "spans", "answer"})


def _hash(value: Any) -> int:
    return mrmr.hash(json.dumps(value, sort_keys=True, ensure_ascii=False))


def to_task(record: Record, nlp: Language) -> dict[str, Any]:
    doc = nlp.make_doc(record.text)
    spans = []
    for start, end, label in record.spans:
        span = doc.char_span(start, end, label=label, alignment_mode="expand")
        if span is not None:
            spans.append({"start": span.start_char, "end": span.end_char, "token_start": span.start, "token_end": span.end - 1,
                          "label": label, "text": span.text})  # fmt: skip
    input_hash = _hash({"text": record.text})
    return {
        "text": record.text,
        "meta": record.meta,
        "_input_hash": input_hash,
        "_task_hash": _hash({"input": input_hash, "spans": [[s["start"], s["end"], s["label"]] for s in spans]}),
        "tokens": [{"text": t.text, "start": t.idx, "end": t.idx + len(t), "id": t.i, "ws": bool(t.whitespace_)} for t in doc],
        "spans": spans,
        "answer": str(record.answer) if record.answer else "accept",
        "_view_id": "ner_manual",
        "_timestamp": int(time.time()),
    }


def write(records: Sequence[Record], out: Path, nlp: Language) -> None:
    srsly.write_jsonl(out, (to_task(r, nlp) for r in records))


def binary_task(decision: Decision, text: str, meta: dict[str, Any]) -> dict[str, Any]:
    """A teach-mode answer as Prodigy's ``ner.teach`` stores one: the text, one span, the answer
    (``_view_id`` ``ner``). The span's token_end is inclusive, as Prodigy has it."""
    span = {"start": decision.start, "end": decision.end, "token_start": decision.token_start, "token_end": decision.token_end - 1,
            "label": decision.label, "text": decision.text}  # fmt: skip
    if decision.score is not None:
        span["score"] = decision.score
    input_hash = _hash({"text": text})
    return {
        "text": text,
        "meta": {**meta, "score": decision.score, "annotator": decision.annotator, "model": f"{decision.model} {decision.model_version}".strip()},
        "_input_hash": input_hash,
        "_task_hash": _hash({"input": input_hash, "spans": [[decision.start, decision.end, decision.label]]}),
        "spans": [span],
        "answer": str(decision.answer),
        "_view_id": "ner",
        "_annotator_id": decision.annotator,
        "_timestamp": _epoch(decision.created),
    }


def _epoch(iso: str) -> int:
    from datetime import datetime

    try:
        return int(datetime.fromisoformat(iso).timestamp())
    except ValueError:
        return int(time.time())


def append_binary(tasks: Sequence[dict[str, Any]], out: Path) -> None:
    srsly.write_jsonl(out, tasks, append=True, append_new_line=False)


def read(path: Path, nlp: Language, problems: list[str]) -> Iterator[Record]:
    for where, task in read_objects(path, problems):
        try:
            spans = [(int(s["start"]), int(s["end"]), str(s["label"])) for s in task.get("spans") or ()]
            answer = parse_answer(task.get("answer"), where)
        except (KeyError, TypeError, ValueError) as error:
            problems.append(f"{where}: a span needs start, end and label ({error}); skipped.")
            continue
        meta = dict(task["meta"]) if isinstance(task.get("meta"), dict) else {}
        meta.update({k: v for k, v in task.items() if k not in TASK_KEYS and k not in meta})
        yield Record(task["text"], spans, answer, meta, where)
