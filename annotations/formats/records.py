"""What a file holds for one article: its text, its spans as offsets, and maybe an answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..datamodel import Answer
from ..text import normalise_with_spans

RawSpan = tuple[int, int, str]


@dataclass
class Record:
    text: str
    spans: list[RawSpan] = field(default_factory=list)
    answer: Answer | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # file (and line) it came from, for messages
    text_from_tokens: bool = False  # the format keeps tokens, not text (CoNLL): the text was rebuilt from them

    def normalised(self) -> Record:
        """CRLF / CR made LF as goldspan stores text, with every span offset moved to match."""
        if "\r" not in self.text:
            return self
        text, spans = normalise_with_spans(self.text, self.spans)
        return Record(text, spans, self.answer, self.meta, self.source, self.text_from_tokens)


def parse_answer(value: Any, where: str) -> Answer | None:
    if value is None:
        return None
    try:
        return Answer(value)
    except ValueError:
        raise ValueError(f'{where}: "answer" must be accept, reject or ignore, not {value!r}') from None
