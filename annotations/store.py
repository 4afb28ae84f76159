"""The goldspan database: one TinyDB JSON file with tables for articles, suggestions and annotations.

The store is the only code that touches the DB file (and its journal and lock beside it, see
``storage``). Every public save method has reached the disk when it returns, and costs the same
whatever the size of the corpus. Records are found by goldspan's own keys, never by scanning.
The layout is in docs/schema.md; why the journal, in docs/storage.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Mapping

from tinydb import TinyDB

from .datamodel import Annotation, Article, ArticleList, ModelId, Role, Suggestions, now_iso, spliced_from
from .errors import StoreError
from .storage import JournalStorage, unwritable_reason

# 2: annotations have a role (an annotator's version or a reviewer's record, keyed apart), and the
# annotator's own comment and flag. A schema-1 DB opened for writing is marked 2: a goldspan that
# reads only 1 would take a reviewer's record for that person's own annotation.
SCHEMA_VERSION = 2
FORMAT_NAME = "goldspan"
DEFAULT_DB = "goldspan.json"

META, ARTICLES, SUGGESTIONS, ANNOTATIONS = "meta", "articles", "suggestions", "annotations"


def _key(*parts: str) -> str:
    return json.dumps(parts, ensure_ascii=False)


# Fields kept in the index beside the main file, so that listing articles and finding who answered
# what needs no record parsed (opening a DB of 10,000 annotated articles parses none of them).
INDEXED = {
    ARTICLES: ("id", "title"),
    ANNOTATIONS: ("article_id", "annotator", "answer", "updated", "role"),
}


def annotation_key(article_id: str, annotator: str, role: Role | str | None = Role.ANNOTATOR) -> str:
    """An annotator's record keeps the key it always had; a reviewer's gets one of its own, so a
    review by someone who also annotated the article never replaces their annotation."""
    if role in (None, Role.ANNOTATOR):
        return _key(article_id, annotator)
    return _key(article_id, annotator, str(role))


KEYS = {
    META: lambda doc: "meta",
    ARTICLES: lambda doc: doc["id"],
    SUGGESTIONS: lambda doc: _key(doc["article_id"], doc["model"], doc["model_version"]),
    ANNOTATIONS: lambda doc: annotation_key(doc["article_id"], doc["annotator"], doc.get("role")),
}


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
        check = lambda data: _check_format(self.path, data)  # noqa: E731
        self.db = TinyDB(
            self.path, storage=JournalStorage, key_of=KEYS, check=check, read_only=read_only, shared=shared,
            patchable={ANNOTATIONS: "spans"}, indexed=INDEXED,
        )  # fmt: skip
        self.storage: JournalStorage = self.db.storage  # type: ignore[assignment]
        self.notices.extend(self.storage.notices)
        data = self.storage.read()
        if data is None:
            self.storage.write({META: {"1": {"format": FORMAT_NAME, "schema_version": SCHEMA_VERSION, "created": now_iso()}}})
        elif not read_only and self.schema_version < SCHEMA_VERSION:
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
        doc = self._get(ANNOTATIONS, annotation_key(article_id, annotator, role))
        return None if doc is None else Annotation.from_dict(doc)

    def save_annotation(self, annotation: Annotation) -> None:
        """Insert or replace this annotator's version of this article; on disk when it returns."""
        self.save_annotations([annotation])

    def save_annotations(self, annotations: Iterable[Annotation]) -> None:
        """Many at once (an import): one append and one fsync for all of them."""
        annotations = list(annotations)
        if annotations:
            entries = [(ANNOTATIONS, a.to_dict()) for a in annotations]  # to_dict first: it splices the span dicts
            self.storage.put(entries, encode=lambda i: annotations[i].to_json(), spliced=lambda i: spliced_from(annotations[i].spans))

    def answered_ids(self, annotator: str, role: Role = Role.ANNOTATOR) -> set[str]:
        """Articles this annotator (or reviewer) has answered (cheap: no spans are read)."""
        columns = self.storage.fields(ANNOTATIONS).columns
        return {
            article_id
            for article_id, who, answer, kind in zip(columns["article_id"], columns["annotator"], columns["answer"], columns["role"])
            if who == annotator and answer is not None and (kind or Role.ANNOTATOR) == role
        }

    def annotation_updated(self, article_id: str, annotator: str, role: Role = Role.ANNOTATOR) -> str | None:
        """When this record was last saved (cheap: no spans are read)."""
        doc_id = self.storage.doc_id(ANNOTATIONS, annotation_key(article_id, annotator, role))
        return None if doc_id is None else str(self.storage.fields(ANNOTATIONS).get(doc_id)["updated"] or "")

    def annotation_count(self) -> int:
        return len(self.storage.fields(ANNOTATIONS).ids)

    def annotations(
        self,
        *,
        article_id: str | None = None,
        annotator: str | None = None,
        answered: bool = False,
        except_annotator: str | None = None,
        role: Role | None = None,
    ) -> list[Annotation]:
        """Records matching every filter given; only those are read and turned into objects.
        ``role`` None: annotators' and reviewers' records alike."""
        docs, fields = self._table(ANNOTATIONS), self.storage.fields(ANNOTATIONS)
        columns = fields.columns
        return [
            Annotation.from_dict(docs[doc_id])
            for doc_id, of, who, answer, kind in zip(fields.ids, columns["article_id"], columns["annotator"], columns["answer"], columns["role"])
            if (article_id is None or of == article_id)
            and (annotator is None or who == annotator)
            and (not answered or answer is not None)
            and (except_annotator is None or who != except_annotator)
            and (role is None or (kind or Role.ANNOTATOR) == role)
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
