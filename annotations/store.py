"""The goldspan database: one TinyDB JSON file with tables for articles, suggestions and annotations.

The store is the only code that touches the DB file. Every public save method is one atomic,
fsync'd write that has reached the disk when it returns. Lookups go through in-memory indexes
from our keys to TinyDB document ids, so they do not scan tables. The layout is in docs/schema.md.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterable, Iterator

from tinydb import TinyDB
from tinydb.table import Document

from .datamodel import Annotation, Article, ModelId, Suggestions, now_iso
from .errors import StoreError
from .storage import AtomicJSONStorage

SCHEMA_VERSION = 1
FORMAT_NAME = "goldspan"
DEFAULT_DB = "goldspan.json"

META, ARTICLES, SUGGESTIONS, ANNOTATIONS = "meta", "articles", "suggestions", "annotations"


class Store:
    def __init__(self, path: str | Path, *, read_only: bool = False, create: bool = True) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if not self.path.exists() and (read_only or not create):
            raise StoreError(f"{self.path}: no such database (run `goldspan preannotate` or `goldspan annotate` to create one).")
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder, not a database file.")
        self.db = TinyDB(self.path, storage=AtomicJSONStorage, read_only=read_only)
        self.storage: AtomicJSONStorage = self.db.storage  # type: ignore[assignment]
        data = self.storage.read()
        if data is None:
            self._create()
        else:
            _check_format(self.path, data)
        try:
            self._index()
        except (KeyError, TypeError) as error:
            raise StoreError(f"{self.path}: damaged goldspan database (a record lacks {error}); it was left untouched.") from None

    # -- lifecycle -------------------------------------------------------------------------

    def _create(self) -> None:
        self.db.table(META).insert({"format": FORMAT_NAME, "schema_version": SCHEMA_VERSION, "created": now_iso()})

    def _index(self) -> None:
        self._article_ids = {doc["id"]: doc.doc_id for doc in self.db.table(ARTICLES).all()}
        self._suggestion_ids = {
            (doc["article_id"], doc["model"], doc["model_version"]): doc.doc_id for doc in self.db.table(SUGGESTIONS).all()
        }
        self._annotation_ids = {(doc["article_id"], doc["annotator"]): doc.doc_id for doc in self.db.table(ANNOTATIONS).all()}

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Several saves, one write to disk at the end of the block."""
        with self.storage.deferred():
            yield

    @property
    def schema_version(self) -> int:
        return int(self.db.table(META).all()[0]["schema_version"])

    # -- articles --------------------------------------------------------------------------

    def add_articles(self, articles: Iterable[Article]) -> int:
        """Store articles not stored yet (same text, same id: kept once). Returns how many were new."""
        new = [a for a in articles if a.id not in self._article_ids]
        if new:
            ids = self.db.table(ARTICLES).insert_multiple(a.to_dict() for a in new)
            self._article_ids.update((a.id, doc_id) for a, doc_id in zip(new, ids))
        return len(new)

    def article(self, article_id: str) -> Article | None:
        doc_id = self._article_ids.get(article_id)
        if doc_id is None:
            return None
        return Article.from_dict(self.db.table(ARTICLES).get(doc_id=doc_id))  # type: ignore[arg-type]

    def articles(self) -> list[Article]:
        """Every stored article, in the order they were first added."""
        return [Article.from_dict(doc) for doc in self.db.table(ARTICLES).all()]

    def article_count(self) -> int:
        return len(self._article_ids)

    # -- suggestions -----------------------------------------------------------------------

    def has_suggestions(self, article_id: str, model: ModelId) -> bool:
        return (article_id, model.name, model.version) in self._suggestion_ids

    def suggestions(self, article_id: str, model: ModelId) -> Suggestions | None:
        doc_id = self._suggestion_ids.get((article_id, model.name, model.version))
        if doc_id is None:
            return None
        return Suggestions.from_dict(self.db.table(SUGGESTIONS).get(doc_id=doc_id))  # type: ignore[arg-type]

    def save_suggestions(self, items: Iterable[Suggestions]) -> None:
        table = self.db.table(SUGGESTIONS)
        with self.batch():
            for item in items:
                key = (item.article_id, item.model.name, item.model.version)
                doc_id = self._suggestion_ids.get(key)
                if doc_id is None:
                    self._suggestion_ids[key] = table.insert(item.to_dict())
                else:
                    table.upsert(Document(item.to_dict(), doc_id=doc_id))

    def all_suggestions(self) -> list[Suggestions]:
        return [Suggestions.from_dict(doc) for doc in self.db.table(SUGGESTIONS).all()]

    # -- annotations -----------------------------------------------------------------------

    def annotation(self, article_id: str, annotator: str) -> Annotation | None:
        doc_id = self._annotation_ids.get((article_id, annotator))
        if doc_id is None:
            return None
        return Annotation.from_dict(self.db.table(ANNOTATIONS).get(doc_id=doc_id))  # type: ignore[arg-type]

    def save_annotation(self, annotation: Annotation) -> None:
        """Insert or replace this annotator's version of this article; on disk when it returns."""
        table = self.db.table(ANNOTATIONS)
        doc_id = self._annotation_ids.get(annotation.key)
        if doc_id is None:
            self._annotation_ids[annotation.key] = table.insert(annotation.to_dict())
        else:
            table.upsert(Document(annotation.to_dict(), doc_id=doc_id))

    def annotations(self, *, article_id: str | None = None, annotator: str | None = None) -> list[Annotation]:
        docs = self.db.table(ANNOTATIONS).all()
        return [
            Annotation.from_dict(doc)
            for doc in docs
            if (article_id is None or doc["article_id"] == article_id) and (annotator is None or doc["annotator"] == annotator)
        ]


def _check_format(path: Path, data: dict) -> None:
    """Refuse, without writing a byte, any JSON that is not a goldspan DB this version can read."""
    meta_docs = list(data.get(META, {}).values())
    if not meta_docs or not isinstance(meta_docs[0], dict) or meta_docs[0].get("format") != FORMAT_NAME:
        raise StoreError(f"{path}: not a goldspan database (it has no goldspan meta table); it was left untouched.")
    version = meta_docs[0].get("schema_version")
    if not isinstance(version, int):
        raise StoreError(f"{path}: damaged goldspan database (its schema version is missing); it was left untouched.")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: written by a newer goldspan (schema {version}; this one reads up to {SCHEMA_VERSION}); upgrade goldspan to open it."
        )
    for table in (ARTICLES, SUGGESTIONS, ANNOTATIONS):
        docs = data.get(table, {})
        if not all(isinstance(doc, dict) for doc in docs.values()):
            raise StoreError(f"{path}: damaged goldspan database (table {table!r} holds a non-record); it was left untouched.")
