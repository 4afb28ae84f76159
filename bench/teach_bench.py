"""Teach mode as a person sees it (issue 21): from a decision key to the next example on screen, end
to end in a real terminal (tmux, timed as ``terminal_bench`` times keys), in the same run as:

- the floor (a curses program changing one line per key: tmux, the pty and the timing);
- teach with scoring off: every article of the pool already scored, so nothing runs beside the keys;
- teach with the model scoring in the background: a 50,000-word article first in the pool, not
  scored yet, so the model's process scores it while the keys are pressed (the other articles are
  scored already and give the examples).

Keys alternate x and space (reject, ignore): each is an answer saved (journaled and synced) before
the next example shows. ``--all`` keeps every entity in the pool, so there are enough to answer.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Row, median, p95
from terminal_bench import FLOOR, ROOT, Tmux, children, cpu_seconds, write_article

LABELS = "PERSON,ORG,GPE,DATE,NORP,CARDINAL"
# A key's output is one frame, out within a few ms. The model's arrival redraws the top line (the
# count ready, the model's name) whenever it comes: with the terminal benchmark's 150 ms of quiet to
# end a key, that redraw, 30-140 ms after a key's frame, was timed as the key's (one key of 60 at
# 60-150 ms). 50 ms of quiet still holds any second frame a key could cause (Textual draws at most
# every 17 ms here).
SETTLE = 0.05
# Seconds between keys: a person five times faster than Prodigy's fastest reported teach rate (2,400
# decisions an hour), and slow enough that the keys span the whole scoring of the big article,
# its arrival included.
PACE = 0.15


def _timed(cmd: list[str], ready: str, keys: list[str], busy_check: bool = False) -> tuple[list[float], int]:
    """Each key's time (s), and how many were pressed while the app's children worked (half a core or more)."""
    found: list[float] = []
    busy = 0
    with Tmux(cmd) as t:
        t.wait(ready, 180)
        time.sleep(1.0)
        pid = t.pid
        for key in keys:
            kids = children(pid) if busy_check else []
            before = sum(cpu_seconds(k) for k in kids)
            t0 = time.perf_counter()
            took = t.press(key, settle=SETTLE)
            if busy_check and kids:
                used = sum(cpu_seconds(k) for k in kids if Path(f"/proc/{k}").exists()) - before
                busy += used >= 0.5 * (time.perf_counter() - t0)
            if took is not None:
                found.append(took)
            time.sleep(PACE)
        t.send("q")
        time.sleep(0.3)
    return found, busy


def bench_teach(quick: bool) -> list[Row]:
    if shutil.which("tmux") is None:
        print("teach: not measured: it needs tmux (apt-get install tmux)", file=sys.stderr)
        return []
    goldspan = [str(Path(sys.executable).with_name("goldspan"))]
    words, n = (5_000, 20) if quick else (50_000, 60)
    keys = ["x" if i % 2 else "Space" for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        big = tmp / "0-big.txt"  # first in the folder: the first article the pool asks the model for
        write_article(big, words, 7)
        pool = tmp / "pool"
        pool.mkdir()
        shutil.move(big, pool / big.name)
        for sample in sorted((ROOT / "sample_articles").iterdir()):
            shutil.copy(sample, pool / sample.name)
        (tmp / "floor.py").write_text(FLOOR, encoding="utf-8")
        scored_all, scored_samples = tmp / "all.json", tmp / "samples.json"
        subprocess.run([*goldspan, "preannotate", str(pool), "--db", str(scored_all)], check=True, capture_output=True)
        subprocess.run([*goldspan, "preannotate", *[str(p) for p in sorted(pool.iterdir()) if p != pool / big.name], "--db", str(scored_samples)],
                       check=True, capture_output=True)  # fmt: skip
        teach = [*goldspan, "teach", str(pool), "--label", LABELS, "--all", "--annotator", "bench"]
        floor, _ = _timed([sys.executable, str(tmp / "floor.py")], "floor ready", ["j"] * (n // 2))
        off, _ = _timed([*teach, "--db", str(scored_all)], "Is “", keys)
        # The samples' examples show at once; the big article is scored meanwhile.
        during, busy = _timed([*teach, "--db", str(scored_samples)], "Is “", keys, busy_check=True)
    f, o, d = 1000 * median(floor), 1000 * median(off), 1000 * median(during)
    d95 = 1000 * p95(during)
    print("teach: keys, ms, scoring off:", " ".join(f"{1000 * s:.1f}" for s in off), file=sys.stderr)
    print("teach: keys, ms, scoring on: ", " ".join(f"{1000 * s:.1f}" for s in during), file=sys.stderr)
    return [
        Row(f"teach: decision key to next example, model scoring a {words:,}-word article ({busy} of {len(during)} keys during it), "
            "median ms above the floor (vs floor)", d - f, f, d / f, "≤ 15 ms above floor", d - f <= 15),
        Row("teach: decision key, model scoring in the background, p95 ms (vs its median)", d95, d, d95 / d, "≤ 1.5× median", d95 <= 1.5 * d),
        Row("teach: decision key, model scoring in the background, median ms (vs scoring off)", d, o, d / o, "≤ 1.2× scoring off", d / o <= 1.2),
        Row("teach: decision key, scoring off, p95 ms (vs its median)", 1000 * p95(off), o, 1000 * p95(off) / o, "reported", True),
    ]  # fmt: skip
