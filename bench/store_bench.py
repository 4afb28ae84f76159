"""The cost of one save at 100, 1,000 and 10,000 annotated articles: goldspan's store against stock TinyDB.

Both save the same change (one article's 40-span annotation) into a DB holding N such annotated
articles; goldspan through ``Store.save_annotation`` (journal append + fsync), stock TinyDB through
``Table.upsert`` on ``JSONStorage`` (whole file rewritten). Each save is timed on its own.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

from tinydb import Query, TinyDB

from common import Row, median, p95
from goldspan.annotations.datamodel import Annotation, Answer, Article, Origin, Span, SpanState
from goldspan.annotations.store import Store

WORDS = "Vladimir Putin met Alexander Lukashenko in Minsk on Tuesday to discuss the war in Ukraine".split()


def make_corpus(n: int) -> tuple[list[Article], list[Annotation]]:
    articles, annotations = [], []
    for i in range(n):
        text = f"Article {i}\n" + " ".join(WORDS[j % len(WORDS)] for j in range(250))
        article = Article.from_text(text)
        spans, start = [], len(f"Article {i}\n")
        for k in range(40):  # 40 one-word spans, every sixth word
            word_start = start + sum(len(WORDS[j % len(WORDS)]) + 1 for j in range(k * 6))
            word = WORDS[(k * 6) % len(WORDS)]
            spans.append(Span(word_start, word_start + len(word), 1 + k * 6, 2 + k * 6, "PERSON", Origin.MODEL, SpanState.CONFIRMED))
        articles.append(article)
        annotations.append(Annotation(article.id, "alice", tuple(spans), Answer.ACCEPT))
    return articles, annotations


def time_goldspan(folder: Path, n: int, saves: int) -> list[float]:
    articles, annotations = make_corpus(n)
    db = folder / f"goldspan-{n}.json"
    with Store(db) as store:
        store.add_articles(articles)
        store.save_annotations(annotations)  # as an import does; a session's record is read back from the store the same way
        store.compact()
        samples = []
        for i in range(saves):
            # Read first, as a session has always read the record it shows before it saves it: the
            # store keeps a few thousand records parsed, so at 10,000 a record imported long ago would
            # otherwise be found and parsed inside the save (0.2 ms) and the figure would be the read's.
            stored = store.annotation(annotations[i % n].article_id, "alice")
            assert stored is not None
            changed = dataclasses.replace(stored, answer=Answer.REJECT if i % 2 else Answer.ACCEPT)
            t0 = time.perf_counter()
            store.save_annotation(changed)
            samples.append(time.perf_counter() - t0)
    return samples


def time_stock(folder: Path, n: int, saves: int) -> list[float]:
    articles, annotations = make_corpus(n)
    db = TinyDB(folder / f"stock-{n}.json")
    db.table("articles").insert_multiple(a.to_dict() for a in articles)
    table = db.table("annotations")
    table.insert_multiple(a.to_dict() for a in annotations)
    record = Query()
    samples = []
    for i in range(saves):
        changed = Annotation(annotations[i % n].article_id, "alice", annotations[i % n].spans, Answer.REJECT if i % 2 else Answer.ACCEPT)
        t0 = time.perf_counter()
        table.upsert(changed.to_dict(), (record.article_id == changed.article_id) & (record.annotator == "alice"))
        samples.append(time.perf_counter() - t0)
    db.close()
    return samples


def bench_store(quick: bool) -> list[Row]:
    sizes = (20, 100) if quick else (100, 1_000, 10_000)
    ms = 1000.0
    results: dict[int, tuple[list[float], list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="goldspan-bench-") as tmp:
        folder = Path(tmp)
        for n in sizes:
            stock_saves = 5 if quick else {100: 40, 1_000: 15, 10_000: 6}[n]
            results[n] = (time_goldspan(folder, n, 10 if quick else 100), time_stock(folder, n, stock_saves))
    rows = []
    for n, (ours, stock) in results.items():
        g, b = median(ours) * ms, median(stock) * ms
        big = n == sizes[-1]
        rows.append(Row(f"median save, {n:,} articles (ms)", g, b, b / g, "stock ≥ 100× goldspan" if big else "", (b / g >= 100) if big else True))
    largest = sizes[-1]
    ours, stock = results[largest]
    rows.append(Row(f"p95 save, {largest:,} articles (ms)", p95(ours) * ms, p95(stock) * ms, p95(stock) / p95(ours), "goldspan < 5 ms", p95(ours) * ms < 5))
    growth_ours = median(results[largest][0]) / median(results[sizes[0]][0])
    growth_stock = median(results[largest][1]) / median(results[sizes[0]][1])
    rows.append(Row(f"save cost {largest:,} / {sizes[0]:,} articles", growth_ours, growth_stock, growth_stock / growth_ours, "goldspan < 2", growth_ours < 2))
    return rows
