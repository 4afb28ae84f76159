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
    assert loads == [1] and len(results) == 2 and results[0] and results[1]
    assert results[0].spans == results[1].spans and results[0].spans  # type: ignore[attr-defined]


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
        found = Preparer(pattern_spec).suggestions(work.article, stop=lambda: False)
        assert found and found.spans and found.tokens
        assert session.receive_suggestions(seed.id, found.spans, found.tokens) is None
        assert store.has_suggestions(seed.id, pattern_spec.model_id)  # parsed once per model version
        assert session.work_for(0) is None  # the tokens came with them: nothing more is asked of spaCy
        aligned = Preparer(pattern_spec).tokens(work.article, session.draft.spans)
        assert session.draft.tokens == aligned.tokens and tuple(session.draft.spans) == aligned.spans


def test_a_stored_article_opens_with_its_tokens_and_without_them_asks_for_them(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    """Tokens stored with the suggestions make an article ready to edit without spaCy (read once the
    screen is painted, by ``stored_tokens_for``); a record whose spans do not sit on them (an import
    from another tokenizer) still goes to spaCy to be snapped."""
    from goldspan.annotations.datamodel import Annotation, Span
    from goldspan.annotations.nlp.suggest import preannotate

    [seed] = load_articles([SEED]).articles
    with Store(tmp_path / "g.json") as store:
        preannotate(store, [seed], pattern_spec)
        stored = store.suggestions(seed.id, pattern_spec.model_id)
        assert stored is not None and stored.tokens
        session = Session(store, [seed], annotator="alice", labels=("PERSON", "GPE", "ORG"), model=pattern_spec.model_id)
        # read once asked (after the first paint), with no worker
        assert session.draft.tokens is None and not session.draft.stored_tokens_read
        assert session.stored_tokens_for(0) and session.work_for(0) is None and session.draft.tokens is not None
        first = session.draft.spans[0]
        assert session.draft.cursor == first.token_start
        # bob's record has a span ending inside a word: the stored tokens do not fit it
        inside = Span(first.start, first.end - 1, first.token_start, first.token_end, first.label)
        store.save_annotation(Annotation(seed.id, "bob", (inside,), None))
        bobs = Session(store, [seed], annotator="bob", labels=("PERSON", "GPE", "ORG"), model=pattern_spec.model_id)
        work = bobs.work_for(0)
        assert work is not None and not work.suggestions and bobs.draft.tokens is None
        assert not bobs.stored_tokens_for(0) and bobs.work_for(0) is not None  # the worker snaps it
        # alice's own record, resumed: its tokens are read from the store once asked (after the first paint)
        session.apply_label_key(1)
        again = Session(store, [seed], annotator="alice", labels=("PERSON", "GPE", "ORG"), model=pattern_spec.model_id)
        assert again.draft.tokens is None and not again.draft.stored_tokens_read
        assert again.stored_tokens_for(0) and again.work_for(0) is None
