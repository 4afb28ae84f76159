"""The app's own cost of a key on a 50,000-word article with ~5,000 entities, against a 500-word one.

Pilot's press+pause cannot resolve this (a key bound to nothing costs ~60 ms through it, in steps
of a frame), so each action is timed directly: the screen's action (the session call and the
redraw of its state) plus rendering every visible row of the article view and the entity list,
which is all the compositor asks of a Line API widget. Pilot's press+pause minus the same for an
unbound key is reported beside it as a cross-check.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path

from common import Row, made_up_paragraphs, median, p95
from goldspan.annotations.nlp import pipelines
from goldspan.annotations.datamodel import Annotation, Article, Origin, Span, SpanState
from goldspan.tui.keymap import default_keymap
from goldspan.annotations.session.session import Session
from goldspan.annotations.store import Store
from goldspan.tui.app import GoldspanApp
from goldspan.tui.widgets.article_view import ArticleView
from goldspan.tui.widgets.entity_list import EntityList

VOCAB = ("the minister said on Tuesday that talks in Minsk and Warsaw would go on despite pressure from Moscow "
         "while analysts at Banco Itaú expected more cuts this year").split()  # fmt: skip
ACTIONS = ("next_entity", "label_3", "end_right", "end_left", "undo", "previous_entity", "cursor_right")


def make_article(words: int, seed: int = 1) -> tuple[Article, list[Span]]:
    import spacy

    rng = random.Random(seed)
    paragraphs = made_up_paragraphs(words, VOCAB, rng)
    article = Article.from_text(f"Benchmark article of {words} words\n\n" + "\n\n".join(paragraphs))
    doc = spacy.blank("en").make_doc(article.text)
    spans, i = [], 0
    while i < len(doc) - 1:  # about one entity every ten tokens
        token = doc[i]
        if not token.is_space and not token.is_punct and rng.random() < 0.1:
            spans.append(Span(token.idx, token.idx + len(token), i, i + 1, rng.choice(("PERSON", "ORG", "GPE")), Origin.MODEL, SpanState.SUGGESTED))
            i += 2
        else:
            i += 1
    return article, spans


async def measure(words: int, repeats: int) -> tuple[list[float], list[float]]:
    article, spans = make_article(words)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "keys.json")
        store.add_articles([article])
        store.save_annotation(Annotation(article.id, "bench", tuple(spans)))
        session = Session(store, [article], annotator="bench", labels=("PERSON", "ORG", "GPE"))
        app = GoldspanApp(session, pipelines.resolve("blank:en"), keymap=default_keymap())
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(20):
                await app.workers.wait_for_complete()
                await pilot.pause()
                if session.draft.tokens is not None:
                    break
            screen = app.screen
            view, entities = screen.query_one(ArticleView), screen.query_one(EntityList)
            await pilot.press("j")
            samples = []
            for i in range(repeats):
                action = ACTIONS[i % len(ACTIONS)]
                t0 = time.perf_counter()
                screen.action_run(action)  # type: ignore[attr-defined]
                for y in range(view.size.height):
                    view.render_line(y)
                for y in range(entities.size.height):
                    entities.render_line(y)
                samples.append(time.perf_counter() - t0)
            # Cross-check through Pilot: a real key minus an unbound one, frames and all.
            pilot_samples = []
            for i in range(max(10, repeats // 10)):
                t0 = time.perf_counter()
                await pilot.press("j" if i % 2 else "k")
                await pilot.pause()
                bound = time.perf_counter() - t0
                t0 = time.perf_counter()
                await pilot.press("f12")
                await pilot.pause()
                pilot_samples.append(bound - (time.perf_counter() - t0))
        store.close()
    return samples, pilot_samples


def bench_keys(quick: bool) -> list[Row]:
    """Rounds alternate the two sizes, so a slow spell of the machine falls on both; each figure is the
    median over the rounds of that round's p95 (or median)."""
    big_words, small_words, repeats, rounds = (5_000, 500, 30, 1) if quick else (50_000, 500, 210, 3)
    per_round: dict[str, list[float]] = {"big p95": [], "small p95": [], "big median": [], "small median": [], "big pilot": [], "small pilot": []}
    for _ in range(rounds):
        for size, words in (("big", big_words), ("small", small_words)):
            samples, pilot_samples = asyncio.run(measure(words, repeats))
            per_round[f"{size} p95"].append(p95(samples))
            per_round[f"{size} median"].append(median(samples))
            per_round[f"{size} pilot"].append(median(pilot_samples))
    big, small = median(per_round["big p95"]), median(per_round["small p95"])
    big_mid, small_mid = median(per_round["big median"]), median(per_round["small median"])
    big_pilot, small_pilot = median(per_round["big pilot"]), median(per_round["small pilot"])
    ms = 1000.0
    return [
        Row(f"key: action + visible rows, p95, {big_words:,} words (ms)", big * ms, small * ms, big / small,
            "goldspan < 16 ms, ≤ 1.5× baseline (500 words)", big * ms < 16 and big / small <= 1.5),
        Row(f"key: action + visible rows, median, {big_words:,} words (ms)", big_mid * ms, small_mid * ms, big_mid / small_mid, "", True),
        Row(f"key through Pilot minus unbound key, median, {big_words:,} words (ms)", big_pilot * ms, small_pilot * ms,
            big_pilot / small_pilot if small_pilot > 0 else float("nan"), "cross-check only", True),
    ]  # fmt: skip
