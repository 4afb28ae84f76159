"""One table of a DB: the records of the main file, read through the index when first asked for, and
the records set or removed since (journal lines replayed, this process's saves).

What it costs, whatever the size of the table: finding a record by key is a binary search in the
index (or a dict lookup for one changed since); reading one parses that record alone; a save adds
it to the changed records. A column of fields (``summaries``: titles, who answered what, label
counts) is decoded once from the index and then kept up to date row by row. Parsed records of the
main file are kept in a bounded cache, so reading every record (an export) does not keep them all.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from ..errors import StoreError
from .files import MappedFile
from .index import TableBuild, TableIndex

Doc = dict[str, Any]
Summary = Callable[[Mapping[str, Any]], Any]
CACHED = 4096  # records of the main file kept parsed; those changed since are always kept


class Table:
    def __init__(
        self, name: str, path: Path, key_of: Callable[[Mapping[str, Any]], str] | None, summaries: Mapping[str, Summary],
        base: TableIndex | None = None, main: MappedFile | None = None,
    ) -> None:  # fmt: skip
        self.name, self.path, self.key_of, self.summaries = name, path, key_of, dict(summaries)
        self._base, self._main = base, main
        self._changed: dict[str, Doc] = {}  # doc id -> record set since the main file was written
        self._removed: set[str] = set()  # ids of the main file's records removed since
        self._keys: dict[str, str | None] = {}  # key -> doc id of a record changed or looked up since; None: removed
        self._cache: OrderedDict[str, Doc] = OrderedDict()
        self._columns: dict[str, list[Any]] = {}  # merged columns, kept up to date once made
        self._new_ids: list[str] = []  # records not in the main file, in the order first saved: the table's last rows
        self._ids: list[str] | None = None  # every id in table order, made only when asked for
        self._rows: dict[str, int] | None = None  # id -> row, for the new records (or all, once some were removed)
        self.next_id = base.next_id if base is not None else 1

    # -- finding ---------------------------------------------------------------------------

    def doc_id(self, key: str) -> str | None:
        if key in self._keys:
            return self._keys[key]
        if self._base is None:
            return None
        row = self._base.find(key)
        if row is None:
            return None
        doc_id = self._keys[key] = self._base.id_at(row)  # found once: a save looks it up again to set it
        return doc_id

    def _base_row(self, doc_id: str) -> int | None:
        return None if self._base is None or doc_id in self._removed else self._base.row_of(doc_id)

    def get(self, doc_id: str) -> Doc:
        doc = self._changed.get(doc_id)
        if doc is not None:
            return doc
        doc = self._cache.get(doc_id)
        if doc is not None:
            self._cache.move_to_end(doc_id)
            return doc
        row = self._base_row(doc_id)
        if row is None:
            raise KeyError(doc_id)
        doc = self._parse(row, doc_id)
        self._cache[doc_id] = doc
        if len(self._cache) > CACHED:
            self._cache.popitem(last=False)
        return doc

    def by_key(self, key: str) -> Doc | None:
        doc_id = self.doc_id(key)
        return None if doc_id is None else self.get(doc_id)

    def with_key_prefix(self, prefix: str) -> list[str]:
        """Ids of the records whose key starts with ``prefix``, in table order."""
        found = set()
        if self._base is not None:
            found = {self._base.id_at(row) for row in self._base.rows_with_prefix(prefix)} - self._removed
        for key, doc_id in self._keys.items():
            if key.startswith(prefix) and doc_id is not None:
                found.add(doc_id)
        return sorted(found, key=int) if all(i.isdigit() for i in found) else sorted(found)

    def _parse(self, row: int, doc_id: str) -> Doc:
        assert self._base is not None and self._main is not None
        raw = self._main.read(*self._base.at(row))
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = None
        try:
            right = isinstance(doc, dict) and (self.key_of is None or self.key_of(doc) == self._base.key_at(row))
        except (KeyError, TypeError):
            right = False
        if not right:
            index = self.path.with_name(self.path.name + ".index")
            raise StoreError(
                f"{self.path}: record {doc_id} of table {self.name!r} is not the one {index.name} says is there; "
                f"delete {index} (it is only an index) and open the database again."
            )
        return doc  # type: ignore[return-value]

    # -- changing --------------------------------------------------------------------------

    def set(self, doc: Doc, key: str | None = None) -> str:
        """Insert or replace the record with this record's key (``key``: it, if the caller knows it); returns its TinyDB id."""
        if key is None:
            key = self.key_of(doc) if self.key_of is not None else str(len(self._changed) + 1)
        doc_id = self.doc_id(key)
        if doc_id is None:
            while self._base_row(str(self.next_id)) is not None or str(self.next_id) in self._changed:
                self.next_id += 1  # an index whose next id was tampered with must not hand out one in use
            doc_id = str(self.next_id)
            self.next_id += 1
        new = doc_id not in self._changed and self._base_row(doc_id) is None
        self._keys[key] = doc_id
        self._cache.pop(doc_id, None)
        if new:  # it becomes the table's last row; what this process has already read follows
            row = len(self)
            self._new_ids.append(doc_id)
            if self._ids is not None:
                self._ids.append(doc_id)
            if self._rows is not None:
                self._rows[doc_id] = row
            for name, column in self._columns.items():
                column.append(self.summaries[name](doc))
        elif self._columns:
            row = self._row(doc_id)  # type: ignore[assignment]
            for name, column in self._columns.items():
                column[row] = self.summaries[name](doc)
        self._changed[doc_id] = doc
        return doc_id

    def set_all(self, docs: Mapping[str, Doc]) -> None:
        """A whole table as parsed from a main file without an index (TinyDB ids as they were)."""
        for doc_id, doc in docs.items():
            key = self.key_of(doc) if self.key_of is not None else doc_id
            self._keys[key] = doc_id
            self._changed[doc_id] = doc
            if self._base_row(doc_id) is None:
                self._new_ids.append(doc_id)
        self.next_id = max((int(i) for i in docs if i.isdigit()), default=0) + 1
        self._forget_columns()

    def remove(self, key: str) -> None:
        doc_id = self.doc_id(key)
        if doc_id is None:
            return
        self._keys[key] = None
        self._changed.pop(doc_id, None)
        self._cache.pop(doc_id, None)
        if self._base is not None and self._base.row_of(doc_id) is not None:
            self._removed.add(doc_id)
        elif doc_id in self._new_ids:
            self._new_ids.remove(doc_id)
        self._forget_columns()  # rare (a migration): the columns are made again when next read

    def adopt(self, before: Table) -> None:
        """Keep the records ``before`` held parsed or changed, as this table's (a fold has just written
        them into the main file this table reads): the same objects, so a session's next edit of one
        is journaled as a patch, which the store trusts only for the very list it holds."""
        for doc_id, doc in [*before._cache.items(), *before._changed.items()]:
            if self._base_row(doc_id) is not None:
                self._cache[doc_id] = doc
        while len(self._cache) > CACHED:
            self._cache.popitem(last=False)

    def _forget_columns(self) -> None:
        self._columns, self._ids, self._rows = {}, None, None

    # -- reading all -----------------------------------------------------------------------

    def ids(self) -> list[str]:
        """Every record's TinyDB id in table order: the main file's order, then records new since (shared: do not change it)."""
        if self._ids is None:
            base = [] if self._base is None else self._base.ids()
            if self._removed:
                base = [i for i in base if i not in self._removed]
            self._ids = base + self._new_ids
            self._rows = None
        return self._ids

    def _plain(self) -> bool:
        """Whether the main file's rows are the table's first rows, unmoved (nothing removed): then no list of ids is needed."""
        return self._base is not None and not self._removed

    def id_at(self, row: int) -> str:
        """The id of the record at this row of ``ids``, without making that list while nothing was removed."""
        if self._plain() and self._ids is None:
            assert self._base is not None
            return self._base.id_at(row) if row < self._base.rows else self._new_ids[row - self._base.rows]
        return self.ids()[row]

    def _row(self, doc_id: str) -> int | None:
        """Where the record is in ``ids``: the main file's row while nothing was removed (no dict of 200,000 ids), else looked up."""
        if self._plain():
            assert self._base is not None
            row = self._base.row_of(doc_id)
            if row is not None:
                return row
            if self._rows is None:
                self._rows = {d: r for r, d in enumerate(self._new_ids, start=self._base.rows)}
        elif self._rows is None:
            self._rows = {d: r for r, d in enumerate(self.ids())}
        return self._rows.get(doc_id)

    def column(self, name: str) -> list[Any]:
        """One summary field of every record, in ``ids`` order, without parsing a record of the main file (shared: do not change it)."""
        column = self._columns.get(name)
        if column is None:
            summary = self.summaries[name]
            if self._base is None:
                column = [summary(self._changed[i]) for i in self.ids()]
            else:
                column = list(self._base.column(name))
                if self._removed:
                    column = [v for i, v in zip(self._base.ids(), column) if i not in self._removed]
                column += [None] * (len(self) - len(column))
                for doc_id, doc in self._changed.items():
                    column[self._row(doc_id)] = summary(doc)  # type: ignore[index]
            self._columns[name] = column
        return column

    def value_at(self, name: str, row: int) -> Any:
        """One summary field of the record at this row of ``ids``: read alone, without decoding the column, while nothing was removed."""
        column = self._columns.get(name)
        if column is not None:
            return column[row]
        if not self._plain():
            return self.column(name)[row]
        assert self._base is not None
        if row < self._base.rows:
            doc = self._changed.get(self._base.id_at(row)) if self._changed else None
            return self._base.value_at(name, row) if doc is None else self.summaries[name](doc)
        return self.summaries[name](self._changed[self._new_ids[row - self._base.rows]])

    def row_of_key(self, key: str) -> int | None:
        """The row of ``ids`` holding the record with this key."""
        doc_id = self.doc_id(key)
        return None if doc_id is None else self._row(doc_id)

    def changed(self) -> Iterator[Doc]:
        """The records set since the main file was written (journal lines replayed, this process's saves)."""
        return iter(self._changed.values())

    def field_of(self, doc_id: str, name: str) -> Any:
        """One summary field of one record, without parsing it (nor decoding the column) if it is still the main file's."""
        doc = self._changed.get(doc_id)
        if doc is not None:
            return self.summaries[name](doc)
        row = self._base_row(doc_id)
        if row is None:
            raise KeyError(doc_id)
        assert self._base is not None
        return self._base.value_at(name, row)

    def has_removals(self) -> bool:
        return bool(self._removed)

    def __len__(self) -> int:
        if self._ids is not None:
            return len(self._ids)
        return (self._base.rows - len(self._removed) if self._base is not None else 0) + len(self._new_ids)

    def items(self) -> Iterator[tuple[str, Doc]]:
        """Every record, in table order; those of the main file parsed one by one and not kept."""
        for doc_id in list(self.ids()):
            doc = self._changed.get(doc_id) or self._cache.get(doc_id)
            if doc is None:
                row = self._base_row(doc_id)
                assert row is not None
                doc = self._parse(row, doc_id)
            yield doc_id, doc

    def values(self) -> Iterator[Doc]:
        return (doc for _, doc in self.items())

    # -- writing a new main file -----------------------------------------------------------

    def write(self, write: Callable[[bytes], int], dumps: Callable[[Any], str]) -> TableBuild:
        """Write the table's records as the members of a TinyDB table (``"id":{...},...``) through
        ``write`` (which returns the position after it), and say where each landed. A record of the
        main file not changed since is copied as the bytes it was, never parsed."""
        build = TableBuild(columns={name: list(self.column(name)) for name in self.summaries}, next_id=self.next_id)
        if self._base is not None:
            self._base.load_offsets()
            self._base.load_keys()
        ids = self.ids()
        for d, doc_id in enumerate(ids):
            doc = self._changed.get(doc_id)
            if doc is None:
                row = self._base_row(doc_id)
                assert row is not None and self._base is not None and self._main is not None
                body, key = self._main.read(*self._base.at(row)), self._base.key_at(row)
            else:
                body, key = dumps(doc).encode("utf-8"), (self.key_of(doc) if self.key_of is not None else doc_id)
            position = write(("," if d else "").encode() + json.dumps(doc_id).encode() + b":")
            build.ids.append(doc_id)
            build.keys.append(key)
            build.at += (position, position + len(body))
            write(body)
        return build


class TableView(Mapping[str, Doc]):
    """A table as TinyDB's ``Storage.read`` gives it: a mapping of TinyDB ids to records."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def __getitem__(self, doc_id: str) -> Doc:
        return self._table.get(doc_id)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._table.ids()))

    def __len__(self) -> int:
        return len(self._table)


class LazyColumn(Sequence[Any]):
    """One summary field of the records a table holds now, as a sequence read a value at a time: an
    annotator's list of 200,000 article titles costs nothing until it is read. Iterating it, or
    reading many values, decodes the whole column once (tens of ms at 200,000) and reads that.
    Its length is the table's when it was made: records saved later (by anyone) are not in it."""

    MANY = 256  # values read one by one before the whole column is decoded

    def __init__(self, table: Callable[[], Table], name: str) -> None:
        """``table``: the table as the store has it now (after another process's fold, a new one: the
        old one's files are let go). Its rows stay where they were: this is for tables records are
        only added to (articles)."""
        self._get_table, self._name, self._reads = table, name, 0
        self._len = len(table())

    @property
    def _table(self) -> Table:
        return self._get_table()

    def __len__(self) -> int:
        return self._len

    def _column(self) -> list[Any]:
        return self._table.column(self._name)[: self._len] if len(self._table) != self._len else self._table.column(self._name)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return self._column()[index]
        row = range(self._len)[index]  # negative indices, and IndexError, as a list gives them
        self._reads += 1
        if self._reads > self.MANY:
            return self._table.column(self._name)[row]
        return self._table.value_at(self._name, row)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._column())

    def __contains__(self, value: object) -> bool:
        return value in self._column()

    def index(self, value: Any, start: int = 0, stop: int | None = None) -> int:
        return self._column().index(value, start, self._len if stop is None else stop)
