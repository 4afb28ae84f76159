"""The index beside a DB's main file: where each record sits in it, its key, and a few of its fields.

With it, opening a DB reads the index and the main file's bytes and parses a record only when it is
first asked for: a DB of 10,000 annotated articles opens in tens of milliseconds instead of the
second that parsing its 63 MB of JSON takes. The main file stays plain TinyDB JSON; the index is a
shortcut, trusted only while the main file is the one it was written for: the same file (inode,
modification time and size), or else the same bytes (size and CRC-32: a copied DB); and each record
parsed through it is checked against its key.
"""

from __future__ import annotations

import itertools
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, MutableMapping

INDEX_FORMAT = "goldspan-index"
INDEX_VERSION = 1


class Docs(MutableMapping[str, dict[str, Any]]):
    """A table's documents by TinyDB id, in file order; those not asked for yet are still bytes of the main file."""

    def __init__(self, source: bytes, ids: list[str], at: list[int], check: Callable[[str, Any], None]) -> None:
        self._source, self._at, self._check = source, at, check
        self._docs: dict[str, Any] = dict(zip(ids, itertools.count()))  # a parsed dict, or its row in the index

    def __getitem__(self, doc_id: str) -> dict[str, Any]:
        value = self._docs[doc_id]
        if type(value) is int:
            try:
                value = json.loads(self._source[self._at[2 * value] : self._at[2 * value + 1]])
            except ValueError:
                value = None  # the check names the file and says what to do
            self._check(doc_id, value)
            self._docs[doc_id] = value
        return value  # type: ignore[no-any-return]

    def __setitem__(self, doc_id: str, doc: dict[str, Any]) -> None:
        self._docs[doc_id] = doc

    def __delitem__(self, doc_id: str) -> None:
        del self._docs[doc_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._docs)

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._docs

    def raw(self, doc_id: str) -> bytes | None:
        """The document's JSON exactly as the main file holds it, if it was never parsed: compaction copies it."""
        value = self._docs[doc_id]
        return self._source[self._at[2 * value] : self._at[2 * value + 1]] if type(value) is int else None


class Fields:
    """A few fields of each document of a table, column by column in table order: what listing the
    articles or finding who answered what needs, read without parsing a single record."""

    def __init__(self, ids: list[str], columns: dict[str, list[Any]]) -> None:
        self.ids, self.columns = ids, columns
        self._rows = dict(zip(ids, itertools.count()))

    @classmethod
    def of(cls, names: Iterable[str], docs: Mapping[str, Mapping[str, Any]]) -> Fields:
        return cls(list(docs), {name: [doc.get(name) for doc in docs.values()] for name in names})

    def set(self, doc_id: str, doc: Mapping[str, Any]) -> None:
        row = self._rows.get(doc_id)
        if row is None:
            self._rows[doc_id] = len(self.ids)
            self.ids.append(doc_id)
            for name, column in self.columns.items():
                column.append(doc.get(name))
        else:
            for name, column in self.columns.items():
                column[row] = doc.get(name)

    def get(self, doc_id: str) -> dict[str, Any]:
        row = self._rows[doc_id]
        return {name: column[row] for name, column in self.columns.items()}

    def remove(self, doc_ids: Iterable[str]) -> None:
        """Drop these documents' rows (a rare, whole-table step: a migration, not a key press)."""
        gone = {self._rows[d] for d in doc_ids if d in self._rows}
        if not gone:
            return
        keep = [row for row in range(len(self.ids)) if row not in gone]
        self.ids[:] = [self.ids[row] for row in keep]
        for column in self.columns.values():
            column[:] = [column[row] for row in keep]
        self._rows = dict(zip(self.ids, itertools.count()))


@dataclass
class TableIndex:
    ids: list[str]
    keys: list[str]
    at: list[int]  # start and end of each document's bytes, flat: [start0, end0, start1, end1, ...]
    fields: dict[str, list[Any]]  # a few fields of each document, column by column
    next_id: int  # the TinyDB id the table's next new document gets


FileSignature = tuple[int, int, int]  # inode, modification time (ns), size


def serialise(
    data: Mapping[str, Mapping[str, Any]],
    keys_by_id: Mapping[str, Mapping[str, str]],
    fields: Mapping[str, Fields],
    next_ids: Mapping[str, int],
    dumps: Callable[[Any], str],
) -> tuple[bytes, dict[str, TableIndex]]:
    """The whole DB as TinyDB JSON, and the index of it: where each document landed, its key, its fields.

    A document never parsed since it was read is copied as the bytes it was, not dumped again."""
    parts: list[bytes] = [b"{"]
    position = 1
    tables: dict[str, TableIndex] = {}
    for t, (table, docs) in enumerate(data.items()):
        head = ("," if t else "").encode() + json.dumps(table, ensure_ascii=False).encode("utf-8") + b":{"
        parts.append(head)
        position += len(head)
        keys, kept = keys_by_id.get(table, {}), fields.get(table)
        index = tables[table] = TableIndex([], [], [], {name: [] for name in kept.columns} if kept else {}, next_ids.get(table, 1))
        raw_of = docs.raw if isinstance(docs, Docs) else None
        for d, doc_id in enumerate(docs):
            body = raw_of(doc_id) if raw_of else None
            if body is None:
                body = dumps(docs[doc_id]).encode("utf-8")
            prefix = ("," if d else "").encode() + json.dumps(doc_id).encode() + b":"
            parts.append(prefix)
            parts.append(body)
            position += len(prefix)
            index.ids.append(doc_id)
            index.keys.append(keys.get(doc_id, ""))
            index.at += (position, position + len(body))
            if kept:
                for name, value in kept.get(doc_id).items():
                    index.fields[name].append(value)
            position += len(body)
        parts.append(b"}")
        position += 1
    parts.append(b"}")
    return b"".join(parts), tables


def encode_index(main: FileSignature, payload: bytes, tables: Mapping[str, TableIndex]) -> bytes:
    body = {
        "format": INDEX_FORMAT,
        "version": INDEX_VERSION,
        "main": {"file": list(main), "size": len(payload), "crc32": zlib.crc32(payload)},
        "tables": {name: {"ids": t.ids, "keys": t.keys, "at": t.at, "fields": t.fields, "next_id": t.next_id} for name, t in tables.items()},
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def read_index(path: Path, main: FileSignature, payload: bytes) -> dict[str, TableIndex] | None:
    """The index at ``path`` if it was written for this main file (``payload`` is its bytes, ``main`` its
    signature); None otherwise, and the caller parses the main file whole, as without an index. An
    unreadable index is never an error: it is only a shortcut."""
    try:
        body = json.loads(path.read_bytes())
        if body.get("format") != INDEX_FORMAT or body.get("version") != INDEX_VERSION:
            return None
        written_for = body["main"]
        if tuple(written_for["file"]) != main and (written_for["size"], written_for["crc32"]) != (len(payload), zlib.crc32(payload)):
            return None
        tables = {
            name: TableIndex(list(t["ids"]), list(t["keys"]), list(t["at"]), dict(t["fields"]), int(t["next_id"]))
            for name, t in body["tables"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    for t in tables.values():
        if len(t.keys) != len(t.ids) or len(t.at) != 2 * len(t.ids) or any(len(c) != len(t.ids) for c in t.fields.values()):
            return None
    return tables
