"""File formats of the NER world, one module each; the only code that knows their shapes.

Each module is a ``Format``: ``write(records, out, nlp)`` and ``read(path, nlp, problems)``, which
yields ``Record``s and appends one line per unreadable record to ``problems``, going on with the
rest; ``SUFFIX`` is what its files end in ("" for a folder), ``HAS_ANSWERS`` whether records carry
an answer of their own (Prodigy's do; the others are gold or nothing).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Protocol, Sequence

from . import brat, conll, doccano, prodigy, spacy_docbin
from .records import Record

if TYPE_CHECKING:
    from spacy.language import Language


class Format(Protocol):
    SUFFIX: str
    HAS_ANSWERS: bool

    def write(self, records: Sequence[Record], out: Path, nlp: Language) -> None: ...

    def read(self, path: Path, nlp: Language, problems: list[str]) -> Iterator[Record]: ...


FORMATS: dict[str, Format] = {
    "spacy": spacy_docbin,  # type: ignore[dict-item]
    "prodigy": prodigy,  # type: ignore[dict-item]
    "doccano": doccano,  # type: ignore[dict-item]
    "conll": conll,  # type: ignore[dict-item]
    "brat": brat,  # type: ignore[dict-item]
}
