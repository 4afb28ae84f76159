"""``goldspan train`` and ``goldspan train-curve``: spaCy's training on the DB's gold, with a Rich
progress display, a table of scores, and for the curve a plot in the terminal (plotext)."""

# No `from __future__ import annotations`: Typer reads every command's signature at each start.
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from goldspan.annotations.errors import InputError
from goldspan.annotations.store import DEFAULT_DB, Store
from goldspan.annotations.words import plural

from .cli import DbOption, app, err, out, report_store_notices, say

if TYPE_CHECKING:
    from goldspan.annotations.training.trainer import TrainRequest

BaseOption = Annotated[
    Optional[str],
    typer.Option("--base", help="What to train from: a pipeline (package or folder) whose NER is fine-tuned, or blank:LANG for a new one. "
                 "Default: the model the DB's suggestions came from, else the installed English model."),
]  # fmt: skip
LabelsOption = Annotated[Optional[str], typer.Option("--labels", help="Comma-separated labels to train (default: every label the training gold has).")]
EvalSplitOption = Annotated[
    Optional[float],
    typer.Option("--eval-split", help="Share of articles held out for evaluation, fixed in the DB once used [default: 0.2]."),
]
ResetEvalOption = Annotated[bool, typer.Option("--reset-eval", help="Start a new evaluation set (older models' scores then no longer compare).")]
AnnotatorOption = Annotated[Optional[str], typer.Option("--annotator", help="Train on this annotator's accepted versions (default: the final gold).")]
GpuOption = Annotated[int, typer.Option("--gpu-id", help="GPU to train on (-1: the CPU).")]
MaxStepsOption = Annotated[Optional[int], typer.Option("--max-steps", min=1, help="Stop after this many updates [default: spaCy's 20000].")]
EvalFrequencyOption = Annotated[Optional[int], typer.Option("--eval-frequency", min=1, help="Evaluate every this many updates [default: spaCy's 200].")]
SeedOption = Annotated[int, typer.Option("--seed", help="spaCy's random seed.")]


def _labels(value: Optional[str]) -> Optional[tuple[str, ...]]:
    if value is None:
        return None
    labels = tuple(label.strip() for label in value.split(",") if label.strip())
    if not labels:
        raise InputError(f"--labels {value!r}: give one label or more, separated by commas.")
    return labels


def _checked(db: Path, request: "TrainRequest") -> Store:
    """The DB, opened once the request has passed every check that needs no DB (a refused command
    then leaves it exactly as it was: not even migrated)."""
    from goldspan.annotations.training.trainer import check_request

    if not db.exists():
        raise InputError(f"{db}: no such database; annotate some articles first (goldspan annotate sample_articles/ --db {db}).")
    check_request(request)
    return Store(db)


@app.command(
    epilog="[b]Examples[/b]\n\n  goldspan train --db goldspan.json --out models/1\n\n"
    "  goldspan train --db goldspan.json --out models/blank --base blank:en --max-minutes 30",
)
def train(
    out_dir: Annotated[Path, typer.Option("--out", help="A new folder for the trained pipeline (spacy.load opens it).", file_okay=False)],
    db: DbOption = Path(DEFAULT_DB),
    base: BaseOption = None,
    labels: LabelsOption = None,
    eval_split: EvalSplitOption = None,
    reset_eval: ResetEvalOption = False,
    max_minutes: Annotated[float, typer.Option("--max-minutes", help="Time limit; the best model so far is kept when it is reached.")] = 10.0,
    annotator: AnnotatorOption = None,
    gpu_id: GpuOption = -1,
    max_steps: MaxStepsOption = None,
    eval_frequency: EvalFrequencyOption = None,
    seed: SeedOption = 0,
    spancat: Annotated[
        bool, typer.Option("--spancat", help="Also train a span categorizer beside the NER, to score its suggestions (--scorer spancat).")
    ] = False,
) -> int:
    """Train an NER model on the accepted gold with spaCy, score it on the DB's fixed evaluation set, and record it; annotate then uses the best one."""
    from goldspan.annotations.training.trainer import TrainRequest
    from goldspan.annotations.training.trainer import train as run

    from .training_view import TrainProgress, print_result

    request = TrainRequest(
        out=out_dir, base=base, labels=_labels(labels), eval_split=eval_split, reset_eval=reset_eval, max_minutes=max_minutes,
        annotator=annotator, gpu_id=gpu_id, max_steps=max_steps, eval_frequency=eval_frequency, seed=seed, spancat=spancat,
    )  # fmt: skip
    with _checked(db, request) as store:
        with TrainProgress(err, max_minutes) as progress:
            result = run(store, request, on_progress=progress.update, on_prepared=progress.prepared)
        report_store_notices(store)
    print_result(out, result, out_dir, db)
    if result.outcome.stopped == "interrupted":
        say(f"goldspan: interrupted; the best model so far is kept in {out_dir}.")
        return 130
    return 0


@app.command(
    "train-curve",
    epilog="[b]Example[/b]: goldspan train-curve --db goldspan.json --points 4 --max-minutes 2",
)
def train_curve(
    db: DbOption = Path(DEFAULT_DB),
    points: Annotated[int, typer.Option("--points", min=2, max=20, help="How many shares of the training data (4: 25, 50, 75 and 100 %).")] = 4,
    max_minutes: Annotated[float, typer.Option("--max-minutes", help="Time limit per point.")] = 5.0,
    base: BaseOption = None,
    labels: LabelsOption = None,
    eval_split: EvalSplitOption = None,
    annotator: AnnotatorOption = None,
    gpu_id: GpuOption = -1,
    max_steps: MaxStepsOption = None,
    eval_frequency: EvalFrequencyOption = None,
    seed: SeedOption = 0,
) -> int:
    """Train on growing shares of the gold, scored on the same evaluation set, to see whether more data still helps."""
    from goldspan.annotations.training.curve import curve
    from goldspan.annotations.training.trainer import TrainRequest

    from .training_view import CurveProgress, print_curve

    request = TrainRequest(
        out=None, base=base, labels=_labels(labels), eval_split=eval_split, max_minutes=max_minutes, annotator=annotator,
        gpu_id=gpu_id, max_steps=max_steps, eval_frequency=eval_frequency, seed=seed,
    )  # fmt: skip
    with _checked(db, request) as store:
        with CurveProgress(err, points, max_minutes) as progress:
            found, notes = curve(store, request, points, on_point=progress.point, on_progress=progress.update, on_prepared=progress.prepared)
        report_store_notices(store)
    print_curve(out, found, notes)
    if found and found[-1].stopped == "interrupted":
        say(f"goldspan: interrupted; the curve has {plural(len(found), 'point')} of {points}.")
        return 130
    return 0
