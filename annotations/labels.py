"""Which labels the annotator is offered, and in what order they sit on the number keys."""

from __future__ import annotations

from typing import Iterable, Sequence

from .errors import InputError

# spaCy's English models use OntoNotes' 18 labels, sorted alphabetically, which would leave
# PERSON off the ten number keys. News annotators reach for these most, so they come first.
NEWS_FIRST = ("PERSON", "ORG", "GPE", "LOC", "NORP", "DATE", "MONEY", "EVENT", "FAC", "PRODUCT")
ONTONOTES = frozenset(
    NEWS_FIRST + ("CARDINAL", "LANGUAGE", "LAW", "ORDINAL", "PERCENT", "QUANTITY", "TIME", "WORK_OF_ART")
)


def key_order(model_labels: Sequence[str]) -> tuple[str, ...]:
    """A stable order for the number keys: news labels first for OntoNotes models, else the model's own."""
    labels = tuple(dict.fromkeys(model_labels))
    if not ONTONOTES.issubset(labels):
        return labels
    first = [label for label in NEWS_FIRST if label in labels]
    return tuple(first + [label for label in labels if label not in first])


def labels_in_use(labels: Iterable[str]) -> tuple[str, ...]:
    """Labels found in annotations (not a model's list): OntoNotes ones in news order, others after, by name."""
    found = set(labels)
    return tuple(sorted(found, key=lambda label: (NEWS_FIRST.index(label) if label in NEWS_FIRST else len(NEWS_FIRST), label)))


def label_problem(label: str) -> str | None:
    """Why a label cannot travel through every export format, or None if it can.

    CoNLL separates its columns and brat its fields with whitespace: ``per son`` came back from
    ``spacy convert`` as ``per``, and brat needs a name with none. A label is one word, then."""
    if not label:
        return "is empty"
    if any(ch.isspace() for ch in label):
        return "contains whitespace (CoNLL and brat split their fields at whitespace: use _ or -)"
    if not label.isprintable():
        return "contains a control character"
    return None


def parse_labels(option: str) -> tuple[str, ...]:
    """``--labels A,B,C``: the labels in the order given, refusing empty, repeated or unexportable names."""
    labels = [part.strip() for part in option.split(",")]
    if not option.strip() or any(not label for label in labels):
        raise InputError(f"--labels {option!r}: give comma-separated label names with none empty, e.g. --labels PERSON,ORG,GPE.")
    for label in labels:
        if (why := label_problem(label)) is not None:
            raise InputError(f"--labels: the label {label!r} {why}.")
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise InputError(f"--labels {option!r}: {', '.join(repeated)} given more than once.")
    return tuple(labels)


def choose_labels(model_labels: Iterable[str], option: str | None) -> tuple[str, ...]:
    """``--labels`` when given (its order is the key order), else the model's labels in key order;
    a model label that no export format can carry is refused here, before any work is done."""
    if option is not None:
        return parse_labels(option)
    labels = key_order(tuple(model_labels))
    for label in labels:
        if (why := label_problem(label)) is not None:
            raise InputError(f"the model's label {label!r} {why}; give --labels with names that can be exported.")
    return labels


def review_labels(model_labels: Sequence[str], option: str | None, used: Iterable[str]) -> tuple[str, ...]:
    """The number keys of ``goldspan review``: the same as ``annotate`` gives with the same ``--labels``
    (or, without it, with the same model), then any other label the versions use, for the picker."""
    base = choose_labels(model_labels, option) if option is not None or model_labels else ()
    return tuple(dict.fromkeys([*base, *labels_in_use(used)]))
