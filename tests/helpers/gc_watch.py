"""goldspan's own entry point, with every full collection of Python's cycle collector logged.

    python gc_watch.py LOG goldspan-arguments...

Appends one line to LOG for each collection of the oldest generation, as it ends (the process
may leave by ``os._exit``, so nothing is kept for the end). The test counts the lines written
while it pressed keys."""

from __future__ import annotations

import gc
import os
import sys
import time


def main() -> None:
    log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    started: list[float] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            os.write(log, f"full collection {1000 * (time.perf_counter() - started.pop()):.1f} ms\n".encode())

    gc.callbacks.append(watch)
    from goldspan.tui.cli import main as goldspan

    sys.argv = ["goldspan", *sys.argv[2:]]
    goldspan()


if __name__ == "__main__":
    main()
