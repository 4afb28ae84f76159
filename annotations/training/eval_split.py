"""The evaluation set: which articles are held out from training, fixed once assigned.

Prodigy users report that the held-out set moves from run to run, so two curves (or two models)
are scored on different data and cannot be compared. Here an article is assigned once, when it is
first trained on (or held out), and the assignment is stored in the DB (table ``eval_set``); later
runs only assign articles that are new. (``export --split`` reads the stored set, and places the
articles not assigned yet as a run would now, without storing them.) New articles are taken in the order of a hash of their id
(so the result does not depend on the order they were annotated in), and each goes to evaluation
while the held-out share of all assigned articles is below the split; with two articles or more,
at least one is held out.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Iterable, Mapping

from ..errors import InputError
from ..store import Store

EVAL_SPLIT = "eval_split"  # the setting's name in the DB
EVAL_GENERATION = "eval_generation"  # counts --reset-eval: models are compared within one generation
DEFAULT_EVAL_SPLIT = 0.2
MIN_EVAL_EXAMPLES = 10  # fewer held-out sentences than this give no score worth comparing


def order_key(article_id: str) -> bytes:
    return hashlib.blake2b(f"goldspan-eval {article_id}".encode(), digest_size=8).digest()


def assign(
    stored: Mapping[str, bool], candidates: Iterable[str], split: float, examples_of: Callable[[str], int] | None = None
) -> dict[str, bool]:
    """Assignments for the candidates that have none yet (True: held out for evaluation).

    In the order of their ids' hashes, an article is held out while the held-out articles are fewer
    than ``split`` of all assigned ones (at least one once two are assigned), or, with
    ``examples_of`` (an article's number of examples), while they hold fewer than
    ``MIN_EVAL_EXAMPLES`` examples and another article is trained on: a handful of articles whose
    first held-out one is a short item still gets an evaluation set worth a score."""
    new = sorted((a for a in dict.fromkeys(candidates) if a not in stored), key=order_key)
    held, total = sum(stored.values()), len(stored)
    held_examples = sum(examples_of(a) for a, out in stored.items() if out) if examples_of else 0
    assigned: dict[str, bool] = {}
    for article_id in new:
        total += 1
        trained = total - 1 - held
        target = max(1 if total >= 2 else 0, round(split * total))
        short = examples_of is not None and held_examples < MIN_EVAL_EXAMPLES
        assigned[article_id] = trained >= 1 and (held < target or short) if total >= 2 else False
        if assigned[article_id]:
            held += 1
            held_examples += examples_of(article_id) if examples_of else 0
    return assigned


def check_split(split: float) -> None:
    if not 0 < split < 1:
        raise InputError(f"--eval-split {split}: give the share of articles held out for evaluation, between 0 and 1 (e.g. 0.2).")


def chosen_split(store: Store, asked: float | None, reset: bool) -> float:
    """The split to use: the stored one, or the one asked for where none is stored (or with ``reset``);
    a different one while a split is stored is refused, so every run is scored on the same held-out set."""
    if asked is not None:
        check_split(asked)
    stored = store.setting(EVAL_SPLIT)
    if stored is None or reset:
        return asked if asked is not None else (float(stored) if stored is not None else DEFAULT_EVAL_SPLIT)
    if asked is not None and abs(asked - float(stored)) > 1e-9:
        raise InputError(
            f"--eval-split {asked}: {store.path} already holds an evaluation set made with --eval-split {stored:g}; "
            "models are only comparable on one set: drop the option, or add --reset-eval to start a new set (older models' scores then no longer compare)."
        )
    return float(stored)


def parts_for(
    store: Store, candidates: Iterable[str], split: float, reset: bool = False, examples_of: Callable[[str], int] | None = None
) -> tuple[dict[str, bool], dict[str, bool]]:
    """(every candidate's part, the assignments that are new and not stored yet)."""
    candidates = list(dict.fromkeys(candidates))
    stored = {} if reset else store.eval_parts()
    chosen = set(candidates)
    stored = {a: out for a, out in stored.items() if a in chosen}  # shares are of the articles that are gold now
    new = assign(stored, candidates, split, examples_of)
    return {a: stored[a] if a in stored else new[a] for a in candidates}, new


def stored_held_out(store: Store) -> set[str] | None:
    """The articles held out for evaluation, as ``goldspan train`` would hold them out now (the stored
    ones, and the accepted articles not assigned yet, assigned by the same rule but not stored);
    None while the DB has no evaluation set."""
    split = store.setting(EVAL_SPLIT)
    if split is None:
        return None
    from .examples import example_counter, gold_articles

    gold = gold_articles(store)
    parts, _ = parts_for(store, [a.article_id for a in gold], float(split), examples_of=example_counter(gold))
    return {a for a, held in {**store.eval_parts(), **parts}.items() if held}


def store_run(store: Store, new: Mapping[str, bool], split: float, reset: bool, model: Mapping[str, Any] | None = None) -> int:
    """Store what a run decided, in one journaled write (after a run that kept a model, or a curve):
    its new assignments, the split, and the model's record. An article another run assigned
    meanwhile keeps that assignment. Returns the evaluation set's generation."""
    generation = generation_after(store, reset)
    settings: dict[str, Any] = {}
    if generation != current_generation(store):
        store.clear_eval_parts()
        settings[EVAL_GENERATION] = generation
    if store.setting(EVAL_SPLIT) != split:
        settings[EVAL_SPLIT] = split
    stored = store.eval_parts()
    store.save_training_run(settings, {a: held for a, held in new.items() if a not in stored}, model)
    return generation


def current_generation(store: Store) -> int:
    """Which evaluation set the DB holds: 1, and one more after each --reset-eval that replaced one."""
    return int(store.setting(EVAL_GENERATION) or 1)


def generation_after(store: Store, reset: bool) -> int:
    """The generation a run makes current: a reset of a stored set starts the next one."""
    replaced = reset and (bool(store.eval_parts()) or store.setting(EVAL_SPLIT) is not None)
    return current_generation(store) + replaced
