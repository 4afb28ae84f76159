"""File formats of the NER world, one module each; the only code that knows their shapes.

Each module has ``write(records, out, nlp)`` and ``read(path, nlp, problems)``; ``read`` yields
``Record``s and appends one line per unreadable record to ``problems``, going on with the rest.
"""

from __future__ import annotations

from types import ModuleType

from . import brat, conll, doccano, prodigy, spacy_docbin

FORMATS: dict[str, ModuleType] = {
    "spacy": spacy_docbin,
    "prodigy": prodigy,
    "doccano": doccano,
    "conll": conll,
    "brat": brat,
}
