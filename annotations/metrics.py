"""Agreement between annotators and the model's quality against the gold.

Span scores are exact matches on (start, end, label), per label and overall (micro-averaged).
Token agreement is Cohen's kappa over the label each token carries ("O" outside every span),
whitespace tokens left out. Only annotators' own versions are compared, never a reviewer's record.
Model-vs-gold scores come from spaCy's own ``Scorer.score_spans``, so they are the numbers
``spacy evaluate`` would print; the confusion and error lists explain them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from .datamodel import Annotation, Answer, Article, Role, Span

OUTSIDE = "O"
MISSING = "—"  # no span at all, in confusion tables


@dataclass
class PRF:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def p(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def r(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f(self) -> float:
        return 2 * self.p * self.r / (self.p + self.r) if self.p + self.r else 0.0

    def as_json(self) -> dict[str, float]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "p": self.p, "r": self.r, "f": self.f}


Key = tuple[str, int, int, str]  # article, start, end, label


def span_scores(reference: Iterable[Key], predicted: Iterable[Key]) -> tuple[PRF, dict[str, PRF]]:
    """Exact-match P/R/F1, overall and per label, of ``predicted`` against ``reference``."""
    ref, pred = set(reference), set(predicted)
    per_label: dict[str, PRF] = {}
    for key in ref | pred:
        score = per_label.setdefault(key[3], PRF())
        if key in ref and key in pred:
            score.tp += 1
        elif key in pred:
            score.fp += 1
        else:
            score.fn += 1
    overall = PRF(sum(s.tp for s in per_label.values()), sum(s.fp for s in per_label.values()), sum(s.fn for s in per_label.values()))
    return overall, dict(sorted(per_label.items()))


def token_labels(token_count: int, spans: Iterable[Span]) -> list[str]:
    labels = [OUTSIDE] * token_count
    for span in spans:
        for i in range(span.token_start, min(span.token_end, token_count)):
            labels[i] = span.label
    return labels


def word_labels(spaces: Sequence[bool], spans: Iterable[Span]) -> list[str]:
    """The label of each token that is not whitespace (``spaces``: spaCy's ``is_space`` per token).

    Whitespace tokens (the blank lines between paragraphs) are O for everyone: counted, they only
    raise the agreement by chance."""
    labels = token_labels(len(spaces), spans)
    return [label for label, space in zip(labels, spaces) if not space]


def cohens_kappa(first: Sequence[str], second: Sequence[str]) -> float:
    """Cohen's kappa of two label sequences. Both all the same one label: 1.0 (they cannot disagree)."""
    if len(first) != len(second):
        raise ValueError("kappa needs two sequences of the same length")
    n = len(first)
    if n == 0:
        return 1.0
    observed = sum(a == b for a, b in zip(first, second)) / n
    count_a, count_b = Counter(first), Counter(second)
    expected = sum(count_a[label] * count_b[label] for label in count_a) / (n * n)
    if expected == 1.0:
        return 1.0
    return (observed - expected) / (1 - expected)


@dataclass
class PairAgreement:
    first: str
    second: str
    articles: int  # articles both accepted
    same_answer: int  # of the articles both answered, how many with the same answer
    both_answered: int
    overall: PRF
    per_label: dict[str, PRF]
    kappa: float
    tokens: int  # tokens the kappa is computed over: the articles' tokens that are not whitespace
    whitespace_tokens: int = 0  # left out of the kappa
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)  # first's label → second's (label_confusion)

    def as_json(self) -> dict[str, Any]:
        return {
            "first": self.first, "second": self.second, "articles": self.articles, "both_answered": self.both_answered,
            "same_answer": self.same_answer, "tokens": self.tokens, "whitespace_tokens_left_out": self.whitespace_tokens,
            "kappa": self.kappa, "overall": self.overall.as_json(), "per_label": {label: s.as_json() for label, s in self.per_label.items()},
            "label_confusion": self.confusion,
        }  # fmt: skip


def label_confusion(first: Sequence[tuple[str, int, int, str]], second: Sequence[tuple[str, int, int, str]]) -> dict[str, dict[str, int]]:
    """How the first annotator's labels map to the second's on spans with the same boundaries
    (article, start, end); ``MISSING`` where one of them has no span with those boundaries."""
    theirs = {(k, start, end): label for k, start, end, label in second}
    mine = {(k, start, end): label for k, start, end, label in first}
    counts: dict[str, Counter[str]] = {}
    for where, label in mine.items():
        counts.setdefault(label, Counter())[theirs.get(where, MISSING)] += 1
    for where, label in theirs.items():
        if where not in mine:
            counts.setdefault(MISSING, Counter())[label] += 1
    return {label: dict(said.most_common()) for label, said in sorted(counts.items())}


def pairwise_agreement(
    annotations: Sequence[Annotation], spaces: Mapping[str, Sequence[bool]], annotators: Sequence[str] | None = None
) -> list[PairAgreement]:
    """Agreement of every pair of annotators on the articles both accepted (the first is the reference).

    Only annotators' own versions count: a reviewer's record settles theirs and is left out.
    ``spaces``: per article, whether each of its spaCy tokens is whitespace (``token_spaces``)."""
    by_annotator: dict[str, dict[str, Annotation]] = {}
    for ann in annotations:
        if ann.answer is not None and ann.role is Role.ANNOTATOR:
            by_annotator.setdefault(ann.annotator, {})[ann.article_id] = ann
    names = sorted(by_annotator) if annotators is None else [a for a in annotators if a in by_annotator]
    pairs = []
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            a, b = by_annotator[first], by_annotator[second]
            answered = sorted(set(a) & set(b))
            shared = [k for k in answered if a[k].answer is Answer.ACCEPT and b[k].answer is Answer.ACCEPT]
            first_spans = [(k, s.start, s.end, s.label) for k in shared for s in a[k].spans]
            second_spans = [(k, s.start, s.end, s.label) for k in shared for s in b[k].spans]
            overall, per_label = span_scores(first_spans, second_spans)
            first_tokens, second_tokens = [], []
            for k in shared:
                first_tokens += word_labels(spaces[k], a[k].spans)
                second_tokens += word_labels(spaces[k], b[k].spans)
            whitespace = sum(sum(spaces[k]) for k in shared)
            pairs.append(
                PairAgreement(first, second, len(shared), sum(a[k].answer == b[k].answer for k in answered), len(answered),
                              overall, per_label, cohens_kappa(first_tokens, second_tokens), len(first_tokens), whitespace,
                              label_confusion(first_spans, second_spans))  # fmt: skip
            )
    return pairs


@dataclass
class ModelReport:
    model: str
    articles: int
    scores: dict[str, Any]  # spaCy Scorer's ents_p / ents_r / ents_f / ents_per_type
    confusion: dict[str, dict[str, int]]  # gold label → model label (or "—" for nothing) → count
    errors: list[dict[str, Any]] = field(default_factory=list)  # most frequent, with an example
    scope: str = ""  # which accepted articles, where not all ("held out for evaluation")

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def model_vs_gold(
    articles: Mapping[str, Article], gold: Sequence[Annotation], suggestions: Mapping[str, Sequence[Span]], model: str, *, lang: str = "en", top: int = 10
) -> ModelReport:
    """The model's suggestions scored against accepted gold with spaCy's Scorer, plus where it goes wrong."""
    import spacy
    from spacy.scorer import Scorer
    from spacy.training import Example

    nlp = spacy.blank(lang)
    nlp.max_length = 10**9  # tokenizer only: no NER memory to guard
    examples = []
    confusion: dict[str, Counter[str]] = {}
    errors: Counter[tuple[str, str, str]] = Counter()
    example_of: dict[tuple[str, str, str], str] = {}
    used = 0
    for ann in gold:
        article = articles.get(ann.article_id)
        predicted = suggestions.get(ann.article_id)
        if article is None or predicted is None:
            continue
        used += 1
        reference_doc, predicted_doc = nlp.make_doc(article.text), nlp.make_doc(article.text)
        reference_doc.ents = _doc_spans(reference_doc, ann.spans)
        predicted_doc.ents = _doc_spans(predicted_doc, predicted)
        examples.append(Example(predicted_doc, reference_doc))
        by_bounds = {(s.start, s.end): s.label for s in predicted}
        gold_bounds = {(s.start, s.end) for s in ann.spans}
        for span in ann.spans:
            got = by_bounds.get((span.start, span.end), MISSING)
            confusion.setdefault(span.label, Counter())[got] += 1
            if got != span.label:
                key = ("wrong label" if got != MISSING else "missed", span.text_in(article.text), f"{span.label} → {got}")
                errors[key] += 1
                example_of.setdefault(key, _context(article.text, span.start, span.end))
        for span in predicted:
            if (span.start, span.end) not in gold_bounds:
                key = ("spurious", span.text_in(article.text), f"{MISSING} → {span.label}")
                errors[key] += 1
                example_of.setdefault(key, _context(article.text, span.start, span.end))
    scores = Scorer.score_spans(examples, "ents") if examples else {"ents_p": 0.0, "ents_r": 0.0, "ents_f": 0.0, "ents_per_type": {}}
    return ModelReport(
        model,
        used,
        scores,
        {gold_label: dict(counts.most_common()) for gold_label, counts in sorted(confusion.items())},
        [{"kind": kind, "text": text, "change": change, "count": n, "example": example_of[(kind, text, change)]}
         for (kind, text, change), n in errors.most_common(top)],  # fmt: skip
    )


def _doc_spans(doc: Any, spans: Iterable[Span]) -> list[Any]:
    from spacy.util import filter_spans

    made = [doc.char_span(s.start, s.end, label=s.label, alignment_mode="expand") for s in spans]
    return filter_spans([m for m in made if m is not None])


def _context(text: str, start: int, end: int, width: int = 30) -> str:
    before = text[max(0, start - width) : start].replace("\n", " ")
    after = text[end : end + width].replace("\n", " ")
    return f"…{before}[{text[start:end]}]{after}…"


def token_spaces(articles: Iterable[Article], lang: str = "en") -> dict[str, tuple[bool, ...]]:
    """For each article, whether each of its spaCy tokens is whitespace (for token-level agreement)."""
    import spacy

    tokenizer = spacy.blank(lang).tokenizer
    return {a.id: tuple(t.is_space for t in tokenizer(a.text)) for a in articles}
