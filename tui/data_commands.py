"""``goldspan preannotate``, ``stats``, ``export`` and ``import``: the commands that read and write data."""

# No `from __future__ import annotations`: Typer reads every command's signature at each start, and
# as strings its annotations were compiled and evaluated one by one.
import contextlib
import functools
import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from goldspan.annotations.errors import InputError
from goldspan.annotations.store import DEFAULT_DB, Store
from goldspan.annotations.words import plural

from .cli import (
    DbOption, ModelOption, PatternsOption, ScorerOption, SharedOption, SourcesOrDbArgument, app, check_scorer, check_scorer_for, default_annotator, err, out,
    read_sources, report_store_notices, say, say_out,
)  # fmt: skip


def _check_engine(engine: str, scheduler: Optional[str], workers: Optional[int], n_process: int) -> None:
    if engine not in ("local", "dask"):
        raise InputError(f"--engine {engine}: not an engine; choose local or dask.")
    if engine == "local" and (scheduler is not None or workers is not None):
        raise InputError(f"{'--scheduler' if scheduler is not None else '--workers'} applies to --engine dask only.")
    if scheduler is not None and workers is not None:
        raise InputError("--scheduler and --workers: give one (a running cluster, or one started here).")
    if engine == "dask" and n_process != 1:
        raise InputError("--n-process applies to --engine local; with dask, --workers sets the worker processes.")


def _on_cluster(make: Any, client: Any, spec: Any, batch_size: int, articles: Any, scorer: str) -> Any:
    return make(client, articles, spec, scorer=scorer, batch_size=batch_size)


def _pool_shards(report: Any, spec: Any, out: Path, *, scorer: str, n_process: int, batch_size: int, engine: str,
                 scheduler: Optional[str], workers: Optional[int]) -> int:  # fmt: skip
    """`preannotate POOL --shards-out DIR`: every article parsed, written to the pool's shards, none to a DB."""
    from goldspan.annotations.datamodel import Origin
    from goldspan.annotations.nlp.pipelines import load
    from goldspan.annotations.nlp.suggest import suggest
    from goldspan.annotations.pool import write_shards

    from .progress import parse_progress

    articles = report.articles
    by_id = {a.id: a for a in articles}
    with contextlib.ExitStack() as stack:
        if engine == "dask":
            from goldspan.annotations.nlp.dask_engine import dask_client, dask_suggestions

            client = stack.enter_context(dask_client(scheduler, workers))
            results: Any = dask_suggestions(client, list(by_id.values()), spec, scorer=scorer, batch_size=batch_size)
        else:
            nlp = load(spec)
            origin = Origin.MODEL if "ner" in nlp.pipe_names else Origin.PATTERN
            results = suggest(nlp, list(by_id.values()), spec.model_id, n_process=n_process, batch_size=batch_size, origin=origin, scorer=scorer)
        progress = stack.enter_context(parse_progress(err))
        progress.start(len(by_id), sum(a.word_count for a in by_id.values()))

        def pairs() -> Any:
            for found in results:
                article = by_id[found.article_id]
                progress.advance(article)
                yield article, found

        count = write_shards(out, pairs())
    out.mkdir(exist_ok=True)
    shards = len(list(out.glob("shard-*.jsonl.gz")))
    say_out(f"{out}: {plural(count, 'article')} of the pool in {plural(shards, 'shard')}, suggested by {spec.display_name}; "
            f"choose some with: goldspan select --from {out} --db DB --n N --order uncertain")  # fmt: skip
    return 1 if report.problems else 0


@app.command(
    epilog="[b]Example[/b]: goldspan select --from pool/ --db project.json --n 2000 --order uncertain",
)
def select(
    source: Annotated[Path, typer.Option("--from", help="A pool's shards (goldspan preannotate POOL --shards-out DIR).", file_okay=False)],
    n: Annotated[int, typer.Option("--n", help="How many articles to take into the DB.")],
    db: DbOption = Path(DEFAULT_DB),
    order: Annotated[str, typer.Option("--order", help="uncertain (the model's least sure first), random (with --seed) or source (the pool's order).")] = "uncertain",
    seed: Annotated[int, typer.Option("--seed", help="With --order random: the seed of the draw.")] = 0,
    label: Annotated[Optional[str], typer.Option("--label", help="Only articles with a suggestion of this label.")] = None,
    shared: SharedOption = False,
) -> int:
    """Take N articles from a pool's shards into the DB, with their suggestions and scores: the rest stay out of it."""
    from goldspan.annotations.pool import select as choose

    chosen = choose(source, n, order, seed, label)  # read (and refused if bad) before the DB is touched
    if not chosen:
        raise InputError(f"--from {source}: no article in the pool" + (f" has a {label} suggestion." if label else "."))
    with Store(db, shared=shared, must_write=True) as store:
        report_store_notices(store)
        added = store.add_articles([entry.article for entry in chosen])
        store.save_suggestions([entry.suggestions for entry in chosen])
    say_out(f"{db}: {plural(len(chosen), 'article')} selected from {source} ({order}" + (f", label {label}" if label else "")
            + f"), {added:,} new to the database, with their suggestions.")  # fmt: skip
    return 0


@app.command(
    epilog="[b]Example[/b]: goldspan preannotate sample_articles/ --db goldspan.json --model en_core_web_sm",
)
def preannotate(
    sources: SourcesOrDbArgument = None,
    db: DbOption = Path(DEFAULT_DB),
    model: ModelOption = None,
    patterns: PatternsOption = None,
    n_process: Annotated[int, typer.Option("--n-process", min=1, help="Worker processes for spaCy (nlp.pipe).")] = 1,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Articles per spaCy batch and per save.")] = 32,
    shared: SharedOption = False,
    scorer: ScorerOption = "greedy",
    engine: Annotated[str, typer.Option("--engine", help="Where to parse: local (this machine's cores, --n-process) or dask (a Dask cluster: pip install \"goldspan[dask]\").")] = "local",
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="With --engine dask: a running scheduler's address, e.g. tcp://host:8786.")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, help="With --engine dask: start a cluster of N single-threaded worker processes on this machine.")] = None,
    shards_out: Annotated[
        Optional[Path], typer.Option("--shards-out", help="Write the articles and their suggestions to compressed shards in this new folder instead of the DB (then: goldspan select).", file_okay=False)
    ] = None,
) -> int:
    """Store articles and the spaCy model's entity suggestions for them, each with a confidence score, parsing each article once per model version."""
    from goldspan.annotations.nlp import pipelines
    from goldspan.annotations.nlp.suggest import preannotate as run

    from .progress import parse_progress

    check_scorer(scorer)
    _check_engine(engine, scheduler, workers, n_process)
    if shards_out is not None and not sources:
        raise InputError("--shards-out writes a pool from article files or folders; name them (the pool is not the DB's articles).")
    if shards_out is not None:
        from goldspan.annotations.pool import check_out_dir

        check_out_dir(shards_out)
    if not sources and not db.exists():
        raise InputError(f"{db}: no such database; name the article files or folders to preannotate.")
    report = read_sources(sources) if sources else None
    spec = pipelines.resolve(model, patterns)
    check_scorer_for(spec, scorer)
    if shards_out is not None:
        return _pool_shards(report, spec, shards_out, scorer=scorer, n_process=n_process, batch_size=batch_size,
                            engine=engine, scheduler=scheduler, workers=workers)  # fmt: skip
    with contextlib.ExitStack() as stack:
        remote = None
        if engine == "dask":  # connected (or started) before the DB is touched: a refusal changes nothing
            from goldspan.annotations.nlp.dask_engine import dask_client, dask_suggestions

            client = stack.enter_context(dask_client(scheduler, workers))
            remote = functools.partial(_on_cluster, dask_suggestions, client, spec, batch_size)
        store = stack.enter_context(Store(db, shared=shared, must_write=True))
        progress = stack.enter_context(parse_progress(err))
        report_store_notices(store)
        articles = report.articles if report is not None else store.article_list()
        if not articles:
            raise InputError(f"{db}: holds no articles yet; name the article files or folders to preannotate.")
        result = run(
            store, articles, spec, n_process=n_process, batch_size=batch_size, on_start=progress.start, on_parsed=progress.advance,
            scorer=scorer, remote=remote,
        )  # fmt: skip
    out.print(f"{db}: {plural(result.articles, 'article')} read, {result.new_articles} new to the database.", markup=False)
    if result.parsed:
        out.print(
            f"Parsed {plural(result.parsed, 'article')} ({plural(result.parsed_words, 'word')}) with {result.model}: "
            f"{plural(result.spans, 'suggestion')}"
            + (f", scored by {result.scorer}" if result.scorer else "")
            + f"; {result.cached} already had suggestions from this model.",
            markup=False,
        )
    else:
        out.print(f"Nothing to parse: the suggestions of {result.model} for all of them are already in the database.", markup=False)
    return 1 if report is not None and report.problems else 0


@app.command(
    epilog="[b]Examples[/b]\n\n  goldspan stats --db goldspan.json --spans\n\n  goldspan stats --db goldspan.json --json | jq .by_answer",
)
def stats(
    db: DbOption = Path(DEFAULT_DB),
    as_json: Annotated[bool, typer.Option("--json", help="Print the same figures as one JSON object.")] = False,
    all_articles: Annotated[bool, typer.Option("--all", help="List every article, not only the first 50.")] = False,
    spans: Annotated[bool, typer.Option("--spans", help="Also list every gold span: article, offsets, label, text (reads every gold record).")] = False,
    agreement: Annotated[bool, typer.Option("--agreement", help="Agreement between annotators: span P/R/F1 per label, token kappa.")] = False,
    model_vs_gold: Annotated[bool, typer.Option("--model-vs-gold", help="The model's suggestions scored against the gold.")] = False,
    model: Annotated[Optional[str], typer.Option("--model", help="With --model-vs-gold: which model's suggestions (default: the most used).")] = None,
    annotators: Annotated[Optional[list[str]], typer.Option("--annotator", help="Only these annotators (repeat the option).")] = None,
    throughput: Annotated[
        bool, typer.Option("--throughput", help="How fast each annotator works, per mode (manual correction, teach): decisions, active time, rates.")
    ] = False,
    no_plot: Annotated[bool, typer.Option("--no-plot", help="Tables only, no charts (charts are drawn only in a terminal, never with --json).")] = False,
) -> int:
    """Show what the database holds: articles, answers, suggestions and gold spans per label, per annotator."""
    from goldspan.annotations.stats import corpus_stats

    from .stats_view import print_gold_spans, print_stats

    from .plots import wants_plots

    plots = wants_plots(out, no_plot=no_plot)
    if throughput:
        return speed(db, as_json=as_json, annotators=annotators, plots=plots)

    if agreement or model_vs_gold:
        return quality(db, as_json=as_json, agreement=agreement, model_vs_gold=model_vs_gold, model=model, annotators=annotators, plots=plots)
    with Store(db, read_only=True) as store:
        report_store_notices(store)
        figures = corpus_stats(store, spans=spans)
    if as_json:
        out.print_json(json.dumps(figures.as_json(), ensure_ascii=False))
    else:
        print_stats(out, figures, limit=None if all_articles else 50, plots=plots)
        if spans:
            print_gold_spans(out, figures)
    return 0


def speed(db: Path, *, as_json: bool, annotators: Optional[list[str]], plots: bool) -> int:
    """`stats --throughput`: per annotator and mode, as a table and a plot, or one JSON object."""
    from goldspan.annotations.teaching.decisions import stored_decisions
    from goldspan.annotations.throughput import throughput

    from .stats_view import print_throughput

    with Store(db, read_only=True) as store:
        report_store_notices(store)

        def suggested(article_id: str, model):  # type: ignore[no-untyped-def]
            found = store.suggestions(article_id, model)
            return [] if found is None else [(s.start, s.end) for s in found.spans]

        rows = throughput(store.annotations(answered=True), stored_decisions(store), suggested, annotators)
    if as_json:
        out.print_json(json.dumps({"throughput": [r.as_json() for r in rows]}, ensure_ascii=False))
    else:
        print_throughput(out, rows, plots=plots)
    return 0


def quality(db: Path, *, as_json: bool, agreement: bool, model_vs_gold: bool, model: str | None, annotators: list[str] | None, plots: bool) -> int:
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
        print_agreement(out, pairs, plots=plots)
    if model_vs_gold:
        print_model_report(out, report, plots=plots)
    return 0


@app.command(
    epilog="[b]Example[/b]: goldspan compact --db goldspan.json && python -c 'import tinydb; print(len(tinydb.TinyDB(\"goldspan.json\").table(\"annotations\")))'",
)
def compact(db: DbOption = Path(DEFAULT_DB)) -> int:
    """Fold the journal into the database file, so that the file alone is a complete TinyDB database (to read with TinyDB, or hand on)."""
    with Store(db, create=False, must_write=True) as store:
        report_store_notices(store)
        pending = store.journal_size
        store.compact()
    size = db.stat().st_size
    folded = f"folded {pending:,} bytes of journal into it" if pending else "the journal was already empty"
    shown = f"{size / 1e6:,.1f} MB" if size >= 100_000 else f"{size:,} bytes"
    out.print(
        f"{db}: {folded}; it is now a complete TinyDB database on its own ({shown}). "
        f"The files beside it ({db.name}.index, .journal, .lock) are goldspan's own and need not be handed on.",
        markup=False,
    )
    return 0


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
    if summary.decisions:
        details.append(f"and {plural(summary.decisions, 'teach answer')} as binary tasks")
    say_out(f"Exported {what} ({', '.join(details)}) to {files}; skipped: {skipped}.")
    if summary.disagreeing:
        them = "it" if summary.disagreeing == 1 else "them"
        say(f"note: {plural(summary.disagreeing, 'article')} left out: the annotators disagree and nobody has reviewed {them} yet; "
            f"settle {them} with goldspan review (or --all-versions writes every version).")  # fmt: skip
    if summary.several_versions:
        say(f"note: {plural(summary.several_versions, 'article')} had more than one version and each was exported (--all-versions).")
    if summary.dev_from_eval_set:
        say("note: dev holds the database's evaluation set (the articles goldspan train holds out; those not assigned yet placed as it would place them now), not a --split share.")
    if summary.sides and not summary.sides.get("dev"):
        say("note: with a single article there is nothing left for dev; spacy train needs a dev set (export more articles).")
    return 0 if summary.written or summary.decisions else 1  # 1: done, but nothing was there to write


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
        if summary.decisions:
            written = f"{plural(summary.decisions, 'binary task')} as teach answers and " + written
    else:
        written = f"{plural(summary.written, 'annotation')} as suggestions to confirm ("
    say_out(
        f"Read {plural(summary.read, 'record')}; wrote {written}; {plural(summary.spans, 'span')}, "
        f"{plural(summary.new_articles, 'new article')}) to {db}; "
        f"{plural(summary.snapped, 'span')} snapped to token boundaries, {summary.dropped} dropped (overlap or no token); "
        f"skipped {len(summary.problems) + sum(summary.skipped.values())}{f' ({skipped})' if skipped else ''}."
    )
    return 1 if summary.problems else 0
