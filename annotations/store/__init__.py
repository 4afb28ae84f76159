"""The goldspan database: one TinyDB JSON file with tables for articles, suggestions and annotations.

The store is the only code that touches the DB file (and its journal, index and lock beside it,
see ``journal``). Every public save method has reached the disk when it returns, and costs the same
whatever the size of the corpus. Records are found by goldspan's own keys, never by scanning.
The layout is in docs/schema.md; why the journal, in docs/storage.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import compress, repeat
from operator import and_, eq, is_not
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from tinydb import TinyDB

from ..datamodel import Annotation, Article, ArticleList, Edit, ModelId, Role, Suggestions, now_iso
from .codec import annotation_doc, annotation_from_doc as decode_annotation, annotation_json, json_dumps
from ..errors import StoreError
from .files import unwritable_reason
from .journal import JournalStorage
from .migrations import Migration, pending_migrations
from .schema import (
    ANNOTATIONS, ARTICLES, DECISIONS, EVAL_SET, FORMAT_NAME, LEASES, META, MODELS, QUEUE, REVIEWS, SCHEMA_VERSION, SETTINGS, SUGGESTIONS,
)  # fmt: skip
from .summaries import SUMMARIES, ArticleColumns, RecordSummary, SuggestionColumns
from .table import LazyColumn, Table

__all__ = ["ANNOTATIONS", "ARTICLES", "DEFAULT_DB", "FORMAT_NAME", "LEASES", "META", "QUEUE", "REVIEWS", "SCHEMA_VERSION", "SUGGESTIONS", "Store"]

DEFAULT_DB = "goldspan.json"


@dataclass(frozen=True)
class EncodedSuggestions:
    doc: Mapping[str, Any]  # Suggestions.to_dict()
    json: str  # the same, as the journal writes it


def encoded_suggestions(item: Suggestions) -> EncodedSuggestions:
    """A suggestions record ready to store: no store is touched, so any thread may make it."""
    doc = item.to_dict()
    return EncodedSuggestions(doc, json_dumps()(doc))


def _key(*parts: str) -> str:
    return json.dumps(parts, ensure_ascii=False)


def _article_prefix(article_id: str) -> str:
    """How the keys of an article's records begin (a JSON list whose first item is its id)."""
    return _key(article_id)[:-1] + ", "

KEYS = {
    META: lambda doc: "meta",
    ARTICLES: lambda doc: doc["id"],
    SUGGESTIONS: lambda doc: _key(doc["article_id"], doc["model"], doc["model_version"]),
    ANNOTATIONS: lambda doc: _key(doc["article_id"], doc["annotator"]),
    REVIEWS: lambda doc: _key(doc["article_id"], doc["annotator"]),
    SETTINGS: lambda doc: doc["name"],
    EVAL_SET: lambda doc: doc["article_id"],
    MODELS: lambda doc: doc["version"],
    DECISIONS: lambda doc: _key(doc["article_id"], doc["annotator"], str(doc["start"]), str(doc["end"]), doc["label"]),
    QUEUE: lambda doc: doc["name"],
    LEASES: lambda doc: _key(doc["article_id"], doc["annotator"]),
}


PROGRESS = "answered"  # the index's extras: which articles each annotator had answered when the DB was folded


def _set_bit(bits: bytearray, row: int | None, on: bool) -> None:
    if row is None or row >> 3 >= len(bits):
        return
    if on:
        bits[row >> 3] |= 1 << (row & 7)
    else:
        bits[row >> 3] &= ~(1 << (row & 7)) & 0xFF


def progress_extras(storage: JournalStorage) -> dict[str, bytes]:
    """At a fold: for each annotator (and reviewer), a bit per stored article, set where they had
    answered it; so a session's open learns its progress from 25 KB at 200,000 articles, not by
    reading a column of every record (what ``Store.answered_in`` reads back)."""
    articles = storage.table(ARTICLES)
    row_of = {article_id: row for row, article_id in enumerate(articles.column("id"))}
    n = len(row_of)
    extras: dict[str, bytes] = {}
    for name in (ANNOTATIONS, REVIEWS):
        table = storage.table(name)
        by_annotator: dict[str, bytearray] = {}
        for article_id, annotator, answer in zip(table.column("article_id"), table.column("annotator"), table.column("answer")):
            bits = by_annotator.get(annotator)
            if bits is None:
                bits = by_annotator[annotator] = bytearray((n + 7) // 8)
            if answer is not None:
                _set_bit(bits, row_of.get(article_id), True)
        extras.update({f"{PROGRESS} {name} {annotator}": bytes(bits) for annotator, bits in by_annotator.items()})
    extras[PROGRESS] = json.dumps(n).encode()
    return extras


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
            patchable={ANNOTATIONS: "spans", REVIEWS: "spans"}, indexed=SUMMARIES, extras=progress_extras,
        )  # fmt: skip
        self.storage: JournalStorage = self.db.storage  # type: ignore[assignment]
        self.notices.extend(self.storage.notices)
        self._migrations: list[Migration] = []
        if self.storage.read() is None:
            self.storage.write({META: {"1": {"format": FORMAT_NAME, "schema_version": SCHEMA_VERSION, "created": now_iso()}}})
        elif not read_only:
            self._migrations = pending_migrations(self.schema_version)
            # A command whose whole point is writing migrates now, and says so with its other notices.
            if must_write or any(step.needed_before_reading(self) for step in self._migrations):
                self._migrate()

    def take_notices(self) -> list[str]:
        """What the store has to say that was not said yet (a migration says so when it happens, at the first write)."""
        said, self.notices = self.notices, []
        return said

    def _migrate(self) -> None:
        """Bring an older DB to this schema: run before its first write (or at a writable open, for a
        step without which records would read wrongly). Each step can be repeated, so a crash in the
        middle only means it is done again; the DB is marked with the new version when all are done."""
        self._migrations = []
        self.storage.refresh()  # another process may have written (or migrated) since this one opened
        steps = pending_migrations(self.schema_version)
        if not steps:
            return
        before = self.schema_version
        done = [step.run(self) for step in steps]
        self.storage.put([(META, {**self._table(META).get("1"), "schema_version": SCHEMA_VERSION})])
        self.notices.append(f"{self.path}: migrated from schema {before} to {SCHEMA_VERSION}: " + "; ".join(done) + ".")

    def _before_write(self) -> None:
        """Every write comes here first: an older DB is migrated before it."""
        if self._migrations:
            self._migrate()

    def _put(self, entries: list[tuple[str, Mapping[str, Any]]], **how: Any) -> None:
        self._before_write()
        self.storage.put(entries, **how)

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Release the DB. The journal is folded into the main file only when that is cheap or due
        (``journal.should_fold``); ``compact`` always folds it."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def refresh(self) -> None:
        """Take in what other goldspan processes have saved since this one last looked."""
        self.storage.refresh()

    def compact(self) -> None:
        """Fold everything into the main file, so that it alone is a whole TinyDB database."""
        self._before_write()
        self.storage.compact()

    @property
    def journal_size(self) -> int:
        """Bytes saved since the main file was last written: what ``compact`` would fold into it."""
        return self.storage.journal_size()

    @property
    def schema_version(self) -> int:
        return int(self._table(META).get("1")["schema_version"])

    def _table(self, name: str) -> Table:
        return self.storage.table(name)

    def _get(self, table: str, key: str) -> Mapping[str, Any] | None:
        return self._table(table).by_key(key)

    # -- articles --------------------------------------------------------------------------

    def add_articles(self, articles: Iterable[Article]) -> int:
        """Store articles not stored yet (same text, same id: kept once). Returns how many were new."""
        new = {a.id: a for a in articles if self.storage.doc_id(ARTICLES, a.id) is None}
        if new:
            self._put([(ARTICLES, a.to_dict()) for a in new.values()])
        return len(new)

    def article(self, article_id: str) -> Article | None:
        doc = self._get(ARTICLES, article_id)
        return None if doc is None else Article.from_dict(doc)

    def articles(self) -> list[Article]:
        """Every stored article, in the order they were first added."""
        return [Article.from_dict(doc) for doc in self._table(ARTICLES).values()]

    def article_list(self) -> ArticleList:
        """The stored articles in the order they were first added, each read only when it is first asked for."""
        def table() -> Table:
            return self._table(ARTICLES)

        ids = LazyColumn(table, "id")  # read a value at a time: a list of 200,000 costs nothing to make
        return ArticleList(ids, LazyColumn(table, "title"), lambda i: self._stored_article(ids[i]), lambda a: table().row_of_key(a), self.path)

    def _stored_article(self, article_id: str) -> Article:
        article = self.article(article_id)
        if article is None:  # articles are never removed: only a DB replaced under us gets here
            raise StoreError(f"{self.path}: article {article_id} is no longer in the database (was the file replaced?).")
        return article

    def article_count(self) -> int:
        return len(self._table(ARTICLES))

    def article_summaries(self) -> ArticleColumns:
        """Each article's id, title and word count, in order, without reading a text."""
        table = self._table(ARTICLES)
        return ArticleColumns(table.column("id"), table.column("title"), table.column("words"))

    # -- suggestions -----------------------------------------------------------------------

    def has_suggestions(self, article_id: str, model: ModelId) -> bool:
        return self.storage.doc_id(SUGGESTIONS, _key(article_id, model.name, model.version)) is not None

    def suggestions(self, article_id: str, model: ModelId) -> Suggestions | None:
        doc = self._get(SUGGESTIONS, _key(article_id, model.name, model.version))
        return None if doc is None else Suggestions.from_dict(doc)

    def suggestion_tokens(self, article_id: str, model: ModelId) -> str:
        """The tokens stored with an article's suggestions (encoded; "" if none), without making its spans."""
        doc = self._get(SUGGESTIONS, _key(article_id, model.name, model.version))
        return "" if doc is None else str(doc.get("tokens", ""))

    def suggestion_scorer(self, article_id: str, model: ModelId) -> str | None:
        """What scored an article's stored suggestions ("" if they have no scores), None if there are none."""
        doc = self._get(SUGGESTIONS, _key(article_id, model.name, model.version))
        return None if doc is None else str(doc.get("scorer", ""))

    def save_suggestions(self, items: Iterable[Suggestions]) -> None:
        entries: list[tuple[str, Mapping[str, Any]]] = [(SUGGESTIONS, item.to_dict()) for item in items]
        if entries:
            self._put(entries)

    def save_encoded_suggestions(self, records: Sequence[EncodedSuggestions]) -> None:
        """As ``save_suggestions``, for records made ready elsewhere (``encoded_suggestions``): teach's
        background thread encodes a 50,000-word article's 12,000 spans, and its UI thread only writes them."""
        if records:
            self._put([(SUGGESTIONS, r.doc) for r in records], encode=lambda i: records[i].json)

    def all_suggestions(self) -> list[Suggestions]:
        return [Suggestions.from_dict(doc) for doc in self._table(SUGGESTIONS).values()]

    def suggestion_summaries(self) -> SuggestionColumns:
        """Each stored suggestion set's article, model and label counts, without reading its spans."""
        table = self._table(SUGGESTIONS)
        return SuggestionColumns(table.column("article_id"), table.column("model"), table.column("labels"))

    def suggestion_uncertainty(self, model: ModelId) -> dict[str, float | None]:
        """Article id -> how unsure ``model`` was of its suggestions (``summaries.uncertainty``; None: not
        scored), for every article it has suggestions for, without reading their spans."""
        table = self._table(SUGGESTIONS)
        wanted = f"{model.name} {model.version}"
        return {a: u for a, m, u in zip(table.column("article_id"), table.column("model"), table.column("uncertainty")) if m == wanted}

    # -- annotations -----------------------------------------------------------------------

    def annotation(self, article_id: str, annotator: str, role: Role = Role.ANNOTATOR) -> Annotation | None:
        doc = self._get(table_of(role), _key(article_id, annotator))
        return None if doc is None else self._decoded(doc)

    def _decoded(self, doc: Mapping[str, Any]) -> Annotation:
        """A stored record as an Annotation; a damaged one refused in one line naming this DB."""
        try:
            return decode_annotation(doc)
        except StoreError as error:
            raise StoreError(f"{self.path}: {error}") from None

    def check_fits(self, record: Annotation, article: Article) -> None:
        """Refuse a record whose spans reach past its article's text (a damaged or hand-edited file)."""
        if record.spans and record.spans[-1].end > len(article.text):
            raise StoreError(
                f"{self.path}: damaged record: {record.annotator}'s record of article {record.article_id} has a span ending at "
                f"{record.spans[-1].end}, past the end of its text ({len(article.text)} characters)."
            )

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
            entries: list[tuple[str, Mapping[str, Any]]] = [(table_of(a.role), doc) for a, (doc, _) in zip(annotations, docs)]
            self._put(entries, encode=lambda i: annotation_json(annotations[i]), spliced=lambda i: docs[i][1])

    def save_import(self, articles: Iterable[Article], annotations: Iterable[Annotation], decisions: Iterable[Mapping[str, Any]] = ()) -> int:
        """An import's new articles, annotations and teach answers in one journal append: a failure
        (a full disk at its 5,000th record) keeps none of them. Returns how many articles were new."""
        new = {a.id: a for a in articles if self.storage.doc_id(ARTICLES, a.id) is None}
        annotations = list(annotations)
        docs = [annotation_doc(a, None) for a in annotations]
        head: list[tuple[str, Mapping[str, Any]]] = [*((ARTICLES, a.to_dict()) for a in new.values()), *((DECISIONS, d) for d in decisions)]
        entries = head + [(table_of(a.role), doc) for a, (doc, _) in zip(annotations, docs)]
        if entries:
            dumps, first = json_dumps(), len(head)
            self._put(entries, encode=lambda i: dumps(dict(head[i][1])) if i < first else annotation_json(annotations[i - first]),
                      spliced=lambda i: None if i < first else docs[i - first][1])  # fmt: skip
        return len(new)

    def remove_annotations(self, keys: Iterable[tuple[str, str, Role]]) -> None:
        """Remove these records (article id, annotator, role) for good (a migration's step)."""
        entries = [(table_of(role), _key(article_id, who)) for article_id, who, role in keys]
        if entries:
            self._before_write()
            self.storage.remove(entries)

    def answered_ids(self, annotator: str, role: Role = Role.ANNOTATOR) -> set[str]:
        """Articles this annotator (or reviewer) has answered (cheap: no spans are read)."""
        table = self._table(table_of(role))
        # In C, row by row (a set comprehension over 200,000 rows is a fifth of an open's budget).
        mine = map(and_, map(eq, table.column("annotator"), repeat(annotator)), map(is_not, table.column("answer"), repeat(None)))
        return set(compress(table.column("article_id"), mine))

    def annotation_updated(self, article_id: str, annotator: str, role: Role = Role.ANNOTATOR) -> str | None:
        """When this record was last saved (cheap: no spans are read)."""
        table = self._table(table_of(role))
        doc_id = table.doc_id(_key(article_id, annotator))
        return None if doc_id is None else str(table.field_of(doc_id, "updated") or "")

    def answered_in(self, articles: ArticleList, annotator: str, role: Role = Role.ANNOTATOR) -> bytearray:
        """Which articles of the list this annotator (or reviewer) has answered: bit ``i`` of the result
        (byte ``i >> 3``, bit ``i & 7``) is article ``i``. For the DB's own list this costs what the
        journal holds, not what the corpus does: a fold keeps each annotator's bits (``progress``)."""
        n = len(articles)
        bits = bytearray((n + 7) // 8)
        table = self._table(table_of(role))
        if articles.stored_in == self.path and not table.has_removals():
            base = self.storage.extra(PROGRESS)
            if base is not None:
                stored = self.storage.extra(f"{PROGRESS} {table.name} {annotator}") or b""
                bits[: len(stored)] = stored[: len(bits)]
                for doc in table.changed():  # saved since the fold: the bits the fold did not see
                    if doc["annotator"] == annotator:
                        _set_bit(bits, articles.row_of(doc["article_id"]), doc.get("answer") is not None)
                return bits
        if n <= 4_000:  # a folder's few articles: each looked up by key
            for i, article_id in enumerate(articles.ids):
                row = table.row_of_key(_key(article_id, annotator))
                _set_bit(bits, i, row is not None and table.value_at("answer", row) is not None)
        else:
            answered = self.answered_ids(annotator, role)
            for i, article_id in enumerate(articles.ids):
                _set_bit(bits, i, article_id in answered)
        return bits

    def annotations(
        self, *, article_id: str | None = None, annotator: str | None = None, answered: bool = False, role: Role | None = None
    ) -> list[Annotation]:
        """Records matching every filter given, annotators' first, then reviewers' (``role`` None: both);
        only those are read and turned into objects (one article's are found by key, not by a scan)."""
        found: list[Annotation] = []
        for kind in (Role.ANNOTATOR, Role.REVIEWER) if role is None else (role,):
            table = self._table(table_of(kind))
            if article_id is not None:
                chosen = [table.get(doc_id) for doc_id in table.with_key_prefix(_article_prefix(article_id))]
                found += [
                    self._decoded(doc)
                    for doc in chosen
                    if doc["article_id"] == article_id and (annotator is None or doc["annotator"] == annotator)
                    and (not answered or doc.get("answer") is not None)
                ]  # fmt: skip
                continue
            found += [
                self._decoded(table.get(doc_id))
                for doc_id, who, answer in zip(table.ids(), table.column("annotator"), table.column("answer"))
                if (annotator is None or who == annotator) and (not answered or answer is not None)
            ]
        return found

    def record_summaries(self) -> list[RecordSummary]:
        """Every annotator's and reviewer's record as its summary (answer, label counts, a digest of
        its spans), annotators' first, without reading a record: what ``goldspan stats`` counts."""
        found: list[RecordSummary] = []
        for role in (Role.ANNOTATOR, Role.REVIEWER):
            table = self._table(table_of(role))
            found += map(
                RecordSummary.of_columns(role), table.column("article_id"), table.column("annotator"), table.column("answer"),
                table.column("updated"), table.column("flagged"), table.column("comment"), table.column("labels"), table.column("span_key"),
            )  # fmt: skip
        return found

    # -- training: settings, the evaluation set, trained models ------------------------------

    def setting(self, name: str) -> Any:
        """A stored setting's value (None if it was never set)."""
        doc = self._get(SETTINGS, name)
        return None if doc is None else doc.get("value")

    def eval_parts(self) -> dict[str, bool]:
        """Every article assigned so far: True where it is held out for evaluation, False for training."""
        table = self._table(EVAL_SET)
        return dict(zip(table.column("article_id"), map(bool, table.column("eval"))))

    def save_setting(self, name: str, value: Any) -> None:
        """One setting (the annotation guidelines, say), on disk when this returns."""
        self._put([(SETTINGS, {"name": name, "value": value, "updated": now_iso()})])

    def clear_eval_parts(self) -> None:
        """Forget every assignment (``train --reset-eval``)."""
        keys = list(self._table(EVAL_SET).column("article_id"))
        if keys:
            self._before_write()
            self.storage.remove([(EVAL_SET, key) for key in keys])

    def save_training_run(self, settings: Mapping[str, Any], parts: Mapping[str, bool], model: Mapping[str, Any] | None) -> None:
        """A training run's settings, new evaluation assignments and model record, in one append and one fsync."""
        now = now_iso()
        entries: list[tuple[str, Mapping[str, Any]]] = [(SETTINGS, {"name": name, "value": value, "updated": now}) for name, value in settings.items()]
        entries += [(EVAL_SET, {"article_id": article_id, "eval": held_out}) for article_id, held_out in parts.items()]
        if model is not None:
            entries.append((MODELS, model))
        if entries:
            self._put(entries)

    def model_records(self) -> list[dict[str, Any]]:
        """Every trained model's record, in the order they were trained."""
        return [dict(doc) for doc in self._table(MODELS).values()]

    # -- teach mode's decisions ------------------------------------------------------------

    def save_decision(self, decision: Mapping[str, Any]) -> None:
        """One teach-mode answer (``teaching.decisions.Decision.to_dict``), on disk when this returns."""
        self._put([(DECISIONS, decision)])

    def remove_decision(self, article_id: str, annotator: str, start: int, end: int, label: str) -> None:
        """Take back one answer (teach mode's undo)."""
        self._before_write()
        self.storage.remove([(DECISIONS, _key(article_id, annotator, str(start), str(end), label))])

    def decision_docs(self) -> list[dict[str, Any]]:
        """Every teach-mode answer, in the order first saved."""
        return [dict(doc) for doc in self._table(DECISIONS).values()]

    # -- the work queue (annotations/queue) ------------------------------------------------

    def queue_record(self, name: str) -> dict[str, Any] | None:
        doc = self._get(QUEUE, name)
        return None if doc is None else dict(doc)

    def lease_docs(self) -> list[dict[str, Any]]:
        """Every lease held (or held and expired, not yet cleared), in the order taken."""
        return [dict(doc) for doc in self._table(LEASES).values()]

    def answers_by_article(self) -> dict[str, set[str]]:
        """Article id -> the annotators who have answered it (accept, reject or ignore), from the index's
        columns: no record is parsed."""
        table = self._table(ANNOTATIONS)
        found: dict[str, set[str]] = {}
        for article_id, annotator, answer in zip(table.column("article_id"), table.column("annotator"), table.column("answer")):
            if answer:
                found.setdefault(article_id, set()).add(annotator)
        return found

    def transact(self, decide: Callable[[Store], tuple[Sequence[tuple[str, Mapping[str, Any]]], Sequence[tuple[str, str]]]]) -> None:
        """``decide(store)`` reads and returns what to put and remove, as one step no other process
        comes between (``JournalStorage.transact``); a lease's key for removal is made by ``lease_key``."""
        self._before_write()
        self.storage.transact(lambda: decide(self))

    @staticmethod
    def lease_key(article_id: str, annotator: str) -> str:
        return _key(article_id, annotator)

