"""Python's cycle collector kept out of keystrokes: full collections only while the annotator pauses.

A full collection walks every object the process holds that is not frozen. With the model in this
process that took 79-86 ms and landed on every 11th key (docs/performance.md); with the model in
its own process and the start-up's objects frozen (``gc.freeze`` in ``run_app``), it still took
about 9 ms once in 200 keys. The young generations are collected as before (they are small and
catch most cyclic garbage); the oldest is never collected on its own, but here, once no key has
come for ``IDLE`` seconds, at most every ``EVERY`` seconds: cyclic garbage still goes, between keys.
"""

from __future__ import annotations

import gc
import time

IDLE = 2.0  # seconds without a key before a full collection may run
EVERY = 30.0  # seconds between full collections at most, after the first pause
NEVER = 1 << 30  # the oldest generation's threshold: reached by no session


class Collector:
    def __init__(self) -> None:
        self.last_key = time.monotonic()
        self.last_full: float | None = None
        self.full_collections = 0
        self._threshold: tuple[int, int, int] | None = None

    def start(self) -> None:
        """From now on the oldest generation waits for a pause (``idle``)."""
        self._threshold = gc.get_threshold()
        young, middle, _ = self._threshold
        gc.set_threshold(young, middle, NEVER)

    def stop(self) -> None:
        """The collector as it was (the app has closed; a test process goes on)."""
        if self._threshold is not None:
            gc.set_threshold(*self._threshold)
            self._threshold = None

    def key(self) -> None:
        self.last_key = time.monotonic()

    def idle(self) -> bool:
        """Asked every second or so: a full collection if the annotator has paused; True if one ran."""
        now = time.monotonic()
        if now - self.last_key < IDLE or (self.last_full is not None and now - self.last_full < EVERY):
            return False
        gc.collect()
        self.last_full = time.monotonic()
        self.full_collections += 1
        return True
