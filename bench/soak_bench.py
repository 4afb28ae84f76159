"""A soak of kills (issue 25): a child process annotates through the real ``Session`` API (focus an
entity, relabel it, now and then accept the article), reporting each save before and after it
returns; it is killed at a random moment (SIGKILL mostly, SIGTERM or SIGHUP a fifth of the time), and
every fifth round four such children, each its own annotator, write at once and are all killed;
every twentieth the journal is folded, as a clean close would.
After every kill the DB is opened and every save a child reported must be there (the one in flight
when the kill landed may or may not be). Reports kills, saves and how many were lost (the target: 0).

    python bench/run.py soak [--kills 1000]
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Row

ROOT = Path(__file__).resolve().parent.parent
LABELS = ("PERSON", "ORG", "GPE", "DATE")

CHILD = """
import json, random, sys
from goldspan.annotations.datamodel import Answer, ModelId
from goldspan.annotations.nlp.align import Aligned
from goldspan.annotations.nlp.tokens import Tokens
from goldspan.annotations.session.session import Session
from goldspan.annotations.store import Store

db, who, seed, tokens_file, model, version = sys.argv[1:7]
tokens = json.loads(open(tokens_file, encoding="utf-8").read())
labels = ("PERSON", "ORG", "GPE", "DATE")
rng = random.Random(int(seed))
with Store(db) as store:
    s = Session(store, store.article_list(), annotator=who, labels=labels, model=ModelId(model, version))

    def ready():
        d = s.draft
        starts, ends = tokens[d.article.id]
        s.set_tokens(d.article.id, Aligned(Tokens(tuple(starts), tuple(ends)), tuple(d.spans)), d.version)

    ready()
    print("ready", flush=True)
    while True:
        if not s.spans or rng.random() < 0.05:
            print(f"saving answer {s.article.id}", flush=True)
            s.answer(Answer.ACCEPT)
            print("saved", flush=True)
            ready()
            continue
        i = rng.randrange(len(s.spans))
        s.focus_span(i)
        span, label = s.spans[i], rng.choice(labels)
        print(f"saving {s.article.id} {span.start} {span.end} {label}", flush=True)
        s.apply_label(label)
        print("saved", flush=True)
"""


def prepare(folder: Path) -> tuple[Path, Path, str, str]:
    """A DB of the sample articles (the four short ones) with the English model's suggestions, and
    each article's tokens in a file (the children then never load spaCy)."""
    from goldspan.annotations.articles import load_articles
    from goldspan.annotations.nlp import pipelines
    from goldspan.annotations.nlp.align import align_article, blank_tokenizer
    from goldspan.annotations.nlp.suggest import preannotate
    from goldspan.annotations.store import Store

    articles = sorted(load_articles([ROOT / "sample_articles"]).articles, key=lambda a: len(a.text))[:4]
    spec = pipelines.resolve(None)
    db = folder / "soak.json"
    tokens: dict[str, list[list[int]]] = {}
    tokenizer = blank_tokenizer(spec)
    with Store(db) as store:
        preannotate(store, articles, spec)
        for article in articles:
            aligned = align_article(tokenizer, article, ())
            tokens[article.id] = [list(aligned.tokens.starts), list(aligned.tokens.ends)]
    tokens_file = folder / "tokens.json"
    tokens_file.write_text(json.dumps(tokens), encoding="utf-8")
    return db, tokens_file, spec.model_id.name, spec.model_id.version


class Child:
    def __init__(self, db: Path, who: str, seed: int, tokens: Path, model: str, version: str) -> None:
        self.who = who
        self.process = subprocess.Popen([sys.executable, "-c", CHILD, str(db), who, str(seed), str(tokens), model, version],
                                        stdout=subprocess.PIPE, text=True, bufsize=1)  # fmt: skip
        self.lines: list[str] = []

    def read_until(self, saves: int) -> None:
        """Read its report until it has said ``saves`` saves returned (or has ended)."""
        assert self.process.stdout is not None
        done = 0
        while done < saves:
            line = self.process.stdout.readline()
            if not line:
                return
            self.lines.append(line.strip())
            done += line.startswith("saved")

    def kill(self, how: int) -> None:
        self.process.send_signal(how)
        out, _ = self.process.communicate()
        self.lines += [line.strip() for line in out.splitlines()]


def settle(expected: dict[tuple[str, str, int, int], str], who: str, lines: list[str]) -> tuple[int, tuple[tuple[str, str, int, int], str] | None]:
    """Fold a child's report into ``expected`` (annotator, article, start, end → label): returns how
    many saves it reported done, and the one in flight when it was killed, if any."""
    reported, pending = 0, None
    for line in lines:
        parts = line.split()
        if parts[0] == "saving" and parts[1] != "answer":
            pending = ((who, parts[1], int(parts[2]), int(parts[3])), parts[4])
        elif parts[0] == "saving":
            pending = None
        elif parts[0] == "saved":
            reported += 1
            if pending is not None:
                expected[pending[0]] = pending[1]
            pending = None
    return reported, pending


def lost_saves(db: Path, expected: dict[tuple[str, str, int, int], str], in_flight: dict[tuple[str, str, int, int], str]) -> int:
    from goldspan.annotations.store import Store

    with Store(db, read_only=True) as store:
        labels: dict[tuple[str, str, int, int], str] = {}
        for record in store.annotations():
            for span in record.spans:
                labels[(record.annotator, record.article_id, span.start, span.end)] = span.label
    return sum(1 for key, label in expected.items() if labels.get(key) not in (label, in_flight.get(key)))


def bench_soak(quick: bool, kills: int = 1000) -> list[Row]:
    kills = 20 if quick else kills
    rng = random.Random(20261206)
    with tempfile.TemporaryDirectory() as tmp:
        db, tokens, model, version = prepare(Path(tmp))
        expected: dict[tuple[str, str, int, int], str] = {}
        reported = lost = done = rounds = 0
        started = time.perf_counter()
        while done < kills:
            rounds += 1
            together = rounds % 5 == 0
            children = [Child(db, f"w{i}" if together else "solo", rng.randrange(1 << 30), tokens, model, version) for i in range(4 if together else 1)]
            in_flight: dict[tuple[str, str, int, int], str] = {}
            for child in children:
                child.read_until(rng.randint(0, 25))
                how = rng.choices([signal.SIGKILL, signal.SIGTERM, signal.SIGHUP], [8, 1, 1])[0]
                child.kill(how)
                done += 1
                said, pending = settle(expected, child.who, child.lines)
                reported += said
                if pending is not None:
                    in_flight[pending[0]] = pending[1]
            lost += lost_saves(db, expected, in_flight)
            # A save in flight at a kill may have landed or not (either is right): what the DB holds is
            # what later rounds must find.
            expected.update(current_labels(db, in_flight))
            if rounds % 20 == 0:  # as a clean close now and then would: killed sessions never fold the journal
                fold(db)
        seconds = time.perf_counter() - started
    return [
        Row(f"soak: saves lost after {done:,} kills (SIGKILL, SIGTERM, SIGHUP; 1 round in 5 four writers at once) of {reported:,} reported",
            float(lost), float(reported), lost / max(1, reported), "0 lost", lost == 0),
        Row(f"soak: seconds for {done:,} kills and {reported:,} saves (vs kills)", seconds, float(done), seconds / max(1, done), "report", True),
    ]  # fmt: skip


def fold(db: Path) -> None:
    from goldspan.annotations.store import Store

    with Store(db) as store:
        store.compact()


def current_labels(db: Path, keys: dict[tuple[str, str, int, int], str]) -> dict[tuple[str, str, int, int], str]:
    """What the DB holds now for saves that were in flight at a kill (either value was right)."""
    from goldspan.annotations.store import Store

    if not keys:
        return {}
    found: dict[tuple[str, str, int, int], str] = {}
    with Store(db, read_only=True) as store:
        for who, article_id, start, end in keys:
            record = store.annotation(article_id, who)
            for span in record.spans if record is not None else ():
                if (span.start, span.end) == (start, end):
                    found[(who, article_id, start, end)] = span.label
    return found


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    print(bench_soak(quick="--quick" in sys.argv))
