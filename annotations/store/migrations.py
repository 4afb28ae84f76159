"""How a DB written by an older goldspan becomes one of this schema.

Each step names the version it makes, says in one line what it changed, and can be repeated (a
crash in the middle only means it runs again). A step runs before the DB's first write, so
opening an older DB to read (``stats``, ``export``) never changes it; the one exception is a step
without which records would read wrongly (``needed_before_reading``), which runs when the DB is
opened for writing. A later schema adds a table or an optional field by adding a step here and the
table to ``schema.TABLES``: older DBs then gain it on their first write and say so once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..datamodel import Role
from ..words import plural
from .codec import annotation_from_doc
from .schema import ANNOTATIONS, SCHEMA_VERSION

if TYPE_CHECKING:
    from . import Store

REVIEW_NOTE = "reviewed from "  # how every review's note begins: what tells a schema-1 review from an annotation


@dataclass(frozen=True)
class Migration:
    to_version: int
    run: Callable[[Store], str]  # does the step; returns what it did, in a few words for the notice
    needed_before_reading: Callable[[Store], bool] = lambda store: False


def _schema_1_reviews(store: Store) -> list[str]:
    """Doc ids of the reviews a schema-1 DB saved as the reviewer's own annotation."""
    table = store.storage.table(ANNOTATIONS)
    return [doc_id for doc_id in table.ids() if str(table.get(doc_id).get("note", "")).startswith(REVIEW_NOTE)]


def _move_reviews(store: Store) -> str:
    table = store.storage.table(ANNOTATIONS)
    reviews = [annotation_from_doc(table.get(doc_id)) for doc_id in _schema_1_reviews(store)]
    if not reviews:
        return "reviews have a table of their own (this DB had none)"
    store.save_annotations([dataclasses.replace(r, role=Role.REVIEWER) for r in reviews])
    store.remove_annotations([(r.article_id, r.annotator, Role.ANNOTATOR) for r in reviews])
    n = len(reviews)
    return f"{plural(n, 'review')} made before schema 2 {'is' if n == 1 else 'are'} now kept as reviewers' records, apart from the annotators' versions"


MIGRATIONS = [
    # 2: reviewers' records have a table of their own; a schema-1 review was the reviewer's annotation.
    Migration(2, _move_reviews, needed_before_reading=lambda store: bool(_schema_1_reviews(store))),
    # 3: the training tables appear with their first record; nothing older changes.
    Migration(3, lambda store: "it can hold trained models and a fixed evaluation set"),
    # 4: teach mode's table appears with its first decision; nothing older changes.
    Migration(4, lambda store: "it can hold teach-mode decisions and the active time spent on each article"),
    # 5: the work queue's tables appear with `goldspan queue setup`; nothing older changes.
    Migration(5, lambda store: "it can hold a work queue for a team"),
]
assert MIGRATIONS[-1].to_version == SCHEMA_VERSION, "every schema version has its migration step"


def pending_migrations(version: int) -> list[Migration]:
    return [step for step in MIGRATIONS if step.to_version > version]
