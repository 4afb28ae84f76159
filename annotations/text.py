"""Text as goldspan reads it, from any file: strict UTF-8 (a BOM allowed) or a reason why not, and
line ends made LF, with span offsets moved to match. Article loading and every import format read
through here, so a file is accepted or refused the same way wherever it comes in."""

from __future__ import annotations

from bisect import bisect_right
from pathlib import Path
from typing import Sequence, TypeVar

from .errors import InputError

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

SpanLike = TypeVar("SpanLike", bound=tuple)


def decode_utf8(raw: bytes) -> str:
    """Strict UTF-8 with an optional BOM; anything else is refused with the reason (no file name: the caller adds it)."""
    if raw.startswith(_UTF16_BOMS):
        raise InputError("is UTF-16 text; goldspan reads UTF-8 only (re-save the file as UTF-8).")
    if b"\x00" in raw:
        raise InputError("looks like a binary file (it contains NUL bytes), not text.")
    if raw.startswith(_UTF8_BOM):
        raw = raw[len(_UTF8_BOM) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = raw[error.start : error.start + 1].hex()
        raise InputError(f"is not UTF-8 text (byte 0x{bad} at offset {error.start}); re-save it as UTF-8.") from None


def read_utf8(path: Path) -> str:
    """A file's text exactly as it is (line ends too: brat's offsets count a CR), or one line naming it."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror}).") from None
    try:
        return decode_utf8(raw)
    except InputError as error:
        raise InputError(f"{path}: {error}") from None


def normalise_text(text: str) -> str:
    """CRLF and lone CR become LF, so offsets match the lines the screen shows."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def normalise_with_spans(text: str, spans: Sequence[tuple[int, int, str]]) -> tuple[str, list[tuple[int, int, str]]]:
    """``normalise_text``, with each span's offsets moved to the same characters in the result."""
    if "\r" not in text:
        return text, list(spans)
    removed = [i for i in range(len(text) - 1) if text[i] == "\r" and text[i + 1] == "\n"]  # each CR of a CRLF goes

    def moved(offset: int) -> int:
        return offset - bisect_right(removed, offset - 1)

    return normalise_text(text), [(moved(s), moved(e), label) for s, e, label in spans]
