"""Teach mode's answers: one per entity shown, kept in a table of their own (``decisions``), keyed by
(article id, annotator, start, end, label), so the same span is never asked of an annotator twice.

An answer is binary evidence about one span, not a checked article: an accepted span is an entity,
a rejected one is not that entity, and nothing is known of the rest of the text. So decisions never
count as an article's gold for review, agreement or the final dataset; ``train`` uses them as
partial examples (``training.examples``), and ``export --format prodigy`` writes them as Prodigy's
binary ``ner`` tasks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from ..datamodel import Answer, now_iso


@dataclass(frozen=True)
class Decision:
    article_id: str
    annotator: str
    start: int
    end: int
    label: str
    answer: Answer
    token_start: int
    token_end: int  # exclusive, as a goldspan Span's
    text: str  # the entity's words, so an export or a table reads without the article
    model: str = ""
    model_version: str = ""
    score: float | None = None  # the model's calibrated confidence when it was asked
    active_seconds: float = 0.0  # time from the example on screen to the answer, up to IDLE_CUT
    created: str = field(default_factory=now_iso)

    @property
    def key(self) -> tuple[str, int, int, str]:
        """What makes a span the same span (for one annotator): never asked twice."""
        return (self.article_id, self.start, self.end, self.label)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["answer"] = str(self.answer)
        data["active_seconds"] = round(self.active_seconds, 2)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        score = data.get("score")
        return cls(
            str(data["article_id"]), str(data["annotator"]), int(data["start"]), int(data["end"]), str(data["label"]),
            Answer(data["answer"]), int(data.get("token_start", 0)), int(data.get("token_end", 1)), str(data.get("text", "")),
            str(data.get("model", "")), str(data.get("model_version", "")), None if score is None else float(score),
            float(data.get("active_seconds", 0.0) or 0.0), str(data.get("created", "")),
        )  # fmt: skip


def stored_decisions(store: Any, annotator: str | None = None) -> list[Decision]:
    """The DB's decisions (one annotator's, or all), in the order they were made."""
    found = [Decision.from_dict(doc) for doc in store.decision_docs()]
    return [d for d in found if annotator is None or d.annotator == annotator]
