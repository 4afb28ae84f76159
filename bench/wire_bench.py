"""Bytes written to the terminal per key: what a key costs over SSH on a slow link, and what
textual-serve sends a browser. goldspan on the seed article at 120x40 in a real pseudo-terminal,
against a minimal Textual app (the article's start in a Static, 30 one-line Statics, a Footer; `j`
moves a highlight by one row) measured in the same run.

A key's bytes are everything the app writes after it until it has written nothing for a moment
(the count does not depend on that moment: a slower machine writes the same bytes later).
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from common import Row, median

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "sample_articles" / "1-putin-lukashenko-sochi.txt"
SIZE = (120, 40)
# Each round leaves the article as it found it: j then k, a label then its undo, the end a token
# right then back (every press a real change: a refused key would measure the message line only).
KEYS = {
    "j (next entity)": "j", "k (previous entity)": "k", "a label key (2)": "2", "u (undo)": "u",
    "} (end a token right)": "}", "{ (end a token left)": "{",
}  # fmt: skip

MINIMAL_APP = """
import sys
from textual.app import App
from textual.widgets import Footer, Static

class Minimal(App):
    CSS = "#text { height: 6; } Static.row { height: 1; } Static.row.on { background: $accent; }"
    BINDINGS = [("j", "down", "down"), ("q", "quit", "quit")]

    def compose(self):
        yield Static(open(sys.argv[1], encoding="utf-8").read()[:1500], id="text")
        for i in range(30):
            yield Static(f"row {i}", classes="row" + (" on" if i == 0 else ""))
        yield Footer()

    def action_down(self):
        rows = list(self.query("Static.row"))
        at = next(i for i, row in enumerate(rows) if row.has_class("on"))
        rows[at].remove_class("on")
        rows[(at + 1) % len(rows)].add_class("on")

Minimal().run()
"""


class Pty:
    def __init__(self, argv: list[str], ready: bytes) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the size is set before the app starts: it must never draw a first frame at 80x24
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
            # COLUMNS and LINES too: Textual prefers them to the terminal's size, and pytest sets 80x24.
            env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor", "COLUMNS": str(SIZE[0]), "LINES": str(SIZE[1])}
            os.execve(argv[0], argv, env)
        seen, end = b"", time.monotonic() + 120
        while ready not in seen and time.monotonic() < end:
            if select.select([self.fd], [], [], 0.2)[0]:
                seen += os.read(self.fd, 65536)
        if ready not in seen:
            raise RuntimeError(f"{argv[1:3]}: {ready!r} never appeared")
        self.drain(2.0)  # the tokens and any late redraw of the start

    def drain(self, quiet: float = 0.4) -> int:
        got = 0
        while select.select([self.fd], [], [], quiet)[0]:
            try:
                got += len(os.read(self.fd, 65536))
            except OSError:
                break
        return got

    def key(self, key: str) -> int:
        os.write(self.fd, key.encode())
        return self.drain()

    def close(self) -> None:
        os.write(self.fd, b"q")
        self.drain(0.5)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                break
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def bench_wire(quick: bool) -> list[Row]:
    presses = 5 if quick else 20
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "wire.json"
        goldspan = str(Path(sys.executable).with_name("goldspan"))
        # The English model's suggestions, cached: the screen needs no model (and loads none) to edit them.
        subprocess.run([goldspan, "preannotate", str(SEED), "--db", str(db)], check=True, capture_output=True)
        minimal_script = Path(tmp) / "minimal.py"
        minimal_script.write_text(MINIMAL_APP, encoding="utf-8")
        app = Pty([goldspan, "annotate", str(SEED), "--db", str(db)], b"KEY POINTS")
        minimal = Pty([sys.executable, str(minimal_script), str(SEED)], b"row 29")
        figures: dict[str, list[int]] = {name: [] for name in KEYS}
        floor: list[int] = []
        try:
            for _ in range(presses):  # interleaved: the same moment of the machine for both
                floor.append(minimal.key("j"))
                for name, key in KEYS.items():
                    figures[name].append(app.key(key))
        finally:
            app.close()
            minimal.close()
    base = median(floor)
    rows = []
    for name, sizes in figures.items():
        ours = median(sizes)
        focus_move = name.startswith(("j", "k"))
        rows.append(Row(f"bytes per key at 120x40, {name} (baseline: a minimal app's highlight move)", ours, base,
                        ours / base if base else 0.0, "≤ 2,000 bytes" if focus_move else "", ours <= 2000 if focus_move else True))  # fmt: skip
    return rows
