"""spaCy's binary training format: a ``DocBin`` of Docs whose ``ents`` are the gold spans.

Tokens outside every span are O (``doc.ents = ...`` marks them so), which is what ``spacy train``
expects of fully annotated examples.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from .records import Record

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

SUFFIX = ".spacy"
HAS_ANSWERS = False  # a record is gold or nothing: imported as gold, it is accepted


def to_doc(nlp: Language, record: Record) -> Doc:
    from spacy.util import filter_spans

    doc = nlp.make_doc(record.text)
    spans = [doc.char_span(s, e, label=label, alignment_mode="expand") for s, e, label in record.spans]
    doc.ents = filter_spans([s for s in spans if s is not None])
    return doc


def write(records: Sequence[Record], out: Path, nlp: Language) -> None:
    from spacy.tokens import DocBin

    docs = DocBin(attrs=["ORTH", "ENT_IOB", "ENT_TYPE"])
    for record in records:
        docs.add(to_doc(nlp, record))
    docs.to_disk(out)


def read(path: Path, nlp: Language, problems: list[str]) -> Iterator[Record]:
    from spacy.tokens import DocBin

    try:
        docs = DocBin().from_disk(path)
    except Exception as error:  # msgpack / zlib errors for a file that is not a DocBin
        problems.append(f"{path}: not a spaCy DocBin file ({type(error).__name__}).")
        return
    for i, doc in enumerate(docs.get_docs(nlp.vocab), start=1):
        yield Record(doc.text, [(e.start_char, e.end_char, e.label_) for e in doc.ents], None, {}, f"{path}#{i}")
