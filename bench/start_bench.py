"""From launching `goldspan annotate` to the first article on the screen, against importing Textual alone
and against the smallest Textual app that shows the same article.

All are child processes; an app runs in a pseudo-terminal and the clock stops when the article's
first words appear in what it draws. The model is not loaded by then (it loads in a worker).

Wall-clock figures move with the machine's speed of the moment (0.2 s between runs here). Where
valgrind is installed, a full run also counts the instructions each app executes up to that first
frame: the same on every run, so goldspan's own share of the start shows whatever the machine does.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Row, median

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "sample_articles" / "1-putin-lukashenko-sochi.txt"
FIRST_WORDS = "KEY POINTS"  # the seed article's, on screen once it is drawn
TERMINAL = {"TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}


# What any Textual app pays to show this article: the article in one Static, and a Footer.
MINIMAL_APP = """
import sys
from textual.app import App
from textual.widgets import Footer, Static

class Minimal(App):
    BINDINGS = [("q", "quit", "quit")]

    def compose(self):
        yield Static(open(sys.argv[1], encoding="utf-8").read())
        yield Footer()

Minimal().run()
"""


# Runs a script (argv[1], with the rest as its arguments) and ends the process the moment the
# article's first words are written, so that an instruction count stops at the first frame.
EXIT_AT_FIRST_PAINT = f"""
import os, runpy, sys
from textual.drivers.linux_driver import LinuxDriver

_write = LinuxDriver.write

def write(self, data):
    _write(self, data)
    if {FIRST_WORDS!r} in data:
        os._exit(0)

LinuxDriver.write = write
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def time_first_paint(argv: list[str]) -> float:
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        env = {**os.environ, **TERMINAL}
        os.execve(argv[0], argv, env)
    seen = b""
    try:
        while FIRST_WORDS.encode() not in seen:
            ready, _, _ = select.select([fd], [], [], 20)
            if not ready:
                raise RuntimeError("goldspan did not paint within 20 s")
            seen += os.read(fd, 65536)
        return time.perf_counter() - t0
    finally:
        os.kill(pid, signal.SIGTERM)
        _drain_until_exit(pid, fd)


def _drain_until_exit(pid: int, fd: int, seconds: float = 20) -> None:
    """Keep reading what the app draws until it ends: a terminal that stops reading would block its writes."""
    deadline = time.monotonic() + seconds
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


def count_instructions(argv: list[str], folder: Path) -> int:
    """Instructions the UI thread of ``argv`` (a Python script and its arguments) executes up to its
    first frame showing the article, counted by valgrind's callgrind (workers' threads are left out)."""
    counts = Path(tempfile.mkdtemp(dir=folder, prefix="callgrind-"))  # valgrind writes a file per thread
    out = counts / "out"
    hook = folder / "exit_at_first_paint.py"
    hook.write_text(EXIT_AT_FIRST_PAINT, encoding="utf-8")
    env = {**os.environ, **TERMINAL, "PYTHONHASHSEED": "0"}
    valgrind = ["valgrind", "--tool=callgrind", "--separate-threads=yes", f"--callgrind-out-file={out}"]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe("valgrind", [*valgrind, sys.executable, str(hook), *argv], env)
    _drain_until_exit(pid, fd, seconds=600)
    for part in counts.iterdir():
        text = part.read_text(encoding="utf-8", errors="replace")
        if re.search(r"^thread: 1$", text, re.M):
            found = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M)
            if found:
                return int(found.group(1))
    raise RuntimeError(f"valgrind left no count for the first thread of {argv[0]}")


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
    runs = 3 if quick else 15  # a run's figure moves by 0.1 s on these machines
    compile_goldspan()
    goldspan = str(Path(sys.executable).with_name("goldspan"))
    paints, imports, minimal = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "minimal.py").write_text(MINIMAL_APP, encoding="utf-8")
        for i in range(runs):  # alternated, so a change in the machine's speed reaches all alike
            paints.append(time_first_paint([goldspan, "annotate", str(SEED), "--db", str(Path(tmp) / f"start-{i}.json")]))
            imports.append(time_import_textual())
            minimal.append(time_first_paint([sys.executable, str(Path(tmp) / "minimal.py"), str(SEED)]))
        g, b, m = median(paints), median(imports), median(minimal)
        rows = [
            Row("start: launch to first article on screen, median (s)", g, b, g / b, "goldspan < 0.6 s", g < 0.6),
            Row("start: the same, against a minimal Textual app showing the article (s)", g, m, g / m, "cross-check only", True),
        ]
        if not quick and shutil.which("valgrind"):  # a minute under valgrind: full runs only
            folder = Path(tmp)
            ours = count_instructions([goldspan, "annotate", str(SEED), "--db", str(folder / "count.json")], folder) / 1e6
            theirs = count_instructions([str(folder / "minimal.py"), str(SEED)], folder) / 1e6
            rows.append(Row("start: instructions to the first paint, against the minimal app (millions)", ours, theirs, ours / theirs, "cross-check only", True))
    return rows
