"""CoNLL-style NER columns: ``token<TAB>IOB2-tag``, a blank line after each sentence, and
``-DOCSTART- -X- O O`` before each document, as ``spacy convert -c ner`` and seqeval read it.

Tags come from spaCy (``offsets_to_biluo_tags`` then ``biluo_to_iob``); whitespace tokens are left
out, as the format has no way to write them. Reading rebuilds each document's text from its
tokens (space-separated, a line per sentence), so offsets are those of the rebuilt text.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from .records import Record

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Token

SUFFIX = ".conll"
DOCSTART = "-DOCSTART- -X- O O"


def write(records: Sequence[Record], out: Path, nlp: Language) -> None:
    from spacy.training import biluo_to_iob, offsets_to_biluo_tags
    from spacy.util import filter_spans

    if "sentencizer" not in nlp.pipe_names and "senter" not in nlp.pipe_names and "parser" not in nlp.pipe_names:
        nlp.add_pipe("sentencizer")
    with open(out, "w", encoding="utf-8") as handle:
        for record in records:
            doc = nlp(record.text)
            spans = filter_spans(
                [s for s in (doc.char_span(a, b, label=l, alignment_mode="expand") for a, b, l in record.spans) if s is not None]
            )
            tags = biluo_to_iob(offsets_to_biluo_tags(doc, [(s.start_char, s.end_char, s.label_) for s in spans]))
            handle.write(DOCSTART + "\n\n")
            for sentence in _sentences(doc):
                handle.write("\n".join(f"{t.text}\t{tags[t.i]}" for t in sentence) + "\n\n")


def _sentences(doc: Doc) -> Iterator[list[Token]]:
    """spaCy's sentences, also broken at line ends (headlines, bylines, list items), without whitespace tokens."""
    for sentence in doc.sents:
        current: list[Token] = []
        for token in sentence:
            if token.is_space:
                if "\n" in token.text and current:
                    yield current
                    current = []
                continue
            current.append(token)
            if "\n" in token.whitespace_ and current:
                yield current
                current = []
        if current:
            yield current


def read(path: Path, nlp: Language, problems: list[str]) -> Iterator[Record]:
    from spacy.tokens import Doc
    from spacy.training import biluo_tags_to_offsets, iob_to_biluo

    try:
        lines = path.read_text(encoding="utf-8-sig").split("\n")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(f"{path}: cannot be read as UTF-8 text ({error}).")
        return
    documents: list[tuple[int, list[list[tuple[str, str]]]]] = []
    sentence: list[tuple[str, str]] = []
    has_docstart = any(line.startswith("-DOCSTART-") for line in lines)
    for number, line in enumerate([*lines, ""], start=1):
        if line.startswith("-DOCSTART-"):
            documents.append((number, []))
            continue
        if not line.strip():
            if sentence:
                if not documents or not has_docstart:
                    documents.append((number, []))
                documents[-1][1].append(sentence)
                sentence = []
            continue
        columns = line.split()
        if len(columns) < 2:
            problems.append(f"{path}:{number}: expected a token and a tag, found {line.strip()!r}; line skipped.")
            continue
        sentence.append((columns[0], columns[-1]))
    for number, sentences in documents:
        if not sentences:
            continue
        words, spaces, tags = [], [], []
        for sent in sentences:
            for i, (word, tag) in enumerate(sent):
                words.append(word)
                spaces.append(i < len(sent) - 1)
                tags.append(tag)
            words.append("\n")
            spaces.append(False)
            tags.append("O")
        words, spaces, tags = words[:-1], spaces[:-1], tags[:-1]
        doc = Doc(nlp.vocab, words=words, spaces=spaces)
        try:
            offsets = biluo_tags_to_offsets(doc, iob_to_biluo(tags))
        except Exception as error:  # spaCy raises ValueError on an I- with no B- in BILUO form
            problems.append(f"{path}:{number}: the tags of this document are not valid IOB ({error}); skipped.")
            continue
        yield Record(doc.text, [(s, e, label) for s, e, label in offsets], None, {}, f"{path}:{number}")
