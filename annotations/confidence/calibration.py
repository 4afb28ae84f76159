"""Judging a scorer on held-out gold: a score per suggestion, and whether the gold has it.

- expected calibration error over 10 equal-width bins (the share of suggestions in each bin times
  the gap between the bin's mean score and its share of right suggestions),
- Brier score (mean squared gap between score and outcome),
- AUC: the chance that a right suggestion scores above a wrong one (ties count half), i.e. how well
  the score ranks the suggestions an annotator should look at first.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Isotonic:
    """A monotone map from raw scores to probabilities, fitted by pool-adjacent-violators: each
    stretch of raw scores gets the share of right suggestions in it, never decreasing with the score.
    ``at`` interpolates linearly between the stretches' mean raw scores."""

    xs: tuple[float, ...] = field(default_factory=tuple)  # each block's mean raw score, increasing
    ys: tuple[float, ...] = field(default_factory=tuple)  # each block's share of right suggestions, non-decreasing

    @classmethod
    def fit(cls, scores: Sequence[float], outcomes: Sequence[bool]) -> Isotonic:
        blocks: list[list[float]] = []  # [sum of scores, sum of outcomes, count]
        for score, right in sorted(zip(scores, outcomes)):
            blocks.append([score, float(right), 1.0])
            while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
                last = blocks.pop()
                for i in range(3):
                    blocks[-1][i] += last[i]
        return cls(tuple(b[0] / b[2] for b in blocks), tuple(b[1] / b[2] for b in blocks))

    def at(self, score: float) -> float:
        if not self.xs:
            return score
        i = bisect_right(self.xs, score)
        if i == 0:
            return self.ys[0]
        if i == len(self.xs):
            return self.ys[-1]
        x0, x1, y0, y1 = self.xs[i - 1], self.xs[i], self.ys[i - 1], self.ys[i]
        return y0 + (y1 - y0) * (score - x0) / (x1 - x0) if x1 > x0 else y1
