"""Counting words for messages: "1 article", "2 articles"."""

from __future__ import annotations


def plural(count: int, word: str, words: str | None = None) -> str:
    """``count`` and the word, in the plural unless it is 1 (``words``: an irregular plural)."""
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def visible_words(text: str, limit: int = 30) -> str:
    """A piece of the article as a message shows it: on one line, and not too long."""
    words = " ".join(text.split())
    return words if len(words) <= limit else words[: limit - 1] + "…"
