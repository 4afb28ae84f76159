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
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .nlp.align import align
from .datamodel import Annotation, Answer, Article, Origin, Role, Span, SpanState
from .errors import InputError
from .formats import FORMATS
from .formats.records import Record
from .gold import final_set
from .labels import label_problem
from .store import Store
from .training.eval_split import stored_held_out

if TYPE_CHECKING:
    from .teaching.decisions import Decision
    from spacy.language import Language

ANSWER_CHOICES = ("accept", "reject", "ignore", "any")


@dataclass
class ExportSummary:
    written: int = 0
    negatives: int = 0  # rejected articles written with no entities (--rejected-as-negative)
    spans: int = 0
    files: list[Path] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    several_versions: int = 0  # with --all-versions: articles exported once per version
    disagreeing: int = 0  # articles left out: annotators disagree and nobody reviewed them
    reviewed: int = 0  # records written that are reviewers' records
    articles: int = 0  # distinct articles written
    sides: dict[str, int] = field(default_factory=dict)  # with --split: articles in train and in dev
    dev_from_eval_set: bool = False  # with --split: dev is the DB's stored evaluation set
    decisions: int = 0  # teach-mode answers written as binary tasks (prodigy, without --split)


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
    answers: Counter[str] = field(default_factory=Counter)  # answer of each annotation written ("none" for suggestions)
    rebuilt: int = 0  # articles whose text was rebuilt from a CoNLL file's tokens (no article in the DB had them)
    decisions: int = 0  # Prodigy binary ner tasks (ner.teach answers) stored as teach decisions
    matched: int = 0  # CoNLL documents attached to an article already in the DB with the same tokens


@dataclass
class ImportFile:
    """What an import file holds, read and checked before any database is opened or created."""

    fmt: str
    path: Path
    records: list[Record]
    problems: list[str]
    read: int


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
    all_versions: bool = False,
    split: float | None = None,
    seed: int = 0,
    rejected_as_negative: bool = False,
    lang: str = "en",
    on_start: Callable[[int], None] | None = None,
    on_record: Callable[[], None] | None = None,
) -> ExportSummary:
    """Write the final record of each article (``gold.final_set``), or with ``annotator`` that
    person's own versions, or with ``all_versions`` every record; ``split`` divides by article.
    ``on_start(n)``: how many records will be looked at; ``on_record()`` after each."""
    check_format(fmt)
    if answer not in ANSWER_CHOICES:
        raise InputError(f"--answer {answer}: choose one of {', '.join(ANSWER_CHOICES)}.")
    if split is not None and not 0 < split < 1:
        raise InputError(f"--split {split}: give the share of articles for training, between 0 and 1 (e.g. 0.8).")
    if annotator is not None and all_versions:
        raise InputError("--annotator and --all-versions: give one of them (one person's versions, or every version).")
    summary = ExportSummary()
    if annotator is not None:
        chosen = store.annotations(annotator=annotator, role=Role.ANNOTATOR)
        remarks = _remarks(chosen)
    elif all_versions:
        chosen = store.annotations()
        remarks = None  # each record carries its own
    else:
        everything = store.annotations()
        final = final_set(everything)
        chosen, summary.disagreeing = final.records, len(final.disagreeing)
        remarks = _remarks(everything)  # every version's note and flag travel with the article's final record
        if summary.disagreeing:
            summary.skipped[DISAGREEING] += summary.disagreeing
        if final.unanswered:
            summary.skipped[ANSWER_SKIPS["None"]] += len(final.unanswered)
    if on_start:
        on_start(len(chosen))
    records: list[tuple[str, Record]] = []
    versions: Counter[str] = Counter()
    for ann in chosen:
        if on_record:
            on_record()
        article = store.article(ann.article_id)
        if article is None:
            summary.skipped["annotation of an article not in the database"] += 1
            continue
        store.check_fits(ann, article)
        negative = rejected_as_negative and ann.answer is Answer.REJECT
        if not negative and answer != "any" and (ann.answer is None or str(ann.answer) != answer):
            summary.skipped[ANSWER_SKIPS[str(ann.answer)]] += 1
            continue
        versions[ann.article_id] += 1
        spans = [] if negative else [(s.start, s.end, s.label) for s in ann.spans]
        meta = {**dict(article.meta), "title": article.title, "source": article.source, "annotator": ann.annotator, "role": str(ann.role)}
        comments, flagged_by = remarks.get(ann.article_id, ({}, [])) if remarks is not None else _remarks([ann]).get(ann.article_id, ({}, []))
        if comments:
            meta["comments"] = comments
        if flagged_by:
            meta["flagged_by"] = flagged_by
        records.append((ann.article_id, Record(article.text, spans, ann.answer, meta)))
        summary.negatives += negative
        summary.spans += len(spans)
        summary.reviewed += ann.is_review
    summary.several_versions = sum(1 for n in versions.values() if n > 1)
    summary.written = len(records)
    summary.articles = len(versions)
    module = FORMATS[fmt]
    if fmt in ("conll", "brat"):
        for _, record in records:
            for _, _, label in record.spans:
                if (why := label_problem(label)) is not None:
                    raise InputError(f"--format {fmt}: the label {label!r} {why}; {fmt} cannot carry it. Nothing was written.")
    nlp = blank(lang)
    if split is not None:
        # By article, never by record: with --all-versions an article's versions all go to one side.
        # Neither side is left empty while there are two articles: spaCy cannot train with an empty dev set.
        order = list(dict.fromkeys(article_id for article_id, _ in records))
        held_out = stored_held_out(store)
        if held_out is not None:
            # The DB's evaluation set (``goldspan train``) is the dev part, so an exported corpus and
            # goldspan's own training never score on different articles.
            train_ids = {a for a in order if a not in held_out}
            summary.dev_from_eval_set = True
        else:
            random.Random(seed).shuffle(order)
            cut = min(max(1, round(len(order) * split)), len(order) - 1) if len(order) > 1 else len(order)
            train_ids = set(order[:cut])
        parts = {"train": [r for a, r in records if a in train_ids], "dev": [r for a, r in records if a not in train_ids]}
        summary.sides = {side: len({r.text for r in chunk}) for side, chunk in parts.items()}
    else:
        parts = {"train": [r for _, r in records]} if fmt == "spacy" else {"": [r for _, r in records]}
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
    if fmt == "prodigy" and split is None:
        summary.decisions = _write_decisions(store, summary.files[-1], annotator)
    return summary


def _write_decisions(store: Store, target: Path, annotator: str | None) -> int:
    """Teach mode's answers, after the articles, as Prodigy's binary ``ner`` tasks."""
    from .formats.prodigy import append_binary, binary_task
    from .teaching.decisions import stored_decisions

    tasks = []
    for decision in stored_decisions(store, annotator):
        article = store.article(decision.article_id)
        if article is not None:
            tasks.append(binary_task(decision, article.text, {"title": article.title, "source": article.source}))
    if tasks:
        append_binary(tasks, target)
    return len(tasks)


def _remarks(records: Iterable[Annotation]) -> dict[str, tuple[dict[str, str], list[str]]]:
    """Per article, every version's note (who → note) and who flagged it for review."""
    found: dict[str, tuple[dict[str, str], list[str]]] = {}
    for record in records:
        if record.comment or record.flagged:
            comments, flagged_by = found.setdefault(record.article_id, ({}, []))
            if record.comment:
                comments[record.who] = record.comment
            if record.flagged:
                flagged_by.append(record.who)
    return found


# Why a record was left out, as the summary line counts them ("2 rejected", "1 awaiting review").
ANSWER_SKIPS = {"accept": "accepted", "reject": "rejected", "ignore": "skipped by the annotator", "None": "not answered yet"}
DISAGREEING = "awaiting review (annotators disagree)"


def read_import(fmt: str, path: Path, *, lang: str = "en", on_record: Callable[[], None] | None = None) -> ImportFile:
    """Read and check an import file; refuses, before anything is written anywhere, a format, path or
    label that cannot be imported, and a file with no record to import."""
    check_format(fmt)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder.")
    problems: list[str] = []
    records: list[Record] = []
    read = 0
    for raw in FORMATS[fmt].read(path, blank(lang), problems):
        read += 1
        if on_record:
            on_record()
        record = raw.normalised()
        for _, _, label in record.spans:
            if (why := label_problem(label)) is not None:
                raise InputError(f"{record.source or path}: the label {label!r} {why}; nothing was imported.")
        records.append(record)
    if not records:
        why = f" ({problems[0]}{' …' if len(problems) > 1 else ''})" if problems else ""
        raise InputError(f"{path}: no {fmt} records to import{why}; nothing was imported.")
    return ImportFile(fmt, path, records, problems, read)


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
    """``read_import`` then ``store_import``: the file's records into the store."""
    return store_import(store, read_import(fmt, path, lang=lang, on_record=on_record), annotator=annotator, as_gold=as_gold, replace=replace, lang=lang)


def store_import(store: Store, found: ImportFile, *, annotator: str, as_gold: bool = True, replace: bool = False, lang: str = "en") -> ImportSummary:
    """Store the records of a checked import file as articles and this annotator's annotations.

    ``as_gold``: the records' own answers where the format has them (Prodigy), else accepted; not
    as gold: suggestions to confirm in the annotator (no answer). A CoNLL document, whose text is
    rebuilt from its tokens, is attached to the article in the DB with the same tokens if there is one."""
    summary = ImportSummary(read=found.read, problems=list(found.problems))
    has_answers = FORMATS[found.fmt].HAS_ANSWERS
    nlp = blank(lang)
    articles: list[Article] = []
    annotations: list[Annotation] = []
    seen: set[str] = set()
    by_tokens: dict[str, Article] | None = None
    decisions: list[dict[str, Any]] = []
    for record in found.records:
        if not record.text.strip():
            summary.skipped["empty text"] += 1
            continue
        if is_binary_task(record):
            # ner.teach's answer (goldspan's own export writes them so): one span judged, not an
            # article's gold, so it becomes a teach decision, never an annotation.
            if as_gold:
                judged = Article.from_text(record.text, title=str(record.meta.get("title") or ""), source=record.source)
                answer_given = _binary_decision(record, judged.id, annotator, nlp)
                if answer_given is None:
                    summary.skipped["binary task whose span fits no token"] += 1
                    continue
                if judged.id not in seen and store.article(judged.id) is None:
                    articles.append(judged)
                seen.add(judged.id)
                decisions.append(answer_given.to_dict())
            else:
                summary.skipped["binary ner task (a judgement, not suggestions)"] += 1
            continue
        bad = [s for s in record.spans if not (0 <= s[0] < s[1] <= len(record.text))]
        if bad:
            summary.problems.append(f"{record.source}: {len(bad)} span(s) with offsets outside the text, e.g. {bad[0]}; those spans skipped.")
        raw_spans = [s for s in record.spans if s not in bad]
        article = None
        if record.text_from_tokens:
            if by_tokens is None:  # the first article added wins where two differ only in whitespace
                by_tokens = {}
                for stored in store.articles():
                    by_tokens.setdefault(_squeezed(stored.text), stored)
            article = by_tokens.get(_squeezed(record.text))
            if article is not None:
                raw_spans = _moved_to(record.text, article.text, raw_spans)
        matched = article is not None
        if article is None:
            title = record.meta.get("title") if isinstance(record.meta.get("title"), str) else ""
            article = Article.from_text(record.text, title=title, source=record.source, meta=record.meta)
        if article.id in seen:
            summary.skipped["same text as an earlier record"] += 1
            continue
        seen.add(article.id)
        if not replace and store.annotation(article.id, annotator) is not None:
            summary.skipped[f"already annotated by {annotator} (--replace overwrites)"] += 1
            continue
        if record.text_from_tokens:
            summary.matched += matched
            summary.rebuilt += not matched
        state = SpanState.CONFIRMED if as_gold else SpanState.SUGGESTED
        # token indices are placeholders here: align() sets them from spaCy's tokens
        candidates = [Span(s, e, 0, 1, label, Origin.IMPORT, state) for s, e, label in raw_spans]
        fitted, notes = align(nlp.make_doc(article.text), candidates)
        summary.snapped += sum(1 for n in notes if n.startswith("snapped"))
        summary.dropped += sum(1 for n in notes if n.startswith("dropped"))
        summary.notes.extend(f"{record.source}: {n}" for n in notes[:3])
        summary.spans += len(fitted)
        articles.append(article)
        # Gold from a format without answers is accepted gold; a Prodigy task keeps its own (none: not answered).
        answer = (record.answer if has_answers else Answer.ACCEPT) if as_gold else None
        summary.answers[str(answer)] += 1  # "None": not answered (suggestions, or a Prodigy task with no answer)
        annotations.append(Annotation(article.id, annotator, fitted, answer))
    summary.new_articles = store.save_import(articles, annotations, decisions)  # all of them, or none
    summary.written = len(annotations)
    summary.decisions = len(decisions)
    return summary


def is_binary_task(record: Record) -> bool:
    """A Prodigy ``ner`` (binary) task with its answer: one span, judged as a whole."""
    return record.meta.get("_view_id") == "ner" and len(record.spans) == 1 and record.answer is not None


def _binary_decision(record: Record, article_id: str, annotator: str, nlp: Language) -> Decision | None:
    from .teaching.decisions import Decision

    start, end, label = record.spans[0]
    span = nlp.make_doc(record.text).char_span(start, end, alignment_mode="expand")
    if span is None:
        return None
    score = record.meta.get("score")
    return Decision(article_id, annotator, span.start_char, span.end_char, label, record.answer, span.start, span.end, span.text,  # type: ignore[arg-type]
                    score=float(score) if isinstance(score, (int, float)) else None)  # fmt: skip


def _squeezed(text: str) -> str:
    """The text without its whitespace: what a CoNLL file's tokens keep of it."""
    return "".join(text.split())


def _moved_to(source: str, target: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Spans on ``source`` moved onto ``target``, a text with the same characters but other whitespace."""
    from bisect import bisect_left

    source_at = [i for i, ch in enumerate(source) if not ch.isspace()]
    target_at = [i for i, ch in enumerate(target) if not ch.isspace()]
    moved = []
    for start, end, label in spans:
        first, last = bisect_left(source_at, start), bisect_left(source_at, end) - 1
        if first <= last:
            moved.append((target_at[first], target_at[last] + 1, label))
    return moved
