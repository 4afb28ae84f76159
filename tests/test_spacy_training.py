"""What goldspan exports, spaCy's own CLI accepts: `spacy debug data` and a few steps of `spacy train`."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
import spacy

from goldspan.annotations.datamodel import Annotation, Answer, Article, Origin, Span, SpanState
from goldspan.annotations.store import Store

from .conftest import run_goldspan

PEOPLE = ["Anna Nowak", "Zoë Müller", "José Ramírez", "Lars Østergaard", "Nguyễn Thị Lan"]
PLACES = ["Gdańsk", "São Paulo", "Reykjavík", "Minsk", "Cần Thơ"]


def spacy_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spacy", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """150 accepted articles (spaCy wants 100 training docs for a new pipeline), exported with --split 0.8."""
    folder = tmp_path_factory.mktemp("training")
    nlp, rng = spacy.blank("en"), random.Random(7)
    with Store(folder / "g.json") as store:
        for i in range(150):
            person, place = rng.choice(PEOPLE), rng.choice(PLACES)
            article = Article.from_text(f"Report {i}\n{person} arrived in {place} on day {i} of the visit.")
            doc = nlp.make_doc(article.text)
            spans = []
            for words, label in ((person, "PERSON"), (place, "GPE")):
                found = doc.char_span(article.text.index(words), article.text.index(words) + len(words))
                spans.append(Span(found.start_char, found.end_char, found.start, found.end, label, Origin.ANNOTATOR, SpanState.ADDED))
            store.add_articles([article])
            store.save_annotation(Annotation(article.id, "alice", tuple(spans), Answer.ACCEPT))
    result = run_goldspan("export", "--db", folder / "g.json", "--format", "spacy", "--split", "0.8", "--out", folder / "corpus")
    assert result.returncode == 0, result.stderr
    assert "Exported 150 articles (300 spans)" in result.stdout
    init = spacy_cli("init", "config", "config.cfg", "--lang", "en", "--pipeline", "ner", cwd=folder)
    assert init.returncode == 0, init.stderr
    return folder


def test_spacy_debug_data_accepts_the_export_and_counts_the_labels(corpus: Path) -> None:
    result = spacy_cli("debug", "data", "config.cfg", "--paths.train", "corpus/train.spacy", "--paths.dev", "corpus/dev.spacy",
                       "--verbose", cwd=corpus)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "120 training docs" in result.stdout and "30 evaluation docs" in result.stdout
    assert "Labels in train data: 'PERSON' (120), 'GPE' (120)" in result.stdout


def test_spacy_train_runs_on_the_export_and_writes_a_model_that_loads(corpus: Path) -> None:
    result = spacy_cli("train", "config.cfg", "--output", "model", "--paths.train", "corpus/train.spacy", "--paths.dev", "corpus/dev.spacy",
                       "--training.max_steps", "20", "--training.eval_frequency", "10", cwd=corpus)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    nlp = spacy.load(corpus / "model" / "model-last")
    assert set(nlp.get_pipe("ner").labels) == {"PERSON", "GPE"}


def test_spacy_convert_reads_the_conll_export_with_every_entity(corpus: Path) -> None:
    exported = run_goldspan("export", "--db", corpus / "g.json", "--format", "conll", "--out", corpus / "gold.conll")
    assert exported.returncode == 0, exported.stderr
    tags = [line.split("\t")[1] for line in (corpus / "gold.conll").read_text(encoding="utf-8").splitlines() if "\t" in line]
    assert all(not tag.startswith("I-") or prev[2:] == tag[2:] for prev, tag in zip(["O", *tags], tags))  # valid IOB2
    (corpus / "converted").mkdir()
    result = spacy_cli("convert", "-c", "ner", "gold.conll", "converted", cwd=corpus)
    assert result.returncode == 0, result.stdout + result.stderr
    from spacy.tokens import DocBin

    docs = list(DocBin().from_disk(corpus / "converted" / "gold.spacy").get_docs(spacy.blank("en").vocab))
    assert sum(len(doc.ents) for doc in docs) == 300
