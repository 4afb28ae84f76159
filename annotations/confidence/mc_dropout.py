"""Monte-Carlo dropout over spaCy's greedy NER: parse each text K times with the NER's dropout on,
and score each entity of the ordinary (dropout-free) parse by the share of the K noisy parses that
have it too, with the same boundaries and label. Works with any spaCy NER; costs K+1 parses.

The noisy parse is spaCy's own greedy decoding (``Parser.transition_states``) over the step model
``begin_update`` makes, i.e. the model as it runs in training, dropout included: what spaCy's
``Parser.predict`` does with the model as it runs at inference. The dropout masks are drawn from a
generator seeded by the text, so a text gets the same scores in any batch, process or run."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

EntityKey = tuple[int, int, str]  # start char, end char, label


def noisy_entities(ner: Any, doc: Doc, k: int, rate: float) -> list[set[EntityKey]]:
    """``k`` parses of one parsed doc with dropout at ``rate``: the entities each finds (the doc's own
    entities are left as they were)."""
    from thinc.api import fix_random_seed, set_dropout_rate

    kept = doc.ents
    # A doc's entities are constraints to spaCy's NER (it keeps preset ones): the noisy parses start from none.
    doc.ents = ()
    model = ner.model
    fix_random_seed(int.from_bytes(hashlib.blake2b(doc.text.encode("utf-8"), digest_size=4).digest(), "little"))
    found: list[set[EntityKey]] = []
    set_dropout_rate(model, rate)
    try:
        for _ in range(k):
            step_model, _ = model.begin_update([doc])
            states = ner.moves.init_batch([doc])
            todo = [s for s in states if not s.is_final()]
            while todo:
                todo = ner.transition_states(todo, step_model.predict(todo))
            step_model.clear_memory()
            ner.set_annotations([doc], states)
            found.append({(e.start_char, e.end_char, e.label_) for e in doc.ents})  # type: ignore[var-annotated]
            doc.ents = ()
    finally:
        set_dropout_rate(model, 0.0)
        doc.ents = kept
    return found


def dropout_decode(ner: Any, docs: Sequence[Doc], k: int = 10, rate: float = 0.1) -> list[dict[EntityKey, float]]:
    """Parse the docs as spaCy's NER does, then score each entity by the share of ``k`` noisy parses that found it."""
    if not docs:
        return []
    ner.set_annotations(docs, ner.predict(docs))
    scores = []
    for doc in docs:
        counts = dict.fromkeys(((e.start_char, e.end_char, e.label_) for e in doc.ents), 0)
        for noisy in noisy_entities(ner, doc, k, rate):
            for key in counts:
                counts[key] += key in noisy
        scores.append({key: n / k for key, n in counts.items()})
    return scores


def mc_dropout_scores(nlp: Language, docs: Iterable[Doc], k: int = 10, rate: float = 0.1, component: str = "ner") -> list[dict[EntityKey, float]]:
    """For each text of ``docs``, parsed again here through the NER, each entity's share of ``k`` noisy parses that found it."""
    fresh = [nlp.make_doc(doc.text) for doc in docs]
    for name, proc in nlp.pipeline:  # components before the NER that it reads from (a shared tok2vec)
        if name == component:
            break
        fresh = list(proc.pipe(fresh))  # type: ignore[attr-defined]
    return dropout_decode(nlp.get_pipe(component), fresh, k, rate)
