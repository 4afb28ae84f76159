"""From launching `goldspan annotate` to the first article on the screen, against importing Textual alone.

Both are child processes; the app runs in a pseudo-terminal and the clock stops when the article's
first words appear in what it draws. The model is not loaded by then (it loads in a worker).
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Row, median

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "sample_articles" / "putin-lukashenko-sochi.txt"


def time_first_paint(db: Path) -> float:
    goldspan = Path(sys.executable).with_name("goldspan")
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
        os.execve(str(goldspan), [str(goldspan), "annotate", str(SEED), "--db", str(db)], env)
    seen = b""
    try:
        while b"KEY POINTS" not in seen:
            ready, _, _ = select.select([fd], [], [], 20)
            if not ready:
                raise RuntimeError("goldspan did not paint within 20 s")
            seen += os.read(fd, 65536)
        return time.perf_counter() - t0
    finally:
        os.kill(pid, signal.SIGTERM)
        _drain_until_exit(pid, fd)


def _drain_until_exit(pid: int, fd: int) -> None:
    """Keep reading what the app draws until it ends: a terminal that stops reading would block its writes."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if os.waitpid(pid, os.WNOHANG)[0]:
            break
        try:
            if select.select([fd], [], [], 0.1)[0]:
                os.read(fd, 65536)
        except OSError:
            pass
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(fd)


def time_import_textual() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import textual.app"], check=True)
    return time.perf_counter() - t0


def compile_goldspan() -> None:
    """Write goldspan's bytecode first, as any start after the first finds it.

    An editable install leaves goldspan's own modules uncompiled, and where PYTHONDONTWRITEBYTECODE
    is set (as on these machines) Python never caches them, so every start would compile them
    again (+0.2 s); a user's Python writes the cache on the first run. compileall writes it
    whatever that variable says, and Python reads it either way.
    """
    import compileall

    for folder in ("annotations", "tui"):
        compileall.compile_dir(str(ROOT / folder), quiet=1)


def bench_start(quick: bool) -> list[Row]:
    runs = 3 if quick else 9
    compile_goldspan()
    paints, imports = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):  # alternated, so a change in the machine's speed reaches both alike
            paints.append(time_first_paint(Path(tmp) / f"start-{i}.json"))
            imports.append(time_import_textual())
    g, b = median(paints), median(imports)
    return [Row("start: launch to first article on screen, median (s)", g, b, g / b, "goldspan < 0.6 s", g < 0.6)]
