"""CoNLL-style NER columns: ``token<TAB>IOB2-tag``, a blank line after each sentence, and
``-DOCSTART- -X- O O`` before each document, as ``spacy convert -c ner`` and seqeval read it.

Tags come from spaCy (``offsets_to_biluo_tags`` then ``biluo_to_iob``); whitespace tokens are left
out, as the format has no way to write them. CoNLL keeps no text: reading rebuilds each document's
text from its tokens, a line per sentence, joining a token to its neighbour where spaCy's own
tokenizer rules make it a prefix or suffix (``Ukraine's``, ``"most cruel"``, ``(AP)``) and the
tokenizer splits the joined text back into the same tokens. The import then attaches the document
to the article in the DB with the same characters, if there is one (``exchange``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from ..errors import InputError
from ..text import read_utf8
from ..words import plural
from .records import Record

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Token

SUFFIX = ".conll"
HAS_ANSWERS = False  # a record is gold or nothing: imported as gold, it is accepted
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
        lines = read_utf8(path).split("\n")
    except InputError as error:
        problems.append(str(error))
        return
    documents: list[tuple[int, list[list[tuple[str, str]]]]] = []
    sentence: list[tuple[str, str]] = []
    has_docstart = any(line.startswith("-DOCSTART-") for line in lines)
    not_a_tag: tuple[int, str] | None = None  # the sentence's first line whose last column is no IOB tag
    bad: dict[int, tuple[int, str]] = {}  # documents (by their first line) with such a line: skipped whole
    for number, line in enumerate([*lines, ""], start=1):
        if line.startswith("-DOCSTART-"):
            documents.append((number, []))
            continue
        if not line.strip():
            if sentence:
                if not documents or not has_docstart:
                    documents.append((number, []))
                documents[-1][1].append(sentence)
                if not_a_tag is not None:
                    bad.setdefault(documents[-1][0], not_a_tag)
                sentence, not_a_tag = [], None
            continue
        columns = line.split()
        if len(columns) < 2:
            problems.append(f"{path}:{number}: expected a token and a tag, found {line.strip()!r}; line skipped.")
            continue
        tag = columns[-1]
        if not_a_tag is None and tag != "O" and not (tag[:2] in ("B-", "I-") and len(tag) > 2):
            not_a_tag = (number, tag)
        sentence.append((columns[0], tag))
    if bad:
        number, tag = min(bad.values())
        problems.append(
            f"{path}:{number}: {tag[:40]!r} is not an IOB tag (O, B-LABEL or I-LABEL), so this may not be a CoNLL file; "
            f"{plural(len(bad), 'document')} with such lines skipped."
        )
    for number, sentences in documents:
        if not sentences or number in bad:
            continue
        words, tags = [], []
        for sent in sentences:
            words += [word for word, _ in sent] + [BREAK]
            tags += [tag for _, tag in sent] + ["O"]
        words, tags = _opening_quotes_after_breaks(words[:-1], tags[:-1])
        doc = Doc(nlp.vocab, words=words, spaces=spaces_between(nlp, words))
        try:
            offsets = biluo_tags_to_offsets(doc, iob_to_biluo(tags))
        except Exception as error:  # spaCy raises ValueError on an I- with no B- in BILUO form
            problems.append(f"{path}:{number}: the tags of this document are not valid IOB ({error}); skipped.")
            continue
        yield Record(doc.text, [(s, e, label) for s, e, label in offsets], None, {}, f"{path}:{number}", text_from_tokens=True)


_CONTRACTIONS = frozenset({"n't", "'s", "'re", "'ve", "'ll", "'d", "'m", "’s", "n’t"})
_JOINERS = frozenset({"-"})  # between two words, as in Russian-led: spaCy splits it off as an infix
_DASHES = frozenset({"—", "–", "--"})  # punctuation that stands apart: "GDAŃSK, Poland — The bank"
BREAK = "\n"  # between the sentences of a rebuilt document: a line each


def _opening_quotes_after_breaks(words: list[str], tags: list[str]) -> tuple[list[str], list[str]]:
    """spaCy's sentences end a sentence with the quote that opens the next one (``Market . "`` then
    ``These bridges``): such a quote moves to the start of the next line, where it belongs."""
    words, tags = list(words), list(tags)
    quote_open = False
    i = 0
    while i < len(words):
        if words[i] == '"':
            if not quote_open and i + 1 < len(words) and words[i + 1] == BREAK and tags[i] == "O":
                words[i], words[i + 1] = words[i + 1], words[i]
                i += 1  # the quote, now after the break, is the one that opens
            quote_open = not quote_open
        i += 1
    return words, tags


def spaces_between(nlp: Language, words: list[str]) -> list[bool]:
    """Whether a space follows each word of a document (``BREAK`` between its lines), by spaCy's own rules.

    spaCy's lexical attributes say what a word is: punctuation that is not opening (``,`` ``.``
    ``)`` ``!``), or a word its suffix rules split off whole (``%``), or a contraction (``'s``
    ``n't``) joins the word before it; opening punctuation or a currency sign joins the word after
    it; a hyphen between two words joins both. A straight double quote opens and closes by turns,
    across sentences. Each join is kept only if spaCy's tokenizer splits the joined text back into
    the same words. Nothing is joined across a break, and no space comes before one."""
    tokenizer = nlp.tokenizer
    prefix, suffix = tokenizer.prefix_search, tokenizer.suffix_search  # type: ignore[attr-defined]

    def whole(search: object, word: str) -> bool:
        found = search(word) if search is not None else None  # type: ignore[operator]
        return found is not None and found.end() - found.start() == len(word)

    def splits_back(*pieces: str) -> bool:
        return [t.text for t in tokenizer("".join(pieces))] == list(pieces)

    def closing(word: str) -> bool:
        if word in _DASHES:
            return False
        if word == "'":  # the Balkans' isolation
            return True
        lex = nlp.vocab[word]
        if lex.is_quote or lex.is_left_punct:
            return lex.is_right_punct and not lex.is_left_punct
        return lex.is_punct or lex.is_right_punct or (whole(suffix, word) and not whole(prefix, word)) or word.lower() in _CONTRACTIONS

    def opening(word: str) -> bool:
        lex = nlp.vocab[word]
        return (lex.is_left_punct and not lex.is_right_punct) or lex.is_currency

    spaces = [True] * len(words)
    quote_open = False
    opened_at = -1  # the word that is an opening quote, if the last quote opened
    for i, word in enumerate(words):
        before = words[i - 1] if i and words[i - 1] != BREAK else None
        after = words[i + 1] if i + 1 < len(words) and words[i + 1] != BREAK else None
        if word == BREAK:
            spaces[i] = False
            if i:
                spaces[i - 1] = False
        elif word == '"':
            if quote_open and before is not None:
                spaces[i - 1] = not splits_back(before, word)
            elif not quote_open and after is not None:
                spaces[i] = not splits_back(word, after)
                opened_at = i
            quote_open = not quote_open
        elif word in _JOINERS and before is not None and after is not None and before.isalnum() and after.isalnum():
            if splits_back(before, word, after):
                spaces[i - 1] = spaces[i] = False
        elif before is not None and i - 1 != opened_at and closing(word) and not opening(before):
            # With the word before it when those two are joined already: "'s." alone is not "'s" ".",
            # but "Romania's." is "Romania" "'s" ".".
            joined = i >= 2 and not spaces[i - 2] and words[i - 2] != BREAK
            spaces[i - 1] = not (splits_back(words[i - 2], before, word) if joined else splits_back(before, word))
        if word != BREAK and opening(word) and after is not None:
            spaces[i] = not splits_back(word, after)
    if spaces:
        spaces[-1] = False
    return spaces
