"""The greedy parse's own confidence: spaCy's NER decides one action per token (B-, I-, L-, U-label,
or O); the score of an entity is the product of the softmax probabilities, over the valid actions,
of the actions that built it. One parse, no sampling; but each step's validity is asked of the
transition system action by action, from Python, so this is a measurement, not yet a fast path."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

import numpy

if TYPE_CHECKING:
    from spacy.language import Language

EntityKey = tuple[int, int, str]


def greedy_scores(nlp: Language, texts: Sequence[str], component: str = "ner") -> list[dict[EntityKey, float]]:
    ner = nlp.get_pipe(component)
    moves = ner.moves  # type: ignore[attr-defined]
    names = [moves.get_class_name(c) for c in range(moves.n_moves)]
    docs = [nlp.make_doc(text) for text in texts]
    for name, proc in nlp.pipeline:
        if name == component:
            break
        docs = list(proc.pipe(docs))
    step_model = ner.model.predict(docs)  # type: ignore[attr-defined]
    states = moves.init_batch(docs)
    taken: list[list[tuple[int, str, float]]] = [[] for _ in docs]  # per doc: (token, action, probability)
    index = {id(s): i for i, s in enumerate(states)}
    todo = [s for s in states if not s.is_final()]
    while todo:
        scores = step_model.predict(todo)
        for state, row in zip(todo, scores):
            valid = numpy.array([moves.is_valid(state, name) for name in names], dtype=bool)
            logits = numpy.where(valid, row, -numpy.inf)
            probs = numpy.exp(logits - logits.max())
            probs /= probs.sum()
            best = int(probs.argmax())
            taken[index[id(state)]].append((state.B(0), names[best], float(probs[best])))
            moves.apply_transition(state, names[best])
        todo = [s for s in todo if not s.is_final()]
    step_model.clear_memory()
    ner.set_annotations(docs, states)  # type: ignore[attr-defined]
    found = []
    for doc, actions in zip(docs, taken):
        scores_of: dict[EntityKey, float] = {}
        for ent in doc.ents:
            logp = sum(math.log(p) for token, name, p in actions if ent.start <= token < ent.end and name.endswith("-" + ent.label_))
            scores_of[(ent.start_char, ent.end_char, ent.label_)] = math.exp(logp)
        found.append(scores_of)
    return found
