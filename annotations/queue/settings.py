"""A queue's settings, set by the lead with `goldspan queue setup` and kept in the DB's ``queue`` table.

- ``overlap``: how many different annotators answer each article (1 splits the work; 2 or more give
  agreement). With ``overlap_fraction`` only that share of the articles, drawn by a seeded hash of
  their ids (so every process draws the same), gets ``overlap`` answers; the rest get one.
- ``annotators``: who may take work (None: any annotator who can write the DB).
- ``order``: which article comes next (``ordering.ORDERS``), over the DB's articles as they are now:
  articles added later join the queue.
- ``lease_minutes``: how long an article stays with an annotator who has gone quiet.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, fields
from typing import Any, Mapping

from ..errors import InputError, StoreError

VERSION = 1  # of the settings record: a DB whose queue a newer goldspan set up is refused
RECORD = "settings"  # the name of the settings record in the queue table


@dataclass(frozen=True)
class QueueSettings:
    overlap: int = 1
    overlap_fraction: float | None = None
    annotators: tuple[str, ...] | None = None
    order: str = "source"
    seed: int = 0
    lease_minutes: float = 30.0

    def __post_init__(self) -> None:
        from ..ordering import ORDERS

        if self.overlap < 1:
            raise InputError(f"--overlap {self.overlap}: give 1 (each article once) or more (answered by that many annotators).")
        if self.overlap_fraction is not None and not 0 < self.overlap_fraction <= 1:
            raise InputError(f"--overlap-fraction {self.overlap_fraction:g}: give a share above 0 and at most 1 (0.1 = one article in ten).")
        if self.order not in ORDERS:
            raise InputError(f"--order {self.order}: not an order; choose one of {', '.join(ORDERS)}.")
        if not (self.lease_minutes > 0 and math.isfinite(self.lease_minutes)):
            raise InputError(f"--lease-minutes {self.lease_minutes:g}: give a time above 0 minutes.")
        if self.annotators is not None and not self.annotators:
            raise InputError("--annotators: name at least one annotator (or give --open for anyone).")
        if self.annotators is not None and self.overlap > len(self.annotators):
            raise InputError(f"--overlap {self.overlap}: more than the {len(self.annotators)} annotators allowed ({', '.join(self.annotators)}); no article could be finished.")

    def needed(self, article_id: str) -> int:
        """How many different annotators this article needs."""
        if self.overlap_fraction is None or self.overlap == 1:
            return self.overlap
        return self.overlap if _draw(self.seed, article_id) < self.overlap_fraction else 1

    def may_join(self, annotator: str) -> bool:
        return self.annotators is None or annotator in self.annotators

    @property
    def lease_seconds(self) -> float:
        return self.lease_minutes * 60

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": RECORD, "version": VERSION, "overlap": self.overlap, "overlap_fraction": self.overlap_fraction,
            "annotators": list(self.annotators) if self.annotators is not None else None, "order": self.order, "seed": self.seed,
            "lease_minutes": self.lease_minutes,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], where: str) -> QueueSettings:
        """The stored record; a newer or damaged one is refused in one line (``where``: the DB's path)."""
        version = doc.get("version")
        if isinstance(version, (int, float)) and version > VERSION:
            raise StoreError(f"{where}: its work queue was set up by a newer goldspan (queue version {version}); upgrade goldspan to use it.")
        try:
            annotators = doc.get("annotators")
            if annotators is not None and not isinstance(annotators, list):
                raise TypeError("annotators")
            fraction = doc.get("overlap_fraction")
            return cls(
                overlap=int(doc["overlap"]), overlap_fraction=None if fraction is None else float(fraction),
                annotators=None if annotators is None else tuple(str(a) for a in annotators), order=str(doc["order"]),
                seed=int(doc.get("seed", 0)), lease_minutes=float(doc["lease_minutes"]),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, InputError):
            raise StoreError(f"{where}: damaged work queue settings; it was left untouched. Run `goldspan queue setup` again to replace them.") from None

    def changes_from(self, old: QueueSettings | None) -> list[str]:
        """What differs from ``old``, one phrase per setting (for `queue setup` to print)."""
        if old is None:
            return []
        said = []
        for field in fields(self):
            before, after = getattr(old, field.name), getattr(self, field.name)
            if before != after:
                said.append(f"{field.name.replace('_', '-')}: {_shown(before)} → {_shown(after)}")
        return said

    def describe(self) -> str:
        how = f"each article answered by {self.overlap} annotator{'s' if self.overlap > 1 else ''}"
        if self.overlap_fraction is not None and self.overlap > 1:
            how = f"{self.overlap_fraction:.0%} of the articles answered by {self.overlap} annotators, the rest by one"
        who = "anyone who can write the database" if self.annotators is None else ", ".join(self.annotators)
        return f"{how}; order {self.order}; leases of {self.lease_minutes:g} min; open to {who}"


def _draw(seed: int, article_id: str) -> float:
    """A number in [0, 1) fixed by the seed and the article: the same in every process and run."""
    digest = hashlib.blake2b(f"{seed}\0{article_id}".encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ",".join(value)
    return f"{value:g}" if isinstance(value, float) else str(value)
