"""A Rich progress bar for parsing articles, started only when there is something to parse."""

from __future__ import annotations

import contextlib
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from goldspan.annotations.datamodel import Article
from goldspan.annotations.words import plural


class ParseProgress:
    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[noun]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task: int | None = None

    def start(self, count: int, words: int) -> None:
        self._progress.start()
        self._task = self._progress.add_task(f"Parsing {plural(words, 'word')}", total=count, noun="article" if count == 1 else "articles")

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


class RecordProgress:
    """A bar for exports and imports, shown once the total is known, on a terminal, and only for inputs
    large enough to wait for."""

    def __init__(self, console: Console, verb: str) -> None:
        self.console, self.verb = console, verb
        self._progress: Progress | None = None
        self._task: int | None = None

    def start(self, total: int | None) -> None:
        if not self.console.is_terminal or (total is not None and total < 200) or self._progress is not None:
            return
        self._progress = Progress(TextColumn(self.verb), BarColumn(), MofNCompleteColumn(), TextColumn("records"), TimeElapsedColumn(),
                                  console=self.console, transient=True)  # fmt: skip
        self._progress.start()
        self._task = self._progress.add_task(self.verb, total=total)

    def advance(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()


@contextlib.contextmanager
def record_progress(console: Console, verb: str) -> Iterator[RecordProgress]:
    progress = RecordProgress(console, verb)
    try:
        yield progress
    finally:
        progress.stop()
