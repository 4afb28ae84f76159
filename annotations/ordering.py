"""In which order `goldspan annotate --order` shows the articles: as the source lists them, shuffled
by a seed, or the most uncertain first.

An article's uncertainty is the mean over its scored suggestions of 1 - |2p - 1|, p being a
suggestion's calibrated score (``store.summaries.uncertainty``): 1 when the model gives its
suggestions even odds, 0 when it is sure of each. With ``uncertain``, a share ``explore`` of the
places (drawn by the seed) goes to an article picked at random instead, so the model is also shown
articles it is sure of, where its confident mistakes are (the failure INCEpTION's and Prodigy's
users report of pure uncertainty sampling). Articles already answered come last, in source order;
articles the model has not scored come after the scored ones, in source order.
"""

from __future__ import annotations

import random
from typing import Callable, Mapping, Sequence, TypeVar

from .datamodel import Article, ArticleList

ORDERS = ("source", "random", "uncertain")
T = TypeVar("T")


def uncertainty_of(score: float) -> float:
    """1 - |2p - 1|: how far a probability is from certainty, either way."""
    return 1.0 - abs(2.0 * score - 1.0)


def article_order(
    ids: Sequence[str], *, order: str, answered: Callable[[str], bool], uncertainty: Mapping[str, float | None] | None = None,
    seed: int = 0, explore: float = 0.0,
) -> list[int]:  # fmt: skip
    """The rows of ``ids`` in the order to show them (a permutation of range(len(ids)))."""
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}")
    rows = range(len(ids))
    if order == "source":
        return list(rows)
    open_rows = [row for row in rows if not answered(ids[row])]
    done_rows = [row for row in rows if answered(ids[row])]
    chooser = random.Random(seed)
    if order == "random":
        chooser.shuffle(open_rows)
        return open_rows + done_rows
    known = uncertainty or {}
    scored = [row for row in open_rows if known.get(ids[row]) is not None]
    unscored = [row for row in open_rows if known.get(ids[row]) is None]
    # Most uncertain first; ties keep the source order (sorted is stable).
    ranked = sorted(scored, key=lambda row: -float(known[ids[row]]))  # type: ignore[arg-type]
    if explore > 0 and ranked:
        ranked = _explored(ranked, chooser, explore)
    return ranked + unscored + done_rows


def _explored(ranked: list[int], chooser: random.Random, explore: float) -> list[int]:
    """Each place, with chance ``explore``, takes an article at random from those left, else the most uncertain left."""
    n = len(ranked)
    gone = [False] * n
    head = 0  # the most uncertain article not yet placed
    placed: list[int] = []
    while len(placed) < n:
        while gone[head]:
            head += 1
        at = head
        if chooser.random() < explore:
            at = chooser.randrange(head, n)
            while gone[at]:  # few are gone past the head: a redraw is rare
                at = chooser.randrange(head, n)
        gone[at] = True
        placed.append(ranked[at])
    return placed


def reordered(articles: Sequence[Article], rows: Sequence[int]) -> Sequence[Article]:
    """The articles in the order ``rows`` gives, read as lazily as the list given."""
    if list(rows) == list(range(len(articles))):
        return articles
    if isinstance(articles, ArticleList):
        source = articles
        return ArticleList([source.ids[r] for r in rows], [source.titles[r] for r in rows], lambda i: source[rows[i]])
    return [articles[r] for r in rows]
