"""The goldspan database: one TinyDB JSON file with tables for articles, suggestions and annotations.

The store is the only code that touches the DB file (and its journal, index and lock beside it,
see ``journal``). Every public save method has reached the disk when it returns, and costs the same
whatever the size of the corpus. Records are found by goldspan's own keys, never by scanning.
The layout is in docs/schema.md; why the journal, in docs/storage.md.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Iterable, Mapping

from tinydb import TinyDB

from ..datamodel import Annotation, Article, ArticleList, Edit, ModelId, Role, Suggestions, now_iso
from .codec import annotation_doc, annotation_from_doc, annotation_json
from ..errors import StoreError
from ..words import plural
from .files import unwritable_reason
from .journal import JournalStorage
from .schema import ANNOTATIONS, ARTICLES, FORMAT_NAME, META, REVIEWS, SCHEMA_VERSION, SUGGESTIONS

__all__ = ["ANNOTATIONS", "ARTICLES", "DEFAULT_DB", "FORMAT_NAME", "META", "REVIEWS", "SCHEMA_VERSION", "SUGGESTIONS", "Store"]

DEFAULT_DB = "goldspan.json"
REVIEW_NOTE = "reviewed from "  # how every review's note begins: what tells a schema-1 review from an annotation


def _key(*parts: str) -> str:
    return json.dumps(parts, ensure_ascii=False)


_RECORD_FIELDS = ("article_id", "annotator", "answer", "updated")
# Fields kept in the index beside the main file, so that listing articles and finding who answered
# what needs no record parsed (opening a DB of 10,000 annotated articles parses none of them).
INDEXED = {
    ARTICLES: ("id", "title"),
    ANNOTATIONS: _RECORD_FIELDS,
    REVIEWS: _RECORD_FIELDS,
}

KEYS = {
    META: lambda doc: "meta",
    ARTICLES: lambda doc: doc["id"],
    SUGGESTIONS: lambda doc: _key(doc["article_id"], doc["model"], doc["model_version"]),
    ANNOTATIONS: lambda doc: _key(doc["article_id"], doc["annotator"]),
    REVIEWS: lambda doc: _key(doc["article_id"], doc["annotator"]),
}


def table_of(role: Role) -> str:
    """Where records of this kind live: an annotator's versions and a reviewer's records never share a key."""
    return REVIEWS if role is Role.REVIEWER else ANNOTATIONS


class Store:
    def __init__(
        self, path: str | Path, *, read_only: bool = False, create: bool = True, shared: bool = False, must_write: bool = False
    ) -> None:
        """Open (or create) the DB; one that may not be written opens read-only with a notice, or with
        ``must_write`` (a command whose whole point is saving) is refused before anything starts."""
        self.path = Path(path)
        exists = self.path.exists()
        if not exists and (read_only or not create):
            raise StoreError(f"{self.path}: no such database (run `goldspan preannotate` or `goldspan annotate` to create one).")
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder, not a database file.")
        self.notices: list[str] = []
        why = None if read_only else unwritable_reason(self.path)
        if why is not None:
            if not exists:
                raise StoreError(f"{self.path}: cannot create the database there: {why}.")
            if must_write:
                raise StoreError(f"{self.path}: cannot save to this database: {why}.")
            read_only = True
            self.notices.append(f"{self.path}: {why}, so it is open read-only.")
        self.read_only = read_only
        self.db = TinyDB(
            self.path, storage=JournalStorage, key_of=KEYS, read_only=read_only, shared=shared,
            patchable={ANNOTATIONS: "spans", REVIEWS: "spans"}, indexed=INDEXED,
        )  # fmt: skip
        self.storage: JournalStorage = self.db.storage  # type: ignore[assignment]
        self.notices.extend(self.storage.notices)
        data = self.storage.read()
        if data is None:
            self.storage.write({META: {"1": {"format": FORMAT_NAME, "schema_version": SCHEMA_VERSION, "created": now_iso()}}})
        elif not read_only and self.schema_version < SCHEMA_VERSION:
            self._migrate()

    def _migrate(self) -> None:
        """Schema 1 to 2: a review was saved as the reviewer's own annotation (replacing it, if they had
        one); each moves to the reviewers' table, where schema 2 keeps reviews. Then the DB is marked 2.
        Each step can be repeated, so a crash in the middle only means it is done again at the next open."""
        docs = self._table(ANNOTATIONS)
        reviews = [annotation_from_doc(docs[doc_id]) for doc_id in list(docs) if str(docs[doc_id].get("note", "")).startswith(REVIEW_NOTE)]
        if reviews:
            self.save_annotations([dataclasses.replace(r, role=Role.REVIEWER) for r in reviews])
            self.storage.remove([(ANNOTATIONS, _key(r.article_id, r.annotator)) for r in reviews])
            self.notices.append(
                f"{self.path}: {plural(len(reviews), 'review')} made before schema 2 {'is' if len(reviews) == 1 else 'are'} now "
                "kept as reviewers' records, apart from the annotators' versions."
            )
        self.storage.put([(META, {**self._table(META)["1"], "schema_version": SCHEMA_VERSION})])

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Fold the journal into the main file, so plain TinyDB sees everything."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def refresh(self) -> None:
        """Take in what other goldspan processes have saved since this one last looked."""
        self.storage.refresh()

    def compact(self) -> None:
        self.storage.compact()

    @property
    def schema_version(self) -> int:
        return int(self._table(META)["1"]["schema_version"])

    def _table(self, name: str) -> Mapping[str, Any]:
        return (self.storage.read() or {}).get(name, {})

    def _get(self, table: str, key: str) -> Mapping[str, Any] | None:
        doc_id = self.storage.doc_id(table, key)
        return None if doc_id is None else self._table(table)[doc_id]

    # -- articles --------------------------------------------------------------------------

    def add_articles(self, articles: Iterable[Article]) -> int:
        """Store articles not stored yet (same text, same id: kept once). Returns how many were new."""
        new = {a.id: a for a in articles if self.storage.doc_id(ARTICLES, a.id) is None}
        if new:
            self.storage.put([(ARTICLES, a.to_dict()) for a in new.values()])
        return len(new)

    def article(self, article_id: str) -> Article | None:
        doc = self._get(ARTICLES, article_id)
        return None if doc is None else Article.from_dict(doc)

    def articles(self) -> list[Article]:
        """Every stored article, in the order they were first added."""
        return [Article.from_dict(doc) for doc in self._table(ARTICLES).values()]

    def article_list(self) -> ArticleList:
        """The stored articles in the order they were first added, each read only when it is first asked for."""
        fields = self.storage.fields(ARTICLES)
        docs, doc_ids = self._table(ARTICLES), list(fields.ids)
        return ArticleList(list(fields.columns["id"]), list(fields.columns["title"]), lambda i: Article.from_dict(docs[doc_ids[i]]))

    def article_count(self) -> int:
        return len(self._table(ARTICLES))

    # -- suggestions -----------------------------------------------------------------------

    def has_suggestions(self, article_id: str, model: ModelId) -> bool:
        return self.storage.doc_id(SUGGESTIONS, _key(article_id, model.name, model.version)) is not None

    def suggestions(self, article_id: str, model: ModelId) -> Suggestions | None:
        doc = self._get(SUGGESTIONS, _key(article_id, model.name, model.version))
        return None if doc is None else Suggestions.from_dict(doc)

    def save_suggestions(self, items: Iterable[Suggestions]) -> None:
        entries = [(SUGGESTIONS, item.to_dict()) for item in items]
        if entries:
            self.storage.put(entries)

    def all_suggestions(self) -> list[Suggestions]:
        return [Suggestions.from_dict(doc) for doc in self._table(SUGGESTIONS).values()]

    # -- annotations -----------------------------------------------------------------------

    def annotation(self, article_id: str, annotator: str, role: Role = Role.ANNOTATOR) -> Annotation | None:
        doc = self._get(table_of(role), _key(article_id, annotator))
        return None if doc is None else annotation_from_doc(doc)

    def save_annotation(self, annotation: Annotation, edit: Edit | None = None) -> None:
        """Insert or replace this annotator's (or reviewer's) record of this article; on disk when it
        returns. ``edit``: how its spans came from the last version saved (a session's edit), so only
        that stretch is journaled."""
        self.save_annotations([annotation], [edit])

    def save_annotations(self, annotations: Iterable[Annotation], edits: Iterable[Edit | None] = ()) -> None:
        """Many at once (an import): one append and one fsync for all of them."""
        annotations = list(annotations)
        if annotations:
            edits = list(edits) or [None] * len(annotations)
            docs = [annotation_doc(a, e) for a, e in zip(annotations, edits)]
            entries = [(table_of(a.role), doc) for a, (doc, _) in zip(annotations, docs)]
            self.storage.put(entries, encode=lambda i: annotation_json(annotations[i]), spliced=lambda i: docs[i][1])

    def answered_ids(self, annotator: str, role: Role = Role.ANNOTATOR) -> set[str]:
        """Articles this annotator (or reviewer) has answered (cheap: no spans are read)."""
        columns = self.storage.fields(table_of(role)).columns
        return {
            article_id
            for article_id, who, answer in zip(columns["article_id"], columns["annotator"], columns["answer"])
            if who == annotator and answer is not None
        }

    def annotation_updated(self, article_id: str, annotator: str, role: Role = Role.ANNOTATOR) -> str | None:
        """When this record was last saved (cheap: no spans are read)."""
        table = table_of(role)
        doc_id = self.storage.doc_id(table, _key(article_id, annotator))
        return None if doc_id is None else str(self.storage.fields(table).get(doc_id)["updated"] or "")

    def annotation_count(self) -> int:
        """Annotators' and reviewers' records together."""
        return len(self.storage.fields(ANNOTATIONS).ids) + len(self.storage.fields(REVIEWS).ids)

    def annotations(
        self, *, article_id: str | None = None, annotator: str | None = None, answered: bool = False, role: Role | None = None
    ) -> list[Annotation]:
        """Records matching every filter given, annotators' first, then reviewers' (``role`` None: both);
        only those are read and turned into objects."""
        found: list[Annotation] = []
        for kind in (Role.ANNOTATOR, Role.REVIEWER) if role is None else (role,):
            table = table_of(kind)
            docs, fields = self._table(table), self.storage.fields(table)
            columns = fields.columns
            found += [
                annotation_from_doc(docs[doc_id])
                for doc_id, of, who, answer in zip(fields.ids, columns["article_id"], columns["annotator"], columns["answer"])
                if (article_id is None or of == article_id) and (annotator is None or who == annotator) and (not answered or answer is not None)
            ]
        return found
