"""Reading JSONL with a clear line for every bad record, the rest going on (srsly writes it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator


def read_objects(path: Path, problems: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(f"{path}: cannot be read as UTF-8 text ({error}).")
        return
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"{where}: not valid JSON ({error.msg}); skipped.")
            continue
        if not isinstance(value, dict) or not isinstance(value.get("text"), str):
            problems.append(f'{where}: a record needs a "text" string; skipped.')
            continue
        yield where, value
