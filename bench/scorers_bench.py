"""How good a scorer's confidences are (issue 21): on comments held out from training (the stand-in
corpus of bench/train_bench.py, a model trained on the rest with goldspan's trainer), each entity the
model suggests gets a score and an outcome (the gold has it, same boundaries and label), judged by
expected calibration error, Brier score and AUC; and the scorer's cost in words per second against
parsing without scores, in the same run. Candidates are added here as they are built."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from common import Row


def bench_scorers(quick: bool) -> list[Row]:
    import spacy
    from spacy.tokens import DocBin

    from goldspan.annotations.confidence.calibration import judge
    from goldspan.annotations.confidence.greedy import greedy_scores
    from goldspan.annotations.confidence.mc_dropout import mc_dropout_scores
    from goldspan.annotations.store import Store
    from goldspan.annotations.training.trainer import TrainRequest, prepare, run
    from train_bench import make_db

    # Few steps on purpose: a model that still errs often enough for the wrong suggestions to be counted.
    n, steps = (300, 40) if quick else (1_235, 150)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        make_db(tmp / "bench.json", n)
        request = TrainRequest(out=None, eval_split=0.2, max_steps=steps, eval_frequency=max(1, steps // 4))
        with Store(tmp / "bench.json") as store:
            prepared = prepare(store, request)
        outcome = run(prepared, request)
        nlp = spacy.load(outcome.folder)
        gold_docs = list(DocBin().from_disk(prepared.eval_path).get_docs(nlp.vocab))
        texts = [doc.text for doc in gold_docs]
        gold = [{(e.start_char, e.end_char, e.label_) for e in doc.ents} for doc in gold_docs]
        words = sum(len(doc) for doc in gold_docs)
        start = time.perf_counter()
        parsed = list(nlp.pipe(texts))
        plain = time.perf_counter() - start
        candidates = {
            "greedy path's action probabilities": lambda: greedy_scores(nlp, texts),
            "Monte-Carlo dropout, K=4": lambda: mc_dropout_scores(nlp, list(nlp.pipe(texts)), k=4, rate=0.1),
            "Monte-Carlo dropout, K=10": lambda: mc_dropout_scores(nlp, list(nlp.pipe(texts)), k=10, rate=0.1),
        }
        for name, scorer in candidates.items():
            start = time.perf_counter()
            scored = scorer()
            seconds = time.perf_counter() - start
            scores = [p for doc_scores in scored for p in doc_scores.values()]
            outcomes = [key in truth for doc_scores, truth in zip(scored, gold) for key in doc_scores]
            judged = judge(scores, outcomes)
            today = judge([1.0] * judged.n, outcomes)  # what the greedy NER says of every suggestion now: nothing, i.e. sure
            title = f"scorer: {name}, {judged.n} suggestions ({judged.n - judged.right} wrong) on held-out comments"
            rows += [
                Row(f"{title}: AUC (vs 0.5, a score that ranks nothing)", judged.auc, 0.5, judged.auc / 0.5, "reported", True),
                Row(f"{title}: Brier (vs every suggestion scored 1)", max(judged.brier, 1e-9), max(today.brier, 1e-9),
                    judged.brier / today.brier if today.brier else float("nan"), "reported", True),
                Row(f"{title}: expected calibration error, 10 bins (vs every suggestion scored 1)", max(judged.ece, 1e-9), max(today.ece, 1e-9),
                    judged.ece / today.ece if today.ece else float("nan"), "reported", True),
                Row(f"{title}: words per second (vs parsing without scores)", words / seconds, words / plain, plain / seconds,
                    "≥ 0.3 (preannotate with scores)", plain / seconds >= 0.3),
            ]  # fmt: skip
        del parsed
    return rows
