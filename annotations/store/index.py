"""The index beside a DB's main file: where each record sits in it, its key, and a few fields of it.

With it, opening a DB maps the main file and the index and parses a record only when it is first
asked for. At 200,000 annotated articles the index is tens of MB, so it is binary and read lazily
too: nothing of a table is decoded until it is asked for, a key is found by binary search over the
keys sorted when the index was written (no dict of 200,000 keys is built), and a column of fields
(article titles; who answered what) is decoded in one ``split`` when it is first read.

The index is a shortcut, trusted only while the main file is the one it was written for: the same
file (inode, modification time and size), or else the same bytes (size and CRC-32: a copied DB); and
each record parsed through it is checked against its key (``table``).

Layout: ``MAGIC``, the header's length (8 bytes, little-endian), the header (JSON: the main file it
was written for, and per table its row count, next TinyDB id and where each section lies), then
the sections. A section of strings is UTF-8 joined by NUL (``\\x01`` alone is None), or a JSON list
when a value is not a string or holds a NUL; numbers are little-endian 64-bit integers.
"""

from __future__ import annotations

import array
import bisect
import json
import struct
import sys
import zlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, BinaryIO, Iterable, Sequence

from ..errors import StoreError
from .files import MappedFile

MAGIC = b"goldspan-index 2\n"
_RANGE = struct.Struct("<qq")
_INT = struct.Struct("<q")
NONE = "\x01"  # None in a NUL-joined column of strings

FileSignature = tuple[int, int, int]  # inode, modification time (ns), size


def _int64(values: Iterable[int]) -> bytes:
    numbers = array.array("q", values)
    if sys.byteorder == "big":
        numbers.byteswap()
    return numbers.tobytes()


def _from_int64(raw: bytes) -> array.array[int]:
    numbers = array.array("q")
    numbers.frombytes(raw)
    if sys.byteorder == "big":
        numbers.byteswap()
    return numbers


def _encode_strings(values: Sequence[Any]) -> tuple[str, bytes]:
    """("text", NUL-joined UTF-8) when every value is a string without NUL (or None), else ("json", a JSON list)."""
    if all(v is None or (type(v) is str and "\0" not in v and v != NONE) for v in values):
        return "text", "\0".join(NONE if v is None else v for v in values).encode("utf-8")
    return "json", json.dumps(list(values), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _decode_strings(kind: str, raw: bytes, rows: int) -> list[Any]:
    if kind == "json":
        values = json.loads(raw)
    elif rows == 0:
        values = []
    else:
        values = [None if v == NONE else v for v in raw.decode("utf-8").split("\0")] if NONE.encode() in raw else raw.decode("utf-8").split("\0")
    if not isinstance(values, list) or len(values) != rows:
        raise ValueError("a column's length is not the table's")
    return values


@dataclass
class TableBuild:
    """What a fold learns of one table as it writes it: enough to write its index."""

    ids: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    at: list[int] = field(default_factory=list)  # start and end of each record's bytes, flat
    columns: dict[str, list[Any]] = field(default_factory=dict)
    next_id: int = 1


def write_index(
    handle: BinaryIO, main: FileSignature, main_size: int, main_crc: int, tables: dict[str, TableBuild],
    extras: dict[str, bytes] | None = None, journal: tuple[int, int] | None = None,
) -> None:  # fmt: skip
    """The index of a main file just written. ``extras``: bytes the store keeps beside its tables
    (aggregates made at a fold); ``journal``: the journal's inode and the end of the lines the main file holds."""
    sections: list[bytes] = []
    offset = 0

    def section(raw: bytes) -> list[int]:
        nonlocal offset
        sections.append(raw)
        offset += len(raw)
        return [offset - len(raw), len(raw), zlib.crc32(raw)]

    header_tables: dict[str, Any] = {}
    for name, t in tables.items():
        rows = len(t.ids)
        spec: dict[str, Any] = {"rows": rows, "next_id": t.next_id}
        if t.ids == [str(i) for i in range(1, rows + 1)]:
            spec["ids"] = ["dense"]
        elif all(i.isdigit() and not i.startswith("0") for i in t.ids):
            numbers = [int(i) for i in t.ids]
            spec["ids"] = ["int64" if numbers == sorted(numbers) else "int64-unsorted", *section(_int64(numbers))]
        else:
            spec["ids"] = ["json", *section(json.dumps(t.ids).encode())]
        keys = "\0".join(t.keys).encode("utf-8")
        if any("\0" in k for k in t.keys):
            raise ValueError("a key holds a NUL")  # keys are goldspan's own: ids and names, never NUL
        starts, at = [], 0
        for k in t.keys:
            starts.append(at)
            at += len(k.encode("utf-8")) + 1
        starts.append(at)
        spec["keys"] = section(keys)
        spec["key_starts"] = section(_int64(starts))
        spec["sorted_keys"] = section(_int64(sorted(range(rows), key=t.keys.__getitem__)))
        spec["at"] = section(_int64(t.at))
        spec["columns"], spec["starts"] = {}, {}
        for column, values in t.columns.items():
            kind, raw = _encode_strings(values)
            spec["columns"][column] = [kind, *section(raw)]
            if kind == "text":  # where each value starts: one value is read without decoding the column
                starts, at = [], 0
                for value in values:
                    starts.append(at)
                    at += len((NONE if value is None else value).encode("utf-8")) + 1
                starts.append(at)
                spec["starts"][column] = section(_int64(starts))
        header_tables[name] = spec
    header_extras = {name: section(raw) for name, raw in (extras or {}).items()}
    header = json.dumps(
        {"main": {"file": list(main), "size": main_size, "crc32": main_crc}, "tables": header_tables, "extras": header_extras,
         "journal": None if journal is None else list(journal)},
        separators=(",", ":"),
    ).encode("utf-8")
    handle.write(MAGIC + len(header).to_bytes(8, "little") + header)
    for raw in sections:
        handle.write(raw)


class TableIndex:
    """One table as the index has it, decoded a section at a time when first needed."""

    def __init__(self, source: MappedFile, base: int, spec: dict[str, Any]) -> None:
        self._source, self._base, self._spec = source, base, spec
        self.rows: int = int(spec["rows"])
        self.next_id: int = int(spec["next_id"])
        self.column_names: tuple[str, ...] = tuple(spec["columns"])
        self._columns: dict[str, list[Any]] = {}
        self._starts: dict[str, array.array[int]] = {}
        self._verified: set[Any] = set()  # sections whose CRC was checked
        self._all_keys: list[str] | None = None
        self._bulk: tuple[bytes, array.array[int], array.array[int]] | None = None  # the key sections, once many keys were looked up
        self._finds = 0

    def _section(self, where: Sequence[int]) -> bytes:
        """A section's bytes, checked against the CRC the header gives (an index damaged inside, not only cut short)."""
        offset, length, crc = int(where[0]), int(where[1]), int(where[2])
        raw = self._source.read(self._base + offset, self._base + offset + length)
        if zlib.crc32(raw) != crc:
            raise StoreError(
                f"{self._source.path}: damaged (a section's checksum does not match); delete it (it is only an index) and open the database again."
            )
        return raw

    def sections(self) -> list[tuple[int, int]]:
        """Where each section lies (offset, length) and the length it must have, for a check before any is read."""
        spec = self._spec
        found = [(spec["keys"], None), (spec["key_starts"], 8 * (self.rows + 1)), (spec["sorted_keys"], 8 * self.rows), (spec["at"], 16 * self.rows)]
        if spec["ids"][0] != "dense":
            found.append((spec["ids"][1:], 8 * self.rows if spec["ids"][0].startswith("int64") else None))
        found += [(where[1:], None) for where in spec["columns"].values()]
        found += [(where, 8 * (self.rows + 1)) for where in spec.get("starts", {}).values()]
        for where, length in found:
            if len(where) != 3 or (length is not None and int(where[1]) != length):
                raise ValueError("a section's length is not what its table's rows need")
        return [(int(where[0]), int(where[1])) for where, _ in found]

    @cached_property
    def _at(self) -> array.array[int]:
        at = _from_int64(self._section(self._spec["at"]))
        if len(at) != 2 * self.rows:
            raise ValueError("the index's offsets do not match its rows")
        return at

    def at(self, row: int) -> tuple[int, int]:
        """Where the row's record lies in the main file. Read alone (16 bytes) until a fold reads them
        all: an open reads a few records, and a wrong offset is caught by the record's own key check."""
        if "_at" in self.__dict__:
            return self._at[2 * row], self._at[2 * row + 1]
        offset = self._base + int(self._spec["at"][0]) + 16 * row
        start, end = _RANGE.unpack(self._source.read(offset, offset + 16))
        return start, end

    def load_offsets(self) -> None:
        """Every row's offsets at once, checked (a fold copies every record)."""
        self._at  # noqa: B018 - the cached property reads and checks them

    # -- TinyDB ids --------------------------------------------------------------------------

    @cached_property
    def _numbers(self) -> array.array[int] | list[str]:
        kind, *where = self._spec["ids"]
        if kind == "json":
            return [str(i) for i in json.loads(self._section(where))]
        return _from_int64(self._section(where))

    @cached_property
    def _row_by_id(self) -> dict[str, int]:
        return {self.id_at(row): row for row in range(self.rows)}

    def id_at(self, row: int) -> str:
        if self._spec["ids"][0] == "dense":
            return str(row + 1)
        return str(self._numbers[row])

    def ids(self) -> list[str]:
        if self._spec["ids"][0] == "dense":
            return list(map(str, range(1, self.rows + 1)))
        return list(map(str, self._numbers))

    def row_of(self, doc_id: str) -> int | None:
        kind = self._spec["ids"][0]
        if kind == "dense":
            number = int(doc_id) if doc_id.isdigit() else 0
            return number - 1 if 1 <= number <= self.rows and doc_id == str(number) else None
        if kind == "int64" and doc_id.isdigit():
            numbers = self._numbers
            row = bisect.bisect_left(numbers, int(doc_id))  # type: ignore[arg-type]
            return row if row < self.rows and str(numbers[row]) == doc_id else None
        return self._row_by_id.get(doc_id)

    # -- keys --------------------------------------------------------------------------------

    def _checked(self, name: Any, where: Sequence[int] | None = None) -> None:
        """A section read a few bytes at a time is first checked whole against its CRC, without copying it."""
        if name not in self._verified:
            offset, length, crc = (int(v) for v in (self._spec[name] if where is None else where))
            if self._source.crc32(self._base + offset, self._base + offset + length) != crc:
                raise StoreError(
                    f"{self._source.path}: damaged (a section's checksum does not match); delete it (it is only an index) and open the database again."
                )
            self._verified.add(name)

    def _int_at(self, name: str, position: int) -> int:
        if self._bulk is not None and name == "sorted_keys":
            return self._bulk[2][position]
        offset = self._base + int(self._spec[name][0]) + 8 * position
        return int(_INT.unpack(self._source.read(offset, offset + 8))[0])

    FEW = 16  # keys found a few bytes at a time (about 60 µs each) before the key sections are read whole (13 ms at 200,000)

    def _count_find(self) -> None:
        self._finds += 1
        if self._bulk is None and self._finds > self.FEW:
            keys = self._section(self._spec["keys"])
            starts, order = _from_int64(self._section(self._spec["key_starts"])), _from_int64(self._section(self._spec["sorted_keys"]))
            if len(starts) != self.rows + 1 or len(order) != self.rows:
                raise ValueError("the index's keys do not match its rows")
            self._bulk = (keys, starts, order)

    def load_keys(self) -> None:
        """Every key at once (a fold writes them all): then read from memory, not a few bytes at a time."""
        if self._all_keys is None:
            keys = self._section(self._spec["keys"]).decode("utf-8")
            self._all_keys = keys.split("\0") if self.rows else []
            if len(self._all_keys) != self.rows:
                raise ValueError("the index's keys do not match its rows")

    def key_at(self, row: int) -> str:
        if self._all_keys is not None:
            return self._all_keys[row]
        if self._bulk is not None:
            keys, starts, _ = self._bulk
            return keys[starts[row] : starts[row + 1] - 1].decode("utf-8")
        self._checked("keys")
        self._checked("key_starts")
        offset = self._base + int(self._spec["key_starts"][0]) + 8 * row
        start, end = _RANGE.unpack(self._source.read(offset, offset + 16))
        at = self._base + int(self._spec["keys"][0])
        return self._source.read(at + start, at + end - 1).decode("utf-8")

    def _sorted_key(self, position: int) -> str:
        self._checked("sorted_keys")
        return self.key_at(self._int_at("sorted_keys", position))

    def find(self, key: str) -> int | None:
        """The row holding this key: a binary search over the keys as sorted when the index was written,
        reading a few bytes per step (an open finds a few keys among 200,000 without decoding them)."""
        self._count_find()
        position = bisect.bisect_left(range(self.rows), key, key=self._sorted_key)
        return self._int_at("sorted_keys", position) if position < self.rows and self._sorted_key(position) == key else None

    def rows_with_prefix(self, prefix: str) -> list[int]:
        """Rows whose key starts with ``prefix``, in table order (an article's records: keys are JSON lists that start with its id)."""
        self._count_find()
        position = bisect.bisect_left(range(self.rows), prefix, key=self._sorted_key)
        found = []
        while position < self.rows and self._sorted_key(position).startswith(prefix):
            found.append(self._int_at("sorted_keys", position))
            position += 1
        return sorted(found)

    # -- columns -----------------------------------------------------------------------------

    def column(self, name: str) -> list[Any]:
        """A copy-free decode of one field of every row, cached: callers must not change it."""
        values = self._columns.get(name)
        if values is None:
            kind, *where = self._spec["columns"][name]
            values = self._columns[name] = _decode_strings(kind, self._section(where), self.rows)
        return values

    def value_at(self, name: str, row: int) -> Any:
        """One field of one row: read alone where the column is text (its start offsets are kept), else from the decoded column."""
        if name in self._columns or name not in self._spec.get("starts", {}):
            return self.column(name)[row]
        starts = self._starts.get(name)
        if starts is None:
            starts = self._starts[name] = _from_int64(self._section(self._spec["starts"][name]))
            if len(starts) != self.rows + 1:
                raise ValueError("a column's offsets do not match its rows")
        self._checked(("columns", name), self._spec["columns"][name][1:])
        offset = self._base + int(self._spec["columns"][name][1])
        value = self._source.read(offset + starts[row], offset + starts[row + 1] - 1).decode("utf-8")
        return None if value == NONE else value


@dataclass
class Index:
    tables: dict[str, TableIndex]
    extras: dict[str, bytes]
    journal: tuple[int, int] | None  # the journal (inode, end of lines) whose lines the main file holds


def read_index(source: MappedFile | None, main: MappedFile) -> Index | None:
    """The index in ``source`` if it was written for this main file; None otherwise, and the caller
    parses the main file whole, as without an index. An unreadable index is never an error: it is
    only a shortcut (a damaged section met later is named, with what to do)."""
    if source is None:
        return None
    try:
        if source.read(0, len(MAGIC)) != MAGIC:
            return None
        length = int.from_bytes(source.read(len(MAGIC), len(MAGIC) + 8), "little")
        start = len(MAGIC) + 8
        header = json.loads(source.read(start, start + length))
        written_for = header["main"]
        if tuple(written_for["file"]) != main.signature and (written_for["size"] != main.size or written_for["crc32"] != main.crc32()):
            return None  # not the file it was written for, nor a copy of it (the CRC is read only for a file of the right size)
        base = start + length
        tables = {name: TableIndex(source, base, spec) for name, spec in header["tables"].items()}
        if any(offset < 0 or base + offset + size > source.size for t in tables.values() for offset, size in t.sections()):
            return None  # cut short: a section lies past its end
        extras: dict[str, bytes] = {}
        for name, (offset, size, crc) in header.get("extras", {}).items():
            raw = source.read(base + offset, base + offset + size)
            if zlib.crc32(raw) != crc:
                extras = {}  # all or none: one left out would read as "nothing there" (they are only a shortcut)
                break
            extras[name] = raw
        journal = header.get("journal")
        return Index(tables, extras, None if journal is None else (int(journal[0]), int(journal[1])))
    except (ValueError, KeyError, TypeError, AttributeError, StoreError):  # StoreError: an index cut short
        return None
