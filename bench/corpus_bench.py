"""A DB of 10,000 annotated articles: opening it, moving to the next article, memory, and export to DocBin
against building the same DocBin directly with spaCy from the same texts and spans.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from common import Row, median
from store_bench import make_corpus

if TYPE_CHECKING:
    from goldspan.annotations.datamodel import Annotation, Article

PROBE = """
import json, resource, sys, time
from goldspan.annotations.store import Store
from goldspan.annotations.session.session import Session
t0 = time.perf_counter()
store = Store(sys.argv[1])
session = Session(store, store.article_list(), annotator="alice", labels=("PERSON",))
session.spans
opened = time.perf_counter() - t0
t0 = time.perf_counter()
session.next_article(); session.spans
moved = time.perf_counter() - t0
def peak_mb():
    # VmHWM is this process's own high-water mark. ru_maxrss is not: Linux carries it over exec, so a
    # probe started by a parent holding the whole corpus would report the parent's size.
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"open": opened, "next": moved, "rss_mb": peak_mb()}))
"""


def time_export(db: Path, out: Path) -> float:
    from goldspan.annotations.exchange import export
    from goldspan.annotations.store import Store

    with Store(db, read_only=True) as store:
        t0 = time.perf_counter()
        export(store, "spacy", out)
        return time.perf_counter() - t0


def time_direct_docbin(articles: list[Article], annotations: list[Annotation], out: Path) -> float:
    """The baseline: the same DocBin built with spaCy alone from the same texts and spans."""
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    t0 = time.perf_counter()
    docs = DocBin(attrs=["ORTH", "ENT_IOB", "ENT_TYPE"])
    for article, annotation in zip(articles, annotations):
        doc = nlp.make_doc(article.text)
        doc.ents = [doc.char_span(s.start, s.end, label=s.label) for s in annotation.spans]
        docs.add(doc)
    docs.to_disk(out)
    return time.perf_counter() - t0


def bench_corpus(quick: bool) -> list[Row]:
    from goldspan.annotations.store import Store

    n = 300 if quick else 10_000
    articles, annotations = make_corpus(n)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "corpus.json"
        with Store(db) as store:
            store.add_articles(articles)
            store.save_annotations(annotations)
        probe = json.loads(subprocess.run([sys.executable, "-c", PROBE, str(db)], capture_output=True, text=True, check=True).stdout)
        t0 = time.perf_counter()  # baseline: reading the same file with the json module alone
        json.loads(db.read_bytes())
        read_cost = time.perf_counter() - t0
        exports, directs = [], []
        for i in range(1 if quick else 3):  # alternated, as one run of each moves by 20 % on these machines
            exports.append(time_export(db, Path(tmp) / f"out-{i}"))
            directs.append(time_direct_docbin(articles, annotations, Path(tmp) / f"direct-{i}.spacy"))
        ours, direct = median(exports), median(directs)
    return [
        Row(f"open a DB of {n:,} annotated articles to the first article (s; baseline: json.loads of the file)", probe["open"], read_cost,
            probe["open"] / read_cost, "goldspan < 0.2 s", probe["open"] < 0.2),
        Row(f"next article in a DB of {n:,} (ms)", probe["next"] * 1000, 200.0, probe["next"] * 1000 / 200, "< 200 ms", probe["next"] < 0.2),
        Row(f"peak memory with a DB of {n:,} open (MB)", probe["rss_mb"], 400.0, probe["rss_mb"] / 400, "< 400 MB", probe["rss_mb"] < 400),
        Row(f"export {n:,} to DocBin, speed vs spaCy directly", direct / ours, 1.0, direct / ours, "≥ 0.75", direct / ours >= 0.75),
    ]  # fmt: skip
