"""The benchmark runner's interface (a smoke test on small sizes; no timing is asserted here)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT


def test_every_benchmark_runs_quick_and_writes_rows_with_the_agreed_keys(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--json", str(out)], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert all(set(row) == {"figure", "goldspan", "baseline", "ratio", "target", "pass"} for row in rows)
    # Numbers, not their size: some figures are differences (a key minus an unbound key, a median above
    # the floor) that a loaded machine can make zero or negative, and ∞ stands for "over the time limit".
    assert all(isinstance(row["pass"], bool) and all(isinstance(row[k], (int, float)) and not math.isnan(row[k]) for k in ("goldspan", "baseline"))
               for row in rows)  # fmt: skip
    figures = " ".join(row["figure"] for row in rows)
    for benchmark in ("key:", "start:", "preannotate", "DocBin", "median save", "bytes per key", "train: words per second", "while 1,000 articles are re-suggested"):
        assert benchmark in figures  # keys, start, preannotate, corpus, store, wire, train
    if shutil.which("tmux") is not None:
        assert "terminal: navigation key" in figures and "preannotate: peak memory" in figures and "j while a model trains" in figures
    else:
        assert "terminal: not measured: it needs tmux" in result.stderr
    assert "baseline" in result.stdout


def test_bench_refuses_an_unknown_name() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "nope"], capture_output=True, text=True)
    assert result.returncode == 2 and "no benchmark named nope" in result.stderr


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_the_instruction_count_to_the_first_paint_is_the_same_run_after_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What makes the start benchmark's instruction row worth reading: unlike the clock, it does not move."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import start_bench

    app = tmp_path / "minimal.py"
    app.write_text(start_bench.MINIMAL_APP, encoding="utf-8")
    first, second = (start_bench.count_instructions([str(app), str(start_bench.SEED)], tmp_path) for _ in range(2))
    assert first > 100_000_000  # it ran as far as the first frame, through all of Textual's start
    assert abs(first - second) <= first // 200
