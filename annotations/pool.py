"""A pool of articles bigger than the annotation DB (issue 23): `preannotate POOL --shards-out DIR`
writes each article with its suggestions (and scores) to compressed JSON Lines shards instead of
the DB; `goldspan select --from DIR --db DB --n N` then loads only the chosen articles and their
suggestions into the DB. This is how a million-article archive feeds a ten-thousand-article project.

A shard is ``shard-NNNNN.jsonl.gz``, one line per article: ``{"article": Article.to_dict(),
"suggestions": Suggestions.to_dict(), "uncertainty": mean of 1 - |2p - 1| or null}``.
"""

from __future__ import annotations

import gzip
import hashlib
import heapq
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .datamodel import Article, Suggestions
from .errors import InputError
from .ordering import uncertainty_of

SHARD_ARTICLES = 1_000  # articles per shard file
PATTERN = "shard-*.jsonl.gz"


def check_out_dir(out: Path) -> None:
    """A new or empty folder: shards are never written over another pool's."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"--shards-out {out}: exists and is not an empty folder; give a new one.")


def write_shards(out: Path, pairs: Iterable[tuple[Article, Suggestions]]) -> int:
    """Write the pool; returns how many articles. Each shard is written to a temporary name and
    renamed when whole, so a shard that exists is complete."""
    out.mkdir(parents=True, exist_ok=True)
    count = number = 0
    lines: list[str] = []

    def flush() -> None:
        nonlocal number, lines
        if not lines:
            return
        final = out / f"shard-{number:05d}.jsonl.gz"
        partial = final.with_name(final.name + ".partial")
        with gzip.open(partial, "wt", encoding="utf-8") as handle:
            handle.write("".join(lines))
        partial.replace(final)
        number += 1
        lines = []

    for article, found in pairs:
        scores = [s.score for s in found.spans if s.score is not None]
        uncertainty = round(sum(map(uncertainty_of, scores)) / len(scores), 6) if scores else None
        lines.append(json.dumps({"article": article.to_dict(), "suggestions": found.to_dict(), "uncertainty": uncertainty}, ensure_ascii=False) + "\n")
        count += 1
        if len(lines) >= SHARD_ARTICLES:
            flush()
    flush()
    return count


@dataclass(frozen=True)
class PoolEntry:
    article: Article
    suggestions: Suggestions
    uncertainty: float | None


def read_pool(folder: Path) -> Iterator[PoolEntry]:
    shards = sorted(folder.glob(PATTERN)) if folder.is_dir() else []
    if not shards:
        raise InputError(f"--from {folder}: no pool shards ({PATTERN}) there; make them with goldspan preannotate POOL --shards-out {folder}.")
    for shard in shards:
        try:
            with gzip.open(shard, "rt", encoding="utf-8") as handle:
                for n, line in enumerate(handle, start=1):
                    record = json.loads(line)
                    yield PoolEntry(Article.from_dict(record["article"]), Suggestions.from_dict(record["suggestions"]), record.get("uncertainty"))
        except (OSError, EOFError, ValueError, KeyError, TypeError) as error:
            raise InputError(f"--from {shard}: damaged pool shard ({type(error).__name__}); make the pool again.") from None


def select(folder: Path, n: int, order: str, seed: int = 0, label: str | None = None) -> list[PoolEntry]:
    """The ``n`` entries to annotate: the most uncertain first (``uncertain``), a seeded draw
    (``random``), or the pool's own order (``source``); with ``label``, only articles whose
    suggestions have it. Streams the pool: memory grows with ``n``, not with the pool."""
    if n < 1:
        raise InputError(f"--n {n}: give how many articles to select (1 or more).")
    if order not in ("uncertain", "random", "source"):
        raise InputError(f"--order {order}: not an order; choose uncertain, random or source.")
    chosen: list[tuple[float, int, PoolEntry]] = []  # a heap of the best n so far, worst on top
    for position, entry in enumerate(read_pool(folder)):
        if label is not None and not any(s.label == label for s in entry.suggestions.spans):
            continue
        if order == "uncertain":
            key = entry.uncertainty if entry.uncertainty is not None else -1.0  # unscored after every scored one
        elif order == "random":
            key = -int.from_bytes(hashlib.blake2b(f"{seed}\0{entry.article.id}".encode(), digest_size=8).digest(), "big")
        else:
            key = -float(position)
        item = (key, -position, entry)  # ties: the earlier in the pool wins
        if len(chosen) < n:
            heapq.heappush(chosen, item)
        elif item[:2] > chosen[0][:2]:
            heapq.heapreplace(chosen, item)
    return [entry for _, _, entry in sorted(chosen, key=lambda item: (item[0], item[1]), reverse=True)]
