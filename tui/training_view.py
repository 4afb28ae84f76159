"""What ``goldspan train`` and ``train-curve`` show: a Rich progress display while spaCy trains,
then Rich tables of the scores and, for the curve, a plot drawn by plotext."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from goldspan.annotations.words import plural

if TYPE_CHECKING:
    from goldspan.annotations.training.curve import CurvePoint
    from goldspan.annotations.training.trainer import Prepared, TrainResult
    from goldspan.annotations.training.trainer import Progress as TrainingProgress


def describe_prepared(console: Console, prepared: Prepared) -> None:
    say = lambda line: console.print(line, markup=False, highlight=False)  # noqa: E731
    say(f"Base: {prepared.base.describe()}.")
    say(f"Labels: {', '.join(prepared.labels)}.")
    say(
        f"Training on {plural(len(prepared.train_articles), 'article')}; evaluating on {plural(len(prepared.eval_articles), 'held-out article')} "
        f"({plural(prepared.eval_set.docs, 'sentence')}; --eval-split {prepared.split:g}, fixed in the database)."
    )
    for note in prepared.notes:
        say(f"note: {note}")


def _figures(progress: TrainingProgress) -> str:
    if progress.phase == "evaluating":
        return "scoring the model kept on the evaluation set"
    if progress.phase == "comparing":
        return "scoring the model in use on the same articles"
    f = "-" if progress.eval_f is None else f"{progress.eval_f:.3f}"
    best = "" if progress.best_f is None else f" (best {progress.best_f:.3f})"
    return f"epoch {progress.epoch} · step {progress.step:,} · loss {progress.loss:,.1f} · eval F {f}{best}"


class TrainProgress:
    """A bar of the time limit used, with epoch, step, loss and the last evaluation's F."""

    def __init__(self, console: Console, max_minutes: float) -> None:
        self.console = console
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[figures]}"), TimeElapsedColumn(), console=console
        )
        self._limit = max_minutes * 60
        self._task: TaskID | None = None

    def __enter__(self) -> TrainProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        if self._progress.live.is_started:  # stopping one never started prints a blank line
            self._progress.stop()

    def prepared(self, prepared: Prepared) -> None:
        describe_prepared(self.console, prepared)
        self._progress.start()
        self._task = self._progress.add_task("Training", total=self._limit, figures="initialising")

    def update(self, progress: TrainingProgress) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=min(progress.seconds, self._limit), figures=_figures(progress))


class CurveProgress(TrainProgress):
    """One bar per point of the curve."""

    def __init__(self, console: Console, points: int, max_minutes: float) -> None:
        super().__init__(console, max_minutes)
        self._points = points
        self._tasks: dict[int, TaskID] = {}

    def __enter__(self) -> CurveProgress:
        return self

    def prepared(self, prepared: Prepared) -> None:
        describe_prepared(self.console, prepared)
        self._progress.start()

    def update(self, index: int, progress: TrainingProgress) -> None:  # type: ignore[override]
        if index not in self._tasks:
            share = round((index + 1) / self._points * 100)
            self._tasks[index] = self._progress.add_task(f"{share:>3} % of the data", total=self._limit, figures="initialising")
        self._progress.update(self._tasks[index], completed=min(progress.seconds, self._limit), figures=_figures(progress))

    def point(self, point: CurvePoint) -> None:
        if self._tasks:  # the point just finished is the last one started
            self._progress.update(self._tasks[max(self._tasks)], completed=self._limit, figures=f"F {point.f:.3f} ({point.stopped})")


def _score_table(title: str, per_label: dict[str, dict[str, float]], total: tuple[float, float, float]) -> Table:
    table = Table(title=title, title_justify="left")
    for name in ("label", "P", "R", "F"):
        table.add_column(name, justify="left" if name == "label" else "right")
    for label, figures in sorted(per_label.items()):
        table.add_row(Text(label), *(f"{figures.get(k, 0.0):.3f}" for k in ("p", "r", "f")))
    table.add_row(Text("all", style="bold"), *(f"{v:.3f}" for v in total), end_section=True)
    return table


def print_result(console: Console, result: TrainResult, out_dir: Path, db: Path) -> None:
    record = result.record
    say = lambda line: console.print(line, markup=False, highlight=False)  # noqa: E731
    how = {"finished": "finished", "time limit": "stopped at the time limit", "interrupted": "interrupted"}[record.stopped]
    say(f"{record.version} saved in {out_dir} (spacy.load opens it): training {how} after {record.seconds:.1f} s; "
        f"{plural(record.train_examples, 'training sentence')}, {plural(record.eval_examples, 'evaluation sentence')}.")  # fmt: skip
    console.print(_score_table(f"{record.version} on the evaluation set", record.per_label, (record.p, record.r, record.f)))
    if record.not_used_because:
        say(f"{record.version} is kept aside, not used by annotate: {record.not_used_because}.")
    elif record.compared_f is None:
        say(f"goldspan annotate --db {db} now suggests with {record.version}.")
    elif record.in_use:
        say(f"F {record.f:.3f}, {record.f - record.compared_f:+.3f} over {record.compared_with} ({record.compared_f:.3f} on the same articles): "
            f"goldspan annotate --db {db} now suggests with {record.version}.")  # fmt: skip
    else:
        say(f"F {record.f:.3f} is not better than {record.compared_with}'s {record.compared_f:.3f} on the same articles: "
            f"{record.version} is kept aside, and annotate keeps using {record.compared_with}.")  # fmt: skip


def print_curve(console: Console, points: list[CurvePoint], notes: list[str]) -> None:
    from goldspan.annotations.training.curve import verdict

    table = Table(title="Train curve (every point scored on the same evaluation set)", title_justify="left")
    for name in ("data", "articles", "sentences", "P", "R", "F", "ΔF"):
        table.add_column(name, justify="right", no_wrap=True)
    before = None
    for p in points:
        change = "" if before is None else f"{p.f - before:+.3f}"
        table.add_row(f"{round(p.share * 100)} %", str(p.articles), str(p.examples), f"{p.p:.3f}", f"{p.r:.3f}", f"{p.f:.3f}", change)
        before = p.f
    console.print(table)
    labels = sorted({label for p in points for label in p.per_label})
    if labels:
        per_label = Table(title="F per label", title_justify="left")
        per_label.add_column("label")
        for p in points:
            per_label.add_column(f"{round(p.share * 100)} %", justify="right", no_wrap=True)
        for label in labels:
            per_label.add_row(Text(label), *(f"{p.per_label[label]['f']:.3f}" if label in p.per_label else "-" for p in points))
        console.print(per_label)
    from .plots import wants_plots

    if wants_plots(console):
        console.print(Text.from_ansi(plot(points)))
    said = verdict(points)
    console.print(said[0].upper() + said[1:], markup=False, highlight=False)


def plot(points: list[CurvePoint]) -> str:
    from .plots import figure

    with figure(64, 16) as plt:
        return _draw_curve(plt, points)


def _draw_curve(plt: Any, points: list[CurvePoint]) -> str:
    shares = [p.share * 100 for p in points]
    f = [p.f for p in points]
    plt.plot(shares, f, marker="braille")
    plt.ylim(max(0.0, min(f) - 0.05), min(1.0, max(f) + 0.05))  # the slope is what matters: not squeezed into 0..1
    plt.scatter(shares, f, marker="●")
    plt.xticks(shares, [f"{round(s)} %" for s in shares])
    plt.xlabel("share of the training data")
    plt.title("F on the evaluation set")
    return str(plt.build())
