"""`goldspan train` against `python -m spacy train` (spaCy's own ``spacy.cli.train.train``, what the
command runs) on the same DocBin and config, in the same run; and the annotator's keys while a model
trains or re-suggests in the background, against the same keys at rest.

The corpus is a stand-in for the issue's public one (1,235 short web comments, 527 entities of one
label the base model does not know): generated comments about made-up products (label GADGET),
whose names are random syllables, so held-out names were never seen in training; people with names
made the same way and brands fill the same frames, and one product in 20 is left unlabelled.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Row, median, p95

SYLLABLES = "zan vo kor tex mi ra vel lu na pix qua dro fen bel sto ry ga lo tri mo xen da ko rin".split()
SUFFIXES = ["", "", "", " Pro", " Max", " 2", " 3", " Mini", " X"]
BRANDS = ["Apple", "Samsung", "Google", "Amazon", "Sony", "Nokia", "Reddit", "Best Buy"]
DAYS = ["Monday", "Friday", "Sunday", "Tuesday"]
# The same frames take a product (GADGET), a brand, or a person whose made-up name is built like a
# product's: only the words around a name, and sometimes not even they, tell which it is.
THING_FRAMES = [
    "just got the {t} and the battery is great", "anyone tried the {t}?", "my {t} broke after a week lol", "{t} is overpriced tbh",
    "is the {t} worth it?", "returned the {t}, screen was awful", "the new {t} update killed my wifi", "{t} or nothing, honestly",
    "saw the {t} at the store today", "can the {t} run games?", "thinking about the {t} for my kid", "the {t} camera is meh",
]
PERSON_FRAMES = ["{p} said it was fine", "ask {p}, he knows phones", "{p} from work has one", "thanks {p}!", "lol {p} you again",
                 "{p} posted this on {d}", "my friend {p} returned hers"]
PAIR_FRAMES = ["{t} vs {u}: which one should I get", "sold my {t} and bought the {u}", "the {t} is just a rebranded {u}"]
PLAIN = ["see you on {d} at the meetup", "that is the worst review I have read", "lol same here", "shipping took ages", "no idea why prices went up"]


def made_up(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def comments(n: int, seed: int = 3) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """Short comments; about 40 % mention a product. One product in 20 is left unlabelled, as
    annotators miss some (the real corpus is not perfectly consistent either)."""
    rng = random.Random(seed)
    made = []
    for _ in range(n):
        kind = rng.random()
        fill: dict[str, str] = {"d": rng.choice(DAYS), "p": made_up(rng)}
        products: list[str] = []
        if kind < 0.07:
            frame = rng.choice(PAIR_FRAMES)
            fill["t"], fill["u"] = made_up(rng) + rng.choice(SUFFIXES), made_up(rng) + rng.choice(SUFFIXES)
            products = [fill["t"], fill["u"]]
        elif kind < 0.40:
            frame = rng.choice(THING_FRAMES)
            fill["t"] = made_up(rng) + rng.choice(SUFFIXES)
            products = [fill["t"]]
        elif kind < 0.55:
            frame = rng.choice(THING_FRAMES)
            fill["t"] = rng.choice(BRANDS)  # a brand where a product could be: not a GADGET
        elif kind < 0.80:
            frame = rng.choice(PERSON_FRAMES)
        else:
            frame = rng.choice(PLAIN)
        text = frame.format(**fill)
        text = text[0].upper() + text[1:]
        spans = []
        for name in products:
            if rng.random() >= 0.05:
                start = text.index(name)
                spans.append((start, start + len(name), "GADGET"))
        made.append((text, spans))
    return made


def make_db(path: Path, n: int) -> None:
    import spacy

    from goldspan.annotations.datamodel import Annotation, Answer, Article, Origin, Span, SpanState
    from goldspan.annotations.store import Store

    nlp = spacy.blank("en")
    with Store(path) as store:
        articles, annotations = [], []
        for i, (text, raw) in enumerate(comments(n)):
            article = Article.from_text(f"Comment {i}\n{text}")
            offset = len(f"Comment {i}\n")
            doc = nlp.make_doc(article.text)
            spans = []
            for start, end, label in raw:
                found = doc.char_span(start + offset, end + offset)
                spans.append(Span(found.start_char, found.end_char, found.start, found.end, label, Origin.ANNOTATOR, SpanState.ADDED))
            articles.append(article)
            annotations.append(Annotation(article.id, "bench", tuple(spans), Answer.ACCEPT))
        store.add_articles(articles)
        store.save_annotations(annotations)


def spacy_train(config_path: Path, out: Path) -> tuple[float, float]:
    """``python -m spacy train CONFIG --output OUT``, as its command runs it: (seconds, F of model-best)."""
    import srsly
    from spacy.cli.train import train

    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        train(config_path, out, use_gpu=-1)
    seconds = time.perf_counter() - start
    return seconds, float(srsly.read_json(out / "model-best" / "meta.json")["performance"]["ents_f"])


def training_rows(quick: bool) -> list[Row]:
    from spacy.cli.init_config import init_config

    from goldspan.annotations.store import Store
    from goldspan.annotations.training.config import build_config
    from goldspan.annotations.training.trainer import TrainRequest, prepare, run

    n, steps, every = (300, 40, 20) if quick else (1_235, 1_500, 250)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        make_db(tmp / "bench.json", n)
        request = TrainRequest(out=None, eval_split=0.2, max_steps=steps, eval_frequency=every, max_minutes=30)
        with Store(tmp / "bench.json") as store:
            prepared = prepare(store, request)
        try:
            ours: list[float] = []
            theirs: list[float] = []
            f_ours = f_same = f_blank = 0.0
            words = 0
            for round_ in range(1 if quick else 2):
                start = time.perf_counter()
                outcome = run(prepared, request, name=f"goldspan-{round_}")
                ours.append(time.perf_counter() - start)
                words, f_ours = outcome.words, float(outcome.scores["ents_f"] or 0.0)
                train_path = outcome.folder.parent / "train.spacy"
                same = build_config(prepared.base, train_path, prepared.eval_path, gpu=False, max_steps=steps, eval_frequency=every, seed=0)
                same.to_disk(tmp / "same.cfg")
                seconds, f_same = spacy_train(tmp / "same.cfg", tmp / f"same-{round_}")
                theirs.append(seconds)
            blank = init_config(lang="en", pipeline=["ner"], optimize="efficiency")
            blank["paths"]["train"], blank["paths"]["dev"] = str(train_path), str(prepared.eval_path)
            blank["training"]["max_steps"], blank["training"]["eval_frequency"] = steps, every
            blank.to_disk(tmp / "blank.cfg")
            _, f_blank = spacy_train(tmp / "blank.cfg", tmp / "blank")
        finally:
            shutil.rmtree(prepared.workdir, ignore_errors=True)
    wps, base_wps = words / median(ours), words / median(theirs)
    return [
        Row(f"train: words per second, {steps:,} steps, {len(prepared.train_articles):,} examples (vs python -m spacy train, same DocBin and config)",
            wps, base_wps, wps / base_wps, "≥ 0.95", wps / base_wps >= 0.95),
        Row(f"train: F on the held-out comments, default options (fine-tuned {prepared.base.name}) (vs spacy train, blank pipeline, same data and steps)",
            f_ours, f_blank, f_ours / f_blank if f_blank else float("nan"), "≥ 0.98", f_blank > 0 and f_ours / f_blank >= 0.98),
        Row("train: F, same config as goldspan's, by spacy train (its base labels not masked) (vs goldspan's)",
            f_same, f_ours, f_same / f_ours if f_ours else float("nan"), "reported", True),
    ]  # fmt: skip


def bench_train(quick: bool) -> list[Row]:
    return training_rows(quick) + background_rows(quick)


def background_rows(quick: bool) -> list[Row]:
    """The annotator's keys while `--retrain-every`'s work runs beside them (with the same priority
    and thread settings as tui.retrain), against the same keys at rest, rounds alternating."""
    from keys_bench import measure
    from terminal_bench import Keys, run_keys, write_article

    from goldspan.tui.retrain import ONE_THREAD

    import asyncio
    import json

    rows: list[Row] = []
    goldspan = str(Path(sys.executable).with_name("goldspan"))
    words, repeats, rounds, n_keys = (5_000, 30, 1, 20) if quick else (50_000, 210, 3, 60)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        make_db(tmp / "train.json", 300 if quick else 1_235)
        pool = tmp / "pool.jsonl"
        pool.write_text("".join(json.dumps({"text": f"Article {i}. " + text}) + "\n" for i, (text, _) in enumerate(comments(1_000, seed=11))),
                        encoding="utf-8")  # fmt: skip

        def background(kind: str) -> subprocess.Popen[bytes]:
            if kind == "re-suggest":
                argv = [goldspan, "preannotate", str(pool), "--db", str(tmp / f"pool-{time.monotonic_ns()}.json")]
            else:
                argv = [goldspan, "train", "--db", str(tmp / "train.json"), "--out", str(tmp / f"m-{time.monotonic_ns()}"), "--max-minutes", "30"]
            return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **ONE_THREAD},
                                    preexec_fn=lambda: os.nice(10))  # fmt: skip

        # The keys benchmark's own measure (the app's cost of a key, in process), re-suggesting beside it.
        rest_p95, busy_p95 = [], []
        for _ in range(rounds):
            samples, _ = asyncio.run(measure(words, repeats))
            rest_p95.append(p95(samples))
            job = background("re-suggest")
            time.sleep(3)  # spaCy loaded: parsing, not importing
            samples, _ = asyncio.run(measure(words, repeats))
            busy_p95.append(p95(samples))
            job.kill()
            job.wait()
        busy, rest = 1000 * median(busy_p95), 1000 * median(rest_p95)
        rows.append(Row(f"key: action + visible rows, p95, {words:,} words, while 1,000 articles are re-suggested (vs at rest, ms)",
                        busy, rest, busy / rest, "≤ 1.2× at rest", busy / rest <= 1.2))  # fmt: skip
        if shutil.which("tmux") is None:
            print("terminal: keys while training not measured: it needs tmux", file=sys.stderr)
            return rows
        # End to end in tmux: j on the 50,000-word article, at rest and while `train` runs.
        article, db = tmp / "big.txt", tmp / "big.json"
        write_article(article, words, 1)
        subprocess.run([goldspan, "preannotate", str(article), "--db", str(db)], check=True, capture_output=True)
        cmd = [goldspan, "annotate", str(article), "--db", str(db), "--annotator", "bench"]
        at_rest, training = Keys(), Keys()
        for _ in range(rounds):
            run_keys(cmd, "Benchmark article", [("j", n_keys)], at_rest)
            job = background("train")
            time.sleep(8)  # past loading: the training loop itself
            run_keys(cmd, "Benchmark article", [("j", n_keys)], training)
            job.kill()
            job.wait()
        (_, busy95), (_, rest95) = training.ms("j"), at_rest.ms("j")
        rows.append(Row(f"terminal: j while a model trains, p95, {words:,} words (vs at rest, ms)", busy95, rest95, busy95 / rest95,
                        "≤ 1.2× at rest", busy95 / rest95 <= 1.2))  # fmt: skip
    return rows
