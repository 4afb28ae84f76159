"""What a goldspan DB is: its tables, its schema version, and the check that refuses anything else."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ..errors import StoreError

# 2: reviewers' records have a table of their own ("reviews"), apart from the annotators' versions,
# and annotations carry the annotator's own comment and flag. A schema-1 DB opened for writing is
# migrated (the reviews it holds move to "reviews") and marked 2, which a goldspan that reads only 1
# refuses; one that is already running stops at the first journal line it cannot read.
# 3: tables for training: "settings" (one record per setting, by name: the evaluation split),
# "eval_set" (which articles are held out for evaluation, fixed once assigned) and "models" (one
# record per `goldspan train` run). A goldspan that reads only 2 would stop at the first journal
# line of a table it does not know, so the version says it first.
# 4: "decisions", one record per teach-mode answer (article, annotator, start, end, label), and
# annotation records' optional "active_seconds"; scores on suggestion spans are an optional field
# an older goldspan ignores.
# 5: the work queue: "queue" (its settings, one record by name) and "leases" (one record per article
# an annotator holds now, by article and annotator). A goldspan that reads only 4 would stop at the
# first journal line of either.
SCHEMA_VERSION = 5
FORMAT_NAME = "goldspan"

META, ARTICLES, SUGGESTIONS, ANNOTATIONS, REVIEWS = "meta", "articles", "suggestions", "annotations", "reviews"
SETTINGS, EVAL_SET, MODELS = "settings", "eval_set", "models"
DECISIONS = "decisions"
QUEUE, LEASES = "queue", "leases"


def check_format(path: Path, data: Mapping[str, Any]) -> None:
    """Refuse, without writing a byte, any JSON that is not a goldspan DB this version can read."""
    meta_docs = list(data.get(META, {}).values())
    if not meta_docs or not isinstance(meta_docs[0], dict) or meta_docs[0].get("format") != FORMAT_NAME:
        raise StoreError(f"{path}: not a goldspan database (it has no goldspan meta table); it was left untouched.")
    version = meta_docs[0].get("schema_version")
    if not isinstance(version, int):
        raise StoreError(f"{path}: damaged goldspan database (its schema version is missing); it was left untouched.")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: written by a newer goldspan (schema {version}; this one reads up to {SCHEMA_VERSION}); upgrade goldspan to open it."
        )
