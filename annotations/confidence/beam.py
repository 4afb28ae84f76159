"""The beam's confidence: the NER's own greedy entities (the suggestions are the same as with any
other scorer), each scored by the share of a beam search's probability mass whose parses contain it
(spaCy's ``beam_parse`` and ``scored_ents``, beam width 16). Works with any spaCy NER, trained
greedily or with the beam objective (``beam_ner``). On en_core_web_sm's greedy NER most entities get
a score near 1.0, so it ranks poorly; docs/confidence.md has its figures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from spacy.tokens import Doc

EntityKey = tuple[int, int, str]
BEAM_WIDTH = 16


def beam_decode(ner: Any, docs: Sequence[Doc], width: int = BEAM_WIDTH) -> list[dict[EntityKey, float]]:
    """Set the NER's own entities on the docs, and score each by the beam (0 where no parse in the beam has it)."""
    if not docs:
        return []
    ner.set_annotations(docs, ner.predict(docs))
    scored = ner.scored_ents(ner.beam_parse(docs, beam_width=width))
    return [
        {(e.start_char, e.end_char, e.label_): min(1.0, float(mass.get((e.start, e.end, e.label_), 0.0))) for e in doc.ents}
        for doc, mass in zip(docs, scored)
    ]
