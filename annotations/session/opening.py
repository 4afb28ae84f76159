"""What `goldspan annotate` and `goldspan review` open: the articles, the labels on the number keys,
the session over them, and (for a review) the tokenizer its boundaries move by.

The command line parses the options and shows the screen; the choices are made here, where a test
can make them without a terminal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from ..datamodel import Article, ArticleList, ModelId
from ..errors import InputError, ModelError
from ..nlp import pipelines
from ..store import Store
from .session import Session

if TYPE_CHECKING:
    from .review import ReviewSession


def open_annotation(
    store: Store, named: Sequence[Article] | None, *, annotator: str, labels: Sequence[str], model: ModelId | None,
    order: str = "source", seed: int = 0, explore: float = 0.0,
) -> Session:  # fmt: skip
    """A session over the articles named on the command line (stored first, so every process agrees on
    them), or, with none named, over those the DB holds, each read from it only when it is shown;
    in the ``order`` asked (``ordering``: source, random, or the most uncertain first)."""
    if named is None:
        articles: Sequence[Article] = store.article_list()
        if not articles:
            raise InputError(f"{store.path}: holds no articles yet; name the article files or folders to annotate.")
    else:
        articles = named
        if not store.read_only:
            store.add_articles(articles)
    if order != "source":
        from ..ordering import article_order, reordered

        ids = articles.ids if isinstance(articles, ArticleList) else [a.id for a in articles]
        answered = store.answered_ids(annotator)
        uncertainty = store.suggestion_uncertainty(model) if order == "uncertain" and model is not None else None
        rows = article_order(ids, order=order, answered=answered.__contains__, uncertainty=uncertainty, seed=seed, explore=explore)
        articles = reordered(articles, rows)
    session = Session(store, articles, annotator=annotator, labels=labels, model=model)
    session.most_uncertain_next = order == "uncertain"
    return session


def open_review(
    store: Store,
    *,
    reviewer: str,
    annotators: Sequence[str] | None = None,
    model: str | None = None,
    label: str | None = None,
    only: str = "disagreements",
    labels: str | None = None,
) -> tuple[ReviewSession, pipelines.PipelineSpec]:
    """The review session over the articles whose versions differ as asked, and the tokenizer to edit them with.

    The number keys carry annotate's labels (those of the model the annotators would have had, then
    ``labels``, then any other label a version uses). The tokenizer is a blank pipeline of the
    model's language: the articles' language, as far as the DB can tell (English when no model's
    suggestions are stored)."""
    from ..labels import review_labels  # here: the annotator's start needs none of the review's modules
    from ..quality import choose_model
    from .review import ReviewSession, plan_review

    chosen = choose_model(store, model)
    plan = plan_review(store, annotators=annotators, model=chosen, label=label, only=only)
    if not plan.articles:
        why = ", ".join(f"{n} with {reason}" for reason, n in plan.skipped.items()) or "no articles"
        raise InputError(f"{store.path}: nothing to review ({why}).")
    try:
        model_labels = pipelines.resolve(chosen.name if chosen and pipelines.is_installed(chosen.name) else None).labels
    except ModelError:
        model_labels = ()
    used = (s.label for versions in plan.versions.values() for v in versions for s in v.spans)
    session = ReviewSession(store, plan, reviewer=reviewer, labels=review_labels(model_labels, labels, used))
    return session, _tokenizer_for(chosen)


def _tokenizer_for(model: ModelId | None) -> pipelines.PipelineSpec:
    """``blank:LANG`` for the language of the model whose suggestions the DB holds (its id begins with it:
    ``en_core_web_sm``, ``blank:de``); English if there is none or spaCy has no such language."""
    lang = "en"
    if model is not None:
        lang = model.name.split(":", 1)[1] if model.name.startswith(pipelines.BLANK_PREFIX) else model.name.split("_", 1)[0]
    import importlib.util

    # Looked up, not imported: the review's screen process never loads spaCy (its worker does).
    try:
        known = lang.isidentifier() and importlib.util.find_spec(f"spacy.lang.{lang}") is not None
    except (ImportError, ValueError):
        known = False
    if not known:
        lang = "en"
    return pipelines.resolve(f"{pipelines.BLANK_PREFIX}{lang}")
