"""``goldspan stats`` as Rich tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from goldspan.annotations.metrics import MISSING, ModelReport, PairAgreement
from goldspan.annotations.stats import CorpusStats
from goldspan.annotations.throughput import MANUAL, Throughput, decisions_by_hour
from goldspan.annotations.words import plural

from .plots import bars, figure, fits, grouped_bars, heat_table, plot_width


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{label} {n}" for label, n in counts.items()) or "-"


def print_gold_spans(console: Console, stats: CorpusStats) -> None:
    table = Table(title="Gold spans (the final record of each accepted article)", title_justify="left")
    for name in ("#", "annotator", "start", "end", "label", "text", "state"):
        table.add_column(name, justify="right" if name in ("#", "start", "end") else "left")
    for g in stats.gold_spans:
        table.add_row(str(g.article), Text(g.annotator), str(g.start), str(g.end), Text(g.label), Text(g.text), g.state)
    console.print(table)


def print_stats(console: Console, stats: CorpusStats, *, limit: int | None, plots: bool = False) -> None:
    summary = Table(title=f"goldspan database {stats.db}", show_header=False, title_justify="left")
    summary.add_column(style="bold")
    summary.add_column(justify="right")
    summary.add_row("schema version", str(stats.schema_version))
    summary.add_row("articles", f"{stats.articles:,}")
    summary.add_row("words", f"{stats.words:,}")
    summary.add_row("articles answered", f"{stats.annotated:,}")
    for answer, n in stats.by_answer.items():
        summary.add_row(f"  annotations: {answer}", f"{n:,}")
    summary.add_row("articles in the gold (one final record each)", f"{stats.final_articles:,}")
    summary.add_row("  settled by a reviewer", f"{stats.reviewed:,}")
    summary.add_row("articles awaiting review (annotators disagree)", f"{stats.awaiting_review:,}")
    summary.add_row("articles flagged for review", f"{stats.flagged:,}")
    console.print(summary)

    if stats.suggestions_per_label:
        models = list(stats.suggestions_per_label)
        labels = sorted({label for counts in stats.suggestions_per_label.values() for label in counts})
        table = Table(title="Suggestions per label", title_justify="left")
        table.add_column("label")
        for model in models:
            table.add_column(Text(model), justify="right")
        for label in sorted(labels, key=lambda l: -sum(c.get(l, 0) for c in stats.suggestions_per_label.values())):
            table.add_row(Text(label), *(f"{stats.suggestions_per_label[m].get(label, 0):,}" for m in models))
        console.print(table)

    if stats.gold_per_label:
        table = Table(title="Gold spans per label (the final record of each accepted article)", title_justify="left")
        table.add_column("label")
        table.add_column("spans", justify="right")
        for label, n in stats.gold_per_label.items():
            table.add_row(Text(label), f"{n:,}")
        console.print(table)
        if plots:
            console.print(bars("gold spans per label", list(stats.gold_per_label.items()), width=plot_width(console), whole=True))

    if stats.annotators:
        table = Table(title="Annotators", title_justify="left")
        for name in ("annotator", "articles", "accept", "reject", "ignore", "in progress", "spans accepted", "flagged"):
            table.add_column(name, justify="left" if name == "annotator" else "right")
        for a in stats.annotators:
            table.add_row(Text(a.annotator), *map(str, (a.articles, a.accept, a.reject, a.ignore, a.in_progress, a.spans, a.flagged)))
        console.print(table)

    rows = stats.per_article if limit is None else stats.per_article[:limit]
    table = Table(title="Articles", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("title", overflow="fold", ratio=2)
    table.add_column("words", justify="right")
    table.add_column("suggestions per label", overflow="fold", ratio=3)
    table.add_column("answers / gold", overflow="fold", ratio=2)
    for row in rows:
        suggestions = "\n".join(f"{_counts(c)}" + (f" ({m})" if len(row.suggestions) > 1 else "") for m, c in row.suggestions.items())
        answers = ", ".join(f"{who}: {answer}" + (" ⚑" if who in row.flagged_by else "") for who, answer in row.answers.items())
        if row.gold:
            answers += f"\ngold: {_counts(row.gold)}"
        for who, comment in row.comments.items():
            answers += f"\n{who}'s note: {comment}"
        table.add_row(str(row.number), Text(row.title), f"{row.words:,}", Text(suggestions or "-"), Text(answers or "-"))
    console.print(table)
    if limit is not None and len(stats.per_article) > limit:
        console.print(f"… and {plural(len(stats.per_article) - limit, 'more article')} (use --all to list them).", markup=False)


def print_agreement(console: Console, pairs: list[PairAgreement], *, plots: bool = False) -> None:
    for pair in pairs:
        table = Table(
            title=f"Agreement {pair.first} (reference) vs {pair.second}: {plural(pair.articles, 'article')} both accepted, "
            f"same answer on {pair.same_answer} of {pair.both_answered}; token kappa {pair.kappa:.3f} over {plural(pair.tokens, 'token')} "
            f"(whitespace tokens left out: {pair.whitespace_tokens:,})",
            title_justify="left",
        )
        for name in ("label", "both", "only first", "only second", "precision", "recall", "F1"):
            table.add_column(name, justify="left" if name == "label" else "right")
        for label, s in [*pair.per_label.items(), ("overall", pair.overall)]:
            table.add_row(Text(label, style="bold" if label == "overall" else ""), str(s.tp), str(s.fn), str(s.fp), f"{s.p:.3f}", f"{s.r:.3f}", f"{s.f:.3f}")
        console.print(table)
        if pair.confusion:
            print_confusion(console, f"Labels: {pair.first} against {pair.second} (same boundaries)", pair.confusion, pair.first, pair.second)
        if plots and pair.per_label:
            console.print(bars(f"F1 per label, {pair.first} vs {pair.second}", [(label, s.f) for label, s in pair.per_label.items()], width=plot_width(console)))


def print_confusion(console: Console, title: str, confusion: dict[str, dict[str, int]], rows_are: str, columns_are: str) -> None:
    """A label confusion as a heat map, or, where that is too wide for the output, as one line per label."""
    table = heat_table(title, confusion, rows_are=rows_are, columns_are=columns_are, missing=MISSING)
    if fits(console, table):
        console.print(table)
        return
    listed = Table(title=f"{title}; {MISSING} = no span there", title_justify="left")
    listed.add_column(rows_are)
    listed.add_column(f"{columns_are} said")
    for label, said in confusion.items():
        listed.add_row(Text(label), Text(", ".join(f"{other} {n}" for other, n in said.items())))
    console.print(listed)


def print_model_report(console: Console, report: ModelReport, *, plots: bool = False) -> None:
    scores = report.scores
    table = Table(
        title=f"{report.model} against the gold ({plural(report.articles, 'accepted article')}{' ' + report.scope if report.scope else ''}, one final record each; spaCy's Scorer)",
        title_justify="left",
    )
    for name in ("label", "precision", "recall", "F1"):
        table.add_column(name, justify="left" if name == "label" else "right")
    for label, s in sorted((scores.get("ents_per_type") or {}).items()):
        table.add_row(Text(label), f"{s['p']:.3f}", f"{s['r']:.3f}", f"{s['f']:.3f}")
    table.add_row(Text("overall", style="bold"), f"{scores.get('ents_p') or 0:.3f}", f"{scores.get('ents_r') or 0:.3f}", f"{scores.get('ents_f') or 0:.3f}")
    console.print(table)
    per_type = sorted((scores.get("ents_per_type") or {}).items())
    if plots and per_type:
        console.print(grouped_bars(f"{report.model} against the gold, per label", [label for label, _ in per_type],
                                   {name: [s[key] for _, s in per_type] for name, key in (("precision", "p"), ("recall", "r"), ("F1", "f"))},
                                   width=plot_width(console)))  # fmt: skip
    if report.confusion:
        print_confusion(console, "Gold label → what the model said (same boundaries)", report.confusion, "gold", "model")
    errors = Table(title="Most frequent errors", title_justify="left")
    for name in ("count", "kind", "text", "gold → model", "example"):
        errors.add_column(name, justify="right" if name == "count" else "left", overflow="fold")
    for e in report.errors:
        errors.add_row(str(e["count"]), e["kind"], Text(e["text"]), Text(e["change"]), Text(e["example"]))
    console.print(errors)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def print_throughput(console: Console, rows: list[Throughput], *, plots: bool = False) -> None:
    """`stats --throughput`: a Rich table per annotator and mode, then decisions per hour over time."""
    if not rows:
        console.print("No answered articles or teach decisions yet.", markup=False)
        return
    table = Table(title="Throughput, per active hour", title_justify="left", box=None, padding=(0, 1), pad_edge=False, header_style="bold underline")
    for name, justify in (("annotator", "left"), ("mode", "left"), ("decisions", "right"), ("acc.", "right"), ("rej.", "right"),
                          ("ign.", "right"), ("active", "right"), ("/hour", "right"), ("s/decision", "right"), ("s/entity", "right")):  # fmt: skip
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for r in rows:
        per_hour = "–" if r.per_hour is None else f"{r.per_hour:,.0f}"
        per_entity = "–" if r.median_seconds_per_entity is None else f"{r.median_seconds_per_entity:.1f}"
        per_decision = "–" if r.median_seconds_per_decision is None else f"{r.median_seconds_per_decision:.1f}"
        table.add_row(r.annotator, "manual" if r.mode == MANUAL else r.mode, f"{r.decisions:,}", f"{r.accepted:,}", f"{r.rejected:,}", f"{r.ignored:,}",
                      _duration(r.active_seconds), per_hour, per_decision, per_entity)  # fmt: skip
    console.print(table)
    console.print(
        "decisions: articles answered (manual correction) or answers given (teach), accepted, rejected, ignored; active: the gaps between keys, each up to 60 s; "
        "s/decision: median active seconds per article (manual) or answer (teach); s/entity: median active seconds per "
        "entity fixed (manual) or per decision (teach).",
        style="dim", markup=False,
    )
    plotted = throughput_plot(rows) if plots else ""
    if plotted:
        console.print(Text.from_ansi(plotted))


def throughput_plot(rows: list[Throughput]) -> str:
    """Decisions per clock hour, one line per annotator and mode (empty when all fall in one hour)."""
    series = [(f"{r.annotator} · {r.mode}", decisions_by_hour(r)) for r in rows]
    hours = sorted({hour for _, points in series for hour, _ in points})
    if len(hours) < 2:
        return ""
    with figure(72, 16) as plt:
        return _draw_throughput(plt, series, hours)


def _draw_throughput(plt: Any, series: list[tuple[str, list[tuple[datetime, int]]]], hours: list[datetime]) -> str:
    index = {hour: i for i, hour in enumerate(hours)}
    for name, points in series:
        if points:
            plt.plot([index[h] for h, _ in points], [n for _, n in points], marker="braille", label=name)
    step = max(1, len(hours) // 6)
    plt.xticks(list(range(0, len(hours), step)), [hours[i].strftime("%d %b %H:00") for i in range(0, len(hours), step)])
    plt.title("decisions per hour")
    return str(plt.build())
