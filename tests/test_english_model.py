"""Integration with the real English model (installed by the README's commands and by CI)."""

from __future__ import annotations

import json
from pathlib import Path

from goldspan.annotations.articles import load_articles

from .conftest import SAMPLES, SEED, run_goldspan


def test_preannotate_then_stats_on_the_samples(tmp_path: Path) -> None:
    db = tmp_path / "x.json"
    first = run_goldspan("preannotate", SAMPLES, "--db", db)
    assert first.returncode == 0, first.stderr
    assert "Parsed" in first.stdout and "Traceback" not in first.stderr

    stats = run_goldspan("stats", "--db", db, "--json")
    assert stats.returncode == 0, stats.stderr
    figures = json.loads(stats.stdout)
    titles = {a.title for a in load_articles([SAMPLES]).articles}
    assert {row["title"] for row in figures["per_article"]} == titles
    assert all(row["suggestions"] for row in figures["per_article"])  # every article has suggestions per label
    [model] = figures["suggestions_per_label"]
    assert figures["suggestions_per_label"][model]["PERSON"] > 0

    table = run_goldspan("stats", "--db", db)
    assert table.returncode == 0 and "Suggestions per label" in table.stdout and "PERSON" in table.stdout

    again = run_goldspan("preannotate", SAMPLES, "--db", db)
    assert again.returncode == 0
    assert "Nothing to parse" in again.stdout and "Parsed" not in again.stdout


def test_the_seed_article_gets_putin_as_person_and_minsk_as_gpe(tmp_path: Path) -> None:
    from goldspan.annotations.nlp import pipelines
    from goldspan.annotations.store import Store
    from goldspan.annotations.nlp.suggest import preannotate

    [article] = load_articles([SEED]).articles
    spec = pipelines.resolve(None)
    with Store(tmp_path / "g.json") as store:
        preannotate(store, [article], spec)
        spans = store.suggestions(article.id, spec.model_id).spans  # type: ignore[union-attr]
    found = {(s.text_in(article.text), s.label) for s in spans}
    assert ("Vladimir Putin", "PERSON") in found and ("Minsk", "GPE") in found
