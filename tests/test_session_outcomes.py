"""Whatever keys are pressed, in whatever state, every session call answers None or an ``Outcome``
(the screen styles an answer by its kind: a bare string there would end the app)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goldspan.annotations.datamodel import Article
from goldspan.annotations.nlp import pipelines
from goldspan.annotations.nlp.align import align_article, blank_tokenizer
from goldspan.annotations.nlp.suggest import preannotate
from goldspan.annotations.session.outcome import Outcome
from goldspan.annotations.session.session import Session
from goldspan.annotations.store import Store
from goldspan.tui.bindings import SESSION_ACTIONS

ARTICLES = [
    Article.from_text("Putin and Lukashenko\nVladimir Putin met Alexander Lukashenko in Minsk, Belarus."),
    Article.from_text("Nothing here\nno entity at all in this one."),  # an article with no entities
    Article.from_text("Brest\nBrest is near Poland."),
]
KEYS = sorted(SESSION_ACTIONS) + ["label PERSON", "label GPE", "tokens"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=st.lists(st.sampled_from(KEYS), max_size=25), read_only=st.booleans())
def test_every_answer_is_none_or_an_outcome(pattern_spec: pipelines.PipelineSpec, keys: list[str], read_only: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "g.json"
        with Store(db) as store:
            preannotate(store, ARTICLES, pattern_spec)
        store = Store(db, read_only=read_only)
        session = Session(store, ARTICLES, annotator="alice", labels=("PERSON", "ORG", "GPE"), model=pattern_spec.model_id)
        tokenizer = blank_tokenizer(pattern_spec)
        try:
            for key in keys:
                if key == "tokens":  # the tokens arrive from the background (the first keys come before them)
                    draft = session.draft
                    session.set_tokens(draft.article.id, align_article(tokenizer, draft.article, draft.spans), draft.version)
                    continue
                result = session.apply_label(key.split()[1]) if key.startswith("label ") else SESSION_ACTIONS[key](session)
                assert result is None or isinstance(result, Outcome), (key, result)
        finally:
            store.close()
