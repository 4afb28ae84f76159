"""Pictures for the commands' output, where a person would rather look than read: bar charts and
line plots drawn by plotext, heat-map tables and the progress strip drawn by Rich.

Plots go to a terminal only (``wants_plots``): piped output and ``--json`` get the tables alone, so
that what a script reads never changes with the picture.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from rich.cells import cell_len
from rich.color import Color
from rich.console import Console
from rich.progress_bar import ProgressBar
from rich.style import Style
from rich.table import Table
from rich.text import Text

PLOT_WIDTH = 72  # at most: wider plots only stretch the bars
_WHOLE = re.compile(r"(\d)\.00(?=\x1b\[)")  # plotext writes every bar's value with two decimals


def wants_plots(console: Console, *, no_plot: bool = False) -> bool:
    return console.is_terminal and not no_plot


def plot_width(console: Console) -> int:
    return max(10, min(PLOT_WIDTH, console.width - 2))


def _names(names: Sequence[str], width: int) -> list[str]:
    """Names short enough to leave the bars two thirds of the width (plotext would widen the plot)."""
    room = max(4, width // 3)
    return [name if len(name) <= room else name[: room - 1] + "…" for name in names]


@contextmanager
def figure(width: int, height: int = 16) -> Iterator[Any]:
    """plotext, on a fresh figure of this size in the plain theme (the terminal's own colours)."""
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear")
    yield plt


def bars(title: str, values: Sequence[tuple[str, float]], *, width: int, whole: bool = False, color: str = "cyan") -> Text:
    """One horizontal bar per name, its value written after it; ``whole``: counts, written without decimals."""
    if not values:
        return Text()
    with figure(width) as plt:
        # plotext's lines come out one column wider than the width asked
        plt.simple_bar(_names([name for name, _ in values], width), [value for _, value in values], width=width - 1, title=title, color=color)
        text = str(plt.build())
    return Text.from_ansi(_WHOLE.sub(r"\1", text) if whole else text)


def grouped_bars(title: str, names: Sequence[str], series: Mapping[str, Sequence[float]], *, width: int) -> Text:
    """Several bars per name (precision, recall, F1), each series in its colour, with a legend."""
    if not names:
        return Text()
    with figure(width) as plt:
        plt.simple_multiple_bar(
            _names(names, width), [list(values) for values in series.values()], labels=list(series), width=width - 1, title=title,
            colors=["blue", "magenta", "green", "orange"][: len(series)],
        )  # fmt: skip
        return Text.from_ansi(str(plt.build()))


def fits(console: Console, table: Table) -> bool:
    """The table shows every cell whole at the console's width (Rich would shrink the columns, and a
    count cut to "…" is no count)."""
    widest = sum(max(cell_len(str(column.header)), *(cell_len(str(cell)) for cell in column.cells)) + 3 for column in table.columns) + 1
    return widest <= console.width


def heat_table(title: str, counts: Mapping[str, Mapping[str, int]], *, rows_are: str, columns_are: str, missing: str) -> Table:
    """A confusion matrix as a Rich table, each cell shaded by its count: green where the row's and
    the column's label are the same, red where they differ (``missing``: no span on that side)."""
    rows = list(counts)
    columns = sorted({column for row in counts.values() for column in row} | set(rows), key=lambda c: (c == missing, c not in rows, c))
    rows = sorted(rows, key=lambda r: (r == missing, r))
    most = max((n for row in counts.values() for n in row.values()), default=0) or 1
    table = Table(title=title, title_justify="left", caption=f"rows: {rows_are}; columns: {columns_are}; {missing} = no span there", caption_justify="left")
    table.add_column(f"{rows_are} ↓ / {columns_are} →", style="bold")
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        cells = []
        for column in columns:
            n = counts[row].get(column, 0)
            cells.append(Text(str(n) if n else "·", style=_shade(n / most, agree=row == column) if n else "dim"))
        table.add_row(row, *cells)
    return table


def _shade(share: float, *, agree: bool) -> Style:
    """From a dark to a bright green (agreement) or red (confusion), with a readable text colour."""
    level = 0.25 + 0.75 * share
    rgb = (30, int(60 + 140 * level), 50) if agree else (int(70 + 150 * level), 40, 40)
    return Style(bgcolor=Color.from_rgb(*rgb), color="black" if level > 0.7 else "white", bold=True)


@functools.lru_cache(maxsize=16)
def progress_strip(done: int, total: int, width: int = 10) -> Text:
    """Rich's progress bar as a piece of a one-line status (the annotator's: answered of total)."""
    console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system="truecolor")
    # Rich's default colours for the part not done (grey23) vanish on the status line's background.
    bar = ProgressBar(total=max(total, 1), completed=min(done, total), width=width, style="grey50", complete_style="green3", finished_style="green3")
    strip = Text()
    for segment in console.render(bar, console.options.update(width=width)):
        if segment.text.strip("\n"):
            strip.append(segment.text, segment.style)
    return strip
