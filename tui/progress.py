"""A Rich progress bar for parsing articles, started only when there is something to parse."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from goldspan.annotations.datamodel import Article


class ParseProgress:
    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("articles"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task: int | None = None

    def start(self, count: int, words: int) -> None:
        self._progress.start()
        self._task = self._progress.add_task(f"Parsing {words:,} words", total=count)

    def advance(self, article: Article) -> None:
        if self._task is not None:
            self._progress.advance(self._task)

    def stop(self) -> None:
        if self._task is not None:
            self._progress.stop()


@contextlib.contextmanager
def parse_progress(console: Console) -> Iterator[ParseProgress]:
    progress = ParseProgress(console)
    try:
        yield progress
    finally:
        progress.stop()


@contextlib.contextmanager
def record_progress(console: Console, verb: str, total: int | None) -> Iterator[Callable[[], None]]:
    """A bar for exports and imports; shown only on a terminal and for inputs large enough to wait for."""
    if not console.is_terminal or (total is not None and total < 200):
        yield lambda: None
        return
    with Progress(TextColumn(f"{verb}"), BarColumn(), MofNCompleteColumn(), TextColumn("records"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:  # fmt: skip
        task = progress.add_task(verb, total=total)
        yield lambda: progress.advance(task)
