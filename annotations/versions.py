"""Versions of one article's spans (annotators, the model) and where they differ."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from .datamodel import Span, SpanState


@dataclass(frozen=True)
class Version:
    name: str
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Difference:
    start: int
    end: int
    spans: dict[str, tuple[Span, ...]]  # version name → its spans inside start..end

    def labels(self) -> set[str]:
        return {s.label for spans in self.spans.values() for s in spans}

    def kind(self) -> str:
        shapes = {tuple((s.start, s.end) for s in spans) for spans in self.spans.values()}
        if any(not spans for spans in self.spans.values()):
            return "missing"
        return "label" if len(shapes) == 1 else "boundary"


def _same(span: Span) -> tuple[int, int, str]:
    return (span.start, span.end, span.label)


def differences(versions: Sequence[Version]) -> list[Difference]:
    """Stretches where the versions disagree, in reading order (overlapping spans make one stretch)."""
    tagged = sorted((s, v.name) for v in versions for s in v.spans)
    found: list[Difference] = []
    cluster: list[tuple[Span, str]] = []
    end = -1

    def close() -> None:
        if not cluster:
            return
        start = cluster[0][0].start
        per = {v.name: tuple(s for s, n in cluster if n == v.name) for v in versions}
        if len({tuple(map(_same, spans)) for spans in per.values()}) > 1:
            found.append(Difference(start, max(s.end for s, _ in cluster), per))

    for span, name in tagged:
        if span.start >= end:
            close()
            cluster, end = [], -1
        cluster.append((span, name))
        end = max(end, span.end)
    close()
    return found


def consensus(versions: Sequence[Version]) -> list[Span]:
    """The spans every version has, identically."""
    if not versions:
        return []
    common = set(map(_same, versions[0].spans))
    for version in versions[1:]:
        common &= set(map(_same, version.spans))
    return [s.replace(state=SpanState.CONFIRMED) for s in versions[0].spans if _same(s) in common]


def majority_choice(difference: Difference, versions: Sequence[Version]) -> str:
    """The version whose spans in this stretch the most versions share (ties: the one listed first)."""
    shapes = {name: tuple(map(_same, spans)) for name, spans in difference.spans.items()}
    votes = Counter(shapes.values())
    best = max(votes.values())
    return next(v.name for v in versions if votes[shapes[v.name]] == best)


def majority(versions: Sequence[Version]) -> list[Span]:
    """Where a review starts: the spans every version agrees on, and in each stretch where they differ,
    the spans the most versions have there (as Prodigy's review pre-selects the most common version).

    Each stretch is taken whole from one version, so the result never overlaps itself."""
    if not versions:
        return []
    diffs = differences(versions)
    spans = [s for s in consensus(versions) if not any(d.start <= s.start < d.end for d in diffs)]
    for diff in diffs:
        spans += [s.replace(state=SpanState.CONFIRMED) for s in diff.spans[majority_choice(diff, versions)]]
    return sorted(spans)


def matching(difference: Difference, spans: Sequence[Span]) -> list[str]:
    """The versions whose spans in the difference's stretch are exactly ``spans`` there."""
    mine = tuple(_same(s) for s in spans if difference.start <= s.start < difference.end)
    return [name for name, theirs in difference.spans.items() if tuple(map(_same, theirs)) == mine]
