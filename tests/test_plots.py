"""The pictures in `goldspan stats` (and the train curve's, the throughput's): drawn in a terminal, with
their labels and numbers; never when the output is piped, with --json or with --no-plot."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import spacy
from rich.console import Console

from goldspan.annotations.datamodel import Annotation, Answer, Article, ModelId, Origin, Role, Span, SpanState, Suggestions
from goldspan.annotations.store import Store
from goldspan.annotations.training.curve import CurvePoint

from .conftest import goldspan_command, run_goldspan
from .helpers.terminal import Terminal

NLP = spacy.blank("en")
TEXTS = [
    "Anna Nowak met Jan Kowalski in Gdańsk and Warsaw.",
    "Maria Lis flew from Kraków to Berlin for Siemens.",
    "The Vistula floods Toruń while Orlen pays Poland.",
]


def span(text: str, words: str, label: str) -> Span:
    start = text.index(words)
    found = NLP.make_doc(text).char_span(start, start + len(words))
    return Span(found.start_char, found.end_char, found.start, found.end, label, Origin.ANNOTATOR, SpanState.ADDED)


@pytest.fixture
def small_db(tmp_path: Path) -> Path:
    """Three articles: alice and bob each accepted all three; the toy model suggested spans in each.

    bob calls Warsaw LOC (article 1) and misses Siemens (2), so those two await review; a lead settles
    the first with alice's spans. The gold: articles 1 and 3, PERSON 2, GPE 3, ORG 1. The model calls
    Gdańsk ORG and misses Poland."""
    db = tmp_path / "g.json"
    a, b, c = articles = [Article.from_text(t) for t in TEXTS]
    alice = [
        (span(a.text, "Anna Nowak", "PERSON"), span(a.text, "Jan Kowalski", "PERSON"), span(a.text, "Gdańsk", "GPE"), span(a.text, "Warsaw", "GPE")),
        (span(b.text, "Maria Lis", "PERSON"), span(b.text, "Kraków", "GPE"), span(b.text, "Berlin", "GPE"), span(b.text, "Siemens", "ORG")),
        (span(c.text, "Orlen", "ORG"), span(c.text, "Poland", "GPE")),
    ]
    bob = [
        (span(a.text, "Anna Nowak", "PERSON"), span(a.text, "Jan Kowalski", "PERSON"), span(a.text, "Gdańsk", "GPE"), span(a.text, "Warsaw", "LOC")),
        (span(b.text, "Maria Lis", "PERSON"), span(b.text, "Kraków", "GPE"), span(b.text, "Berlin", "GPE")),
        alice[2],
    ]
    model = [
        (span(a.text, "Anna Nowak", "PERSON"), span(a.text, "Jan Kowalski", "PERSON"), span(a.text, "Gdańsk", "ORG"), span(a.text, "Warsaw", "GPE")),
        alice[1],
        (span(c.text, "Orlen", "ORG"),),
    ]
    with Store(db) as store:
        store.add_articles(articles)
        store.save_suggestions([Suggestions(article.id, ModelId("toy", "1"), spans) for article, spans in zip(articles, model)])
        for article, mine, theirs in zip(articles, alice, bob):
            store.save_annotation(Annotation(article.id, "alice", mine, Answer.ACCEPT))
            store.save_annotation(Annotation(article.id, "bob", theirs, Answer.ACCEPT))
        # A lead settles the first article with alice's spans; the second awaits review.
        store.save_annotation(Annotation(a.id, "lead", alice[0], Answer.ACCEPT, role=Role.REVIEWER))
    return db


def in_a_terminal(tmp_path: Path, *args: str | Path) -> str:
    """`goldspan ARGS` on a real pty, 110 columns wide: the rows a terminal shows afterwards."""
    term = Terminal([*goldspan_command(), *map(str, args)], tmp_path, size=(110, 200))
    assert term.exit_status(timeout=60) == 0, b"".join([term.seen]).decode(errors="replace")
    return "\n".join(row.rstrip() for row in term.screen() if row.strip())


def table_cells(shown: str) -> tuple[list[str], dict[str, list[str]]]:
    """The first Rich table in ``shown``: its header, and each row's cells by its first cell."""
    lines = shown.splitlines()
    header = next(line for line in lines if line.startswith("┃"))
    end = next(i for i, line in enumerate(lines) if line.startswith("└"))
    rows = [line.split("│")[1:-1] for line in lines[:end] if line.startswith("│")]
    return [cell.strip() for cell in header.split("┃")[1:-1]], {row[0].strip(): [cell.strip() for cell in row[1:]] for row in rows}


def test_stats_draws_gold_spans_per_label_in_a_terminal_only(tmp_path: Path, small_db: Path) -> None:
    shown = in_a_terminal(tmp_path, "stats", "--db", small_db)
    chart = shown[shown.index("gold spans per label") :]
    bars = [(line.split()[0], line.split()[-1]) for line in chart.splitlines()[1:4]]
    assert bars == [("GPE", "3"), ("PERSON", "2"), ("ORG", "1")], chart  # counts, most first, without decimals
    assert chart.splitlines()[1].count("▇") > chart.splitlines()[3].count("▇") > 0
    assert "gold spans per label" not in in_a_terminal(tmp_path, "stats", "--db", small_db, "--no-plot")
    piped = run_goldspan("stats", "--db", small_db)
    assert piped.returncode == 0 and "Gold spans per label" in piped.stdout  # the table
    assert "gold spans per label" not in piped.stdout and "▇" not in piped.stdout  # no chart
    as_json = run_goldspan("stats", "--db", small_db, "--json")
    assert json.loads(as_json.stdout)["gold_per_label"]


def test_agreement_shows_the_label_confusion_as_a_heat_map_and_f1_bars(tmp_path: Path, small_db: Path) -> None:
    shown = in_a_terminal(tmp_path, "stats", "--db", small_db, "--agreement")
    heat = shown[shown.index("Labels: alice against bob") :]
    header, rows = table_cells(heat)
    assert header == ["alice ↓ / bob →", "GPE", "ORG", "PERSON", "LOC", "—"]  # the same labels first: a diagonal
    assert rows["GPE"] == ["4", "·", "·", "1", "·"]  # Warsaw: alice GPE, bob LOC
    assert rows["ORG"] == ["·", "1", "·", "·", "1"]  # Siemens: bob has no span there
    assert rows["PERSON"] == ["·", "·", "3", "·", "·"]
    bars = shown[shown.index("F1 per label, alice vs bob") :].splitlines()[1:5]
    values = {line.split()[0]: float(line.split()[-1]) for line in bars}
    # GPE: alice 5, bob 4 of them (Warsaw is LOC): P 1, R 0.8, F1 0.89; ORG: 1 of 2; LOC: none right
    assert values == {"GPE": pytest.approx(0.89, abs=0.005), "LOC": 0.0, "ORG": pytest.approx(0.67, abs=0.005), "PERSON": 1.0}
    piped = run_goldspan("stats", "--db", small_db, "--agreement")
    assert "Labels: alice against bob" in piped.stdout and "F1 per label" not in piped.stdout  # the table, not the chart
    figures = json.loads(run_goldspan("stats", "--db", small_db, "--agreement", "--json").stdout)
    assert figures["agreement"][0]["label_confusion"]["GPE"] == {"GPE": 4, "LOC": 1}


def test_model_vs_gold_draws_precision_recall_and_f1_bars_and_the_confusion(tmp_path: Path, small_db: Path) -> None:
    shown = in_a_terminal(tmp_path, "stats", "--db", small_db, "--model-vs-gold")
    chart = shown[shown.index("toy 1 against the gold, per label") :]
    assert "precision" in chart and "recall" in chart and "F1" in chart.split("Gold label")[0]
    lines = chart.splitlines()
    gpe = lines[lines.index(next(line for line in lines if line.startswith("GPE"))) - 1 :][:3]
    # GPE in the gold: Gdańsk, Warsaw, Poland; the model said GPE once, for Warsaw: P 1, R 0.33, F1 0.5
    assert [float(line.split()[-1]) for line in gpe] == [1.0, 0.33, 0.5]
    heat = shown[shown.index("Gold label → what the model said") :]
    header, rows = table_cells(heat)
    assert header == ["gold ↓ / model →", "GPE", "ORG", "PERSON", "—"]
    assert rows["GPE"] == ["1", "1", "·", "1"]  # Warsaw right, Gdańsk called ORG, Poland missed
    assert rows["PERSON"] == ["·", "·", "2", "·"] and rows["ORG"] == ["·", "1", "·", "·"]
    piped = run_goldspan("stats", "--db", small_db, "--model-vs-gold")
    assert "Gold label → what the model said" in piped.stdout and "against the gold, per label" not in piped.stdout


def test_the_train_curve_and_throughput_use_the_same_plots_in_a_terminal_only() -> None:
    from goldspan.annotations.throughput import Throughput
    from goldspan.tui.stats_view import print_throughput
    from goldspan.tui.training_view import print_curve

    points = [CurvePoint(0.5, 10, 40, 0.61, 0.7, 0.55), CurvePoint(1.0, 20, 80, 0.72, 0.75, 0.7)]
    rows = [Throughput("alice", "manual", decisions=3, active_seconds=90, times=["2026-12-01T09:10:00+00:00", "2026-12-01T10:05:00+00:00", "2026-12-01T11:30:00+00:00"])]
    for terminal in (True, False):
        shown = io.StringIO()
        console = Console(file=shown, force_terminal=terminal, width=100)
        print_curve(console, points, [])
        print_throughput(console, rows, plots=terminal)
        text = shown.getvalue()
        assert ("F on the evaluation set" in text) is terminal and ("decisions per hour" in text) is terminal
        assert "Train curve" in text and "Throughput" in text  # the tables, always


def test_the_annotators_progress_strip_is_richs_bar_of_answered_articles() -> None:
    from goldspan.tui.plots import progress_strip

    strip = progress_strip(3, 9, 9)
    assert len(strip) == 9 and set(strip.plain) <= {"━", "╺", "╸"}
    done = [span for span in strip.spans if span.style and "green" in str(span.style)]
    assert sum(span.end - span.start for span in done) == 3  # a third of the cells
    assert not any("green" in str(span.style) for span in progress_strip(0, 9, 9).spans)


def test_a_confusion_too_wide_for_the_output_is_listed_and_long_labels_are_shortened() -> None:
    from goldspan.tui.plots import bars
    from goldspan.tui.stats_view import print_confusion

    labels = [f"LABEL_{i:02d}" for i in range(17)]  # the default model's seventeen, as wide
    confusion = {label: {label: 10 + i, labels[(i + 1) % 17]: 1} for i, label in enumerate(labels)}
    for width, heat_map in ((240, True), (80, False)):
        shown = io.StringIO()
        print_confusion(Console(file=shown, width=width), "Gold label → what the model said", confusion, "gold", "model")
        text = shown.getvalue()
        assert ("gold ↓ / model →" in text) is heat_map
        assert "…" not in text  # every label and count whole
        assert ("LABEL_16 26, LABEL_00 1" in text) is not heat_map
    chart = bars("spans", [("A" * 100, 3.0), ("B", 1.0)], width=40)
    assert max(len(line) for line in chart.plain.splitlines()) <= 40 and "A" * 12 + "…" in chart.plain
