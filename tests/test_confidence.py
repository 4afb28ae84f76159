"""How sure the model is (issue 21, first part): the figures that judge a scorer, and Monte-Carlo
dropout's scores on a real pipeline."""

from __future__ import annotations

import random

import pytest
import spacy

from goldspan.annotations.confidence.calibration import auc, brier, expected_calibration_error, judge
from goldspan.annotations.confidence.mc_dropout import mc_dropout_scores


def test_the_figures_match_a_hand_computation() -> None:
    scores = [0.9, 0.8, 0.3, 0.2, 0.65]
    outcomes = [True, False, True, False, True]
    # bins: [0.2] -> 0.2 vs 0; [0.3] -> 0.3 vs 1; [0.65] -> 0.65 vs 1; [0.8] -> 0.8 vs 0; [0.9] -> 0.9 vs 1
    assert expected_calibration_error(scores, outcomes) == pytest.approx((0.2 + 0.7 + 0.35 + 0.8 + 0.1) / 5)
    assert brier(scores, outcomes) == pytest.approx((0.01 + 0.64 + 0.49 + 0.04 + 0.1225) / 5)
    # right scores 0.9, 0.3, 0.65 against wrong 0.8, 0.2: 0.9 beats both, 0.3 beats one, 0.65 beats one
    assert auc(scores, outcomes) == pytest.approx(4 / 6)
    assert auc([0.5, 0.5], [True, False]) == 0.5 and auc([0.7], [True]) == 0.5
    assert judge(scores, outcomes).right == 3


def test_a_perfectly_calibrated_scorer_has_no_calibration_error() -> None:
    rng = random.Random(1)
    scores = [rng.choice([0.25, 0.75]) for _ in range(8_000)]
    outcomes = [rng.random() < s for s in scores]
    assert expected_calibration_error(scores, outcomes) < 0.02
    assert judge(scores, outcomes).auc > 0.7


def test_mc_dropout_gives_probabilities_that_rank_a_clear_entity_above_a_doubtful_one() -> None:
    from goldspan.annotations.nlp.pipelines import resolve

    nlp = spacy.load(resolve(None).name, exclude=["parser", "tagger", "lemmatizer", "attribute_ruler", "senter"])
    text = "Vladimir Putin met Alexander Lukashenko in Sochi on Friday, Reuters reported. The Zorblax Corporation of New Bratislava paid Jan."
    doc = nlp(text)
    [scores] = mc_dropout_scores(nlp, [doc], k=20, rate=0.1)
    assert set(scores) == {(e.start_char, e.end_char, e.label_) for e in doc.ents}  # a score for each entity of the parse
    assert all(0.0 <= p <= 1.0 for p in scores.values())
    by_text = {text[a:b]: p for (a, b, _), p in scores.items()}
    assert by_text["Vladimir Putin"] >= 0.9 and by_text["Sochi"] >= 0.9
    doubtful = [p for words, p in by_text.items() if "Zorblax" in words or words.startswith("Jan")]
    assert doubtful and min(doubtful) < by_text["Vladimir Putin"]
    assert [(e.text, e.label_) for e in doc.ents] == [(e.text, e.label_) for e in nlp(text).ents]  # the model is left as it was


def test_the_greedy_paths_probabilities_score_the_greedy_parse_and_rank_the_doubtful_lower() -> None:
    from goldspan.annotations.confidence.greedy import greedy_scores
    from goldspan.annotations.nlp.pipelines import resolve

    nlp = spacy.load(resolve(None).name, exclude=["parser", "tagger", "lemmatizer", "attribute_ruler", "senter"])
    text = "Vladimir Putin met Alexander Lukashenko in Sochi on Friday, Reuters reported. The Zorblax Corporation of New Bratislava paid Jan."
    [scores] = greedy_scores(nlp, [text])
    assert set(scores) == {(e.start_char, e.end_char, e.label_) for e in nlp(text).ents}  # the same parse as spaCy's own
    assert all(0.0 < p <= 1.0 for p in scores.values())
    by_text = {text[a:b]: p for (a, b, _), p in scores.items()}
    assert by_text["Vladimir Putin"] > 0.95 and by_text["Sochi"] > 0.9
    assert min(p for words, p in by_text.items() if "Zorblax" in words or words.startswith("Jan")) < 0.8


def test_an_isotonic_fit_is_monotone_and_maps_scores_to_the_share_of_right_ones() -> None:
    from goldspan.annotations.confidence.calibration import Isotonic

    fit = Isotonic.fit([0.1, 0.2, 0.3, 0.4, 0.9, 0.95], [False, True, False, True, True, True])
    assert list(fit.ys) == sorted(fit.ys) and all(0 <= y <= 1 for y in fit.ys)
    assert fit.at(0.0) == fit.ys[0] and fit.at(1.0) == 1.0
    assert fit.at(0.25) == pytest.approx(0.5)  # 0.1-0.4 pool into one block: half of them right
    rng = random.Random(3)
    raw = [rng.random() for _ in range(4_000)]
    outcomes = [rng.random() < r * r for r in raw]  # overconfident raw scores: truth is r²
    fitted = Isotonic.fit(raw[:2_000], outcomes[:2_000])
    before = expected_calibration_error(raw[2_000:], outcomes[2_000:])
    after = expected_calibration_error([fitted.at(r) for r in raw[2_000:]], outcomes[2_000:])
    assert after < before / 3
