"""A child process for crash and concurrency tests: saves annotations in a loop, reporting each one.

    python saver.py DB WORKER COUNT [--compact-every N] [--edits] [--die-in-compaction | --die-after-main]

After each save returns it prints "saved KEY" (flushed), so the parent knows which saves must
survive a kill. COUNT 0 means forever. By default each save is a new record (its own annotator
key); with ``--edits`` every save relabels one span of one record of ``SPANS`` spans, keeping the
other Span objects, as the annotator does, so the store journals patches (``edited(k)`` is the
record's labels after save k). ``--die-in-compaction`` dies before the new main file is renamed
into place, ``--die-after-main`` after it, before the journal is emptied.
"""

from __future__ import annotations

import os
import signal
import sys

from goldspan.annotations.datamodel import Annotation, Answer, Article, Origin, Span, SpanState
from goldspan.annotations.store import Store

SPANS = 60


def article_of(worker: str) -> Article:
    return Article.from_text(f"Worker {worker}\n" + " ".join(f"Name{i} went" for i in range(SPANS)))


def edited(saves: int) -> list[str]:
    """The record's labels, span by span, after ``saves`` edits: save k labels span k % SPANS as L{k}."""
    labels = ["PERSON"] * SPANS
    for k in range(saves):
        labels[k % SPANS] = f"L{k}"
    return labels


def _spans(worker: str) -> list[Span]:
    text = article_of(worker).text
    out, at = [], 0
    for i in range(SPANS):
        start = text.index(f"Name{i} ", at)
        out.append(Span(start, start + len(f"Name{i}"), 2 + 2 * i, 3 + 2 * i, "PERSON", Origin.ANNOTATOR, SpanState.ADDED))
        at = start + 1
    return out


def main() -> None:
    db, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    compact_every = int(sys.argv[sys.argv.index("--compact-every") + 1]) if "--compact-every" in sys.argv else 0
    edits = "--edits" in sys.argv
    article = article_of(worker) if edits else Article.from_text(f"Worker {worker}\nVladimir Putin met Alexander Lukashenko in Minsk.")
    spans = _spans(worker)
    with Store(db) as store:
        store.add_articles([article])
        i = 0
        while count == 0 or i < count:
            if edits:
                spans[i % SPANS] = spans[i % SPANS].replace(label=f"L{i}")
                store.save_annotation(Annotation(article.id, worker, tuple(spans)))
                print(f"saved {worker}-{i + 1}", flush=True)  # the record now holds edited(i + 1)
            else:
                one = (Span(len(f"Worker {worker}\n"), len(f"Worker {worker}\n") + 14, 0, 2, "PERSON", Origin.ANNOTATOR, SpanState.ADDED),)
                # Each save under its own annotator key, so every reported save can be checked afterwards.
                store.save_annotation(Annotation(article.id, f"{worker}-{i}", one, Answer.ACCEPT))
                print(f"saved {worker}-{i}", flush=True)
            i += 1
            if compact_every and i % compact_every == 0:
                store.compact()
        if "--die-in-compaction" in sys.argv or "--die-after-main" in sys.argv:
            # A power cut inside compaction: before the new main file is renamed into place, or after
            # it (the journal, folded into it, not yet emptied: its lines will be replayed over it).
            replace, renames = os.replace, []

            def cut(src: str, dst: str) -> None:
                # --die-after-main: every rename up to the main file's goes through (the index's is
                # first), the next (the journal's) is cut; --die-in-compaction: the first is cut.
                if "--die-after-main" in sys.argv and str(store.path) not in renames:
                    renames.append(str(dst))
                    replace(src, dst)
                    return
                os.kill(os.getpid(), signal.SIGKILL)

            os.replace = cut  # type: ignore[assignment]
            store.compact()


if __name__ == "__main__":
    main()
