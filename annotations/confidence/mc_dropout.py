"""Monte-Carlo dropout over spaCy's greedy NER: parse each text K times with the NER's dropout on,
and score each entity of the ordinary (dropout-free) parse by the share of the K noisy parses that
have it too, with the same boundaries and label. Works with any spaCy NER; costs K+1 parses.

The noisy parse is spaCy's own greedy decoding (``Parser.transition_states``) over the step model
``begin_update`` makes, i.e. the model as it runs in training, dropout included: what spaCy's
``Parser.predict`` does with the model as it runs at inference."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

EntityKey = tuple[int, int, str]  # start char, end char, label


def noisy_entities(nlp: Language, texts: Sequence[str], rate: float, component: str = "ner") -> list[set[EntityKey]]:
    """One parse of each text with dropout at ``rate``: the entities it finds."""
    from thinc.api import set_dropout_rate

    ner = nlp.get_pipe(component)
    docs = [nlp.make_doc(text) for text in texts]
    for name, proc in nlp.pipeline:  # components before the NER that it reads from (a shared tok2vec)
        if name == component:
            break
        docs = list(proc.pipe(docs))
    model = ner.model  # type: ignore[attr-defined]
    set_dropout_rate(model, rate)
    try:
        step_model, _ = model.begin_update(docs)
        states = ner.moves.init_batch(docs)  # type: ignore[attr-defined]
        todo = [s for s in states if not s.is_final()]
        while todo:
            scores = step_model.predict(todo)
            todo = ner.transition_states(todo, scores)  # type: ignore[attr-defined]
        step_model.clear_memory()
    finally:
        set_dropout_rate(model, 0.0)
    for doc, state in zip(docs, states):
        doc.ents = ()  # set_annotations fills ents from the state
    ner.set_annotations(docs, states)  # type: ignore[attr-defined]
    return [{(e.start_char, e.end_char, e.label_) for e in doc.ents} for doc in docs]


def mc_dropout_scores(nlp: Language, docs: Iterable[Doc], k: int = 10, rate: float = 0.1, component: str = "ner") -> list[dict[EntityKey, float]]:
    """For each parsed doc, each of its entities' share of ``k`` noisy parses that found it."""
    docs = list(docs)
    texts = [doc.text for doc in docs]
    found = [dict.fromkeys(((e.start_char, e.end_char, e.label_) for e in doc.ents), 0) for doc in docs]
    for _ in range(k):
        for counts, noisy in zip(found, noisy_entities(nlp, texts, rate, component)):
            for key in counts:
                counts[key] += key in noisy
    return [{key: n / k for key, n in counts.items()} for counts in found]
