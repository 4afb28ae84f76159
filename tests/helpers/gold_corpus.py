"""A generated corpus of accepted gold: short news-like articles whose people (PERSON) and made-up
products (GADGET, a label en_core_web_sm does not know) are annotated. Each article's sentences
mention its number, so no two articles share a sentence."""

from __future__ import annotations

import random
from pathlib import Path

from goldspan.annotations.datamodel import Annotation, Answer, Article, Origin, Span, SpanState
from goldspan.annotations.store import Store

PEOPLE = ["Anna Nowak", "Zoë Müller", "José Ramírez", "Lars Østergaard", "Nguyễn Thị Lan", "Piotr Zieliński", "Amara Okafor", "Kenji Sato"]
GADGETS = ["Zorbix 9", "Fluxtron", "Quibble Pad", "Nimbus Z", "Vexa One", "Orbwell", "Tindle Max"]
PLACES = ["Gdańsk", "São Paulo", "Reykjavík", "Minsk", "Lagos", "Osaka"]
FRAMES = [
    "{p} showed the {g} in {pl} on day {i}.",
    "On day {i}, {p} said the {g} would ship from {pl}.",
    "Reviewers in {pl} praised the {g} that {p} unveiled on day {i}.",
    "{p} called the {g} a failure during the visit to {pl} on day {i}.",
]


def gold_article(i: int, rng: random.Random, sentences: int = 6) -> tuple[Article, list[tuple[int, int, str]]]:
    text, spans = f"Report {i}\n\n", []
    for _ in range(sentences):
        person, gadget, place = rng.choice(PEOPLE), rng.choice(GADGETS), rng.choice(PLACES)
        sentence = rng.choice(FRAMES).format(p=person, g=gadget, pl=place, i=i) + " "
        for words, label in ((person, "PERSON"), (gadget, "GADGET")):
            start = len(text) + sentence.index(words)
            spans.append((start, start + len(words), label))
        text += sentence
    return Article.from_text(text.rstrip()), spans


def add_gold(db: Path, first: int, count: int, annotator: str = "alice", seed: int = 7) -> list[Article]:
    """Articles ``first`` .. ``first + count - 1`` with accepted gold by ``annotator``."""
    import spacy

    nlp = spacy.blank("en")
    made = []
    with Store(db) as store:
        for i in range(first, first + count):
            article, raw = gold_article(i, random.Random(seed * 100_003 + i))
            doc = nlp.make_doc(article.text)
            spans = []
            for start, end, label in raw:
                found = doc.char_span(start, end)
                spans.append(Span(start, end, found.start, found.end, label, Origin.ANNOTATOR, SpanState.ADDED))
            store.add_articles([article])
            store.save_annotation(Annotation(article.id, annotator, tuple(spans), Answer.ACCEPT))
            made.append(article)
    return made
