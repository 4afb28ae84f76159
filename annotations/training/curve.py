"""The train curve: the same evaluation set, models trained on 25, 50, 75 and 100 % of the training
gold, and what the last step says about collecting more (Prodigy's ``train-curve`` verdict)."""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass, field
from typing import Any, Callable

from ..store import Store
from . import eval_split
from .eval_split import order_key
from .trainer import Prepared, Progress, TrainRequest, prepare, run


@dataclass(frozen=True)
class CurvePoint:
    share: float  # of the training articles
    articles: int
    examples: int
    f: float
    p: float
    r: float
    per_label: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: float = 0.0
    stopped: str = "finished"


def shares(points: int) -> list[float]:
    return [(i + 1) / points for i in range(points)]


def curve(
    store: Store,
    request: TrainRequest,
    points: int = 4,
    on_point: Callable[[CurvePoint], None] | None = None,
    on_progress: Callable[[int, Progress], None] | None = None,
    on_prepared: Callable[[Prepared], None] | None = None,
) -> tuple[list[CurvePoint], list[str]]:
    """Train once per share of the training articles (each share holds the smaller ones: articles are
    taken in the order of their id's hash), score each on the stored evaluation set; nothing is kept
    but the scores. Returns the points and the notes of preparing (labels not scored, ...)."""
    prepared = prepare(store, request)
    found: list[CurvePoint] = []
    try:
        if on_prepared is not None:
            on_prepared(prepared)
        ordered = sorted(prepared.train_articles, key=lambda a: order_key(a.article_id))
        for i, share in enumerate(shares(points)):
            subset = ordered[: max(1, math.ceil(share * len(ordered)))]
            report = (lambda p, i=i: on_progress(i, p)) if on_progress else None
            outcome = run(prepared, request, subset, on_progress=report, name=f"point-{i + 1}")
            point = CurvePoint(share, len(subset), outcome.train_set.docs, *_prf(outcome.scores), outcome.seconds, outcome.stopped)  # type: ignore[misc]
            shutil.rmtree(outcome.folder.parent, ignore_errors=True)
            found.append(point)
            if on_point:
                on_point(point)
            if outcome.stopped == "interrupted":  # ctrl+c ends the curve, not only this point
                break
    finally:
        shutil.rmtree(prepared.workdir, ignore_errors=True)
    eval_split.store_run(store, prepared.new_parts, prepared.split, request.reset_eval)
    return found, prepared.notes


def _prf(scores: dict[str, Any]) -> tuple[float, float, float, dict[str, dict[str, float]]]:
    per_label = {label: {k: float(v) for k, v in figures.items()} for label, figures in (scores.get("ents_per_type") or {}).items()}
    return float(scores.get("ents_f") or 0.0), float(scores.get("ents_p") or 0.0), float(scores.get("ents_r") or 0.0), per_label


def verdict(points: list[CurvePoint]) -> str:
    """What the last step of the curve suggests, in one sentence."""
    if len(points) < 2:
        return "One point is not a curve: give --points 2 or more."
    last, before = points[-1], points[-2]
    gain = last.f - before.f
    step = f"the last {round((last.share - before.share) * 100)} % of the training data"
    if gain > 0.01:
        return f"{step} added {gain:+.2f} F: more data will probably still help."
    if gain >= -0.01:
        return f"{step} changed F by {gain:+.2f}: more of the same data is unlikely to help much; different examples (other sources, harder cases) may."
    return f"{step} lowered F by {-gain:.2f}: with this few examples the scores are noisy, or the newest gold is inconsistent; review it before adding more."
