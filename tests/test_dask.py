"""`preannotate --engine dask` (issue 23): the same suggestions as the local engine, made on a real
LocalCluster of two worker processes on loopback, a worker killed mid-job, an unreachable scheduler."""

from __future__ import annotations

import functools
import os
import signal
import time
from pathlib import Path

import pytest

from goldspan.annotations.articles import load_articles
from goldspan.annotations.datamodel import Article
from goldspan.annotations.nlp import pipelines
from goldspan.annotations.nlp.suggest import preannotate
from goldspan.annotations.store import Store

from .conftest import SAMPLES, assert_one_line_error, run_goldspan

pytest.importorskip("distributed")

from goldspan.annotations.nlp.dask_engine import dask_client, dask_suggestions  # noqa: E402


def stored(db: Path) -> dict[str, tuple[object, ...]]:
    with Store(db, read_only=True) as store:
        return {s.article_id: (s.model, s.spans, s.scorer, s.tokens) for s in store.all_suggestions()}


def test_the_dask_engine_gives_the_local_engines_suggestions_and_survives_a_killed_worker(tmp_path: Path) -> None:
    spec = pipelines.resolve(None)
    articles = load_articles([SAMPLES]).articles
    more = [Article.from_text(f"Story {i}\nAnna Nowak met the mayor of Gdańsk, Jan Kowalski, on day {i}.") for i in range(40)]
    with Store(tmp_path / "local.json") as store:
        preannotate(store, [*articles, *more], spec)
    with dask_client(None, 2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        pids = client.run(os.getpid)
        killed: list[int] = []

        def kill_one_after_the_first(article: Article) -> None:
            if not killed:  # a worker dies mid-job, once results have begun to arrive
                killed.append(next(iter(pids.values())))
                os.kill(killed[0], signal.SIGKILL)

        remote = functools.partial(lambda make, articles, scorer: make(client, articles, spec, scorer=scorer, batch_size=8, shard=2), dask_suggestions)
        with Store(tmp_path / "dask.json") as store:
            result = preannotate(store, [*articles, *more], spec, remote=remote, on_parsed=kill_one_after_the_first)
        assert killed and result.parsed == len(articles) + len(more)
    assert stored(tmp_path / "dask.json") == stored(tmp_path / "local.json")  # same spans, model key, scores and tokens
    with Store(tmp_path / "dask.json") as store:  # a second run parses nothing already cached
        assert preannotate(store, [*articles, *more], spec, remote=lambda *a: (_ for _ in ()).throw(AssertionError("parsed"))).parsed == 0


def test_the_command_runs_on_a_local_cluster_and_refuses_an_unreachable_scheduler_fast(tmp_path: Path) -> None:
    result = run_goldspan("preannotate", SAMPLES, "--db", tmp_path / "g.json", "--engine", "dask", "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert "9 articles read" in result.stdout and "scored by greedy" in result.stdout
    started = time.monotonic()
    refused = run_goldspan("preannotate", SAMPLES, "--db", tmp_path / "x.json", "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9")
    assert time.monotonic() - started < 30
    assert_one_line_error(refused, "--scheduler tcp://127.0.0.1:9", "no Dask scheduler answered")
    assert not (tmp_path / "x.json").exists()
    for args, words in (
        (["--workers", "2"], "--workers applies to --engine dask only"),
        (["--engine", "dask", "--workers", "2", "--scheduler", "tcp://127.0.0.1:9"], "--scheduler and --workers"),
        (["--engine", "spark"], "--engine spark: not an engine"),
        (["--engine", "dask", "--n-process", "2"], "--n-process applies to --engine local"),
    ):
        assert_one_line_error(run_goldspan("preannotate", SAMPLES, "--db", tmp_path / "y.json", *args), words)
    assert not (tmp_path / "y.json").exists()


def test_a_pool_in_shards_feeds_a_db_with_exactly_the_n_articles_selected_reproducibly(tmp_path: Path) -> None:
    from goldspan.annotations.pool import read_pool

    pool = tmp_path / "pool"
    made = run_goldspan("preannotate", SAMPLES, "--shards-out", pool, "--db", tmp_path / "never.json")
    assert made.returncode == 0, made.stderr
    assert not (tmp_path / "never.json").exists()  # the pool is not the DB
    entries = list(read_pool(pool))
    assert len(entries) == 9 and all(e.suggestions.scorer.startswith("greedy") for e in entries)
    ranked = sorted(entries, key=lambda e: -(e.uncertainty if e.uncertainty is not None else -1))

    picked = run_goldspan("select", "--from", pool, "--db", tmp_path / "u.json", "--n", "3", "--order", "uncertain")
    assert picked.returncode == 0, picked.stderr
    with Store(tmp_path / "u.json", read_only=True) as store:
        assert {a.id for a in store.articles()} == {e.article.id for e in ranked[:3]}  # exactly the 3 most uncertain
        assert all(store.suggestions(e.article.id, e.suggestions.model) == e.suggestions for e in ranked[:3])
    draws = []
    for name in ("r1.json", "r2.json"):
        assert run_goldspan("select", "--from", pool, "--db", tmp_path / name, "--n", "4", "--order", "random", "--seed", "7").returncode == 0
        with Store(tmp_path / name, read_only=True) as store:
            draws.append(sorted(a.id for a in store.articles()))
    assert draws[0] == draws[1] and len(draws[0]) == 4  # the same four with the same seed
    assert_one_line_error(run_goldspan("preannotate", SAMPLES, "--shards-out", pool), f"--shards-out {pool}: exists and is not an empty folder")
    assert_one_line_error(run_goldspan("select", "--from", tmp_path / "none", "--db", tmp_path / "x.json", "--n", "2"), "no pool shards")
    assert not (tmp_path / "x.json").exists()
