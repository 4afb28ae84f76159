"""Reading articles from .txt / .md files, folders of them, and Prodigy-style .jsonl.

A bad file never stops the others: each problem becomes one line in the report, naming the file
(and line, for JSONL), and loading goes on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .datamodel import Article
from .errors import InputError
from .jsonl import json_lines
from .text import read_utf8
from .words import plural

TEXT_SUFFIXES = frozenset({".txt", ".md"})
JSONL_SUFFIXES = frozenset({".jsonl"})
ARTICLE_SUFFIXES = TEXT_SUFFIXES | JSONL_SUFFIXES



@dataclass
class LoadReport:
    """What loading found: the articles in a stable order, and what the user should hear about."""

    articles: list[Article] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # files or records that could not be read
    notices: list[str] = field(default_factory=list)  # skipped on purpose: empty files, duplicates
    _seen: dict[str, str] = field(default_factory=dict, repr=False)

    def add(self, article: Article, where: str) -> None:
        if not article.text.strip():
            self.notices.append(f"{where}: skipped, the article is empty.")
            return
        earlier = self._seen.get(article.id)
        if earlier is not None:
            self.notices.append(f"{where}: same text as {earlier}, kept once.")
            return
        self._seen[article.id] = where
        self.articles.append(article)


def load_articles(sources: Iterable[str | Path]) -> LoadReport:
    """Load every article under the given files and folders (folders recursively, sorted by path)."""
    report = LoadReport()
    for source in sources:
        path = Path(source)
        if not path.exists():
            raise InputError(f"{path}: no such file or folder.")
        if path.is_dir():
            files = list(_article_files(path, report))
            if not files:
                report.notices.append(f"{path}: no .txt, .md or .jsonl files in this folder.")
        elif path.suffix.lower() in ARTICLE_SUFFIXES:
            files = [path]
        else:
            raise InputError(f"{path}: not an article file; goldspan reads .txt, .md and .jsonl.")
        for file in files:
            _load_file(file, report)
    return report


def _article_files(folder: Path, report: LoadReport) -> Iterator[Path]:
    def on_error(error: OSError) -> None:
        report.problems.append(f"{error.filename}: cannot read this folder ({error.strerror}).")

    # followlinks=False: a symlink loop cannot make the walk endless.
    found: list[Path] = []
    other: list[Path] = []
    for root, dirs, names in os.walk(folder, onerror=on_error):
        dirs.sort()
        for name in names:
            if name.startswith("."):
                continue  # hidden files (editor backups, .DS_Store) are nobody's articles
            (found if Path(name).suffix.lower() in ARTICLE_SUFFIXES else other).append(Path(root) / name)
    if other:
        other.sort()
        shown = ", ".join(str(p) for p in other[:5]) + (f" and {len(other) - 5} more" if len(other) > 5 else "")
        report.notices.append(f"{folder}: skipped {plural(len(other), 'file')} that {'is' if len(other) == 1 else 'are'} not .txt, .md or .jsonl: {shown}.")
    yield from sorted(found)


def _load_file(path: Path, report: LoadReport) -> None:
    try:
        text = read_utf8(path)
    except InputError as error:
        report.problems.append(str(error))
        return
    if path.suffix.lower() in JSONL_SUFFIXES:
        _load_jsonl(path, text, report)
    else:
        report.add(Article.from_text(text, source=str(path)), str(path))


def _load_jsonl(path: Path, text: str, report: LoadReport) -> None:
    for where, record in json_lines(path, text, report.problems):
        try:
            article = article_from_record(record, source=where)
        except InputError as error:
            report.problems.append(f"{where}: {error}")
            continue
        report.add(article, where)


def article_from_record(record: Any, *, source: str) -> Article:
    """A Prodigy-shaped task ``{"text": ..., "meta": {...}}``; other top-level keys are kept in meta."""
    if not isinstance(record, dict):
        raise InputError(f"expected a JSON object with a \"text\" key, got {type(record).__name__}; line skipped.")
    if "text" not in record:
        raise InputError('the record has no "text" key; line skipped.')
    text = record["text"]
    if not isinstance(text, str):
        raise InputError(f'"text" must be a string, got {type(text).__name__}; line skipped.')
    meta = record.get("meta")
    meta = dict(meta) if isinstance(meta, dict) else ({} if meta is None else {"meta": meta})
    for key, value in record.items():
        if key not in ("text", "meta"):
            meta.setdefault(key, value)
    title = meta.get("title") if isinstance(meta.get("title"), str) else ""
    return Article.from_text(text, title=title, source=source, meta=meta)
