"""The benchmark runner's interface (a smoke test on small sizes; no timing is asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT


def test_every_benchmark_runs_quick_and_writes_rows_with_the_agreed_keys(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--json", str(out)], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert all(set(row) == {"figure", "goldspan", "baseline", "ratio", "target", "pass"} for row in rows)
    assert all(isinstance(row["pass"], bool) and row["goldspan"] > 0 and row["baseline"] > 0 for row in rows)
    figures = " ".join(row["figure"] for row in rows)
    for benchmark in ("key:", "start:", "preannotate", "DocBin", "median save"):
        assert benchmark in figures  # keys, start, preannotate, corpus, store
    assert "baseline" in result.stdout


def test_bench_refuses_an_unknown_name() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "nope"], capture_output=True, text=True)
    assert result.returncode == 2 and "no benchmark named nope" in result.stderr
