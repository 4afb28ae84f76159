"""What every benchmark reports: one row per figure, beside its baseline."""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from typing import Any, Sequence


@dataclass(frozen=True)
class Row:
    figure: str
    goldspan: float
    baseline: float
    ratio: float
    target: str
    passed: bool

    def as_json(self) -> dict[str, Any]:
        return {"figure": self.figure, "goldspan": self.goldspan, "baseline": self.baseline, "ratio": self.ratio,
                "target": self.target, "pass": self.passed}  # fmt: skip


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def p95(samples: Sequence[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def made_up_paragraphs(words: int, vocabulary: Sequence[str], rng: random.Random) -> list[str]:
    """Paragraphs of 40 to 120 words drawn from ``vocabulary``, ``words`` in all: a long article."""
    paragraphs, count = [], 0
    while count < words:
        n = min(words - count, rng.randint(40, 120))
        paragraphs.append(" ".join(rng.choice(vocabulary) for _ in range(n)) + ".")
        count += n
    return paragraphs
