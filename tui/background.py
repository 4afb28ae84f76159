"""The app's slow work (loading the model, parsing, tokenizing) on one daemon thread of its own.

Not Textual's thread workers: those run in asyncio's default executor, which Python joins at exit,
so quitting while spaCy was loading left a blank terminal for the 3-4 s the load still took. A
daemon thread is not waited for: once the screen has closed and the store has folded its journal
(the UI thread alone touches the store), the process ends, whatever the model is doing. One
thread, jobs in order: two articles never load the model twice.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from typing import Callable

Job = Callable[[], None]


class Background:
    def __init__(self, name: str = "goldspan-background", on_error: Callable[[BaseException], None] | None = None) -> None:
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self.stopping = threading.Event()  # set on quit: a job checks it between pieces of work
        self.on_error = on_error  # told, on the background thread, of an error a job let through
        self._name = name
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._pending = 0  # jobs submitted and not finished
        self._count = threading.Lock()

    def submit(self, job: Job) -> None:
        if self.stopping.is_set():
            return
        with self._count:
            self._pending += 1
        if not self.thread.is_alive():
            if self.thread.ident is not None:  # it ran and ended: a thread starts only once
                self.thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self.thread.start()
        self._jobs.put(job)

    @property
    def busy(self) -> bool:
        """A job is running or waiting."""
        return self._pending > 0

    def stop(self) -> None:
        """Ask the running job to stop at its next check and run no other; returns at once."""
        self.stopping.set()
        self._jobs.put(None)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end (tests); True if it has."""
        if self.thread.is_alive():
            self.thread.join(timeout)
        return not self.thread.is_alive()

    def _run(self) -> None:
        while not self.stopping.is_set():
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception as error:  # one failed job must not end the work of every later one
                if self.on_error is not None:
                    with contextlib.suppress(Exception):  # nor a failure to report it
                        self.on_error(error)
            finally:
                with self._count:
                    self._pending -= 1
