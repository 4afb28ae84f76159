"""`goldspan preannotate --engine dask` (issue 23) against `--n-process 2`, whole commands as a user
runs them (each starts its processes and loads the model in them), on the same generated articles
written as files, alternated over rounds: a LocalCluster of 2 single-threaded workers against
spaCy's two processes. Also the per-article cost Dask adds, and the client's peak memory (the
command's own process: the workers are the cluster's)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Row, median
from preannotate_bench import make_articles


def _run(argv: list[str]) -> tuple[float, float]:
    """Seconds, and the process's peak resident memory (MiB)."""
    t0 = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{argv} failed: {process.stderr.read().decode() if process.stderr else ''}")
    return seconds, usage.ru_maxrss / 1024


def bench_dask(quick: bool) -> list[Row]:
    import importlib.util

    if importlib.util.find_spec("distributed") is None:
        print('dask: not measured: it needs the dask extra (pip install "goldspan[dask]")', file=sys.stderr)
        return []
    goldspan = str(Path(sys.executable).with_name("goldspan"))
    articles = make_articles(200 if quick else 2_000)
    words = sum(a.word_count for a in articles)
    timings: dict[str, list[float]] = {"dask": [], "local": []}
    peaks: dict[str, list[float]] = {"dask": [], "local": []}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        folder = tmp / "articles"
        folder.mkdir()
        for i, article in enumerate(articles):
            (folder / f"{i:05d}.txt").write_text(article.text, encoding="utf-8")
        for round_ in range(1 if quick else 3):
            for engine in ("dask", "local") if round_ % 2 == 0 else ("local", "dask"):
                db = tmp / f"{engine}-{round_}.json"
                extra = ["--engine", "dask", "--workers", "2"] if engine == "dask" else ["--n-process", "2"]
                seconds, peak = _run([goldspan, "preannotate", str(folder), "--db", str(db), *extra])
                timings[engine].append(seconds)
                peaks[engine].append(peak)
    dask_s, local_s = median(timings["dask"]), median(timings["local"])
    overhead_ms = 1000 * (dask_s - local_s) / len(articles)
    return [
        Row(f"preannotate --engine dask --workers 2, words/s, {len(articles):,} articles, whole command (vs --n-process 2)",
            words / dask_s, words / local_s, local_s / dask_s, "≥ 0.95", local_s / dask_s >= 0.95),
        Row("preannotate --engine dask: ms per article it adds (vs --n-process 2's ms per article)", overhead_ms,
            1000 * local_s / len(articles), overhead_ms / (1000 * local_s / len(articles)), "reported", True),
        Row("preannotate --engine dask: the command's peak memory, MiB, the client alone (vs --n-process 2's, which loads the model)",
            median(peaks["dask"]), median(peaks["local"]), median(peaks["dask"]) / median(peaks["local"]), "reported", True),
    ]  # fmt: skip
