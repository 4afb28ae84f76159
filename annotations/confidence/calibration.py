"""Judging a scorer on held-out gold: a score per suggestion, and whether the gold has it.

- expected calibration error over 10 equal-width bins (the share of suggestions in each bin times
  the gap between the bin's mean score and its share of right suggestions),
- Brier score (mean squared gap between score and outcome),
- AUC: the chance that a right suggestion scores above a wrong one (ties count half), i.e. how well
  the score ranks the suggestions an annotator should look at first.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Judgement:
    n: int
    right: int
    ece: float
    brier: float
    auc: float


def expected_calibration_error(scores: Sequence[float], outcomes: Sequence[bool], bins: int = 10) -> float:
    if not scores:
        return 0.0
    totals = [0.0] * bins
    hits = [0] * bins
    counts = [0] * bins
    for score, right in zip(scores, outcomes):
        b = min(bins - 1, int(score * bins))
        totals[b] += score
        hits[b] += right
        counts[b] += 1
    return sum(abs(totals[b] / counts[b] - hits[b] / counts[b]) * counts[b] for b in range(bins) if counts[b]) / len(scores)


def brier(scores: Sequence[float], outcomes: Sequence[bool]) -> float:
    return sum((score - right) ** 2 for score, right in zip(scores, outcomes)) / len(scores) if scores else 0.0


def auc(scores: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Mann-Whitney: over every (right, wrong) pair, 1 if right scores higher, 0.5 on a tie; 0.5 with no pairs."""
    wrong = sorted(s for s, right in zip(scores, outcomes) if not right)
    pairs = 0.0
    rights = 0
    for score, right in zip(scores, outcomes):
        if right:
            rights += 1
            below, tied = bisect_left(wrong, score), bisect_right(wrong, score) - bisect_left(wrong, score)
            pairs += below + 0.5 * tied
    return pairs / (rights * len(wrong)) if rights and wrong else 0.5


def judge(scores: Sequence[float], outcomes: Sequence[bool], bins: int = 10) -> Judgement:
    return Judgement(len(scores), sum(outcomes), expected_calibration_error(scores, outcomes, bins), brier(scores, outcomes), auc(scores, outcomes))
