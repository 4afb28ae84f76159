"""Versions of one article's spans (annotators, the model) and where they differ."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from operator import attrgetter
from typing import Sequence

from ..datamodel import Span, SpanState


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


_START = attrgetter("start")


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


def majority_choice(difference: Difference, versions: Sequence[Version]) -> tuple[str, bool]:
    """The version whose spans in this stretch the most versions share, and whether that was a tie.

    A tie (two versions that differ always are one) goes to the spans that keep the most entities,
    then to the version listed first: a review should not start by dropping what one annotator found."""
    shapes = {name: tuple(map(_same, spans)) for name, spans in difference.spans.items()}
    votes = Counter(shapes.values())
    best = max(votes.values())
    leaders = [v.name for v in versions if votes[shapes[v.name]] == best]
    tie = len({shapes[name] for name in leaders}) > 1
    return max(leaders, key=lambda name: (len(shapes[name]), -leaders.index(name))), tie


def majority(versions: Sequence[Version], diffs: Sequence[Difference] | None = None) -> list[Span]:
    """Where a review starts: the spans every version agrees on, and in each stretch where they differ,
    the spans the most versions have there (as Prodigy's review pre-selects the most common version).

    Each stretch is taken whole from one version, so the result never overlaps itself. (A span every
    version has is in no stretch: a version holding it can hold nothing that overlaps it.)"""
    if not versions:
        return []
    spans = consensus(versions)
    for diff in differences(versions) if diffs is None else diffs:
        spans += [s.replace(state=SpanState.CONFIRMED) for s in diff.spans[majority_choice(diff, versions)[0]]]
    return sorted(spans)


def within(spans: Sequence[Span], start: int, end: int) -> Sequence[Span]:
    """The spans (in reading order) that start inside ``start..end``, found by bisection."""
    return spans[bisect_left(spans, start, key=_START) : bisect_left(spans, end, key=_START)]


def matching(difference: Difference, spans: Sequence[Span]) -> list[str]:
    """The versions whose spans in the difference's stretch are exactly those of ``spans`` (in reading order) there."""
    mine = tuple(map(_same, within(spans, difference.start, difference.end)))
    return [name for name, theirs in difference.spans.items() if tuple(map(_same, theirs)) == mine]
