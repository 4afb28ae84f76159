"""What an article needs from spaCy before it can be edited: the model's suggestions, then tokens.

The ``Preparer`` owns the pipeline and the tokenizer: each is loaded once, under a lock, whichever
thread asks first (two articles never load the model twice). It takes an article's text and gives
back plain values (spans, token offsets), so the boundary can move into another process. It is
called from the app's background thread; what it returns goes to the session, which saves it.
The caller's ``stop`` is asked between pieces of a long article: a quit does not wait for spaCy to
finish a 20 MB article.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

from ..datamodel import Article, ModelId, Span, Suggestions
from .pipelines import PipelineSpec, load

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

    from .align import Aligned


@dataclass(frozen=True)
class Work:
    """What the session asks to have prepared for one version of one article's draft."""

    article: Article
    spans: tuple[Span, ...]  # the draft's spans, to be fitted to the tokens
    version: int  # the draft's version they belong to: results for an older version are refused
    suggestions: bool  # True: the model's suggestions first (the tokens are asked for after them)


class Preparer:
    def __init__(self, spec: PipelineSpec, loader: Callable[[PipelineSpec], Language] = load) -> None:
        self.spec = spec
        self.loader = loader
        self._lock = threading.Lock()
        self._nlp: Language | None = None
        self._tokenizer: Callable[[str], Doc] | None = None

    @property
    def model(self) -> ModelId:
        return self.spec.model_id

    @property
    def model_loaded(self) -> bool:
        return self._nlp is not None

    def suggestions(self, article: Article, *, stop: Callable[[], bool], on_loading: Callable[[], None] = lambda: None) -> Suggestions | None:
        """The model's spans for the article, and its tokens (loading the model first if no one has);
        None if ``stop`` said so before the last piece was parsed."""
        nlp = self._pipeline(on_loading)
        if stop():
            return None
        from .suggest import suggest  # spaCy's code: imported here, after the first paint

        results = list(suggest(nlp, [article], self.model, batch_size=1, stop=stop, scorer=self.spec.scorer))  # one piece at a time
        return results[0] if results else None

    def tokens(self, article: Article, spans: Sequence[Span]) -> Aligned:
        """The article's tokens, and its spans snapped to them (``align``)."""
        from .align import align_article, blank_tokenizer

        with self._lock:
            if self._tokenizer is None:
                self._tokenizer = blank_tokenizer(self.spec)
            tokenizer = self._tokenizer
        return align_article(tokenizer, article, spans)

    def close(self) -> None:
        """Nothing to end: the model lives in this process (``remote`` has one that ends a process)."""

    def _pipeline(self, on_loading: Callable[[], None]) -> Language:
        with self._lock:  # the first caller loads it; any other waits for that load, not a second one
            if self._nlp is None:
                on_loading()
                self._nlp = self.loader(self.spec)
            return self._nlp
