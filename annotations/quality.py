"""`goldspan stats --agreement` and `--model-vs-gold`, assembled from the store: which records,
which model, and the metrics over them (``metrics``). The CLI only prints what these return."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from . import metrics
from .datamodel import Answer, ModelId, Role
from .errors import InputError
from .gold import final_set
from .nlp import pipelines
from .store import Store
from .training.eval_split import current_generation, stored_held_out


def models_used(store: Store) -> Counter[ModelId]:
    """Each model with cached suggestions, with how many articles it has suggestions for."""
    return Counter(s.model for s in store.all_suggestions())


def choose_model(store: Store, asked: str | None) -> ModelId | None:
    """``--model`` (by "name version" or name alone) among the models with suggestions in the DB, else
    the one with suggestions for the most articles; None if there are no suggestions."""
    used = models_used(store)
    if asked is None:
        return used.most_common(1)[0][0] if used else None
    found = next((m for m in used if asked in (str(m), m.name)), None)
    if found is None:
        there = ", ".join(map(str, used)) or "none"
        raise InputError(f"--model {asked}: no suggestions from it in {store.path}; there are: {there}.")
    return found


def agreement(store: Store, annotators: Sequence[str] | None = None) -> list[metrics.PairAgreement]:
    """Every pair of annotators on the articles both accepted; reviewers' records are not annotators' versions."""
    records = [a for a in store.annotations(answered=True, role=Role.ANNOTATOR) if not annotators or a.annotator in annotators]
    both = {a.article_id for a in records if a.answer is Answer.ACCEPT}
    articles = [article for article_id in sorted(both) if (article := store.article(article_id)) is not None]
    pairs = metrics.pairwise_agreement(records, metrics.token_spaces(articles), annotators) if articles else []
    if not pairs:
        raise InputError(f"{store.path}: agreement needs two annotators who answered the same articles; found none.")
    return pairs


def model_against_gold(store: Store, model: str | None = None, annotators: Sequence[str] | None = None) -> metrics.ModelReport:
    """The model's suggestions scored on the final gold: one record per article, as exported.

    ``model`` names a model with cached suggestions, or is a folder with a saved pipeline (a model
    ``goldspan train`` made, say): then the gold articles it has no cached suggestions for are
    parsed with it, here, and nothing is stored. A model goldspan trained is scored on the DB's
    evaluation set only: the articles it was trained on would flatter it."""
    from pathlib import Path

    if model is not None and not Path(model).is_dir():
        from .training.registry import records as trained

        model = next((r.path for r in trained(store) if r.version == model and Path(r.path).is_dir()), model)  # goldspan-3: its folder
    folder = pipelines.resolve(model) if model is not None and Path(model).is_dir() else None
    chosen = folder.model_id if folder is not None else choose_model(store, model)
    if chosen is None:
        raise InputError(f"{store.path}: no model suggestions are stored; run goldspan preannotate first.")
    # --annotator narrows the annotators' versions; a reviewer's record settles them whoever made it.
    records = [a for a in store.annotations(answered=True) if not annotators or a.annotator in annotators or a.is_review]
    gold = final_set(records).answered(Answer.ACCEPT)
    name, scope = str(chosen), ""
    if folder is not None and folder.trained:
        held_out = stored_held_out(store) or set()
        gold = [record for record in gold if record.article_id in held_out]
        name, scope = folder.display_name, "held out for evaluation"
        made_on = (folder.trained or {}).get("eval", {}).get("generation")
        if made_on is not None and made_on != current_generation(store):
            scope += " (a newer evaluation set than the one it was trained beside: some may be articles it was trained on)"
        if not gold:
            raise InputError(f"--model {model}: {store.path} has no accepted article held out for evaluation to score {name} on.")
    articles, suggestions, missing = {}, {}, []
    for record in gold:
        article, cached = store.article(record.article_id), store.suggestions(record.article_id, chosen)
        if article is not None and cached is not None:
            articles[article.id], suggestions[article.id] = article, cached.spans
        elif article is not None and folder is not None:
            missing.append(article)
    if missing:
        assert folder is not None
        from .nlp.suggest import suggest

        for found in suggest(pipelines.load(folder), missing, chosen):
            articles[found.article_id], suggestions[found.article_id] = next(a for a in missing if a.id == found.article_id), found.spans
    report = metrics.model_vs_gold(articles, gold, suggestions, name)
    report.scope = scope
    return report
