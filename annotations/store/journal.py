"""goldspan's durable TinyDB storage: the main JSON file, an append-only journal, and a lock.

Why a journal (docs/storage.md has the whole argument):
- Stock ``JSONStorage`` rewrites the whole file for every change, so a save costs more as the
  corpus grows (docs/storage.md has the figures), and a kill mid-write leaves half a file.
- Here a save appends one JSON line per changed document to ``DB.journal`` and fsyncs it: the cost
  is that of the changed document, whatever the corpus size. A save has returned only when its
  line is on disk; a line cut short by a crash is the one save that never returned.
- On open the main file is read and the journal replayed. On a clean close (and on demand) the
  journal is compacted into the main file atomically (temp file, fsync, ``os.replace``, folder
  fsync), so after a clean close ``tinydb.TinyDB(path)`` sees everything.
- Beside the main file, compaction writes an index of where each record sits in it (``index``):
  opening then parses a record only when it is first asked for, not the whole file.
- Several processes share one DB: a lock file (``lock``, an ``flock``) serialises writers, and
  before appending a writer first reads the lines others appended since it last looked, so every
  process gives each document the same TinyDB id. Documents are keyed by goldspan's own keys
  (article id; article × annotator; article × model × version), so replaying a whole document
  twice changes nothing.
- A save that changes a few items of a long list (the spans of a 5,000-entity annotation) is
  journaled as a patch of those items, with the document's revision ``_rev``: replaying it skips
  a patch whose revision is already in, and refuses one that does not follow the revision it finds.

It is one module of some 400 lines on purpose: loading, replaying, appending and compacting share
the same few fields (what was read of the main file and the journal, under the lock), and split
apart each would reach into the others'.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from tinydb.storages import Storage

from ..errors import ReadOnlyStoreError, StoreError, StoreWriteError
from .codec import REV, json_dumps, patch
from .files import Data, fsync_folder, parse_main, read_main, signature, write_all, write_atomically
from .index import Docs, Fields, encode_index, read_index, serialise
from .lock import FileLock, LockTimeout
from .schema import check_format

KeyFunctions = Mapping[str, Callable[[Mapping[str, Any]], str]]
LOCK_TIMEOUT = 30.0  # seconds a writer waits for another before saying so


class JournalStorage(Storage):
    def __init__(
        self,
        path: str | Path,
        *,
        key_of: KeyFunctions,
        read_only: bool = False,
        shared: bool = False,
        patchable: Mapping[str, str] | None = None,
        indexed: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.path = Path(path)
        self.patchable = dict(patchable or {})  # table -> the list field whose changes may be journaled alone
        self.indexed = dict(indexed or {})  # table -> the fields of each record kept in the index, read without parsing it
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self.index_path = self.path.with_name(self.path.name + ".index")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.key_of = key_of
        self.read_only = read_only
        self.file_mode = 0o660 if shared else 0o600
        self.notices: list[str] = []
        self._data: Data | None = None
        self._keys: dict[str, dict[str, str]] = {}
        self._fields: dict[str, Fields] = {}
        self._index_current = False
        self._next_id: dict[str, int] = {}
        self._main_seen: tuple[int, int, int] | None = None
        self._journal_seen: tuple[int, int] | None = None  # (inode, offset consumed)
        self._torn_at: int | None = None
        self._lock = None if read_only else FileLock(self.lock_path, timeout=LOCK_TIMEOUT, mode=self.file_mode)
        had_lock_file = self.lock_path.exists()
        try:
            with self._locked():
                self._load()
                if not read_only:
                    self._remove_crash_leftovers()
        except StoreError:
            if not had_lock_file:  # a refused file is left exactly as it was found, with nothing beside it
                with contextlib.suppress(OSError):
                    self.lock_path.unlink()
            raise

    # -- TinyDB's Storage interface ----------------------------------------------------------

    def read(self) -> Data | None:
        return self._data

    def write(self, data: Data) -> None:
        """A whole-database write through TinyDB's own API: done as an atomic compaction."""
        self._refuse_if_read_only()
        with self._locked():
            self._data = data
            self._reindex()
            self._compact_locked()

    def close(self) -> None:
        if self.read_only or (self._index_current and not self._journal_has_lines()):
            return
        with contextlib.suppress(StoreError):  # a full disk at close: the journal keeps everything
            self.compact()

    # -- goldspan's saves --------------------------------------------------------------------

    def doc_id(self, table: str, key: str) -> str | None:
        return self._keys.get(table, {}).get(key)

    def fields(self, table: str) -> Fields:
        """The ``indexed`` fields of each document of the table, in table order, read without parsing them."""
        return self._fields.setdefault(table, Fields([], {name: [] for name in self.indexed.get(table, ())}))

    def put(
        self,
        entries: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        encode: Callable[[int], str] | None = None,
        spliced: Callable[[int], tuple[list[Any], tuple[int, int, int]] | None] | None = None,
    ) -> None:
        """Durably insert or replace documents, each keyed by its table's key function.

        In a ``patchable`` table each document carries a revision (``_rev``), and a change to a few
        items of its list field is journaled as a patch of those items alone: a key on a 5,000-entity
        article then writes a few hundred bytes, not the whole record (and the journal grows by as
        little). ``encode(i)``, if given, is entry ``i`` as JSON, for a caller that has it cheaper.
        ``spliced(i)``, if given, may say that entry ``i``'s list field was made from another list by
        replacing one stretch: if that list is the very one stored, the stretch need not be searched for.
        Returns only when the journal lines are on disk. On a write error the journal and the
        in-memory tables are left as they were, and StoreWriteError says why.
        """
        self._refuse_if_read_only()
        dumps = json_dumps()
        with self._locked():
            self._catch_up()  # first: a patch is against the latest revision, whoever wrote it
            lines, docs = [], []
            for i, (table, given) in enumerate(entries):
                doc = dict(given)
                field = self.patchable.get(table)
                if field is None:
                    body = encode(i) if encode else dumps(doc)
                    lines.append(f'{{"table":{json.dumps(table)},"doc":{body}}}')
                else:
                    key = self.key_of[table](doc)
                    stored = self._stored(table, key)
                    doc[REV] = (stored.get(REV, 0) if stored else 0) + 1
                    change = patch(stored, doc, field, spliced(i) if spliced else None) if stored else None
                    if change is not None:
                        lines.append(dumps({"table": table, "key": key, "rev": doc[REV], **change}))
                    else:
                        body = encode(i) if encode else dumps(given)
                        body = f'{{"{REV}":{doc[REV]}' + ("}" if body == "{}" else "," + body[1:])
                        lines.append(f'{{"table":{json.dumps(table)},"doc":{body}}}')
                docs.append((table, doc))
            self._append("".join(line + "\n" for line in lines).encode("utf-8"))
            for table, doc in docs:
                self._apply(table, doc)

    def remove(self, entries: Sequence[tuple[str, str]]) -> None:
        """Durably remove documents, each named by its table and key (``{"table": T, "remove": KEY}`` in
        the journal). Removing what is not there changes nothing, so a replayed line is harmless; a
        goldspan from before removals existed stops at such a line instead of misreading it."""
        self._refuse_if_read_only()
        dumps = json_dumps()
        with self._locked():
            self._catch_up()
            self._append("".join(dumps({"table": table, "remove": key}) + "\n" for table, key in entries).encode("utf-8"))
            for table, key in entries:
                self._remove(table, key)

    def refresh(self) -> None:
        """Take in what other processes have saved since this one last looked."""
        with self._locked():
            self._catch_up()

    def compact(self) -> None:
        """Fold the journal into the main file atomically, then start an empty journal."""
        self._refuse_if_read_only()
        with self._locked():
            self._catch_up()
            self._compact_locked()

    # -- loading -----------------------------------------------------------------------------

    def _load(self) -> None:
        raw, self._main_seen = read_main(self.path)
        index = read_index(self.index_path, self._main_seen, raw) if raw is not None and self._main_seen is not None else None
        if index is not None and any(set(names) - set(index[table].fields) for table, names in self.indexed.items() if table in index):
            index = None  # written when fewer fields were indexed (an older goldspan): parse the file, the next close rewrites it
        if index is None:
            self._data = None if raw is None else parse_main(self.path, raw)
            if self._data is not None:
                check_format(self.path, self._data)
                self._require_records()
            self._reindex()
        else:
            self._data = {table: Docs(raw, t.ids, t.at, self._parsed_check(table)) for table, t in index.items()}  # type: ignore[misc]
            self._keys = {table: dict(zip(t.keys, t.ids)) for table, t in index.items() if table in self.key_of}
            self._next_id = {table: t.next_id for table, t in index.items()}
            self._fields = {table: Fields(t.ids, t.fields) for table, t in index.items() if table in self.indexed}
            check_format(self.path, self._data)
        self._index_current = index is not None or raw is None
        self._journal_seen = None
        self._torn_at = None
        self._read_journal()

    def _remove_crash_leftovers(self) -> None:
        """Temp files of a compaction that a crash cut short (we hold the lock, so none is running).

        The pattern also matches the journal's temp files (".goldspan.json.journal.*.tmp")."""
        for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()

    def _require_records(self) -> None:
        for table, docs in (self._data or {}).items():
            if table in self.key_of and not all(isinstance(doc, dict) for doc in docs.values()):
                raise StoreError(f"{self.path}: damaged goldspan database (table {table!r} holds a non-record); it was left untouched.")

    def _reindex(self) -> None:
        self._keys, self._next_id, self._fields = {}, {}, {}
        for table, docs in (self._data or {}).items():
            self._next_id[table] = max((int(i) for i in docs if i.isdigit()), default=0) + 1
            names = self.indexed.get(table)
            if names:
                self._fields[table] = Fields.of(names, docs)
            key_of = self.key_of.get(table)
            if key_of is None:
                continue
            try:
                self._keys[table] = {key_of(doc): doc_id for doc_id, doc in docs.items()}
            except (KeyError, TypeError) as error:
                raise StoreError(f"{self.path}: damaged goldspan database (a {table} record lacks {error}); it was left untouched.") from None

    def _parsed_check(self, table: str) -> Callable[[str, Any], None]:
        """For a record parsed through the index: it must be a record, and the one its key names."""
        key_of = self.key_of.get(table)

        def check(doc_id: str, doc: Any) -> None:
            try:
                right = isinstance(doc, dict) and (key_of is None or self.doc_id(table, key_of(doc)) == doc_id)
            except (KeyError, TypeError):
                right = False
            if not right:
                raise StoreError(
                    f"{self.path}: record {doc_id} of table {table!r} is not the one {self.index_path.name} says is there; "
                    f"delete {self.index_path} (it is only an index) and open the database again."
                )

        return check

    def _catch_up(self) -> None:
        main = signature(self.path)
        journal = signature(self.journal_path)
        seen = self._journal_seen
        if main != self._main_seen or (seen and journal and (journal[0] != seen[0] or journal[2] < seen[1])):
            self._load()  # another process compacted: start again from its main file
        else:
            self._read_journal()

    def _read_journal(self) -> None:
        journal = signature(self.journal_path)
        if journal is None:
            self._journal_seen = None
            return
        inode, offset = journal[0], self._journal_seen[1] if self._journal_seen else 0
        with open(self.journal_path, "rb") as handle:
            handle.seek(offset)
            chunk = handle.read()
        end = chunk.rfind(b"\n") + 1
        position = offset
        for line in chunk[:end].split(b"\n")[:-1]:
            try:
                record = json.loads(line)
                if "splice" in record:
                    self._apply_patch(record)
                elif "remove" in record:
                    self._remove(record["table"], record["remove"])
                else:
                    self._apply(record["table"], record["doc"])
            except (ValueError, KeyError, TypeError) as error:
                raise StoreError(
                    f"{self.journal_path}: damaged journal (the record at byte {position} is unreadable: {error}); nothing was changed."
                ) from None
            position += len(line) + 1
        self._journal_seen = (inode, offset + end)
        tail = chunk[end:]
        if tail and self._lock is not None and self._lock.is_locked:
            # Under the lock nobody is mid-append: an unfinished last line is a save cut short by a crash.
            if self._torn_at is None:
                self.notices.append(
                    f"{self.journal_path}: dropped an unfinished last record ({len(tail):,} byte{'' if len(tail) == 1 else 's'}) left by a crash; "
                    "it was never reported as saved."
                )
            self._torn_at = offset + end

    def _apply(self, table: str, doc: dict[str, Any]) -> None:
        if self._data is None:
            self._data = {}
        key_of = self.key_of.get(table)
        if key_of is None:
            raise KeyError(f"unknown table {table!r}")
        key = key_of(doc)
        keys = self._keys.setdefault(table, {})
        doc_id = keys.get(key)
        if doc_id is None:
            doc_id = str(self._next_id.get(table, 1))
            self._next_id[table] = int(doc_id) + 1
            keys[key] = doc_id
        self._data.setdefault(table, {})[doc_id] = doc
        if table in self.indexed:
            self.fields(table).set(doc_id, doc)

    def _remove(self, table: str, key: str) -> None:
        if table not in self.key_of:
            raise KeyError(f"unknown table {table!r}")
        doc_id = self._keys.get(table, {}).pop(key, None)
        if doc_id is None or self._data is None:
            return
        docs = self._data.get(table, {})
        if doc_id in docs:
            del docs[doc_id]  # not pop: on a table read through the index that would parse the record first
        if table in self.indexed:
            self.fields(table).remove([doc_id])

    def _stored(self, table: str, key: str) -> dict[str, Any] | None:
        doc_id = self._keys.get(table, {}).get(key)
        return None if doc_id is None or self._data is None else self._data[table][doc_id]

    def _apply_patch(self, record: Mapping[str, Any]) -> None:
        table, key, rev = record["table"], record["key"], record["rev"]
        current = self._stored(table, key)
        if current is None:
            raise ValueError(f"it changes a record in {table!r} that is not there")
        have = current.get(REV, 0)
        if have >= rev:
            return  # already in: the journal is replayed over the main file it was folded into
        if have != rev - 1:
            raise ValueError(f"it changes revision {rev - 1} of a record in {table!r}, but revision {have} is there")
        field, start, stop, items = record["splice"]
        doc = {**current, **record["set"], field: [*current[field][:start], *items, *current[field][stop:]], REV: rev}
        self._apply(table, doc)

    # -- writing -----------------------------------------------------------------------------

    def _append(self, payload: bytes) -> None:
        created = not self.journal_path.exists()
        try:
            fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, self.file_mode)
        except OSError as error:
            raise StoreWriteError(f"{self.path}: cannot save, the journal cannot be opened ({error.strerror}).") from None
        try:
            if created:
                os.fchmod(fd, self.file_mode)
            if self._torn_at is not None:
                os.ftruncate(fd, self._torn_at)
                self._torn_at = None
            start = os.fstat(fd).st_size
            try:
                write_all(fd, payload)
                os.fsync(fd)
            except OSError as error:
                with contextlib.suppress(OSError):  # take back whatever part of the lines got written
                    os.ftruncate(fd, start)
                    os.fsync(fd)
                raise StoreWriteError(f"{self.path}: the save did not reach the disk ({error.strerror}); the database is as it was.") from None
        finally:
            os.close(fd)
        if created:
            fsync_folder(self.journal_path.parent)
        self._journal_seen = (os.stat(self.journal_path).st_ino, start + len(payload))

    def _compact_locked(self) -> None:
        keys_by_id = {table: {doc_id: key for key, doc_id in keys.items()} for table, keys in self._keys.items()}
        payload, tables = serialise(self._data or {}, keys_by_id, self._fields, self._next_id, json_dumps())
        write_atomically(self.path, payload, self.file_mode)
        self._main_seen = signature(self.path)
        # An index that fails to be written is only a slower next open: it no longer matches the main file.
        self._index_current = False
        with contextlib.suppress(StoreWriteError):
            write_atomically(self.index_path, encode_index(self._main_seen, payload, tables), self.file_mode)
            self._index_current = True
        # The main file now holds every journal line; a crash before the next step only means the
        # same lines are replayed once more, which changes nothing.
        write_atomically(self.journal_path, b"", self.file_mode)
        journal = signature(self.journal_path)
        self._journal_seen = (journal[0], 0) if journal else None
        self._torn_at = None

    def _journal_has_lines(self) -> bool:
        journal = signature(self.journal_path)
        return bool(journal and journal[2])

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if self._lock is None:
            yield
            return
        try:
            self._lock.acquire()
        except LockTimeout:
            raise StoreWriteError(f"{self.lock_path}: another goldspan process has held the lock for {LOCK_TIMEOUT:.0f} s; try again.") from None
        except OSError as error:
            raise StoreWriteError(f"{self.lock_path}: cannot take the lock ({error.strerror}).") from None
        try:
            yield
        finally:
            self._lock.release()

    def _refuse_if_read_only(self) -> None:
        if self.read_only:
            raise ReadOnlyStoreError(f"{self.path}: opened read-only; nothing can be saved to it.")
