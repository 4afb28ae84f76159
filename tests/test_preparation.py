"""The Preparer: the model and the tokenizer loaded once whoever asks, plain results, a stop honoured."""

from __future__ import annotations

import threading
from pathlib import Path

from goldspan.annotations.articles import load_articles
from goldspan.annotations.nlp import pipelines
from goldspan.annotations.nlp.preparation import Preparer
from goldspan.annotations.session.session import Session
from goldspan.annotations.store import Store

from .conftest import SEED


def test_two_threads_asking_at_once_load_the_model_once(pattern_spec: pipelines.PipelineSpec) -> None:
    [seed] = load_articles([SEED]).articles
    loads: list[int] = []
    entered, release = threading.Event(), threading.Event()

    def slow_loader(spec: pipelines.PipelineSpec):  # type: ignore[no-untyped-def]
        loads.append(1)
        entered.set()
        release.wait(30)  # the second thread asks while the first is still loading
        return pipelines.load(spec)

    preparer = Preparer(pattern_spec, slow_loader)
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(preparer.suggestions(seed, stop=lambda: False))) for _ in range(2)]
    threads[0].start()
    assert entered.wait(30)
    threads[1].start()
    release.set()
    for thread in threads:
        thread.join(60)
    assert loads == [1] and len(results) == 2 and results[0] == results[1] and results[0]


def test_a_stop_before_parsing_gives_nothing(pattern_spec: pipelines.PipelineSpec) -> None:
    [seed] = load_articles([SEED]).articles
    assert Preparer(pattern_spec).suggestions(seed, stop=lambda: True) is None


def test_the_session_caches_what_the_model_suggested(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    [seed] = load_articles([SEED]).articles
    with Store(tmp_path / "g.json") as store:
        store.add_articles([seed])
        session = Session(store, [seed], annotator="alice", labels=("PERSON", "GPE", "ORG"), model=pattern_spec.model_id)
        work = session.work_for(0)
        assert work is not None and work.suggestions  # nothing cached: the model's suggestions first
        spans = Preparer(pattern_spec).suggestions(work.article, stop=lambda: False)
        assert spans and session.receive_suggestions(seed.id, spans) is None
        assert store.has_suggestions(seed.id, pattern_spec.model_id)  # parsed once per model version
        then = session.work_for(0)
        assert then is not None and not then.suggestions  # now the tokens
        aligned = Preparer(pattern_spec).tokens(then.article, then.spans)
        assert session.set_tokens(seed.id, aligned, then.version) and session.work_for(0) is None
