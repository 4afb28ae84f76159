"""Prodigy-shaped JSONL records (a "text" string at least), for the JSONL formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from ..jsonl import json_lines


def read_objects(path: Path, problems: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(f"{path}: cannot be read as UTF-8 text ({error}).")
        return
    for where, value in json_lines(path, text, problems):
        if not isinstance(value, dict) or not isinstance(value.get("text"), str):
            problems.append(f'{where}: a record needs a "text" string; skipped.')
            continue
        yield where, value
