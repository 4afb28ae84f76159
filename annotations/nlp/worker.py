"""The model's own process: spaCy, the pipeline and the tokenizer live here, never in the screen's.

    python -m goldspan.annotations.nlp.worker READ_FD WRITE_FD

The annotator starts this process (``remote.ProcessPreparer``) the first time an article needs the
model or its tokens, and talks to it by messages of plain tuples over two pipes. So the screen's
process holds no model objects (its memory stays that of a Textual app), no parse competes for its
GIL, and its cycle collector never walks spaCy's objects.

Messages in (each a tuple):
    ("spec", name, patterns, patterns_path, meta, scorer)   first, once: the pipeline to use
    ("suggest", job, text)                              the model's spans for a text
    ("tokens", job, text, spans)                        its tokens, and ``spans`` snapped to them
    ("cancel", job)                                     stop that job at its next piece; no answer

Messages out:
    ("loading",) / ("loaded",)                          the model load began / ended
    ("suggestions", job, spans, tokens, scorer)         spans as ``span_tuple``s, tokens encoded
    ("tokens", job, starts, ends, spans, notes)
    ("failed", job, reason)                             the job could not be done; the worker goes on

The end of the input (the annotator quit, or died, even by kill -9) ends this process at once,
whatever it is parsing: its main thread does nothing but read, and leaves with ``os._exit``.
"""

from __future__ import annotations

import functools
import os
import queue
import sys
import threading
from typing import TYPE_CHECKING, Any

from ..datamodel import Article, Origin, Span, SpanState
from ..errors import GoldspanError
from .pipelines import PipelineSpec
from .preparation import Preparer

if TYPE_CHECKING:  # the annotator's side imports this module for span_tuple and span_of only
    from multiprocessing.connection import Connection

SpanTuple = tuple[int, int, int, int, str, str, str, "float | None"]


def span_tuple(span: Span) -> SpanTuple:
    return (span.start, span.end, span.token_start, span.token_end, span.label, str(span.origin), str(span.state), span.score)


def span_of(values: SpanTuple) -> Span:
    start, end, token_start, token_end, label, origin, state, score = values
    return Span(start, end, token_start, token_end, label, Origin(origin), SpanState(state), score)


class _Jobs:
    """The jobs waiting, and the ones cancelled, shared by the reading thread and the working one."""

    def __init__(self) -> None:
        self.waiting: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self.cancelled: set[int] = set()


def _work(preparer: Preparer, jobs: _Jobs, out: Connection) -> None:
    """The working thread: the only one that sends."""
    send = out.send
    while True:
        message = jobs.waiting.get()
        kind, job = message[0], message[1]
        if job in jobs.cancelled:
            jobs.cancelled.discard(job)
            continue
        article = Article("", "", message[2])  # only the text is read: the id is the screen's business
        try:
            if kind == "suggest":
                found = preparer.suggestions(article, stop=functools.partial(jobs.cancelled.__contains__, job), on_loading=lambda: send(("loading",)))
                if found is None or job in jobs.cancelled:
                    jobs.cancelled.discard(job)
                    continue
                send(("suggestions", job, [span_tuple(s) for s in found.spans], found.tokens, found.scorer))
            else:
                aligned = preparer.tokens(article, [span_of(s) for s in message[3]])
                send(("tokens", job, aligned.tokens.starts, aligned.tokens.ends, [span_tuple(s) for s in aligned.spans], aligned.notes))
        except GoldspanError as error:
            send(("failed", job, str(error)))
        except Exception as error:  # the worker must outlive any one text's failure
            send(("failed", job, f"spaCy failed ({type(error).__name__}: {error})."))


def serve(inbox: Connection, out: Connection) -> None:
    first = inbox.recv()
    _, name, patterns, patterns_path, meta, scorer = first
    spec = PipelineSpec(name, tuple(patterns), patterns_path, meta, scorer)
    preparer = Preparer(spec, loader=_loader(out))
    jobs = _Jobs()
    threading.Thread(target=_work, args=(preparer, jobs, out), name="goldspan-model", daemon=True).start()
    while True:
        try:
            message = inbox.recv()
        except (EOFError, OSError):
            os._exit(0)  # the annotator has gone: nothing here is worth finishing
        if message[0] == "cancel":
            jobs.cancelled.add(message[1])
        else:
            jobs.waiting.put(message)


def _loader(out: Connection):  # type: ignore[no-untyped-def]
    from .pipelines import load

    def loading_then_loaded(spec: PipelineSpec):  # type: ignore[no-untyped-def]
        nlp = load(spec)
        out.send(("loaded",))
        return nlp

    return loading_then_loaded


NICENESS = 19  # the model is background work: the screen's keys, the terminal's and tmux's go first


def main(argv: list[str]) -> int:
    from multiprocessing.connection import Connection

    inbox, out = Connection(int(argv[1]), writable=False), Connection(int(argv[2]), readable=False)
    # Niced to the lowest priority of the normal class, not put in the idle class (SCHED_IDLE), which
    # this worker used until teach's keys were timed from send to arrival: Linux counts a core that
    # runs only idle-class work as free and wakes the terminal's and the screen's processes there, and
    # on this machine (Linux 6.18, two cores) such a wake-up waited ~4 ms, a scheduler tick, for the
    # parse to give way: 15 of 50 teach keys reached the screen's process 4-7 ms late; niced to 19,
    # 0 to 3 of 50 (docs/performance.md, issue 21).
    os.nice(NICENESS)
    serve(inbox, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
