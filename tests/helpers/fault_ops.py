"""One store operation, run in a child process under the I/O fault shim (faults.c):

    python fault_ops.py OPERATION DB

It prints what happened (``main``). The parent (tests/test_faults.py) prepares the DB first
(``prepare``, without the shim), then checks it in its own process and retries the operation there.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from goldspan.annotations.datamodel import Annotation, Answer, Article, Origin, Span, SpanState
from goldspan.annotations.errors import GoldspanError
from goldspan.annotations.queue.routing import save_settings
from goldspan.annotations.queue.settings import QueueSettings
from goldspan.annotations.store import Store

TEXT = "Story {n}\nAnna Nowak met Jan Kowalski in Gdańsk on day {n}."


def article(n: int) -> Article:
    return Article.from_text(TEXT.format(n=n))


def spans(n: int, label: str) -> tuple[Span, ...]:
    text = article(n).text
    out = []
    for words, token in (("Anna Nowak", 3), ("Jan Kowalski", 6), ("Gdańsk", 9)):
        start = text.index(words)
        out.append(Span(start, start + len(words), token, token + len(words.split()), label, Origin.ANNOTATOR, SpanState.ADDED))
    return tuple(out)


def prepare(db: Path) -> None:
    """Three articles; alice's annotation of the first, saved; journal lines left unfolded."""
    with Store(db) as store:
        store.add_articles([article(n) for n in range(3)])
        store.compact()  # the articles in the main file
        store.save_annotation(Annotation(article(0).id, "alice", spans(0, "PERSON"), Answer.ACCEPT))
        store.save_annotation(Annotation(article(1).id, "alice", spans(1, "PERSON"), Answer.ACCEPT))
        save_settings(store, QueueSettings())  # a work queue, open to all, one answer per article


def acknowledged() -> None:
    """Mark in the power-cut trace (faults.c's GOLDSPAN_FAULT_TRACE) that a save has returned: from
    here on, a power cut must not lose it."""
    trace = os.environ.get("GOLDSPAN_FAULT_TRACE")
    if trace:
        with open(trace, "ab") as handle:
            handle.write(b"A\n")


def save(db: Path) -> None:
    """A whole new record: bob's annotation of article 2."""
    with Store(db) as store:
        store.save_annotation(Annotation(article(2).id, "bob", spans(2, "GPE"), Answer.ACCEPT))
        acknowledged()


def patch(db: Path) -> None:
    """One span of alice's first record relabelled: journaled as a patch of the stored record."""
    with Store(db) as store:
        old = store.annotation(article(0).id, "alice")
        assert old is not None
        changed = (old.spans[0].replace(label="ORG"), *old.spans[1:])
        store.save_annotation(Annotation(article(0).id, "alice", changed, Answer.ACCEPT))
        acknowledged()


def replay(db: Path) -> None:
    """Opening a DB whose journal holds saves not yet folded in, and reading them."""
    with Store(db) as store:
        if store.annotation(article(1).id, "alice") is None:
            raise GoldspanError("alice's save is not there after the journal was replayed")


def compact(db: Path) -> None:
    with Store(db) as store:
        store.compact()
        acknowledged()


def add(db: Path) -> None:
    """preannotate's first step: new articles into the DB."""
    with Store(db) as store:
        store.add_articles([article(n) for n in range(3, 8)])


def import_(db: Path) -> None:
    """`goldspan import` of a Prodigy file of three accepted articles (written beside the DB's folder,
    outside the faults)."""
    from goldspan.annotations.exchange import import_records

    source = db.parent.parent.parent / "import.jsonl"  # the same file for every run of a test: its path is the articles' source
    if not source.exists():
        lines = []
        for n in range(10, 13):
            text = TEXT.format(n=n)
            lines.append(json.dumps({"text": text, "answer": "accept", "spans": [{"start": s.start, "end": s.end, "label": s.label} for s in spans(n, "PERSON")]}))
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Store(db) as store:
        import_records(store, "prodigy", source, annotator="imported")


def lease(db: Path) -> None:
    """A queue lease taken (annotate --queue's first step)."""
    from goldspan.annotations.queue.routing import take_next

    with Store(db) as store:
        if take_next(store, "carol").article_id is None:
            raise GoldspanError("no article was offered")


OPERATIONS: dict[str, Callable[[Path], None]] = {
    "save": save, "patch": patch, "replay": replay, "compact": compact, "add": add, "import": import_, "lease": lease,
}  # fmt: skip


def main() -> None:
    """Run the operation once: "done", "failed: TYPE: MESSAGE" for a refusal goldspan reports (a
    GoldspanError), or "raw failure: ..." for an OSError that escaped the store unreported."""
    operation, db = OPERATIONS[sys.argv[1]], Path(sys.argv[2])
    try:
        operation(db)
    except GoldspanError as error:
        print(f"failed: {type(error).__name__}: {error}", flush=True)
    except OSError as error:
        print(f"raw failure: {type(error).__name__}: {error}", flush=True)
    else:
        print("done", flush=True)


if __name__ == "__main__":
    main()
