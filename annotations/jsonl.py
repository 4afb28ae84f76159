"""JSON Lines as goldspan reads them: every bad line named by file and number, the rest going on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator


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
