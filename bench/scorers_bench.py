"""How good a scorer's confidences are (issue 21). Each entity the model suggests gets a score and
an outcome (right or wrong), judged by expected calibration error, Brier score and AUC; and each
scorer's cost in words per second against parsing without scores, in the same run. Two sets:

- en_core_web_sm on four of the sample articles, its 163 suggestions judged right or wrong by hand
  (exact boundaries and label, OntoNotes' conventions; bench/data/judged-suggestions.jsonl);
- the generated comments of bench/train_bench.py, a model trained on 80 % of them for a few steps
  (so that it still errs), its suggestions on the other 20 % judged against their gold.

Candidates are added here as they are built."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from common import Row

if TYPE_CHECKING:
    from spacy.language import Language

HERE = Path(__file__).resolve().parent
EXCLUDE = ["parser", "tagger", "lemmatizer", "attribute_ruler", "senter", "tok2vec_unused"]
Outcome = Callable[[int, tuple[int, int, str]], "bool | None"]  # (text's index, entity) -> right, wrong, or not judged


def judged_rows(nlp: Language, texts: Sequence[str], outcome_of: Outcome, what: str) -> list[Row]:
    from goldspan.annotations.confidence.calibration import Isotonic, judge
    from goldspan.annotations.confidence.greedy import greedy_scores
    from goldspan.annotations.confidence.mc_dropout import mc_dropout_scores
    from goldspan.annotations.confidence.scoring import entity_scores
    from goldspan.annotations.confidence.span_categorizer import spancat_of

    words = sum(len(nlp.make_doc(text)) for text in texts)
    list(nlp.pipe(texts))  # warm: the first parse of a freshly loaded model pays for allocations
    start = time.perf_counter()
    list(nlp.pipe(texts))
    plain = time.perf_counter() - start
    candidates = {
        "greedy path's action probabilities": lambda: greedy_scores(nlp, texts),
        "Monte-Carlo dropout, K=4": lambda: mc_dropout_scores(nlp, list(nlp.pipe(texts)), k=4, rate=0.1),
        "Monte-Carlo dropout, K=10": lambda: mc_dropout_scores(nlp, list(nlp.pipe(texts)), k=10, rate=0.1),
        "beam search's share, width 16 (--scorer beam)": lambda: entity_scores(nlp, texts, "beam"),
    }
    if spancat_of(nlp) is not None:  # a model trained with --spancat
        candidates["span categorizer trained beside the NER (--scorer spancat)"] = lambda: entity_scores(nlp, texts, "spancat")
    rows = []
    for name, scorer in candidates.items():
        start = time.perf_counter()
        scored = scorer()
        seconds = time.perf_counter() - start
        # An entity a scorer gives no score (the spancat's, longer than 5 tokens) is left out of its figures.
        pairs = [(i % 2, p, outcome_of(i, key)) for i, doc_scores in enumerate(scored) for key, p in doc_scores.items() if p is not None]
        pairs = [(half, p, bool(right)) for half, p, right in pairs if right is not None]
        scores, outcomes = [p for _, p, _ in pairs], [right for _, _, right in pairs]
        judged = judge(scores, outcomes)
        # Isotonic fit on one half of the texts, applied to the other, both ways (no text scores itself).
        fits = {half: Isotonic.fit([p for h, p, _ in pairs if h != half], [r for h, _, r in pairs if h != half]) for half in (0, 1)}
        calibrated = judge([fits[h].at(p) for h, p, _ in pairs], outcomes)
        today = judge([1.0] * judged.n, outcomes)  # what the greedy NER says of every suggestion now: nothing, i.e. sure
        title = f"scorer: {name}, {what}, {judged.n} suggestions ({judged.n - judged.right} wrong)"
        rows += [
            Row(f"{title}: AUC (vs 0.5, a score that ranks nothing)", judged.auc, 0.5, judged.auc / 0.5, "reported", True),
            Row(f"{title}: Brier (vs every suggestion scored 1)", max(judged.brier, 1e-9), max(today.brier, 1e-9),
                judged.brier / today.brier if today.brier else float("nan"), "reported", True),
            Row(f"{title}: expected calibration error, 10 bins (vs every suggestion scored 1)", max(judged.ece, 1e-9), max(today.ece, 1e-9),
                judged.ece / today.ece if today.ece else float("nan"), "reported", True),
            Row(f"{title}: isotonic fit on the other half: Brier (vs unfitted)", max(calibrated.brier, 1e-9), max(judged.brier, 1e-9),
                calibrated.brier / judged.brier if judged.brier else float("nan"), "reported", True),
            Row(f"{title}: isotonic fit on the other half: ECE (vs unfitted)", max(calibrated.ece, 1e-9), max(judged.ece, 1e-9),
                calibrated.ece / judged.ece if judged.ece else float("nan"), "reported", True),
            Row(f"{title}: words per second (vs parsing without scores)", words / seconds, words / plain, plain / seconds,
                "≥ 0.3 (preannotate with scores)", plain / seconds >= 0.3),
        ]  # fmt: skip
    return rows


def judged_samples() -> tuple[list[str], dict[tuple[int, tuple[int, int, str]], bool]]:
    """The judged sample articles' texts, and each judged suggestion's outcome by (text's index, entity)."""
    judged = [json.loads(line) for line in (HERE / "data" / "judged-suggestions.jsonl").read_text(encoding="utf-8").splitlines()]
    files = list(dict.fromkeys(j["file"] for j in judged))
    texts = [(HERE.parent / "sample_articles" / name).read_text(encoding="utf-8") for name in files]
    right = {(files.index(j["file"]), (j["start"], j["end"], j["label"])): j["right"] for j in judged}
    return texts, right


def samples_rows() -> list[Row]:
    import spacy

    from goldspan.annotations.nlp.pipelines import resolve

    texts, right = judged_samples()
    nlp = spacy.load(resolve(None).name, exclude=EXCLUDE)
    return judged_rows(nlp, texts, lambda i, key: right.get((i, key)), "en_core_web_sm on 4 sample articles judged by hand")


def comments_rows(quick: bool) -> list[Row]:
    import spacy
    from spacy.tokens import DocBin

    from goldspan.annotations.store import Store
    from goldspan.annotations.training.trainer import TrainRequest, prepare, run
    from train_bench import make_db

    # Few steps on purpose: a model that still errs often enough for its wrong suggestions to count.
    n, steps = (300, 40) if quick else (1_235, 150)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        make_db(tmp / "bench.json", n)
        # With a span categorizer beside the NER (train --spancat), so that scorer is judged on the same suggestions.
        request = TrainRequest(out=None, eval_split=0.2, max_steps=steps, eval_frequency=max(1, steps // 4), spancat=True)
        with Store(tmp / "bench.json") as store:
            prepared = prepare(store, request)
        outcome = run(prepared, request)
        nlp = spacy.load(outcome.folder)
        gold_docs = list(DocBin().from_disk(prepared.eval_path).get_docs(nlp.vocab))
        gold = [{(e.start_char, e.end_char, e.label_) for e in doc.ents} for doc in gold_docs]
        return judged_rows(nlp, [doc.text for doc in gold_docs], lambda i, key: key in gold[i], "generated comments held out")


def preannotate_cost_rows(quick: bool) -> list[Row]:
    """What scores cost where they are made: goldspan's ``suggest`` (preannotate's and the annotator's
    model process's path) with the default scorer against no scorer, on the nine samples (repeated),
    alternating, best of three each."""
    import spacy

    from goldspan.annotations.datamodel import Article
    from goldspan.annotations.nlp.pipelines import resolve
    from goldspan.annotations.nlp.suggest import suggest

    spec = resolve(None)
    nlp = spacy.load(spec.name)
    samples = [p.read_text(encoding="utf-8") for p in sorted((HERE.parent / "sample_articles").iterdir())]
    articles = [Article.from_text(f"{text}\n\n({i})") for i in range(1 if quick else 4) for text in samples]
    words = sum(a.word_count for a in articles)
    best: dict[str, float] = {}
    for _ in range(3):
        for scorer in ("none", "greedy"):
            start = time.perf_counter()
            list(suggest(nlp, articles, spec.model_id, scorer=scorer))
            best[scorer] = min(best.get(scorer, float("inf")), time.perf_counter() - start)
    with_scores, without = words / best["greedy"], words / best["none"]
    return [Row(f"scores: preannotate's path with the greedy scorer, words/s on {len(articles)} articles (vs no scorer)", with_scores, without,
                with_scores / without, "≥ 0.3", with_scores / without >= 0.3)]  # fmt: skip


def comments_corpus(work: Path, quick: bool, spans_too: bool = False) -> tuple[list[str], list[set[tuple[int, int, str]]]]:
    """The generated comments as spaCy's training input: ``train.spacy`` (80 %) and ``dev.spacy`` in
    ``work`` (the gold entities, and with ``spans_too`` the same as the spancat's spans); returns the
    held-out texts and their gold."""
    import spacy
    from spacy.tokens import DocBin

    from train_bench import comments

    made = comments(300 if quick else 1_235)
    cut = int(len(made) * 0.8)
    blank = spacy.blank("en")
    for part, items in (("train", made[:cut]), ("dev", made[cut:])):
        kept = DocBin()
        for text, spans in items:
            doc = blank.make_doc(text)
            doc.ents = [doc.char_span(a, b, label=label) for a, b, label in spans]
            if spans_too:
                doc.spans["sc"] = list(doc.ents)
            kept.add(doc)
        kept.to_disk(work / f"{part}.spacy")
    return [text for text, _ in made[cut:]], [set(spans) for _, spans in made[cut:]]


def beam_rows(quick: bool) -> list[Row]:
    """The beam candidate: spaCy's ``beam_ner`` (beam width 16, the beam objective) against its greedy
    ``ner``, both trained from blank by spaCy's own loop on the same 80 % of the generated comments,
    the same steps and seeds; each scored on its own suggestions for the other 20 % (greedy: the
    greedy path's probabilities; beam: ``scored_ents`` over ``beam_parse``, the probability mass of
    the beam's parses that hold the entity). Mean over seeds."""
    import io
    import statistics

    import spacy
    from spacy.cli.init_config import init_config
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import train

    from goldspan.annotations.confidence.calibration import judge
    from goldspan.annotations.confidence.greedy import greedy_scores

    figures: dict[str, list[tuple[float, float, float, int, float]]] = {"ner": [], "beam_ner": []}
    with tempfile.TemporaryDirectory() as tmp_name:
        work = Path(tmp_name)
        texts, gold = comments_corpus(work, quick)
        for seed in (1,) if quick else (1, 2, 3):
            for factory in figures:
                config = init_config(lang="en", pipeline=["ner"], optimize="efficiency")
                config["components"]["ner"]["factory"] = factory
                if factory == "beam_ner":
                    config["components"]["ner"]["beam_width"] = 16
                config["paths"]["train"], config["paths"]["dev"] = str(work / "train.spacy"), str(work / "dev.spacy")
                config["training"].update(max_steps=40 if quick else 150, eval_frequency=20 if quick else 50, seed=seed)
                out = work / f"{factory}-{seed}"
                out.mkdir()
                train(init_nlp(config), out, stdout=io.StringIO(), stderr=io.StringIO())
                nlp = spacy.load(out / "model-best")
                list(nlp.pipe(texts))  # warm: a freshly loaded model's first parse pays for allocations
                start = time.perf_counter()
                docs = list(nlp.pipe(texts))
                plain = time.perf_counter() - start
                start = time.perf_counter()
                if factory == "beam_ner":
                    ner = nlp.get_pipe("ner")
                    beams = ner.beam_parse(list(nlp.get_pipe("tok2vec").pipe(nlp.make_doc(t) for t in texts)), beam_width=16)  # type: ignore[attr-defined]
                    found = [{(a, b, label if isinstance(label, str) else nlp.vocab.strings[label]): p for (a, b, label), p in scored.items()}
                             for scored in ner.scored_ents(beams)]  # type: ignore[attr-defined]  # fmt: skip
                    pairs = [(found[i].get((e.start, e.end, e.label_), 0.0), (e.start_char, e.end_char, e.label_) in gold[i]) for i, doc in enumerate(docs) for e in doc.ents]
                    cost = plain / (plain + time.perf_counter() - start)
                else:
                    scored_greedy = greedy_scores(nlp, texts)
                    cost = plain / (time.perf_counter() - start)
                    pairs = [(p, key in gold[i]) for i, found_greedy in enumerate(scored_greedy) for key, p in found_greedy.items()]
                judged = judge([p for p, _ in pairs], [right for _, right in pairs])
                figures[factory].append((judged.auc, judged.ece, judged.brier, judged.n - judged.right, cost))
    rows = []
    for factory, name in (("ner", "greedy path's probabilities"), ("beam_ner", "beam_ner's scored_ents, beam 16")):
        auc, ece, brier, wrong, cost = (statistics.mean(values) for values in zip(*figures[factory]))
        title = f"scorer: {name}, NER trained from blank on generated comments, mean of {len(figures[factory])} seeds ({wrong:.0f} wrong suggestions each)"
        rows += [
            Row(f"{title}: AUC (vs 0.5)", auc, 0.5, auc / 0.5, "reported", True),
            Row(f"{title}: ECE (vs Brier)", max(ece, 1e-9), max(brier, 1e-9), ece / brier if brier else float("nan"), "reported", True),
            Row(f"{title}: words per second (vs its own plain parse)", cost, 1.0, cost, "reported", True),
        ]
    return rows


def spancat_rows(quick: bool) -> list[Row]:
    """The span categorizer candidate: a pipeline of ``ner`` and ``spancat`` (n-grams of 1-3 tokens)
    on a shared tok2vec, trained from blank by spaCy's own loop on 80 % of the generated comments
    (the gold entities are also the spancat's spans); on the other 20 %, each NER entity scored by
    the spancat's probability for that span and label (0 where it has none), against the same
    pipeline's greedy path's probabilities. Mean over seeds."""
    import io
    import statistics

    import spacy
    from spacy.cli.init_config import init_config
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import train

    from goldspan.annotations.confidence.calibration import judge
    from goldspan.annotations.confidence.greedy import greedy_scores

    figures: dict[str, list[tuple[float, float, float, int]]] = {"greedy": [], "spancat": []}
    costs: list[float] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        work = Path(tmp_name)
        texts, gold = comments_corpus(work, quick, spans_too=True)
        for seed in (1,) if quick else (1, 2, 3):
            config = init_config(lang="en", pipeline=["ner", "spancat"], optimize="efficiency")
            config["components"]["spancat"]["suggester"] = {"@misc": "spacy.ngram_suggester.v1", "sizes": [1, 2, 3]}
            config["paths"]["train"], config["paths"]["dev"] = str(work / "train.spacy"), str(work / "dev.spacy")
            config["training"].update(max_steps=40 if quick else 150, eval_frequency=20 if quick else 50, seed=seed)
            out = work / f"m{seed}"
            out.mkdir()
            train(init_nlp(config), out, stdout=io.StringIO(), stderr=io.StringIO())
            nlp = spacy.load(out / "model-best")
            list(nlp.pipe(texts))  # warm
            with nlp.select_pipes(enable=["tok2vec", "ner"]):
                start = time.perf_counter()
                list(nlp.pipe(texts))
                plain = time.perf_counter() - start
            start = time.perf_counter()
            docs = list(nlp.pipe(texts))
            costs.append(plain / (time.perf_counter() - start))
            greedy = greedy_scores(nlp, texts)
            pairs: dict[str, list[tuple[float, bool]]] = {"greedy": [], "spancat": []}
            for i, doc in enumerate(docs):
                group = doc.spans["sc"]
                by_span = {(s.start, s.end, s.label_): float(p) for s, p in zip(group, group.attrs["scores"])}
                pairs["spancat"] += [(by_span.get((e.start, e.end, e.label_), 0.0), (e.start_char, e.end_char, e.label_) in gold[i]) for e in doc.ents]
                pairs["greedy"] += [(p, key in gold[i]) for key, p in greedy[i].items()]
            for name, found in pairs.items():
                judged = judge([p for p, _ in found], [right for _, right in found])
                figures[name].append((judged.auc, judged.ece, judged.brier, judged.n - judged.right))
    rows = []
    for name, what in (("greedy", "greedy path's probabilities of an ner trained beside a spancat"), ("spancat", "spancat's probability for the ner's entity")):
        auc, ece, brier, wrong = (statistics.mean(values) for values in zip(*figures[name]))
        title = f"scorer: {what}, from blank on generated comments, mean of {len(figures[name])} seeds ({wrong:.0f} wrong suggestions each)"
        rows += [
            Row(f"{title}: AUC (vs 0.5)", auc, 0.5, auc / 0.5, "reported", True),
            Row(f"{title}: ECE (vs Brier)", max(ece, 1e-9), max(brier, 1e-9), ece / brier if brier else float("nan"), "reported", True),
        ]
    cost = statistics.mean(costs)
    rows.append(Row("scorer: spancat beside the ner, words per second (vs the ner alone)", cost, 1.0, cost, "reported", True))
    return rows


def bench_scorers(quick: bool) -> list[Row]:
    return preannotate_cost_rows(quick) + samples_rows() + comments_rows(quick) + beam_rows(quick) + spancat_rows(quick)
