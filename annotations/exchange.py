"""Export gold annotations to training formats and import annotations made elsewhere.

Export picks annotations by answer and annotator, optionally splits them into train/dev with a
seeded shuffle, and hands ``Record``s to a format module. Import reads a format module's records,
fits their spans to spaCy's tokens (``align``: ``char_span(alignment_mode="expand")`` then
``filter_spans``), and stores articles and annotations; every change to a span is counted.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .align import align
from .datamodel import Annotation, Answer, Article, Origin, Span, SpanState
from .errors import InputError
from .formats import FORMATS
from .formats.records import Record
from .store import Store

if TYPE_CHECKING:
    from spacy.language import Language

ANSWER_CHOICES = ("accept", "reject", "ignore", "any")


@dataclass
class ExportSummary:
    written: int = 0
    negatives: int = 0  # rejected articles written with no entities (--rejected-as-negative)
    spans: int = 0
    files: list[Path] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    several_versions: int = 0  # articles exported once per annotator


@dataclass
class ImportSummary:
    read: int = 0
    written: int = 0
    new_articles: int = 0
    spans: int = 0
    snapped: int = 0
    dropped: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def blank(lang: str) -> Language:
    import spacy

    try:
        nlp = spacy.blank(lang)
    except Exception:
        raise InputError(f"--lang {lang}: spaCy has no language with this code.") from None
    nlp.max_length = 10**9  # a tokenizer-only pipeline: the limit guards NER and parser memory, not this
    return nlp


def check_format(name: str) -> None:
    if name not in FORMATS:
        raise InputError(f"--format {name}: unknown format; choose one of {', '.join(FORMATS)}.")


def export(
    store: Store,
    fmt: str,
    out: Path,
    *,
    answer: str = "accept",
    annotator: str | None = None,
    split: float | None = None,
    seed: int = 0,
    rejected_as_negative: bool = False,
    lang: str = "en",
    on_record: Callable[[], None] | None = None,
) -> ExportSummary:
    check_format(fmt)
    if answer not in ANSWER_CHOICES:
        raise InputError(f"--answer {answer}: choose one of {', '.join(ANSWER_CHOICES)}.")
    if split is not None and not 0 < split < 1:
        raise InputError(f"--split {split}: give the share of articles for training, between 0 and 1 (e.g. 0.8).")
    summary = ExportSummary()
    articles = {a.id: a for a in store.articles()}
    records: list[Record] = []
    versions: Counter[str] = Counter()
    for ann in store.annotations(annotator=annotator):
        article = articles.get(ann.article_id)
        if article is None:
            summary.skipped["annotation of an article not in the database"] += 1
            continue
        negative = rejected_as_negative and ann.answer is Answer.REJECT
        if not negative and answer != "any" and (ann.answer is None or str(ann.answer) != answer):
            summary.skipped[f"answer {ann.answer or 'none yet'}"] += 1
            continue
        versions[ann.article_id] += 1
        spans = [] if negative else [(s.start, s.end, s.label) for s in ann.spans]
        meta = {**dict(article.meta), "title": article.title, "source": article.source, "annotator": ann.annotator}
        records.append(Record(article.text, spans, ann.answer, meta))
        summary.negatives += negative
        summary.spans += len(spans)
        if on_record:
            on_record()
    summary.several_versions = sum(1 for n in versions.values() if n > 1)
    summary.written = len(records)
    module = FORMATS[fmt]
    nlp = blank(lang)
    if split is not None:
        random.Random(seed).shuffle(records)
        cut = round(len(records) * split)
        parts = {"train": records[:cut], "dev": records[cut:]}
    else:
        parts = {"train": records} if fmt == "spacy" else {"": records}
    for part, chunk in parts.items():
        target = out / f"{part}{module.SUFFIX}" if part else out
        if part or fmt == "brat":
            out.mkdir(parents=True, exist_ok=True)
        elif out.is_dir():
            raise InputError(f"--out {out}: is a folder; give a file name for {fmt} (a folder is for --split).")
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
        module.write(chunk, target, nlp)
        summary.files.append(target)
    return summary


def import_records(
    store: Store,
    fmt: str,
    path: Path,
    *,
    annotator: str,
    as_gold: bool = True,
    replace: bool = False,
    lang: str = "en",
    on_record: Callable[[], None] | None = None,
) -> ImportSummary:
    check_format(fmt)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder.")
    summary = ImportSummary()
    nlp = blank(lang)
    articles: list[Article] = []
    annotations: list[Annotation] = []
    seen: set[str] = set()
    for raw in FORMATS[fmt].read(path, nlp, summary.problems):
        summary.read += 1
        if on_record:
            on_record()
        record = raw.normalised()
        if not record.text.strip():
            summary.skipped["empty text"] += 1
            continue
        title = record.meta.get("title") if isinstance(record.meta.get("title"), str) else ""
        article = Article.from_text(record.text, title=title, source=record.source, meta=record.meta)
        if article.id in seen:
            summary.skipped["same text as an earlier record"] += 1
            continue
        seen.add(article.id)
        if not replace and store.annotation(article.id, annotator) is not None:
            summary.skipped[f"already annotated by {annotator} (--replace overwrites)"] += 1
            continue
        bad = [s for s in record.spans if not (0 <= s[0] < s[1] <= len(record.text))]
        if bad:
            summary.problems.append(f"{record.source}: {len(bad)} span(s) with offsets outside the text, e.g. {bad[0]}; those spans skipped.")
        state = SpanState.CONFIRMED if as_gold else SpanState.SUGGESTED
        # token indices are placeholders here: align() sets them from spaCy's tokens
        candidates = [Span(s, e, 0, 1, label, Origin.IMPORT, state) for s, e, label in record.spans if (s, e, label) not in bad]
        fitted, notes = align(nlp.make_doc(article.text), candidates)
        summary.snapped += sum(1 for n in notes if n.startswith("snapped"))
        summary.dropped += sum(1 for n in notes if n.startswith("dropped"))
        summary.notes.extend(f"{record.source}: {n}" for n in notes[:3])
        summary.spans += len(fitted)
        articles.append(article)
        answer = record.answer if as_gold else None
        annotations.append(Annotation(article.id, annotator, fitted, answer))
    summary.new_articles = store.add_articles(articles)
    store.save_annotations(annotations)
    summary.written = len(annotations)
    return summary
