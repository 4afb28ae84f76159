"""The span categorizer's confidence: a ``spancat`` trained beside the NER (``goldspan train
--spancat``) scores the NER's own greedy entities. Each entity gets the spancat's probability for its
exact span and label, a sigmoid per label over the suggester's n-grams; an entity longer than the
longest n-gram, or of a label the spancat was not trained on, gets no score. spaCy's author points to
the span categorizer for scores (spaCy#7098); docs/confidence.md has how it compares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

EntityKey = tuple[int, int, str]
SPANS_KEY = "sc"  # the span group a spancat is trained on and predicts (spaCy's default)
FACTORY = "spancat"
NAME = "spancat"  # what `goldspan train --spancat` calls it
NGRAMS = (1, 2, 3, 4, 5)
NO_SPANCAT = "--scorer spancat: this model has no span categorizer; train one beside its NER with `goldspan train --spancat`."  # the suggester's span lengths in tokens: nearly every entity of the samples


def spancat_of(nlp: Language) -> str | None:
    """The pipeline's span categorizer, by name, or None (switched off or not: ``suggest`` runs only
    the NER's components and the scorer, which calls the spancat itself)."""
    for name in nlp.component_names:
        if nlp.get_pipe_meta(name).factory == FACTORY:
            return name
    return None


def has_spancat(meta: dict[str, Any] | None) -> bool:
    """Whether a model's meta lists a component named as `goldspan train --spancat` names it (read
    without loading the model; a span categorizer named otherwise is found when the model loads)."""
    names = (meta or {}).get("pipeline") or ()
    return any(str(name) == NAME or str(name).startswith(NAME) for name in names)


def spancat_decode(nlp: Language, ner: Any, docs: Sequence[Doc]) -> list[dict[EntityKey, float | None]]:
    """Set the NER's own entities on the docs, and score each by the span categorizer."""
    if not docs:
        return []
    name = spancat_of(nlp)
    if name is None:
        from ..errors import ModelError

        raise ModelError(NO_SPANCAT)
    ner.set_annotations(docs, ner.predict(docs))
    # The embedding the spancat listens to: the NER's own components ran before it, but a tok2vec
    # only the spancat listens to (the one `train --spancat` adds beside a sourced NER) did not.
    for other, pipe in nlp.components:
        if name in (getattr(pipe, "listening_components", None) or ()):
            docs = list(pipe.pipe(docs))  # type: ignore[attr-defined]
    spancat = nlp.get_pipe(name)
    indices, scores = spancat.predict(docs)  # type: ignore[attr-defined]
    ops = spancat.model.ops  # type: ignore[attr-defined]
    starts_ends, lengths, table = ops.to_numpy(indices.dataXd), ops.to_numpy(indices.lengths), ops.to_numpy(scores)
    column = {label: j for j, label in enumerate(spancat.labels)}  # type: ignore[attr-defined]
    found: list[dict[EntityKey, float | None]] = []
    row = 0
    for doc, n in zip(docs, lengths):
        rows = {(int(s), int(e)): row + k for k, (s, e) in enumerate(starts_ends[row : row + int(n)])}
        row += int(n)
        scored: dict[EntityKey, float | None] = {}
        for ent in doc.ents:
            at, j = rows.get((ent.start, ent.end)), column.get(ent.label_)
            scored[(ent.start_char, ent.end_char, ent.label_)] = None if at is None or j is None else float(table[at, j])
        found.append(scored)
    return found
