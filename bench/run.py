"""goldspan's benchmarks: each figure beside a baseline measured in the same run.

    python bench/run.py [NAME ...] [--quick] [--size N] [--kills N] [--json OUT]

NAME picks benchmarks (all by default); --quick runs small sizes, as a smoke test; --size sets the
corpus benchmark's big DB (200,000 annotated articles by default, about 1.3 GB); --json writes
the rows as a JSON list of objects with the keys figure, goldspan, baseline, ratio, target, pass.
Timings are never asserted in the test suite: this is where speed is measured.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Row  # noqa: E402
from corpus_bench import bench_corpus  # noqa: E402
from dask_bench import bench_dask  # noqa: E402
from faults_bench import bench_faults  # noqa: E402
from keys_bench import bench_keys  # noqa: E402
from preannotate_bench import bench_preannotate  # noqa: E402
from queue_bench import bench_queue  # noqa: E402
from start_bench import bench_start  # noqa: E402
from store_bench import bench_store  # noqa: E402
from terminal_bench import bench_terminal  # noqa: E402
from train_bench import bench_train  # noqa: E402
from scorers_bench import bench_scorers  # noqa: E402
from soak_bench import bench_soak  # noqa: E402
from teach_bench import bench_teach  # noqa: E402
from teach_sim import bench_teach_sim  # noqa: E402
from wire_bench import bench_wire  # noqa: E402

BENCHMARKS: dict[str, Callable[[bool], list[Row]]] = {
    "keys": bench_keys,
    "start": bench_start,
    "preannotate": bench_preannotate,
    "corpus": bench_corpus,
    "store": bench_store,
    "wire": bench_wire,
    "terminal": bench_terminal,
    "train": bench_train,
    "scorers": bench_scorers,
    "teach": bench_teach,
    "teachsim": bench_teach_sim,
    "queue": bench_queue,
    "dask": bench_dask,
    "soak": bench_soak,
    "faults": bench_faults,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes only, for a smoke test")
    parser.add_argument("--size", type=int, metavar="N", help="articles in the corpus benchmark's big DB (default 200,000)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the rows as JSON")
    parser.add_argument("--kills", type=int, metavar="N", help="kills in the soak benchmark (default 1,000)")
    args = parser.parse_args(argv)
    if args.kills is not None:
        if args.kills < 1:
            parser.error("--kills must be a positive number")
        BENCHMARKS["soak"] = functools.partial(bench_soak, kills=args.kills)
    if args.size is not None:
        if args.size < 1:
            parser.error("--size must be a positive number of articles")
        BENCHMARKS["corpus"] = functools.partial(bench_corpus, size=args.size)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)}; there are: {', '.join(BENCHMARKS)}")
    console = Console(stderr=True)
    rows: list[Row] = []
    for name in args.names or list(BENCHMARKS):
        with console.status(f"running {name}{' (quick)' if args.quick else ''}…"):
            rows += BENCHMARKS[name](args.quick)
    table = Table(title="goldspan benchmarks" + (" (quick: small sizes, targets not meaningful)" if args.quick else ""))
    for column in ("figure", "goldspan", "baseline", "ratio", "target", "pass"):
        table.add_column(column, justify="left" if column in ("figure", "target") else "right")
    for row in rows:
        table.add_row(row.figure, f"{row.goldspan:.3f}", f"{row.baseline:.3f}", f"{row.ratio:.2f}", row.target, "yes" if row.passed else "NO")
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps([row.as_json() for row in rows], indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
