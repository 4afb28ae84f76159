"""Keys, search, start and quit as a person sees them: end to end in a real terminal.

Each app runs in a private tmux server at 120x40. A key is timed from just before it is sent until
tmux has taken in the last output it caused (told by a control-mode client; no output for 150 ms
ends the wait), so the figure holds everything between the key and the screen: the pty, the app's
input handling, its work, its rendering, tmux. Measured the same way in the same run:

- the floor: a curses program that changes one line per key (tmux, the pty and the polling);
- the minimal Textual app (``minimal_app.py``): the article's start, 30 one-line Statics, a Footer,
  `j` moving a highlight by one row: what any Textual app pays for a key;
- SLATE (``slate-nlp``, a curses annotator), where it is installed: the anchor among annotators.

Apps alternate pass by pass, so a slow spell of the machine falls on each of them. Start, quit and
the bytes written per key are timed through a pty of this process; CPU and peak memory come from
/proc. The 50,000-word article is made up from a small vocabulary with place and person names, and
parsed by the installed English model before the keys are timed, as an annotator's DB would be.
"""

from __future__ import annotations

import importlib.util
import os
import pty
import random
import resource
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import Row, made_up_paragraphs, median, p95

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEED = ROOT / "sample_articles" / "1-putin-lukashenko-sochi.txt"
COLS, ROWS = 120, 40
ENV = {"TERM": "xterm-256color", "COLORTERM": "truecolor", "TEXTUAL_FPS": "60"}  # the same frame rate for both Textual apps
MARK = "Zanzibarra"  # in the first and the last paragraph only: enter in the search jumps between them
VOCAB = ("the minister said on Tuesday that talks in Minsk and Warsaw would go on despite pressure from Moscow "
         "while analysts at Deutsche Bank in Frankfurt expected Angela Merkel and Vladimir Putin to meet this year").split()  # fmt: skip

FLOOR = r'''
import curses
def main(w):
    curses.curs_set(0); n = 0
    w.addstr(0, 0, "floor ready"); w.refresh()
    while True:
        ch = w.getch()
        if ch == ord("q"): break
        n += 1; w.addstr(1, 0, f"keys {n:6d}"); w.refresh()
curses.wrapper(main)
'''


def write_article(path: Path, words: int, seed: int) -> None:
    paragraphs = made_up_paragraphs(words, VOCAB, random.Random(seed))
    paragraphs[0] += f" {MARK} was first."
    paragraphs[-1] += f" {MARK} was last."
    path.write_text(f"Benchmark article of {words} words number {seed}\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")


class Tmux:
    """One app in a private tmux server; ``press`` times a key to the last output it caused.

    Keys go through a control-mode client (``tmux -C``), which is told of every byte the app writes
    as tmux takes it in (``%output``): the time of the last one is when tmux's screen has the key's
    final state, to a fraction of a millisecond. Polling ``capture-pane`` every few milliseconds,
    as this harness first did, measured in steps of ~5 ms (half a key's median: a p95 came out 1.0,
    1.5 or 2.0 times it by where the steps fell), and each poll was a process competing for the
    two cores with the app it timed."""

    def __init__(self, cmd: list[str], cwd: Path | None = None) -> None:
        self.sock = ["tmux", "-L", f"goldspan-bench-{os.getpid()}-{time.monotonic_ns()}"]
        self.cmd, self.cwd = cmd, cwd or Path(tempfile.gettempdir())
        self.control: subprocess.Popen[bytes] | None = None

    def tm(self, *args: str) -> str:
        return subprocess.run(self.sock + list(args), capture_output=True, text=True).stdout

    def __enter__(self) -> Tmux:
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in ENV.items())
        self.tm("new-session", "-d", "-s", "m", "-x", str(COLS), "-y", str(ROWS), "-c", str(self.cwd), f"exec env {env} {shlex.join(self.cmd)}")
        # A control client takes no size of its own: the window stays 120x40.
        self.control = subprocess.Popen(self.sock + ["-C", "attach", "-t", "m"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        return self

    def __exit__(self, *exc: object) -> None:
        self.tm("kill-server")
        if self.control is not None:
            self.control.kill()
            self.control.wait()

    @property
    def pid(self) -> int:
        return int(self.tm("display-message", "-p", "-t", "m", "#{pane_pid}").strip())

    def screen(self) -> str:
        return self.tm("capture-pane", "-e", "-p", "-t", "m")

    def wait(self, text: str, seconds: float = 120) -> None:
        end = time.monotonic() + seconds
        while text not in self.tm("capture-pane", "-p", "-t", "m"):
            if time.monotonic() > end:
                raise RuntimeError(f"{text!r} never appeared on the screen of {self.cmd[0]}")
            time.sleep(0.05)

    def send(self, *keys: str) -> None:
        self.tm("send-keys", "-t", "m", *keys)

    def _read(self, wait: float) -> bytes | None:
        """What the control client says within ``wait`` seconds (None: nothing)."""
        assert self.control is not None and self.control.stdout is not None
        fd = self.control.stdout.fileno()
        if not select.select([fd], [], [], max(0.0, wait))[0]:
            return None
        return os.read(fd, 1 << 16) or None

    def press(self, key: str, settle: float = 0.15, timeout: float = 5.0) -> float | None:
        """Seconds from sending ``key`` to the last output it caused (none for ``settle`` seconds
        after it ends the wait); None if it caused none."""
        assert self.control is not None and self.control.stdin is not None
        # What came before the key is not the key's: the client holds a backlog of notifications
        # (a start-up's screens) in memory and hands it over in bursts, so wait for a quiet spell.
        while self._read(0.02) is not None:
            pass
        t0 = time.perf_counter()
        self.control.stdin.write(f"send-keys -t m {key}\n".encode())
        last, end = None, t0 + timeout
        # Notifications are lines; the app's bytes are in those that begin with %output. A line can
        # come in several reads: it counts from the read it began in, when tmux had taken it in.
        line, line_began = b"", 0.0
        while True:
            chunk = self._read(settle if last is not None else end - time.perf_counter())
            if chunk is None:
                break
            t = time.perf_counter()
            lines = (line + chunk).split(b"\n")
            began = [line_began if line else t] + [t] * (len(lines) - 1)
            for whole, at in zip(lines[:-1], began):
                if whole.startswith(b"%output"):
                    last = at
            line, line_began = lines[-1], began[-1]
            if line.startswith(b"%output"):
                last = line_began
            if t > end:
                break
        return None if last is None else last - t0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@dataclass
class Keys:
    """One app's key timings (seconds) over every pass, its CPU per key and peak memory."""

    times: dict[str, list[float]] = field(default_factory=dict)
    cpu: list[float] = field(default_factory=list)
    peak: float = 0.0

    def add(self, key: str, samples: list[float | None]) -> None:
        self.times.setdefault(key, []).extend(s for s in samples if s is not None)

    def ms(self, key: str) -> tuple[float, float]:
        samples = [1000 * s for s in self.times.get(key, [])]
        return (median(samples), p95(samples)) if samples else (float("nan"), float("nan"))


def run_keys(cmd: list[str], ready: str, plan: list[tuple[str, int]], into: Keys, warm: float = 3.0) -> None:
    with Tmux(cmd, cwd=Path(cmd[-1]).parent) as t:  # SLATE writes its logs where it runs
        t.wait(ready)
        time.sleep(warm)  # background work of the start (a first fold, say) is over
        pid = t.pid
        for keys, n in plan:
            cpu0 = cpu_seconds(pid)
            # Keys listed together alternate press by press: "2,1" relabels the focused entity on
            # every press (2 pressed twice running would confirm it and move on, a navigation key).
            cycle = keys.split(",")
            for i in range(n):
                key = cycle[i % len(cycle)]
                into.add(key, [t.press(key)])
            into.cpu.append((cpu_seconds(pid) - cpu0) / n)
        into.peak = max(into.peak, peak_mib(pid))
        t.send("q")
        time.sleep(0.3)


def keys_during_parse(cmd: list[str], ready: str, key: str) -> tuple[list[float], list[float], float]:
    """``key`` timed while the model's process parses (another article, ahead), and at rest after.

    A press counts as during the parse when the app's child processes used at least half a core
    over it; then 40 presses at rest. Also the screen process's peak memory, after all of it."""
    during: list[float] = []
    rest: list[float] = []
    with Tmux(cmd) as t:
        t.wait(ready)
        pid = t.pid
        busy_seen, idle_run = False, 0
        for _ in range(400):
            kids = children(pid)
            before = sum(cpu_seconds(k) for k in kids)
            t0 = time.perf_counter()
            took = t.press(key)
            used = sum(cpu_seconds(k) for k in kids if Path(f"/proc/{k}").exists()) - before
            busy = bool(kids) and used >= 0.5 * (time.perf_counter() - t0)
            if took is not None and busy:
                during.append(took)
            busy_seen |= busy
            idle_run = 0 if busy else idle_run + 1
            if busy_seen and idle_run >= 5:
                break
        rest = [s for s in (t.press(key) for _ in range(40)) if s is not None]
        peak = peak_mib(pid)
        t.send("q")
        time.sleep(0.3)
    return during, rest, peak


def pty_run(argv: list[str], ready: str, then: bytes = b"", settle: float = 2.0) -> tuple[float, float, int]:
    """In a pty: seconds to ``ready`` on the screen; then (after ``settle``) ``then`` is written and the
    seconds until the process has ended; and the bytes written per `j` meanwhile, if asked."""
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        os.chdir(Path(argv[-1]).parent)  # SLATE writes its logs where it runs
        os.execve(argv[0], argv, {**os.environ, **ENV})
    seen, start = b"", float("nan")
    try:
        while ready.encode() not in seen:
            if not select.select([fd], [], [], 60)[0]:
                raise RuntimeError(f"{argv[0]} did not show {ready!r} within 60 s")
            seen = (seen + os.read(fd, 65536))[-200000:]
        start = time.perf_counter() - t0
        written = _drain(fd, settle)
        if not then:
            return start, float("nan"), written
        per_key = []
        for _ in range(6):
            os.write(fd, b"j")
            per_key.append(_drain(fd, 0.5))
        t1 = time.perf_counter()
        os.write(fd, then)
        while not os.waitpid(pid, os.WNOHANG)[0]:
            _drain(fd, 0.002)
            if time.perf_counter() - t1 > 20:
                raise RuntimeError(f"{argv[0]} did not end within 20 s of {then!r}")
        return start, time.perf_counter() - t1, int(statistics.median(per_key))
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)


def _drain(fd: int, quiet: float) -> int:
    n = 0
    while select.select([fd], [], [], quiet)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        n += len(chunk)
    return n


def peak_of_child(argv: list[str]) -> float:
    """Peak resident memory (MB) of a child process run to its end."""
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"{argv} failed: {process.stderr.read().decode() if process.stderr else ''}")
    return usage.ru_maxrss / 1024


def bench_terminal(quick: bool) -> list[Row]:
    if shutil.which("tmux") is None:  # said, and no row: a figure not measured is not a figure
        print("terminal: not measured: it needs tmux (apt-get install tmux)", file=sys.stderr)
        return []
    from goldspan.annotations.nlp import pipelines

    model = pipelines.resolve(None).name
    goldspan = [str(Path(sys.executable).with_name("goldspan"))]
    words, passes, n = (5_000, 1, 20) if quick else (50_000, 3, 60)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        big, ahead, small = tmp / "big.txt", tmp / "ahead.txt", tmp / "small.txt"
        write_article(big, words, 1)
        write_article(ahead, words, 2)
        shutil.copy(SEED, small)
        (tmp / "floor.py").write_text(FLOOR, encoding="utf-8")
        db_big, db_small, db_ahead = tmp / "big.json", tmp / "small.json", tmp / "ahead.json"
        # preannotate: its own peak memory on the big article, against the model alone parsing nothing
        pre_peak = peak_of_child([*goldspan, "preannotate", str(big), "--db", str(db_big)])
        model_peak = peak_of_child([sys.executable, "-c", f"import spacy; spacy.load({model!r})"])
        subprocess.run([*goldspan, "preannotate", str(small), "--db", str(db_small)], check=True, capture_output=True)
        shutil.copy(db_big, db_ahead)
        annotate = [*goldspan, "annotate", "--annotator", "bench"]
        apps = {
            "floor": ([sys.executable, str(tmp / "floor.py")], "floor ready", [("j", n // 2)]),
            "minimal": ([sys.executable, str(HERE / "minimal_app.py"), str(big)], "Benchmark article", [("j", n)]),
            "goldspan 50k": ([*annotate, str(big), "--db", str(db_big)], "Benchmark article", [("j", n), ("2,1", n)]),
            "goldspan 500": ([*annotate, str(small), "--db", str(db_small)], "KEY POINTS", [("j", n), ("2,1", n)]),
        }
        if importlib.util.find_spec("slate") is not None:  # slate-nlp: measured where installed
            (tmp / "slate").mkdir()
            shutil.copy(big, tmp / "slate" / "big.txt")
            slate = [sys.executable, "-m", "slate", "-o", str(tmp / "slate" / "big.txt")]  # -o: over its last run's file
            apps["slate"] = (slate, "Benchmark", [("Right", n)])
        results = {name: Keys() for name in apps}
        for _ in range(passes):
            for name, (cmd, ready, plan) in apps.items():
                run_keys(cmd, ready, plan, results[name])
        # keys while the model parses the next article, ahead of the annotator
        during, rest, screen_peak = keys_during_parse([*annotate, str(big), str(ahead), "--db", str(db_ahead)], "Benchmark article", "j")
        # search: enter jumps from the first paragraph's mark to the last's, and back
        searches: list[float] = []
        with Tmux(apps["goldspan 50k"][0]) as t:
            t.wait("Benchmark article")
            time.sleep(2)
            t.send("/")
            time.sleep(0.3)
            t.send("-l", MARK.lower())
            time.sleep(0.5)
            searches = [s for s in (t.press("Enter") for _ in range(4 if quick else 10)) if s is not None]
            t.send("Escape", "q")
        # start, bytes per key and quit, through a pty, alternating
        starts: dict[str, list[float]] = {"goldspan": [], "minimal": []}
        quits: dict[str, list[float]] = {"goldspan": [], "minimal": []}
        sizes: dict[str, list[int]] = {"goldspan": [], "minimal": []}
        if "slate" in apps:
            starts["slate"], quits["slate"], sizes["slate"] = [], [], []
        for _ in range(2 if quick else 5):
            for name in starts:
                cmd = apps["goldspan 50k" if name == "goldspan" else name][0]
                start, quit_s, size = pty_run(cmd, "Benchmark", b"Q" if name == "slate" else b"q")
                starts[name].append(start)
                quits[name].append(quit_s)
                sizes[name].append(size)
    return _report(results, during, rest, screen_peak, searches, starts, quits, sizes, pre_peak, model_peak)


def _report(results: dict[str, Keys], during: list[float], rest: list[float], screen_peak: float, searches: list[float],
            starts: dict[str, list[float]], quits: dict[str, list[float]], sizes: dict[str, list[int]],
            pre_peak: float, model_peak: float) -> list[Row]:  # fmt: skip
    from rich.console import Console
    from rich.table import Table

    floor, _ = results["floor"].ms("j")
    minimal, minimal_p95 = results["minimal"].ms("j")
    rows: list[Row] = []
    for key, what in (("j", "navigation key j"), ("2", "label key")):
        g, g95 = results["goldspan 50k"].ms(key)
        if key == "2":  # 2 and 1 alternate: both are label keys, each a relabel and a save
            samples = [1000 * s for s in results["goldspan 50k"].times["2"] + results["goldspan 50k"].times["1"]]
            g, g95 = median(samples), p95(samples)
        rows.append(Row(f"terminal: {what}, 50k words, median ms (vs minimal Textual app)", g, minimal, g / minimal,
                        "≤ 1.5× minimal and ≤ 15 ms above floor", g / minimal <= 1.5 and g - floor <= 15))  # fmt: skip
        rows.append(Row(f"terminal: {what}, 50k words, p95 ms (vs its median)", g95, g, g95 / g, "≤ 1.5× median", g95 <= 1.5 * g))
    cpu = 1000 * median(results["goldspan 50k"].cpu)
    rows.append(Row("terminal: CPU per key, 50k words, ms (vs minimal app)", cpu, 1000 * median(results["minimal"].cpu),
                    cpu / (1000 * median(results["minimal"].cpu) or 1), "≤ 10 ms", cpu <= 10))  # fmt: skip
    d, r = (1000 * median(during) if during else float("nan")), 1000 * median(rest)
    rows.append(Row(f"terminal: j while the model parses ahead ({len(during)} keys), median ms (vs at rest)", d, r, d / r, "≤ 1.2× at rest", d / r <= 1.2))
    rows.append(Row("terminal: screen process peak memory, 50k words, MiB (vs minimal app)", screen_peak, results["minimal"].peak,
                    screen_peak / results["minimal"].peak, "≤ 80 MiB", screen_peak <= 80))  # fmt: skip
    s = 1000 * median(searches)
    rows.append(Row("terminal: search enter to the last paragraph, ms (vs minimal app's j)", s, minimal, s / minimal, "≤ 50 ms", s <= 50))
    q, mq = median(quits["goldspan"]), median(quits["minimal"])
    rows.append(Row("terminal: quit, q to the process's end, s (vs minimal app)", q, mq, q / mq, "≤ 0.15 s", q <= 0.15))
    st, mst = median(starts["goldspan"]), median(starts["minimal"])
    rows.append(Row("terminal: start to first text, 50k words, s (vs minimal app)", st, mst, st / mst, "≤ 1.10× minimal", st / mst <= 1.10))
    by, mby = median(sizes["goldspan"]), median(sizes["minimal"])
    rows.append(Row("terminal: bytes written per j (vs minimal app)", by, mby, by / mby, "≤ 2,000", by <= 2000))
    rows.append(Row("preannotate: peak memory on the 50k-word article, MB (vs loading the model)", pre_peak, model_peak,
                    pre_peak / model_peak, "≤ 400 MB", pre_peak <= 400))  # fmt: skip

    slate = results.get("slate")
    if slate is not None:  # the anchor among terminal annotators, where installed
        sj, sp = slate.ms("Right")
        g, _ = results["goldspan 50k"].ms("j")
        rows.append(Row("terminal: navigation key, 50k words, median ms (vs SLATE's)", g, sj, g / sj, "reported", True))
        rows.append(Row("terminal: start to first text, 50k words, s (vs SLATE)", st, median(starts["slate"]), st / median(starts["slate"]), "reported", True))

    # The layout: goldspan at two sizes beside the minimal Textual app and the floor.
    table = Table(title="as a person sees it: tmux 120x40, medians over every pass (ms unless said)")
    columns = ("goldspan 500 words", "goldspan 50k words", "minimal Textual app", "floor") + (("SLATE 50k words",) if slate else ())
    table.add_column("")
    for c in columns:
        table.add_column(c, justify="right")
    small, large = results["goldspan 500"], results["goldspan 50k"]

    def both(keys: Keys, key: str) -> str:
        if key == "label":
            samples = [1000 * s for s in keys.times.get("2", []) + keys.times.get("1", [])]
            return f"{median(samples):.1f} / {p95(samples):.1f}" if samples else ""
        m, p = keys.ms(key)
        return f"{m:.1f} / {p:.1f}"

    def slate_cell(text: str) -> tuple[str, ...]:
        return (text,) if slate else ()

    table.add_row("start to first text (s)", "", f"{st:.3f}", f"{mst:.3f}", "", *slate_cell(f"{median(starts['slate']):.3f}" if slate else ""))
    table.add_row("navigation key, median / p95", both(small, "j"), both(large, "j"), f"{minimal:.1f} / {minimal_p95:.1f}", f"{floor:.1f}",
                  *slate_cell(both(slate, "Right") if slate else ""))  # fmt: skip
    table.add_row("label key, median / p95", both(small, "label"), both(large, "label"), "", "", *slate_cell(""))
    table.add_row("CPU per key", f"{1000 * median(small.cpu):.1f}", f"{cpu:.1f}", f"{1000 * median(results['minimal'].cpu):.1f}", "",
                  *slate_cell(f"{1000 * median(slate.cpu):.1f}" if slate else ""))  # fmt: skip
    table.add_row("peak memory after the keys (MiB)", f"{small.peak:.0f}", f"{large.peak:.0f}", f"{results['minimal'].peak:.0f}", "",
                  *slate_cell(f"{slate.peak:.0f}" if slate else ""))  # fmt: skip
    table.add_row("j while the model parses ahead / at rest", "", f"{d:.1f} / {r:.1f}", "", "", *slate_cell(""))
    table.add_row("search enter to the last paragraph", "", f"{s:.1f}", "", "", *slate_cell(""))
    table.add_row("quit (s)", "", f"{q:.3f}", f"{mq:.3f}", "", *slate_cell(f"{median(quits['slate']):.3f}" if slate else ""))
    table.add_row("bytes written per j", "", f"{by:.0f}", f"{mby:.0f}", "", *slate_cell(""))
    Console(stderr=True).print(table)
    return rows
