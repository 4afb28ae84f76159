"""Annotation guidelines: a Markdown file a lead stores in the DB (`queue setup --guidelines`, or
`annotate --guidelines`), shown to every annotator on a key of its own. A ``## LABEL`` section's
first line is that label's one-line definition, shown beside the label in the label picker and the help."""

from __future__ import annotations

import re
from pathlib import Path

from .errors import InputError
from .store import Store
from .text import read_utf8

SETTING = "guidelines"  # the settings record that holds them: {"name": "guidelines", "value": markdown}
MAX_BYTES = 1 << 20  # guidelines are a page or ten, not a corpus

_HEADING = re.compile(r"^##\s+(?P<label>\S.*?)\s*#*\s*$")


def read_guidelines(path: Path) -> str:
    """The file's Markdown, or one line saying why it cannot be used."""
    if not path.exists():
        raise InputError(f"--guidelines {path}: no such file.")
    if path.is_dir():
        raise InputError(f"--guidelines {path}: is a folder; give a Markdown file.")
    if path.stat().st_size > MAX_BYTES:
        raise InputError(f"--guidelines {path}: larger than {MAX_BYTES >> 20} MB; guidelines are read on screen, give a shorter file.")
    try:
        text = read_utf8(path)
    except InputError as error:
        raise InputError(f"--guidelines {error}") from None
    if not text.strip():
        raise InputError(f"--guidelines {path}: is empty.")
    return text


def save_guidelines(store: Store, markdown: str) -> None:
    store.save_setting(SETTING, markdown)


def stored_guidelines(store: Store) -> str | None:
    value = store.setting(SETTING)
    return value if isinstance(value, str) and value.strip() else None


def label_definitions(markdown: str | None) -> dict[str, str]:
    """Label -> its one-line definition: the first line of text under a ``## LABEL`` heading."""
    found: dict[str, str] = {}
    label: str | None = None
    for line in (markdown or "").splitlines():
        heading = _HEADING.match(line)
        if heading is not None:
            label = heading.group("label")
            continue
        if line.startswith("#"):
            label = None
            continue
        if label is not None and line.strip() and label not in found:
            found[label] = line.strip()
            label = None
    return found
