"""The ``Preparer`` the annotator uses: the same calls, answered by the model's own process (``worker``).

Called from the app's background thread, one request at a time: each call sends a message of
plain values and waits for the answer, asking ``stop`` while it waits, so a quit (or, for a parse
ahead, the article on screen needing the model) cancels a parse without waiting for it. The process is started at the first
request (an article already parsed, with its tokens stored, never starts it), and again if it
dies: ``on_restart`` is told why, and the request is asked once more. ``close`` ends it at once.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import tempfile
import threading
from typing import IO, TYPE_CHECKING, Any, Callable, Sequence

from ..datamodel import Article, ModelId, Span, Suggestions
from ..errors import ModelError
from .pipelines import PipelineSpec
from .tokens import Tokens
from .worker import span_of, span_tuple

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from .align import Aligned

WORKER = f"{__package__}.worker"
POLL = 0.05  # seconds between looks at ``stop`` while the worker works
RESTARTS = 2  # a request that kills the worker this many times more is reported as failed


class WorkerClosed(Exception):
    """The annotator closed the worker while a request waited: nothing is left to answer."""


class ProcessPreparer:
    def __init__(self, spec: PipelineSpec, on_restart: Callable[[str], None] = lambda reason: None) -> None:
        self.spec = spec
        self.on_restart = on_restart  # told, on the asking thread, that the worker died and was started again
        self._process: subprocess.Popen[bytes] | None = None
        self._to: Connection | None = None
        self._from: Connection | None = None
        self._stderr: IO[bytes] | None = None
        self._jobs = itertools.count(1)
        self._loaded = False
        self._closed = False
        self._asking = False  # a request is in flight: its thread, not close, closes the pipes
        self._lock = threading.Lock()  # the process's start and end, between the asking thread and close

    @property
    def model(self) -> ModelId:
        return self.spec.model_id

    @property
    def model_loaded(self) -> bool:
        return self._loaded

    @property
    def pid(self) -> int | None:
        """The worker's process id, while one runs."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def suggestions(self, article: Article, *, stop: Callable[[], bool], on_loading: Callable[[], None] = lambda: None) -> Suggestions | None:
        """The model's spans for the article and its tokens; None if ``stop`` said so first."""
        job = next(self._jobs)
        reply = self._ask(("suggest", job, article.text), job, stop, on_loading)
        if reply is None:
            return None
        _, _, spans, tokens, scorer = reply
        return Suggestions(article.id, self.model, tuple(span_of(s) for s in spans), tokens=tokens, scorer=scorer)

    def tokens(self, article: Article, spans: Sequence[Span]) -> Aligned:
        """The article's tokens, and its spans snapped to them (spaCy's ``align``, in the worker)."""
        from .align import Aligned

        job = next(self._jobs)
        reply = self._ask(("tokens", job, article.text, [span_tuple(s) for s in spans]), job, lambda: False, lambda: None)
        assert reply is not None  # never stopped
        _, _, starts, ends, snapped, notes = reply
        return Aligned(Tokens(starts, ends), tuple(span_of(s) for s in snapped), list(notes))

    def close(self) -> None:
        """End the worker now, whatever it is doing: it holds nothing that needs saving. Never waits:
        the process is killed (a request waiting on it then fails at once), and its pipes are closed
        here only if no request is using them (else by that request's thread, so no descriptor it
        holds is closed under it and reused by another file)."""
        self._closed = True
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
        if self._lock.acquire(blocking=False):
            try:
                if not self._asking:
                    self._end()
            finally:
                self._lock.release()

    # -- the process -----------------------------------------------------------------------

    def _ask(self, message: tuple[Any, ...], job: int, stop: Callable[[], bool], on_loading: Callable[[], None]) -> tuple[Any, ...] | None:
        self._asking = True
        try:
            return self._ask_once_or_again(message, job, stop, on_loading)
        finally:
            self._asking = False
            if self._closed:
                with self._lock:
                    self._end()

    def _ask_once_or_again(
        self, message: tuple[Any, ...], job: int, stop: Callable[[], bool], on_loading: Callable[[], None]
    ) -> tuple[Any, ...] | None:
        restarts = 0
        while True:
            try:
                to, inbox = self._connections()
                to.send(message)
                while True:
                    if stop():
                        to.send(("cancel", job))
                        return None
                    if not inbox.poll(POLL):
                        continue
                    reply = inbox.recv()
                    kind = reply[0]
                    if kind == "loading":
                        on_loading()
                    elif kind == "loaded":
                        self._loaded = True
                    elif reply[1] != job:
                        continue  # the answer to a request cancelled before it was done
                    elif kind == "failed":
                        raise ModelError(reply[2])
                    else:
                        return reply
            except (EOFError, OSError):
                if self._closed:
                    raise WorkerClosed() from None
                reason = self._ended()
                if stop():
                    return None  # not started again only to be told to stop
                restarts += 1
                if restarts > RESTARTS:
                    raise ModelError(f"{reason}, {restarts} times on this article.") from None
                self.on_restart(f"{reason}; it was started again")

    def _connections(self) -> tuple[Connection, Connection]:
        with self._lock:
            if self._closed:
                raise WorkerClosed()
            if self._to is None or self._from is None:
                self._start()
            assert self._to is not None and self._from is not None
            return self._to, self._from

    def _start(self) -> None:
        from multiprocessing.connection import Connection

        to_read, to_write = os.pipe()
        from_read, from_write = os.pipe()
        # Its stderr goes to a file, not the terminal the screen draws on; read back if it dies.
        self._stderr = tempfile.TemporaryFile()
        try:
            # -P: not the current folder first on its path (a stray spacy.py there is not spaCy). Its own
            # session: a signal to the annotator's process group is not the worker's to die of; the
            # end of its input ends it when the annotator ends, however.
            self._process = subprocess.Popen(
                [sys.executable, "-P", "-m", WORKER, str(to_read), str(from_write)],
                pass_fds=(to_read, from_write), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
                start_new_session=True,
            )  # fmt: skip
        except OSError:
            for fd in (to_write, from_read):
                os.close(fd)
            self._stderr.close()
            self._stderr = None
            raise
        finally:
            os.close(to_read)
            os.close(from_write)
        self._to, self._from = Connection(to_write, readable=False), Connection(from_read, writable=False)
        self._loaded = False
        spec = self.spec
        self._to.send(("spec", spec.name, list(spec.patterns), spec.patterns_path, spec.meta, spec.scorer))

    def _ended(self) -> str:
        """Why the worker ended, in words; it is cleared away so the next request starts another."""
        with self._lock:
            process, stderr = self._process, self._stderr
            self._stderr = None
        status: int | None = None
        if process is not None:
            try:
                status = process.wait(timeout=2)  # its pipe closed as it exited: the status follows
            except subprocess.TimeoutExpired:
                pass  # alive with its pipe closed: ended below
        with self._lock:
            self._end()
        said = ""
        if stderr is not None:
            stderr.seek(0)
            lines = stderr.read().decode("utf-8", "replace").strip().splitlines()
            said = f" ({lines[-1]})" if lines else ""
            stderr.close()
        if status is not None and status < 0:
            name = signal.Signals(-status).name if -status in signal.valid_signals() else f"signal {-status}"
            return f"the model's process was ended by {name}{said}"
        return f"the model's process ended with exit status {status}{said}"

    def _end(self) -> None:
        for connection in (self._to, self._from):
            if connection is not None:
                connection.close()
        if self._process is not None and self._process.poll() is None:
            self._process.kill()  # nothing to finish: a parse in flight is simply not cached
        if self._stderr is not None:
            self._stderr.close()
        self._to = self._from = None
        self._process = self._stderr = None
