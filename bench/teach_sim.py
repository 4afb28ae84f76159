"""Does asking the least certain first pay? A simulated annotator answers teach-mode questions from a
known gold corpus, in `uncertain` order and in `random` order, and a model is trained after each step
(issue 21's quality measurement).

The corpus is train_bench's stand-in: generated comments about made-up products (GADGET), whose
names are random syllables. A seed of comments with gold trains the base model (fine-tuned from the
installed English model, as `goldspan train` does); a fixed set of held-out comments with gold
scores every model; the rest is the pool, whose gold only the simulated annotator knows. At each
step the current model scores the pool's suggestions (the greedy scorer), the next decisions are
taken in the order under test from the suggestions not answered yet, answered from the gold (accept
when the gold has the span with that label, else reject), saved as teach decisions, and a model is
trained from the base on the seed's gold plus every decision so far (partial examples, as `goldspan
train` does) with the same steps and seed, then scored on the held-out set; it becomes the current
model. Everything goes through goldspan's own code (suggest, the decisions table, prepare and run).
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from common import Row
from train_bench import comments

BUDGETS = (25, 50, 100, 200)
ORDERS = ("uncertain", "random")
# Seconds a person takes per decision, for the time column: no annotator has been timed here, so
# these are assumptions, stated: Prodigy's reported ~1 s per binary decision for random examples,
# and half as long again for uncertain ones (uncertain examples take longer each: Hachey 2005).
SECONDS = {"uncertain": 1.5, "random": 1.0}


@dataclass
class Step:
    order: str
    decisions: int
    accepted: int
    f: float
    seconds: float  # the training's own, measured


def simulate(quick: bool, work: Path, seed: int = 1) -> tuple[float, list[Step]]:
    import spacy

    from goldspan.annotations.datamodel import Annotation, Answer, Article, Origin, Span, SpanState
    from goldspan.annotations.nlp.pipelines import resolve
    from goldspan.annotations.nlp.suggest import suggest
    from goldspan.annotations.ordering import uncertainty_of
    from goldspan.annotations.store import Store
    from goldspan.annotations.teaching.decisions import Decision
    from goldspan.annotations.training import eval_split
    from goldspan.annotations.training.trainer import TrainRequest, prepare, run

    n, n_seed, n_eval, steps = (300, 30, 80, 30) if quick else (1_235, 40, 250, 300)
    budgets = BUDGETS[:2] if quick else BUDGETS
    made = comments(n, seed=11)
    blank = spacy.blank("en")
    articles, gold = [], {}
    for i, (text, raw) in enumerate(made):
        prefix = f"Comment {i}\n"
        article = Article.from_text(prefix + text)
        articles.append(article)
        gold[article.id] = {(s + len(prefix), e + len(prefix), label) for s, e, label in raw}
    seed_set, eval_set, pool = articles[:n_seed], articles[n_seed : n_seed + n_eval], articles[n_seed + n_eval :]
    base_db = work / "base.json"
    with Store(base_db) as store:
        store.add_articles(articles)
        records = []
        for article in seed_set + eval_set:
            doc = blank.make_doc(article.text)
            spans = []
            for start, end, label in sorted(gold[article.id]):
                found = doc.char_span(start, end)
                spans.append(Span(start, end, found.start, found.end, label, Origin.ANNOTATOR, SpanState.ADDED))
            records.append(Annotation(article.id, "gold", tuple(spans), Answer.ACCEPT))
        store.save_annotations(records)
        # The held-out set is fixed before any training: exactly the eval comments.
        eval_split.store_run(store, {a.id: True for a in eval_set} | {a.id: False for a in seed_set}, 0.2, reset=False)
    request = TrainRequest(out=None, base=resolve(None).name, max_steps=steps, eval_frequency=max(1, steps // 3), seed=seed)

    def trained(db: Path, name: str) -> tuple[Path, float, float]:
        started = time.monotonic()
        with Store(db) as store:
            prepared = prepare(store, request)
        outcome = run(prepared, request, name=name)
        kept = work / name
        shutil.copytree(outcome.folder, kept)
        shutil.rmtree(prepared.workdir, ignore_errors=True)
        return kept, float(outcome.scores.get("ents_f") or 0.0), time.monotonic() - started

    base_model, base_f, base_seconds = trained(base_db, "base")
    results: list[Step] = []
    for order in ORDERS:
        db = work / f"{order}.json"
        shutil.copy(base_db, db)
        model, decided, accepted = base_model, set(), 0
        chooser = random.Random(seed)
        for budget in budgets:
            nlp = spacy.load(model)
            spec = resolve(str(model))
            found = list(suggest(nlp, pool, spec.model_id, scorer="greedy", batch_size=64))
            text_of = {a.id: a.text for a in pool}
            candidates = [(f.article_id, sp) for f in found for sp in f.spans if (f.article_id, sp.start, sp.end, sp.label) not in decided]
            if order == "uncertain":
                candidates.sort(key=lambda c: -uncertainty_of(c[1].score if c[1].score is not None else 1.0))
            else:
                chooser.shuffle(candidates)
            with Store(db) as store:
                for article_id, span in candidates[: budget - len(decided)]:
                    right = (span.start, span.end, span.label) in gold[article_id]
                    accepted += right
                    decided.add((article_id, span.start, span.end, span.label))
                    store.save_decision(Decision(article_id, "sim", span.start, span.end, span.label, Answer.ACCEPT if right else Answer.REJECT,
                                                 span.token_start, span.token_end, text_of[article_id][span.start : span.end],
                                                 score=span.score).to_dict())  # fmt: skip
            model, f, seconds = trained(db, f"{order}-{budget}")
            results.append(Step(order, len(decided), accepted, f, seconds))
    return base_f, results


SEEDS = (1, 2, 3)  # each a whole simulation: the training's seed and the random order's


def bench_teach_sim(quick: bool) -> list[Row]:
    from statistics import mean

    from rich.console import Console
    from rich.table import Table

    runs: list[tuple[float, list[Step]]] = []
    for seed in SEEDS[:1] if quick else SEEDS:
        with tempfile.TemporaryDirectory() as tmp_name:
            runs.append(simulate(quick, Path(tmp_name), seed))
    base_f = mean(f for f, _ in runs)
    steps = [s for _, found in runs for s in found]
    decisions = sorted({s.decisions for s in steps})

    def f_of(order: str, n: int) -> list[float]:
        return [s.f for s in steps if s.order == order and s.decisions == n]

    def accepted_of(order: str, n: int) -> float:
        return mean(s.accepted for s in steps if s.order == order and s.decisions == n)

    table = Table(title=f"uncertain vs random order: F on the held-out comments, mean (min-max) of {len(runs)} seeds; base model F {base_f:.3f}")
    for column in ("decisions", "uncertain: F", "accepted", "person's time", "random: F", "accepted", "person's time"):
        table.add_column(column, justify="right")
    for n in decisions:
        cells = [str(n)]
        for order in ORDERS:
            found = f_of(order, n)
            cells += [f"{mean(found):.3f} ({min(found):.3f}-{max(found):.3f})", f"{accepted_of(order, n):.0f}", f"{n * SECONDS[order]:.0f} s"]
        table.add_row(*cells)
    Console(stderr=True).print(table)
    rows = [
        Row(f"teach simulation: {order} order, {n} decisions ({accepted_of(order, n):.0f} accepted): mean F on held-out (vs base model)",
            mean(f_of(order, n)), base_f, mean(f_of(order, n)) / base_f if base_f else float("nan"), "reported", True)
        for order in ORDERS for n in decisions
    ]  # fmt: skip
    last = decisions[-1]
    final_random = mean(f_of("random", last))
    reached = [n for n in decisions if mean(f_of("uncertain", n)) >= final_random]
    first = reached[0] if reached else None
    rows.append(Row(f"teach simulation: decisions uncertain order needs to reach random order's final mean F {final_random:.3f} (vs random's {last})",
                    first if first else float("nan"), last, (first / last) if first else float("nan"), "< 1 (fewer decisions)",
                    bool(first and first < last)))  # fmt: skip
    return rows
