"""``goldspan annotate`` and ``review``: the commands that open the screen."""

# No `from __future__ import annotations`: Typer reads every command's signature at each start, and
# as strings its annotations were compiled and evaluated one by one.
import dataclasses
import functools
import gc
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Callable, Optional, ParamSpec, TypeVar

import typer

from goldspan.annotations.articles import LoadReport
from goldspan.annotations.errors import InputError
from goldspan.annotations.store import DEFAULT_DB, Store
from goldspan.annotations.words import plural

from .cli import (
    DbOption, ModelOption, PatternsOption, ScorerOption, SharedOption, SourcesOrDbArgument, app, check_scorer, check_scorer_for, default_annotator, ended_screen, read_sources,
    report_store_notices, say, say_out, tell,
)  # fmt: skip

if TYPE_CHECKING:
    from collections.abc import Sequence

    from goldspan.annotations.datamodel import Article
    from goldspan.annotations.nlp import pipelines
    from goldspan.annotations.session.session import Session

    from .app import GoldspanApp
    from .teach_app import TeachApp

# goldspan serve runs the command with its options and this flag first: a bad option is refused in
# the terminal that started the server, not in every browser tab.
CheckOption = Annotated[bool, typer.Option("--check", hidden=True)]

P = ParamSpec("P")
R = TypeVar("R")


def screen_command(command: Callable[P, R]) -> Callable[P, R]:
    """A command that opens the screen starts with Python's cycle collector off; `run_app` turns it on.

    Starting the screen makes tens of thousands of objects that live as long as the app (Textual's
    classes and functions, the articles, the store's index) and hardly any garbage, yet the collector
    ran over a hundred times before the first paint, walking them all each time (docs/performance.md
    has the figures). Frozen when the app runs (`gc.freeze`), they are never walked again, which
    keeps those walks out of keystrokes too.
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


@app.command(
    epilog="[b]Example[/b]: goldspan annotate sample_articles/ --db goldspan.json --labels PERSON,ORG,GPE --annotator alice",
)
@screen_command
def annotate(
    sources: SourcesOrDbArgument = None,
    db: DbOption = Path(DEFAULT_DB),
    model: ModelOption = None,
    patterns: PatternsOption = None,
    labels: Annotated[Optional[str], typer.Option("--labels", help="Comma-separated labels, in number-key order.")] = None,
    annotator: Annotated[Optional[str], typer.Option("--annotator", help="Whose annotations these are (default: your user name).")] = None,
    keys: Annotated[
        Optional[Path], typer.Option("--keys", help="Keymap file (TOML [keys] table). Default: ~/.config/goldspan/keys.toml if it exists.", dir_okay=False)
    ] = None,
    shared: SharedOption = False,
    retrain_every: Annotated[
        Optional[int],
        typer.Option("--retrain-every", min=1, help="Train a model on the gold in the background after every N accepted articles; a better one is switched to."),
    ] = None,
    retrain_minutes: Annotated[float, typer.Option("--retrain-minutes", help="With --retrain-every: each training's time limit.")] = 10.0,
    retrain_steps: Annotated[Optional[int], typer.Option("--retrain-steps", min=1, hidden=True)] = None,  # tests: a few updates
    order: Annotated[
        str, typer.Option("--order", help="source (as listed), random (with --seed), or uncertain: the articles the model is least sure of first.")
    ] = "source",
    seed: Annotated[int, typer.Option("--seed", help="With --order random or uncertain: the seed of the random choices.")] = 0,
    explore: Annotated[
        float, typer.Option("--explore", help="With --order uncertain: the share of articles picked at random instead (0.1 = one in ten).")
    ] = 0.0,
    scorer: ScorerOption = "greedy",
    queue: Annotated[
        bool, typer.Option("--queue", help="Take articles from the database's work queue, one at a time (set up by a lead: goldspan queue setup).")
    ] = False,
    guidelines: Annotated[
        Optional[Path], typer.Option("--guidelines", help="Annotation guidelines (Markdown) to store in the database and show on G.", dir_okay=False)
    ] = None,
    check: CheckOption = False,
) -> int:
    """Open the annotator: read each article beside its entities and fix them from the keyboard. Press ? in it for every key."""
    from goldspan.annotations.nlp import pipelines
    from goldspan.annotations.labels import choose_labels
    from goldspan.annotations.session.opening import open_annotation
    from goldspan.annotations.training.registry import best_model_path

    markdown = None
    if guidelines is not None:
        from goldspan.annotations.guidelines import read_guidelines

        markdown = read_guidelines(guidelines)  # refused before anything is written
    if queue:
        if sources:
            raise InputError("--queue takes the database's articles from its work queue; name no article files or folders with it.")
        if order != "source":
            raise InputError(f"--order {order}: with --queue the queue's order is used (the lead sets it: goldspan queue setup --order).")
        if not db.exists():
            raise InputError(f"{db}: no such database; a lead sets up the team's with `goldspan queue setup`.")
    if not sources and not db.exists():
        raise InputError(f"{db}: no such database; name the article files or folders to annotate (e.g. goldspan annotate sample_articles/).")
    if retrain_minutes <= 0:
        raise InputError(f"--retrain-minutes {retrain_minutes:g}: give a time limit above 0 minutes.")
    check_order(order, explore, scorer)
    report = read_sources(sources) if sources else LoadReport()
    # Without --model, a DB's best trained model is used: known once the DB is open (an existing one,
    # so a model that is missing never leaves a new DB behind).
    spec = None if model is None and db.exists() else pipelines.resolve(model, patterns)

    def labels_of(spec: pipelines.PipelineSpec) -> tuple[str, ...]:
        check_scorer_for(spec, scorer)
        chosen = choose_labels(spec.labels, labels)
        if not chosen:
            raise InputError(f"--model {spec.name}: its labels are not listed in its meta.json; name them with --labels A,B,C.")
        return chosen

    chosen = labels_of(spec) if spec is not None else ()  # refused before a new DB is created
    keymap = keymap_from(keys)
    if order == "uncertain":  # the order needs every article's scores: the ones missing are made first
        scoring_spec = spec
        if scoring_spec is None:
            with Store(db, read_only=True) as store:
                scoring_spec = pipelines.resolve(best_model_path(store), patterns)
            labels_of(scoring_spec)  # refused before anything is written to the DB
        if not check:
            score_first(db, sources, scoring_spec, scorer=scorer, patterns=patterns, shared=shared)
    if check:  # goldspan serve: every option is checked, and nothing is written
        check_for_serving(db, queue=queue, annotator=annotator, must_exist=spec is None or queue,
                          labels=None if spec is not None else lambda store: labels_of(pipelines.resolve(best_model_path(store), patterns)))  # fmt: skip
        return 0
    with Store(db, shared=shared) as store:
        if spec is None:
            spec = pipelines.resolve(best_model_path(store), patterns)
            chosen = labels_of(spec)
        spec = dataclasses.replace(spec, scorer=scorer)
        if markdown is not None and store.read_only:
            raise InputError(f"--guidelines: {db} is open read-only here, so they cannot be stored in it.")
        if queue:
            from goldspan.annotations.queue.session import NothingLeft, QueueSession

            try:
                session: "Session" = QueueSession(store, annotator=annotator or default_annotator(), labels=chosen, model=spec.model_id)
            except NothingLeft as nothing:
                tell(f"{db}: {nothing}.")
                return 0
        else:
            session = open_annotation(
                store, report.articles if sources else None, annotator=annotator or default_annotator(), labels=chosen, model=spec.model_id,
                order=order, seed=seed, explore=explore,
            )  # fmt: skip
        if markdown is not None:  # stored once the session has opened: a refusal above changes nothing
            from goldspan.annotations.guidelines import save_guidelines

            save_guidelines(store, markdown)
        from .app import GoldspanApp  # Textual only for the screen, not for the other commands

        steps = () if retrain_steps is None else ("--max-steps", str(retrain_steps), "--eval-frequency", str(max(1, retrain_steps // 3)))
        app = GoldspanApp(
            session, spec, keymap=keymap, notes=[*report.problems, *report.notices],
            retrain_every=retrain_every, retrain_args=steps, retrain_minutes=retrain_minutes,
        )  # fmt: skip
        status = run_app(app, lambda: f"{db}: {session.done} of {plural(len(session.articles), 'article')} answered by {session.annotator}"
                         + (f" ({session.progress_line()})" if queue else ""))  # fmt: skip
        report_store_notices(store)  # what a save said after the screen opened (a migration of an older DB)
    return status or (1 if report.problems else 0)


@app.command(
    epilog="[b]Example[/b]: goldspan teach sample_articles/ --db goldspan.json --label PERSON,ORG",
)
@screen_command
def teach(
    sources: SourcesOrDbArgument = None,
    db: DbOption = Path(DEFAULT_DB),
    label: Annotated[str, typer.Option("--label", help="The label(s) to ask about, comma-separated: PERSON or PERSON,ORG.", show_default=False)] = "",
    model: ModelOption = None,
    annotator: Annotated[Optional[str], typer.Option("--annotator", help="Whose answers these are (default: your user name).")] = None,
    include_all: Annotated[bool, typer.Option("--all", help="Also ask about entities the model is sure of (score ≥ 0.99 or ≤ 0.01).")] = False,
    scorer: ScorerOption = "greedy",
    shared: SharedOption = False,
) -> int:
    """Say yes or no to one suggested entity at a time, the model's least certain first: a accept, x reject, space ignore, u undo, q quit."""
    from goldspan.annotations.nlp import pipelines
    from goldspan.annotations.training.registry import best_model_path

    check_scorer(scorer)
    labels = [part.strip() for part in label.split(",") if part.strip()]
    if not labels:
        raise InputError("--label: name the label(s) to ask about, e.g. --label PERSON or --label PERSON,ORG.")
    if scorer == "none":
        raise InputError("--scorer none: teach mode asks the least certain entities first, so it needs a scorer (greedy, dropout, beam or spancat).")
    if not sources and not db.exists():
        raise InputError(f"{db}: no such database; name the article files or folders to teach on (e.g. goldspan teach sample_articles/ --label PERSON).")
    report = read_sources(sources) if sources else LoadReport()
    spec = None if model is None and db.exists() else pipelines.resolve(model, None)

    def checked(spec: "pipelines.PipelineSpec") -> "pipelines.PipelineSpec":
        unknown = [name for name in labels if spec.labels and name not in spec.labels]
        if unknown:
            raise InputError(f"--label {','.join(unknown)}: the model {spec.display_name} does not predict it (it knows {', '.join(spec.labels)}).")
        check_scorer_for(spec, scorer)
        return dataclasses.replace(spec, scorer=scorer)

    spec = checked(spec) if spec is not None else None  # refused before a new DB is created
    with Store(db, shared=shared) as store:
        report_store_notices(store)
        spec = spec or checked(pipelines.resolve(best_model_path(store), None))
        articles: "Sequence[Article]"
        if sources:
            if not store.read_only:
                store.add_articles(report.articles)
            articles = report.articles
        else:
            articles = store.article_list()
            if not articles:
                raise InputError(f"{db}: holds no articles yet; name the article files or folders to teach on.")
        from .teach_app import open_teach

        who = annotator or default_annotator()
        app = open_teach(store, articles, spec, labels=labels, annotator=who, include_all=include_all)
        for line in [*report.problems, *report.notices]:
            say(f"note: {line}")
        status = run_app(app, lambda: f"{db}: {plural(app.session.answered, 'answer')} by {who} in this session")
    return status or (1 if report.problems else 0)


def check_for_serving(
    db: Path, *, must_exist: bool, queue: bool = False, annotator: Optional[str] = None, labels: Optional[Callable[[Store], object]] = None
) -> None:
    """What a browser tab would otherwise find out only when it opens: the database can be written
    (or created), it holds a work queue that takes this annotator, its model's labels are known."""
    from goldspan.annotations.store import unwritable_reason

    if must_exist and not db.exists():
        raise InputError(f"{db}: no such database.")
    why = unwritable_reason(db)
    if why is not None:
        raise InputError(f"{db}: {'cannot save to this database' if db.exists() else 'cannot create the database there'}: {why}.")
    if not db.exists():
        return
    with Store(db, read_only=True) as store:
        if labels is not None:
            labels(store)
        if queue:
            from goldspan.annotations.queue.routing import require_settings

            settings = require_settings(store)
            if annotator is not None and not settings.may_join(annotator):
                raise InputError(f"--annotator {annotator}: not on this queue's list ({', '.join(settings.annotators or ())}).")


def check_order(order: str, explore: float, scorer: str) -> None:
    from goldspan.annotations.ordering import ORDERS

    check_scorer(scorer)
    if order not in ORDERS:
        raise InputError(f"--order {order}: not an order; choose one of {', '.join(ORDERS)}.")
    if not 0 <= explore <= 1:
        raise InputError(f"--explore {explore:g}: give a share between 0 and 1 (0.1 = one article in ten picked at random).")
    if explore and order != "uncertain":
        raise InputError(f"--explore applies to --order uncertain only (the order asked is {order}).")
    if order == "uncertain" and scorer == "none":
        raise InputError("--order uncertain needs the suggestions' scores; --scorer none gives none.")


def score_first(db: Path, sources: Optional[list[Path]], spec: "pipelines.PipelineSpec", *, scorer: str, patterns: Optional[Path], shared: bool) -> None:
    """`goldspan preannotate` in a process of its own (this one, the screen's, never loads spaCy), for the
    articles whose suggestions have no scores yet; its progress bar shows on stderr."""
    command = [sys.executable, "-P", "-c", "import sys; from goldspan.tui.cli import main; main(sys.argv[1:])", "preannotate",
               *map(str, sources or ()), "--db", str(db), "--model", spec.name, "--scorer", scorer]  # fmt: skip
    if patterns:
        command += ["--patterns", str(patterns)]
    if shared:
        command.append("--shared")
    say("--order uncertain: scoring the suggestions of the articles not scored yet…")
    status = subprocess.run(command, stdout=subprocess.DEVNULL).returncode
    if status not in (0, 1):  # 1: some input was skipped, as the line on stderr said
        raise InputError(f"--order uncertain: the articles could not be scored (goldspan preannotate ended with status {status}).")


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
    check: CheckOption = False,
) -> int:
    """Compare annotators and the model article by article, settle each difference, and save one reviewed gold version."""
    from goldspan.annotations.labels import parse_labels
    from goldspan.annotations.session.opening import open_review
    from goldspan.annotations.session.review import ONLY

    from .app import GoldspanApp
    from .teach_app import TeachApp
    from .screens.review import ReviewScreen

    if only not in ONLY:
        raise InputError(f"--only {only}: choose one of {', '.join(ONLY)}.")
    if labels is not None:
        parse_labels(labels)  # refused before anything opens
    keymap = keymap_from(keys)
    if check:  # goldspan serve --review: what the review would open is checked, read-only
        check_for_serving(db, must_exist=True)
        with Store(db, read_only=True) as store:
            open_review(store, reviewer=reviewer or default_annotator(), annotators=annotators, model=model, label=label, only=only, labels=labels)
        return 0
    with Store(db, must_write=True) as store:
        report_store_notices(store)
        session, tokenizer = open_review(
            store, reviewer=reviewer or default_annotator(), annotators=annotators, model=model, label=label, only=only, labels=labels
        )
        app = GoldspanApp(session, tokenizer, keymap=keymap, screen=ReviewScreen)
        app.model_status = "versions: " + ", ".join(session.plan.names)
        status = run_app(app, lambda: f"{db}: {session.done} of {plural(len(session.articles), 'article')} reviewed by {session.annotator}")
        report_store_notices(store)
        return status


def keymap_from(keys: Path | None) -> dict[str, tuple[str, ...]]:
    """--keys, else the user's keymap file if there is one, else the defaults; errors stop before the screen."""
    from goldspan.tui.keymap import default_keymap_path, load_keymap

    return load_keymap(keys if keys is not None else (default_keymap_path() if default_keymap_path().exists() else None))


def run_app(app: "GoldspanApp | TeachApp", done: Callable[[], str]) -> int:
    """Run the screen; afterwards one line of what was done (every change was saved as it was made)."""
    gc.freeze()  # see screen_command
    gc.enable()
    app.run()
    if app.return_code:  # the app crashed and Textual has shown why
        return app.return_code
    say(f"{done()}; every change was saved.")  # counted now, not before the session began
    ended_screen.set()
    return 0
