"""How fast people annotate, from what the DB holds (`goldspan stats --throughput`): per annotator and
per mode, the decisions made, how they were answered, the active time spent, and the rates.

- **manual correction** (`annotate`): a decision is an article answered (accept, reject or ignore);
  its time is the record's ``active_seconds`` (the gaps between the annotator's keys on it, each
  counted up to IDLE_CUT); an entity fixed is a span the annotator edited or added, or a suggestion
  they removed (no span of the record overlaps it). Seconds per entity fixed is, over the answered
  articles with at least one fix, the median of active time / entities fixed.
- **teach**: a decision is one answer (``space``, ignore, counts as one); its time runs from the
  example's showing to the answer, up to IDLE_CUT. Seconds per entity is the median per decision.

Rates are per active hour, not per hour on the clock: a lunch break does not lower them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from typing import Any, Iterable

from .datamodel import Annotation, Answer, ModelId, SpanState
from .teaching.decisions import Decision

MANUAL, TEACH = "manual correction", "teach"


@dataclass
class Throughput:
    annotator: str
    mode: str
    decisions: int = 0
    accepted: int = 0
    rejected: int = 0
    ignored: int = 0
    active_seconds: float = 0.0
    entities_fixed: int = 0
    _per_entity: list[float] = field(default_factory=list, repr=False)
    _per_decision: list[float] = field(default_factory=list, repr=False)  # active seconds of each timed decision
    times: list[str] = field(default_factory=list, repr=False)  # when each decision was made (ISO), for the plot

    @property
    def per_hour(self) -> float | None:
        """Decisions per active hour (None before any active time)."""
        return self.decisions / (self.active_seconds / 3600) if self.active_seconds > 0 else None

    @property
    def median_seconds_per_entity(self) -> float | None:
        return median(self._per_entity) if self._per_entity else None

    @property
    def median_seconds_per_decision(self) -> float | None:
        """The median active time of one decision: per article answered (manual), per answer (teach)."""
        return median(self._per_decision) if self._per_decision else None

    def count(self, answer: Answer | None) -> None:
        self.decisions += 1
        if answer is Answer.ACCEPT:
            self.accepted += 1
        elif answer is Answer.REJECT:
            self.rejected += 1
        else:
            self.ignored += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "annotator": self.annotator, "mode": self.mode, "decisions": self.decisions, "accepted": self.accepted,
            "rejected": self.rejected, "ignored": self.ignored, "active_seconds": round(self.active_seconds, 1),
            "per_hour": None if self.per_hour is None else round(self.per_hour, 1), "entities_fixed": self.entities_fixed,
            "median_seconds_per_entity": None if self.median_seconds_per_entity is None else round(self.median_seconds_per_entity, 2),
            "median_seconds_per_decision": None if self.median_seconds_per_decision is None else round(self.median_seconds_per_decision, 2),
        }  # fmt: skip


def entities_fixed(record: Annotation, suggested: Iterable[tuple[int, int]]) -> int:
    """Spans edited or added, plus suggestions removed (no span of the record overlaps them)."""
    changed = sum(1 for s in record.spans if s.state in (SpanState.EDITED, SpanState.ADDED))
    kept = [(s.start, s.end) for s in record.spans]
    removed = sum(1 for start, end in suggested if not any(a < end and start < b for a, b in kept))
    return changed + removed


def throughput(
    records: Iterable[Annotation], decisions: Iterable[Decision], suggestions_of: Any = None, annotators: Iterable[str] | None = None,
) -> list[Throughput]:  # fmt: skip
    """Per annotator and mode. ``suggestions_of(article_id, ModelId)`` gives a record's suggestions
    (their (start, end)), for the suggestions removed; None counts no removals."""
    wanted = set(annotators) if annotators else None
    rows: dict[tuple[str, str], Throughput] = {}

    def row(annotator: str, mode: str) -> Throughput:
        found = rows.get((annotator, mode))
        if found is None:
            found = rows[(annotator, mode)] = Throughput(annotator, mode)
        return found

    for record in records:
        if record.answer is None or record.is_review or (wanted and record.annotator not in wanted):
            continue
        r = row(record.annotator, MANUAL)
        r.count(record.answer)
        r.active_seconds += record.active_seconds
        r.times.append(record.updated)
        if record.active_seconds > 0:
            r._per_decision.append(record.active_seconds)
        suggested = suggestions_of(record.article_id, ModelId(record.model, record.model_version)) if suggestions_of and record.model else ()
        fixed = entities_fixed(record, suggested or ())
        r.entities_fixed += fixed
        if fixed and record.active_seconds > 0:
            r._per_entity.append(record.active_seconds / fixed)
    for decision in decisions:
        if wanted and decision.annotator not in wanted:
            continue
        r = row(decision.annotator, TEACH)
        r.count(decision.answer)
        r.active_seconds += decision.active_seconds
        r.times.append(decision.created)
        if decision.active_seconds > 0:  # an imported answer has no time of its own
            r._per_entity.append(decision.active_seconds)
            r._per_decision.append(decision.active_seconds)
    return sorted(rows.values(), key=lambda r: (r.annotator, r.mode))


def decisions_by_hour(row: Throughput) -> list[tuple[datetime, int]]:
    """Decisions per clock hour (UTC), for the plot over time."""
    counts: dict[datetime, int] = defaultdict(int)
    for when in row.times:
        try:
            moment = datetime.fromisoformat(when)
        except ValueError:
            continue
        counts[moment.replace(minute=0, second=0, microsecond=0)] += 1
    return sorted(counts.items())
