"""`goldspan preannotate` against calling the same model's nlp.pipe directly, on the same generated texts.

Both run only the entity components (as goldspan does) and exclude loading the model; goldspan's
figure includes storing every article and its suggestions in a fresh DB.
"""

from __future__ import annotations

import dataclasses
import random
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from common import Row, median
from goldspan.annotations.nlp import pipelines
from goldspan.annotations.datamodel import Article
from goldspan.annotations.store import Store
from goldspan.annotations.nlp.suggest import preannotate

if TYPE_CHECKING:
    from spacy.language import Language

SLICE = 100  # articles timed at a time, alternating goldspan and nlp.pipe
WORDS = ("Officials in Warsaw said on Monday that Anna Nowak of the Polish Ministry of Finance would meet "
         "delegates from Germany and the European Commission in Brussels to discuss a loan of 400 million euros").split()  # fmt: skip


def make_articles(n: int, words: int = 60, seed: int = 5) -> list[Article]:
    rng = random.Random(seed)
    return [Article.from_text(f"Wire {i}\n" + " ".join(rng.choice(WORDS) for _ in range(words)) + ".") for i in range(n)]


def time_direct(nlp: Language, articles: list[Article]) -> float:
    with nlp.select_pipes(enable=pipelines.entity_components(nlp)):
        t0 = time.perf_counter()
        for _ in nlp.pipe((a.text for a in articles), batch_size=32):
            pass
        return time.perf_counter() - t0


def time_goldspan(db: Path, articles: list[Article], spec: pipelines.PipelineSpec, nlp: Language, n_process: int) -> float:
    with Store(db) as store:
        t0 = time.perf_counter()
        preannotate(store, articles, spec, n_process=n_process, loader=lambda _: nlp)
        return time.perf_counter() - t0


def bench_preannotate(quick: bool) -> list[Row]:
    articles = make_articles(100 if quick else 2_000)
    words = sum(a.word_count for a in articles)
    scored = pipelines.resolve(None)  # the default: each suggestion scored (issue 21)
    spec = dataclasses.replace(scored, scorer="none")  # against nlp.pipe, which scores nothing
    nlp = pipelines.load(spec)
    slices = [articles[i : i + SLICE] for i in range(0, len(articles), SLICE)]
    direct_s = goldspan_s = 0.0
    ones, twos = [], []
    with tempfile.TemporaryDirectory() as tmp:
        # One process against nlp.pipe: slice by slice, each first in turn, into one growing DB. The
        # machine's speed drifts by 20 % within a minute; timed a slice apart, both see the same drift.
        for i, part in enumerate(slices):
            for contender in ("direct", "goldspan") if i % 2 == 0 else ("goldspan", "direct"):
                if contender == "direct":
                    direct_s += time_direct(nlp, part)
                else:
                    goldspan_s += time_goldspan(Path(tmp) / "pre-1.json", part, spec, nlp, 1)
        # Two processes against one: whole runs (each run starts its workers), paired within a round.
        for round_ in range(1 if quick else 3):
            pair = (1, 2) if round_ % 2 == 0 else (2, 1)
            seconds = {n: time_goldspan(Path(tmp) / f"pair-{round_}-{n}.json", articles, spec, nlp, n) for n in pair}
            ones.append(words / seconds[1])
            twos.append(words / seconds[2])
        # The default, with scores, against the same without, whole runs alternated.
        with_scores, without = [], []
        for round_ in range(1 if quick else 3):
            for kind in ("scored", "plain") if round_ % 2 == 0 else ("plain", "scored"):
                took = time_goldspan(Path(tmp) / f"{kind}-{round_}.json", articles, scored if kind == "scored" else spec, nlp, 1)
                (with_scores if kind == "scored" else without).append(words / took)
    one, direct = words / goldspan_s, words / direct_s
    two_vs_one = median([b / a for a, b in zip(ones, twos)])
    return [
        Row("preannotate words/s, 1 process (vs nlp.pipe)", one, direct, one / direct, "≥ 0.9 of nlp.pipe", one / direct >= 0.9),
        Row("preannotate words/s, 2 processes (vs 1)", median(twos), median(ones), two_vs_one, "2 faster than 1", two_vs_one > 1),
        Row("preannotate words/s with scores, the default (vs --scorer none)", median(with_scores), median(without),
            median(with_scores) / median(without), "≥ 0.3", median(with_scores) / median(without) >= 0.3),
    ]  # fmt: skip
