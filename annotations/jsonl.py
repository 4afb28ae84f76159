"""JSON Lines as goldspan reads them, for article files and every JSONL format alike: every bad
line named by file and number, the rest going on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from .errors import InputError
from .text import read_utf8


def json_lines(path: Path, text: str, problems: list[str]) -> Iterator[tuple[str, Any]]:
    """(``path:line``, value) for each line that parses; one line in ``problems`` for each that does not."""
    # split on "\n" only: str.splitlines would also break at U+2028 and friends, which JSON allows raw in strings.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"{where}: not valid JSON ({error.msg} at column {error.colno}); line skipped.")


def read_objects(path: Path, problems: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Prodigy-shaped records (an object with a "text" string at least) of a JSONL file, each with its ``path:line``."""
    try:
        text = read_utf8(path)
    except InputError as error:
        problems.append(str(error))
        return
    for where, value in json_lines(path, text, problems):
        if not isinstance(value, dict) or not isinstance(value.get("text"), str):
            problems.append(f'{where}: a record needs a "text" string; skipped.')
            continue
        yield where, value
