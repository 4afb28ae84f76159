"""A child process for crash and concurrency tests: saves annotations in a loop, reporting each one.

    python saver.py DB WORKER COUNT [--compact-every N | --die-in-compaction]

After each save returns it prints "saved KEY" (flushed), so the parent knows which saves must
survive a kill. COUNT 0 means forever.
"""

from __future__ import annotations

import os
import signal
import sys

from goldspan.annotations.datamodel import Annotation, Answer, Article, Origin, Span, SpanState
from goldspan.annotations.store import Store


def main() -> None:
    db, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    compact_every = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--compact-every" else 0
    article = Article.from_text(f"Worker {worker}\nVladimir Putin met Alexander Lukashenko in Minsk.")
    with Store(db) as store:
        store.add_articles([article])
        i = 0
        while count == 0 or i < count:
            spans = (Span(len(f"Worker {worker}\n"), len(f"Worker {worker}\n") + 14, 0, 2, "PERSON", Origin.ANNOTATOR, SpanState.ADDED),)
            # Each save under its own annotator key, so every reported save can be checked afterwards.
            store.save_annotation(Annotation(article.id, f"{worker}-{i}", spans, Answer.ACCEPT))
            print(f"saved {worker}-{i}", flush=True)
            i += 1
            if compact_every and i % compact_every == 0:
                store.compact()
        if "--die-in-compaction" in sys.argv:
            # A power cut after the new main file is written and fsync'd, before it is renamed into place.
            os.replace = lambda src, dst: os.kill(os.getpid(), signal.SIGKILL)  # type: ignore[assignment]
            store.compact()


if __name__ == "__main__":
    main()
