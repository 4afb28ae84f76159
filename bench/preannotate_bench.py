"""`goldspan preannotate` against calling the same model's nlp.pipe directly, on the same generated texts.

Both run only the entity components (as goldspan does) and exclude loading the model; goldspan's
figure includes storing every article and its suggestions in a fresh DB.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from common import Row
from goldspan.annotations import pipelines
from goldspan.annotations.datamodel import Article
from goldspan.annotations.store import Store
from goldspan.annotations.suggest import preannotate

WORDS = ("Officials in Warsaw said on Monday that Anna Nowak of the Polish Ministry of Finance would meet "
         "delegates from Germany and the European Commission in Brussels to discuss a loan of 400 million euros").split()  # fmt: skip


def make_articles(n: int, words: int = 60, seed: int = 5) -> list[Article]:
    rng = random.Random(seed)
    return [Article.from_text(f"Wire {i}\n" + " ".join(rng.choice(WORDS) for _ in range(words)) + ".") for i in range(n)]


def bench_preannotate(quick: bool) -> list[Row]:
    articles = make_articles(100 if quick else 2_000)
    words = sum(a.word_count for a in articles)
    spec = pipelines.resolve(None)
    nlp = pipelines.load(spec)
    best = {"direct": 0.0, 1: 0.0, 2: 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        # Alternate the contenders and keep each one's best round, so the machine's drift falls on all alike.
        for round_ in range(1 if quick else 2):
            with nlp.select_pipes(enable=pipelines.entity_components(nlp)):
                t0 = time.perf_counter()
                for _ in nlp.pipe((a.text for a in articles), batch_size=32):
                    pass
                best["direct"] = max(best["direct"], words / (time.perf_counter() - t0))
            for n_process in (1, 2):
                with Store(Path(tmp) / f"pre-{round_}-{n_process}.json") as store:
                    t0 = time.perf_counter()
                    preannotate(store, articles, spec, n_process=n_process, loader=lambda _: nlp)
                    best[n_process] = max(best[n_process], words / (time.perf_counter() - t0))
    one, two, direct = best[1], best[2], best["direct"]
    return [
        Row("preannotate words/s, 1 process (vs nlp.pipe)", one, direct, one / direct, "≥ 0.9 of nlp.pipe", one / direct >= 0.9),
        Row("preannotate words/s, 2 processes (vs 1)", two, one, two / one, "2 faster than 1", two > one),
    ]
