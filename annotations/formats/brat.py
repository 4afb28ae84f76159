"""brat standoff: a ``NAME.txt`` with the text and a ``NAME.ann`` with one line per entity,
``T1<TAB>LABEL START END<TAB>covered text``; offsets are character offsets into the .txt. A span
that crosses a line end is written as fragments (``START END;START END``), as brat requires.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from ..errors import InputError
from ..text import read_utf8
from .records import Record

if TYPE_CHECKING:
    from spacy.language import Language

SUFFIX = ""  # a folder
HAS_ANSWERS = False  # a record is gold or nothing: imported as gold, it is accepted
_ENTITY = re.compile(r"^T\d+\t(\S+) ((?:\d+ \d+;?)+)\t")


def _name(index: int, record: Record) -> str:
    title = str(record.meta.get("title") or record.text.strip().split("\n", 1)[0])
    slug = re.sub(r"[^\w]+", "-", title.lower()).strip("-")[:40] or "article"
    return f"{index:05d}-{slug}"


def _fragments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    pieces, at = [], start
    for part in text[start:end].split("\n"):
        if part.strip():
            lead = len(part) - len(part.lstrip())
            pieces.append((at + lead, at + len(part.rstrip())))
        at += len(part) + 1
    return pieces


def write(records: Sequence[Record], out: Path, nlp: Language) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for index, record in enumerate(records, start=1):
        name = _name(index, record)
        (out / f"{name}.txt").write_text(record.text, encoding="utf-8", newline="")
        lines = []
        for n, (start, end, label) in enumerate(record.spans, start=1):
            pieces = _fragments(record.text, start, end)
            where = ";".join(f"{a} {b}" for a, b in pieces)
            covered = " ".join(record.text[a:b] for a, b in pieces)
            lines.append(f"T{n}\t{label.replace(' ', '_')} {where}\t{covered}\n")
        (out / f"{name}.ann").write_text("".join(lines), encoding="utf-8", newline="")


def read(path: Path, nlp: Language, problems: list[str]) -> Iterator[Record]:
    files = sorted(path.rglob("*.ann")) if path.is_dir() else [path]
    for ann in files:
        txt = ann.with_suffix(".txt")
        if not txt.exists():
            problems.append(f"{ann}: no {txt.name} beside it; skipped.")
            continue
        try:
            text = read_utf8(txt)  # as it is: brat offsets count a CR too
            lines = read_utf8(ann).split("\n")
        except InputError as error:
            problems.append(f"{error} Skipped.")
            continue
        spans = []
        for number, line in enumerate(lines, start=1):
            if not line.startswith("T"):
                continue  # relations, events, attributes and notes have no place in NER
            match = _ENTITY.match(line)
            if match is None:
                problems.append(f"{ann}:{number}: not an entity line of brat standoff; line skipped.")
                continue
            bounds = [int(x) for x in re.findall(r"\d+", match.group(2))]
            spans.append((min(bounds), max(bounds), match.group(1)))
        yield Record(text, spans, None, {"title": text.strip().split("\n", 1)[0][:120]}, str(ann))
