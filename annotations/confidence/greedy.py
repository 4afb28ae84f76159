"""The greedy parse's own confidence: spaCy's NER decides one action per token (B-, I-, L-, U-label,
or O); the score of an entity is the product of the softmax probabilities, over the valid actions,
of the actions that built it. One parse, no sampling. Validity is asked of the transition system
from Python, action by action, but only of the few actions scored near the best."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

import numpy

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

EntityKey = tuple[int, int, str]
NEGLIGIBLE = 20.0  # logits below the best valid action's by more than this do not change its probability


def greedy_scores(nlp: Language, texts: Sequence[str], component: str = "ner") -> list[dict[EntityKey, float]]:
    """Parse the texts with the pipeline up to its NER, then ``greedy_decode``."""
    docs = [nlp.make_doc(text) for text in texts]
    for name, proc in nlp.pipeline:
        if name == component:
            break
        docs = list(proc.pipe(docs))  # type: ignore[attr-defined]
    return greedy_decode(nlp.get_pipe(component), docs)


def greedy_decode(ner: Any, docs: Sequence[Doc]) -> list[dict[EntityKey, float]]:
    """Decode the docs as spaCy's NER does (the same entities land on ``doc.ents``), keeping each
    action's probability: each entity's score is the product of its actions' probabilities."""
    if not docs:
        return []
    moves = ner.moves
    names = [moves.get_class_name(c) for c in range(moves.n_moves)]
    step_model = ner.model.predict(docs)
    states = moves.init_batch(docs)
    taken: list[dict[int, list[tuple[str, float]]]] = [{} for _ in docs]  # per doc, per token: (action, probability)
    index = {id(s): i for i, s in enumerate(states)}
    todo = [s for s in states if not s.is_final()]
    while todo:
        scores = step_model.predict(todo)
        for state, row in zip(todo, scores):
            best, total = -1, 0.0
            # Best first; an action scored NEGLIGIBLE below the best valid one adds under e^-20 to
            # the sum, so the validity of the rest (most of the 74 actions) is never asked.
            for c in numpy.argsort(-row):
                if best >= 0 and row[c] < row[best] - NEGLIGIBLE:
                    break
                if moves.is_valid(state, names[c]):
                    if best < 0:
                        best = int(c)
                    total += math.exp(float(row[c] - row[best]))
            taken[index[id(state)]].setdefault(state.B(0), []).append((names[best], 1.0 / total))
            moves.apply_transition(state, names[best])
        todo = [s for s in todo if not s.is_final()]
    step_model.clear_memory()
    ner.set_annotations(docs, states)
    found = []
    for doc, actions in zip(docs, taken):
        scores_of: dict[EntityKey, float] = {}
        for ent in doc.ents:
            suffix = "-" + ent.label_
            score = 1.0
            for token in range(ent.start, ent.end):
                for name, p in actions.get(token, ()):
                    if name.endswith(suffix):
                        score *= p
            scores_of[(ent.start_char, ent.end_char, ent.label_)] = score
        found.append(scores_of)
    return found
