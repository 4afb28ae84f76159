"""goldspan's durable TinyDB storage: the main JSON file, an append-only journal, and a lock.

Why a journal (docs/storage.md has the whole argument):
- Stock ``JSONStorage`` rewrites the whole file for every change, so a save costs more as the
  corpus grows (docs/storage.md has the figures), and a kill mid-write leaves half a file.
- Here a save appends one JSON line per changed document to ``DB.journal`` and fsyncs it: the cost
  is that of the changed document, whatever the corpus size. A save has returned only when its
  line is on disk; a line cut short by a crash is the one save that never returned.
- On open the main file is mapped and the journal replayed. The journal is folded into the main
  file (temp file, fsync, ``os.replace``, folder fsync) when it has grown past a share of it
  (``should_fold``: as SQLite checkpoints its WAL), on a clean close of a small DB, and on demand
  (``goldspan compact``); so a close costs what the session wrote, not what the corpus holds.
- Beside the main file, a fold writes an index of where each record sits in it (``index``):
  opening then parses a record only when it is first asked for, not the whole file (``table``).
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
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Mapping, Sequence

from tinydb.storages import Storage

from ..errors import ReadOnlyStoreError, StoreError, StoreWriteError
from .codec import REV, check_record, check_splice, json_dumps, patch
from .files import Data, MappedFile, already_shared, fsync_folder, open_mapped, parse_main, read_from, replace_with, signature, write_all, write_atomically, write_beside
from .index import TableBuild, read_index, write_index
from .fold import fold_running, start_background_fold
from .lock import FileLock, LockTimeout
from .schema import check_format
from .table import Summary, Table, TableView

KeyFunctions = Mapping[str, Callable[[Mapping[str, Any]], str]]
LOCK_TIMEOUT = 30.0  # seconds a writer waits for another before saying so

# When a close folds the journal into the main file. A fold writes the whole main file, so it waits
# until the journal holds a quarter of it (the cost per saved byte then stays the same whatever the
# corpus), or 2 MiB: what every open replays (about 17 µs a line, some 200 bytes a line for the
# patches most saves are) stays under about 0.2 s. A DB under 4 MiB is folded at every close, as
# writing it costs less than replaying a journal; a bigger one is folded by a process of its own
# (``fold``), so a quit stays instant. Measured in docs/performance.md.
FOLD_SMALL = 4 << 20
FOLD_FRACTION = 0.25
FOLD_CAP = 2 << 20


@dataclass
class NewMain:
    """A main file written beside the old one, and what its index will say of it."""

    temp: Path
    signature: tuple[int, int, int]  # inode, time, size: kept by the rename into place
    size: int
    crc: int
    builds: dict[str, TableBuild]  # where each record landed
    extras: dict[str, bytes]  # the store's aggregates
    journal: tuple[int, int] | None  # the journal's inode and the end of the lines this file holds


def should_fold(main_size: int, journal_size: int) -> bool:
    if journal_size == 0:
        return False
    return main_size < FOLD_SMALL or journal_size >= min(FOLD_CAP, FOLD_FRACTION * main_size)


class JournalStorage(Storage):
    def __init__(
        self,
        path: str | Path,
        *,
        key_of: KeyFunctions,
        read_only: bool = False,
        shared: bool = False,
        patchable: Mapping[str, str] | None = None,
        indexed: Mapping[str, Mapping[str, Summary]] | None = None,
        extras: Callable[[JournalStorage], dict[str, bytes]] | None = None,
    ) -> None:
        self.path = Path(path)
        self.patchable = dict(patchable or {})  # table -> the list field whose changes may be journaled alone
        self.indexed = {t: dict(f) for t, f in (indexed or {}).items()}  # table -> summaries of each record kept in the index
        self.make_extras = extras  # what else a fold writes into the index: the store's aggregates, made from the tables folded
        self._extras: dict[str, bytes] = {}
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self.index_path = self.path.with_name(self.path.name + ".index")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.key_of = key_of
        self.read_only = read_only
        # A DB that is shared already (its main file group-writable) stays so, --shared or not: a private
        # mode here narrowed its lock file and folded main file to the owner alone, locking the team out.
        self.file_mode = 0o660 if shared or already_shared(self.path) else 0o600
        self.notices: list[str] = []
        self._tables: dict[str, Table] | None = None  # None: no main file and no journal yet
        self._main: MappedFile | None = None
        self._index_current = False
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
        if self._tables is None:
            return None
        return {name: TableView(table) for name, table in self._tables.items()}  # type: ignore[misc]

    def write(self, data: Data) -> None:
        """A whole-database write through TinyDB's own API: done as an atomic compaction."""
        self._refuse_if_read_only()
        with self._locked():
            self._tables = {}
            for name, docs in data.items():
                self.table(name, create=True).set_all(docs)
            self._compact_locked()

    def close(self) -> None:
        if self.read_only:
            return
        main_size = self._main.size if self._main else 0
        due = should_fold(main_size, self.journal_size())
        if not self._index_current or (due and main_size < FOLD_SMALL):
            with contextlib.suppress(StoreError):  # a full disk at close: the journal keeps everything
                self.compact()
        elif due:  # seconds at 200,000 articles: done by a process of its own, so quitting stays instant
            start_background_fold(self.path, shared=self.file_mode == 0o660)

    # -- goldspan's saves --------------------------------------------------------------------

    def table(self, name: str, *, create: bool = False) -> Table:
        """The table (an empty one, not kept, if the DB has none of that name and ``create`` is not set)."""
        tables = self._tables if self._tables is not None else {}
        table = tables.get(name)
        if table is None:
            table = Table(name, self.path, self.key_of.get(name), self.indexed.get(name, {}))
            if create:
                if self._tables is None:
                    self._tables = {}
                self._tables[name] = table
        return table

    def doc_id(self, table: str, key: str) -> str | None:
        return self.table(table).doc_id(key)

    def extra(self, name: str) -> bytes | None:
        """What the last fold's ``extras`` made under this name, if the index holding it is the one in use
        (it describes the main file as folded: the records changed since are the tables' changed ones)."""
        return self._extras.get(name)

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

    def transact(self, decide: Callable[[], tuple[Sequence[tuple[str, Mapping[str, Any]]], Sequence[tuple[str, str]]]]) -> None:
        """Read and write as one step no other process can come between: under the writers' lock, with
        every other process's saves taken in, ``decide()`` reads the tables and returns what to put and
        what to remove (table, key); both are journaled in one append and one fsync. What the work queue
        needs: two processes asking for the next article at once must not both take the same lease.
        Only for tables that are not ``patchable``."""
        self._refuse_if_read_only()
        dumps = json_dumps()
        with self._locked():
            self._catch_up()
            puts, removes = decide()
            if not puts and not removes:
                return
            lines = [f'{{"table":{json.dumps(table)},"doc":{dumps(dict(doc))}}}' for table, doc in puts]
            lines += [dumps({"table": table, "remove": key}) for table, key in removes]
            self._append("".join(line + "\n" for line in lines).encode("utf-8"))
            for table, doc in puts:
                self._apply(table, dict(doc))
            for table, key in removes:
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
        main = open_mapped(self.path)
        self._main, self._main_seen = main, (main.signature if main is not None else None)
        found = read_index(open_mapped(self.index_path), main) if main is not None and main.size else None
        index = None if found is None else found.tables
        if index is not None and any(set(names) - set(index[table].column_names) for table, names in self.indexed.items() if table in index):
            index = None  # written when fewer fields were indexed (an older goldspan): parse the file, the next close rewrites it
        self._extras = found.extras if found is not None and index is not None else {}
        if main is None:
            self._tables = None
        elif index is None:
            data = parse_main(self.path, main.whole())
            check_format(self.path, data)
            self._require_records(data)
            self._tables = {}
            for name, docs in data.items():
                try:
                    for doc in docs.values():  # no index: the whole file is read anyway, so each record is checked
                        check_record(name, doc)
                    self.table(name, create=True).set_all(docs)
                except (KeyError, TypeError) as error:
                    raise StoreError(f"{self.path}: damaged goldspan database (a {name} record lacks {error}); it was left untouched.") from None
                except ValueError as error:
                    raise StoreError(f"{self.path}: damaged goldspan database ({error}); it was left untouched.") from None
        else:
            self._tables = {
                name: Table(name, self.path, self.key_of.get(name), self.indexed.get(name, {}), base, main) for name, base in index.items()
            }
            check_format(self.path, self.read() or {})
        self._index_current = index is not None or main is None
        self._journal_seen = None
        journal = signature(self.journal_path)
        if found is not None and index is not None and found.journal is not None and journal is not None and journal[0] == found.journal[0]:
            # A fold was cut short after its main file was in place, before the journal was replaced:
            # the lines before this point are in the main file (replayed, a patch of a record removed
            # later would find nothing to patch).
            self._journal_seen = (journal[0], min(found.journal[1], journal[2]))
        self._torn_at = None
        self._read_journal()

    def _remove_crash_leftovers(self) -> None:
        """Temp files of a compaction that a crash cut short (we hold the lock, so none is running but
        a fold beside the writers, whose file is kept while it holds the fold lock).

        The pattern also matches the journal's temp files (".goldspan.json.journal.*.tmp")."""
        folding = fold_running(self.lock_path)
        for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            if folding and leftover.name.startswith(f".{self.path.name}.fold-"):
                continue
            with contextlib.suppress(OSError):
                leftover.unlink()

    def _require_records(self, data: Data) -> None:
        for table, docs in data.items():
            if table in self.key_of and not all(isinstance(doc, dict) for doc in docs.values()):
                raise StoreError(f"{self.path}: damaged goldspan database (table {table!r} holds a non-record); it was left untouched.")

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
        chunk = read_from(self.journal_path, offset)
        if chunk is None:  # folded away by another process since its signature was read
            self._journal_seen = None
            return
        end = chunk.rfind(b"\n") + 1
        position = offset
        loads = json.JSONDecoder().decode  # on str: json.loads would sniff each line's encoding first
        for line in chunk[:end].split(b"\n")[:-1]:
            try:
                record = loads(line.decode("utf-8"))
                if "splice" in record:
                    self._apply_patch(record)
                elif "remove" in record:
                    self._remove(record["table"], record["remove"])
                else:
                    self._apply(record["table"], record["doc"], check=True)
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                raise StoreError(
                    f"{self.journal_path}: damaged journal (the record at byte {position} is unreadable: {error}); nothing was changed."
                ) from None
            position += len(line) + 1
        self._journal_seen = (inode, offset + end)
        tail = chunk[end:]
        if self._lock is not None and self._lock.is_locked:
            # Under the lock nobody is mid-append: an unfinished last line is a save cut short by a crash,
            # to be cut off before our next append. Gone (another process cut it and appended since):
            # nothing to cut, or that process's saved lines would be.
            if tail and self._torn_at is None:
                self.notices.append(
                    f"{self.journal_path}: dropped an unfinished last record ({len(tail):,} byte{'' if len(tail) == 1 else 's'}) left by a crash; "
                    "it was never reported as saved."
                )
            self._torn_at = offset + end if tail else None

    def _apply(self, table: str, doc: dict[str, Any], key: str | None = None, *, check: bool = False) -> None:
        """``check``: a document read back from the journal (this process's own saves need none)."""
        if not isinstance(table, str) or table not in self.key_of:
            raise KeyError(f"unknown table {table!r}")
        if check:
            check_record(table, doc)
        self.table(table, create=True).set(doc, key)

    def _remove(self, table: str, key: str) -> None:
        if table not in self.key_of:
            raise KeyError(f"unknown table {table!r}")
        self.table(table).remove(key)

    def _stored(self, table: str, key: str) -> dict[str, Any] | None:
        return self.table(table).by_key(key)

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
        if not isinstance(record["set"], dict):
            raise ValueError("its changed fields are not an object")
        # The stretch it changes, with one span either side: a full check of a 5,000-span record on
        # every replayed patch made an open after a day's relabelling take seconds.
        check_splice(current[field], start, stop, items)
        doc = {**current, **record["set"], field: [*current[field][:start], *items, *current[field][stop:]], REV: rev}
        self._apply(table, doc, key)

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
        self._finish_fold(self._write_new_main(self._journal_seen), rest=b"")

    def fold_beside_writers(self) -> bool:
        """Fold as ``compact`` does, but hold the writers' lock only to begin and to finish: the new main
        file (seconds at 200,000 articles) is written from what was saved up to the start, while every
        other process goes on saving; the journal lines they add meanwhile become the new journal.
        False if another process folded meanwhile (then there is nothing left to do)."""
        self._refuse_if_read_only()
        with self._locked():
            self._catch_up()
            main_seen, journal_seen = self._main_seen, self._journal_seen
            start = journal_seen[1] if journal_seen else 0
            before = self._journal_crc(start)
        new: NewMain | None = None
        try:
            new = self._write_new_main(journal_seen, tag="fold-")
            with self._locked():
                journal = signature(self.journal_path)
                moved = journal_seen is not None and (journal is None or journal[0] != journal_seen[0])
                if signature(self.path) != main_seen or moved or (journal is not None and journal[2] < start):
                    return False  # another process folded meanwhile
                if self._journal_crc(start) != before:
                    return False  # the lines it folded are not those there now (never so, but then it is not this fold's to finish)
                rest = b""
                if journal is not None:
                    rest = read_from(self.journal_path, start) or b""
                    rest = rest[: rest.rfind(b"\n") + 1]  # an unfinished last line was never reported as saved
                self._finish_fold(new, rest=rest)
                new = None
                return True
        finally:
            if new is not None:
                with contextlib.suppress(OSError):
                    new.temp.unlink()

    def _journal_crc(self, end: int) -> int:
        return zlib.crc32(read_from(self.journal_path, 0, end) or b"")

    def _write_new_main(self, journal_seen: tuple[int, int] | None, tag: str = "") -> NewMain:
        """The tables as a new main file beside the old one (not yet in its place) and its index, which
        names that file and the journal lines it holds (``journal_seen``: the journal's inode and the
        end of those lines), so an open after a crash between the renames replays only the rest. The
        index goes in place first: a rename keeps a file's inode and time, so it already names the
        main file that will be renamed into place."""
        dumps = json_dumps()
        tables = self._tables or {}
        builds: dict[str, TableBuild] = {}
        written = [0, 0]  # bytes, CRC-32: the index names the main file it describes by both

        def write_main(handle: BinaryIO) -> None:
            def write(chunk: bytes) -> int:
                handle.write(chunk)
                written[0] += len(chunk)
                written[1] = zlib.crc32(chunk, written[1])
                return written[0]

            write(b"{")
            for t, (name, table) in enumerate(tables.items()):
                write(("," if t else "").encode() + json.dumps(name, ensure_ascii=False).encode("utf-8") + b":{")
                builds[name] = table.write(write, dumps)
                write(b"}")
            write(b"}")

        temp = write_beside(self.path, write_main, self.file_mode, tag)
        st = temp.stat()
        extras = self.make_extras(self) if self.make_extras is not None else {}
        return NewMain(temp, (st.st_ino, st.st_mtime_ns, st.st_size), written[0], written[1], builds, extras, journal_seen)

    def _finish_fold(self, new: NewMain, *, rest: bytes) -> None:
        """Put the new main file's index in place, then the file, then the journal of what it does not hold (``rest``)."""
        tables = self._tables or {}
        # The index first, naming the new main file (its inode and time survive the rename) and the
        # journal lines it holds. One that fails to be written is only a slower next open.
        with contextlib.suppress(StoreWriteError):
            write_atomically(
                self.index_path,
                lambda handle: write_index(handle, new.signature, new.size, new.crc, new.builds, new.extras, new.journal),
                self.file_mode,
            )
        replace_with(new.temp, self.path)
        # The main file now holds every journal line but ``rest``; a crash before the next step leaves
        # the old journal, whose lines the index says the main file holds: only the rest is replayed.
        write_atomically(self.journal_path, rest, self.file_mode)
        self._load()  # the new main file, mapped, read through its new index
        for name, table in (self._tables or {}).items():
            if name in tables:  # the records just written stay the same objects: a session's next edit is still a patch
                table.adopt(tables[name])

    def journal_size(self) -> int:
        journal = signature(self.journal_path)
        return journal[2] if journal else 0

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
