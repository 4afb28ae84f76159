"""The I/O fault matrix in full (issue 25): tests/test_faults.py with every I/O call of every
operation failing with every errno (the suite runs two errnos a call, and a sample of the import's
calls). Reports the cases run and passed per operation."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from common import Row

ROOT = Path(__file__).resolve().parent.parent
CASES = re.compile(r"(\w+): (\d+) of (\d+) I/O calls × (\d+) of \d+ errnos \(seed \d+\) = (\d+) cases: (\d+) reported")  # after pytest's dot, not at a line's start


def bench_faults(quick: bool) -> list[Row]:
    env = {**os.environ, "GOLDSPAN_FAULTS": "sample" if quick else "full"}
    selection = ["-k", "replay"] if quick else []
    done = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "tests" / "test_faults.py"), "-q", "-s", "-p", "no:cacheprovider", *selection],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=3600)  # fmt: skip
    rows = []
    for operation, points, calls, errnos, cases, reported in CASES.findall(done.stdout):
        # A test prints its line only once every one of its cases has passed.
        rows.append(Row(f"faults: {operation}, {points} of {calls} I/O calls × {errnos} errnos: cases passing ({reported} reported as failures)",
                        float(cases), float(cases), 1.0, "all", True))  # fmt: skip
    if done.returncode != 0:
        failing = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))] or [done.stdout.strip()[-300:] or done.stderr[-300:]]
        rows.append(Row(f"faults: failing: {'; '.join(failing)[:300]}", 0.0, 1.0, 0.0, "all", False))
    return rows
