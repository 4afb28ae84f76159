"""`goldspan annotate --retrain-every N`'s training, in a process of its own: train on the DB's gold,
score the DB's model in use on the same evaluation set, and if the new model is better, suggest with it
for the articles the annotator has not started (read as a JSON list of ids on stdin), storing the
suggestions so the annotator's session finds them. It reports as JSON lines on stdout:

    {"event": "progress", "step": 400, "epoch": 3, "f": 0.71, "seconds": 12.5}
    {"event": "trained", "version": "goldspan-3", "path": ..., "f": 0.74, "in_use": true,
     "compared_with": "goldspan-2", "compared_f": 0.70}
    {"event": "suggested", "done": 120, "total": 1000}
    {"event": "done", "version": "goldspan-3", "resuggested": 1000}
    {"event": "failed", "reason": "..."}

It runs at a low priority with one thread, so the annotator's keys keep the other core.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import GoldspanError

RESUGGEST_BATCH = 16


def emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m goldspan.annotations.training.retrain")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--models", type=Path, required=True, help="the folder the loop's models go in, one per version")
    parser.add_argument("--max-minutes", type=float, default=10.0)
    parser.add_argument("--max-steps", type=int)
    parser.add_argument("--eval-frequency", type=int)
    args = parser.parse_args(argv)
    # The app ends this process with SIGTERM when it quits: end as an exception does, so the scratch
    # folder is removed and nothing half-made is recorded.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ctrl+c belongs to the annotator's screen
    wanted = [str(a) for a in json.loads(sys.stdin.readline() or "[]")]
    try:
        return run(args, wanted)
    except GoldspanError as error:
        emit("failed", reason=str(error))
        return 0
    except Exception as error:  # a bug, or spaCy's: the screen must hear of it, not wait forever
        emit("failed", reason=f"{type(error).__name__}: {error}")
        return 1


def run(args: argparse.Namespace, wanted: list[str]) -> int:
    from ..nlp import pipelines
    from ..nlp.suggest import suggest
    from ..store import Store
    from .registry import next_version
    from .trainer import Progress, TrainRequest, train

    last = [0.0]

    def progress(p: Progress) -> None:
        if time.monotonic() - last[0] >= 1.0 and p.phase == "training":
            last[0] = time.monotonic()
            emit("progress", step=p.step, epoch=p.epoch, f=p.eval_f, seconds=round(p.seconds, 1))

    request = TrainRequest(
        out=None, max_minutes=args.max_minutes, max_steps=args.max_steps, eval_frequency=args.eval_frequency
    )  # compared with the DB's model in use, as `goldspan train` compares
    with Store(args.db, must_write=True) as store:
        request.out = args.models / next_version(store)
        suffix = 1
        while request.out.exists():  # a folder left by another run: never written over
            suffix += 1
            request.out = args.models / f"{next_version(store)}-{suffix}"
        result = train(store, request, on_progress=progress)
        record = result.record
        emit("trained", version=record.version, path=record.path, f=record.f, in_use=record.in_use,
             compared_with=record.compared_with, compared_f=record.compared_f)  # fmt: skip
        if not record.in_use:
            return 0
        spec = pipelines.resolve(record.path)
        store.refresh()
        articles = [a for article_id in wanted if not store.has_suggestions(article_id, spec.model_id) and (a := store.article(article_id))]
        nlp = pipelines.load(spec) if articles else None
        done = 0
        for start in range(0, len(articles), RESUGGEST_BATCH):
            batch = articles[start : start + RESUGGEST_BATCH]
            assert nlp is not None
            store.save_suggestions(list(suggest(nlp, batch, spec.model_id)))
            done += len(batch)
            emit("suggested", done=done, total=len(articles))
        emit("done", version=record.version, resuggested=done)
    return 0


if __name__ == "__main__":
    sys.exit(main())
