"""Scores on suggestions as they are made: a spaCy component that decodes the pipeline's NER with a
scorer (``confidence.scoring.SCORERS``), and the calibration that turns its raw scores into probabilities.

The component takes the NER's place while suggestions are made (``suggest`` switches the NER off and
this on), so the entities are the NER's own, found once, and a text parsed with ``nlp.pipe`` over
several processes is scored in them too: the scores travel in ``doc.user_data`` as plain lists.
Which scorer is the default, and why, is measured in bench/scorers_bench.py (docs/confidence.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Sequence

from .calibration import Isotonic

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

SCORERS = ("greedy", "dropout", "beam", "spancat", "none")
DEFAULT_SCORER = "greedy"  # AUC 0.80 against dropout's 0.73 on the hand-judged samples, at 0.69x a plain parse (docs/confidence.md)
USER_DATA = "goldspan_scores"  # doc.user_data[USER_DATA]: [[start char, end char, label, raw score], ...]
DROPOUT_K, DROPOUT_RATE = 10, 0.1
CALIBRATIONS = Path(__file__).with_name("calibrations.json")
PRECISION = 4  # digits kept in the store: a difference of 0.0001 in a probability means nothing


@dataclass(frozen=True)
class Calibration:
    """How a scorer's raw scores become probabilities for one model (an isotonic fit), and on what it was fitted."""

    scorer: str
    fit: Isotonic | None  # None: raw scores, said so in ``fitted_on``
    fitted_on: str

    def at(self, raw: float) -> float:
        return round(min(1.0, max(0.0, self.fit.at(raw) if self.fit else raw)), PRECISION)

    @property
    def label(self) -> str:
        """What the stored scores are, for the suggestions' record: "greedy, isotonic on 163 judged suggestions"."""
        return f"{self.scorer}, {self.fitted_on}"


def component_name(scorer: str) -> str:
    return f"goldspan_scores_{scorer}"


def scored_ner(nlp: Language) -> str | None:
    """The NER component a scorer decodes (spaCy's ``ner`` factory), or None if the pipeline has none."""
    for name in nlp.pipe_names:
        if nlp.get_pipe_meta(name).factory in ("ner", "beam_ner"):
            return name
    return None


def add_scorer(nlp: Language, scorer: str) -> str | None:
    """The name of the component that decodes ``nlp``'s NER with ``scorer``, added after the NER the
    first time; None when there is nothing to score (no NER, or scorer "none")."""
    ner = scored_ner(nlp)
    if scorer == "none" or ner is None:
        return None
    _register()
    name = component_name(scorer)
    if name not in nlp.pipe_names:
        nlp.add_pipe("goldspan_entity_scores", name=name, after=ner, config={"scorer": scorer, "ner": ner})
    return name


def doc_scores(doc: Doc) -> dict[tuple[int, int, str], float | None]:
    """The raw scores a scoring component left on the doc, by (start char, end char, label); None: an
    entity the scorer could not score (the span categorizer's, longer than its longest n-gram)."""
    return {(int(a), int(b), str(label)): None if p is None else float(p) for a, b, label, p in doc.user_data.get(USER_DATA, ())}


def scorer_problem(scorer: str, meta: Mapping[str, Any] | None) -> str | None:
    """Why ``scorer`` cannot score this model's suggestions (one sentence), or None."""
    from .span_categorizer import NO_SPANCAT, has_spancat

    if scorer == "spancat" and not has_spancat(dict(meta or {})):
        return NO_SPANCAT
    return None


def entity_scores(nlp: Language, texts: Iterable[str], scorer: str) -> list[dict[tuple[int, int, str], float | None]]:
    """Each text's entities, as the NER finds them, with ``scorer``'s raw scores (as suggestions get them)."""
    ner = scored_ner(nlp)
    if ner is None:
        return []
    docs = [nlp.make_doc(text) for text in texts]
    for name, proc in nlp.pipeline:
        if name == ner:
            break
        if name in _upstream(nlp, ner):
            docs = list(proc.pipe(docs))  # type: ignore[attr-defined]
    return [doc_scores(doc) for doc in EntityScorer(nlp, scorer, ner).pipe(docs)]


def _upstream(nlp: Language, ner: str) -> set[str]:
    return {name for name, pipe in nlp.pipeline if ner in (getattr(pipe, "listening_components", None) or ())}


class EntityScorer:
    """Decodes the named NER with a scorer: the NER's entities land on ``doc.ents``, their scores in user_data."""

    def __init__(self, nlp: Language, scorer: str, ner: str) -> None:
        self.nlp, self.scorer, self.ner = nlp, scorer, ner

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 32) -> Iterator[Doc]:
        from spacy.util import minibatch

        ner = self.nlp.get_pipe(self.ner)
        for batch in minibatch(docs, batch_size):
            scores: Sequence[Mapping[tuple[int, int, str], float | None]]
            if self.scorer == "dropout":
                from .mc_dropout import dropout_decode

                scores = dropout_decode(ner, batch, DROPOUT_K, DROPOUT_RATE)
            elif self.scorer == "beam":
                from .beam import beam_decode

                scores = beam_decode(ner, batch)
            elif self.scorer == "spancat":
                from .span_categorizer import spancat_decode

                scores = spancat_decode(self.nlp, ner, batch)
            else:
                from .greedy import greedy_decode

                scores = greedy_decode(ner, batch)
            for i, doc in enumerate(batch):
                doc.user_data[USER_DATA] = [[a, b, label, p] for (a, b, label), p in scores[i].items()]
            yield from batch


@lru_cache(maxsize=1)
def _register() -> None:
    from spacy.language import Language

    if not Language.has_factory("goldspan_entity_scores"):

        @Language.factory("goldspan_entity_scores", default_config={"scorer": DEFAULT_SCORER, "ner": "ner"})
        def make_entity_scorer(nlp: Language, name: str, scorer: str, ner: str) -> EntityScorer:
            return EntityScorer(nlp, scorer, ner)


def calibration_for(meta: Mapping[str, Any] | None, scorer: str) -> Calibration:
    """The calibration for this model and scorer: the one `goldspan train` fitted on the held-out
    gold and wrote into the model's meta, else one shipped with goldspan for a known model, else none."""
    meta = meta or {}
    trained = (meta.get("goldspan") or {}).get("calibration", {}) if isinstance(meta.get("goldspan"), dict) else {}
    found = trained.get(scorer) if isinstance(trained, dict) else None
    if found is None:
        key = f"{meta.get('lang', '')}_{meta.get('name', '')} {meta.get('version', '')}"
        found = _shipped().get(key, {}).get(scorer)
    if isinstance(found, dict) and found.get("xs"):
        fit = Isotonic(tuple(found["xs"]), tuple(found["ys"]))
        return Calibration(scorer, fit, str(found.get("fitted_on", "isotonic fit")))
    return Calibration(scorer, None, "raw (no calibration known for this model)")


@lru_cache(maxsize=1)
def _shipped() -> dict[str, Any]:
    try:
        return dict(json.loads(CALIBRATIONS.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}
