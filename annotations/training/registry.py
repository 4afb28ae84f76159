"""The DB's record of trained models (table ``models``): one record per `goldspan train` run."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..store import Store

VERSION_PREFIX = "goldspan-"


@dataclass(frozen=True)
class ModelRecord:
    version: str  # goldspan-N
    run: str  # a short id of the run, unique across databases (the suggestions' cache key)
    path: str  # where the pipeline was written, absolute
    base: str
    labels: list[str]
    train_articles: int
    train_examples: int
    eval_articles: int
    eval_examples: int
    eval_generation: int
    gold_hash: str
    f: float
    p: float
    r: float
    per_label: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: float = 0.0
    stopped: str = "finished"  # or "time limit", "interrupted"
    created: str = ""
    # Whether annotate suggests with it: it scored above the model in use when it was trained
    # (``compared_with``, scored ``compared_f`` on the same evaluation set; None: nothing to compare).
    in_use: bool = True
    compared_with: str = ""
    compared_f: float | None = None
    not_used_because: str = ""  # a reason other than its score ("trained on alice's versions only, ...")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ModelRecord:
        known = {name: doc[name] for name in cls.__dataclass_fields__ if name in doc}
        return cls(**known)

    @property
    def number(self) -> int:
        found = re.fullmatch(rf"{VERSION_PREFIX}(\d+)", self.version)
        return int(found.group(1)) if found else 0


def records(store: Store) -> list[ModelRecord]:
    return [ModelRecord.from_dict(doc) for doc in store.model_records()]


def next_version(store: Store) -> str:
    return f"{VERSION_PREFIX}{max((r.number for r in records(store)), default=0) + 1}"


def in_use(store: Store, generation: int) -> ModelRecord | None:
    """The model annotate suggests with: the latest on the current evaluation set that beat the model
    in use before it (each scored on the same held-out articles, so this is the best so far) and
    whose folder is still there; None: none has, and the installed model is used."""
    usable = [r for r in records(store) if r.in_use and r.eval_generation == generation and Path(r.path, "meta.json").exists()]
    return max(usable, key=lambda r: r.number, default=None)


def best_model_path(store: Store) -> str | None:
    """The folder of the model in use (``in_use``; None: there is none)."""
    from .eval_split import current_generation

    found = in_use(store, current_generation(store))
    return None if found is None else found.path


def bases(store: Store) -> dict[str, str]:
    """Each trained model's version → the base it was trained from."""
    return {r.version: r.base for r in records(store)}
