"""One training run: the gold prepared as DocBins, spaCy's own initialisation and training loop
(``spacy.training.initialize.init_nlp``, ``spacy.training.loop.train``: what ``spacy train`` runs),
the best model kept in ``--out`` as a plain spaCy pipeline, and the run recorded in the DB.

goldspan adds three things to spaCy's loop, through the hooks its config offers: progress (a
``[training.logger]`` and a ``[training.before_update]`` callback), a time limit (the callback
ends the loop; spaCy then saves the last model as it does on any error) and, for a fine-tuned
base, the masking of labels that have no gold (``config.mask_labels``) between init and training.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..datamodel import now_iso
from ..errors import InputError
from ..store import Store
from ..words import plural
from . import eval_split, registry
from .config import Base, add_labels, build_config, choose_base, mask_labels
from .examples import (
    INCORRECT_SPANS, ExampleSet, GoldArticle, PartialArticle, add_partial_docs, example_counter, gold_articles, gold_digest,
    partial_articles, sentence_nlp, write_docbin,
)  # fmt: skip

if TYPE_CHECKING:
    from spacy.language import Language

MIN_EVAL_EXAMPLES = eval_split.MIN_EVAL_EXAMPLES


@dataclass
class TrainRequest:
    out: Path | None  # None: a curve point, kept nowhere
    base: str | None = None
    labels: tuple[str, ...] | None = None
    eval_split: float | None = None
    reset_eval: bool = False
    max_minutes: float = 10.0
    annotator: str | None = None
    gpu_id: int = -1
    max_steps: int | None = None
    eval_frequency: int | None = None
    seed: int = 0
    spancat: bool = False  # a span categorizer trained beside the NER, to score its entities (--scorer spancat)

    @property
    def span_key(self) -> str | None:
        """The span group the examples carry the gold in for the span categorizer, if one is trained."""
        from ..confidence.span_categorizer import SPANS_KEY

        return SPANS_KEY if self.spancat else None


@dataclass
class Progress:
    """What the loop has done so far, reported after every step."""

    step: int = 0
    epoch: int = 0
    loss: float = 0.0  # the NER's loss summed since the last evaluation
    eval_f: float | None = None  # the last evaluation's F
    best_f: float | None = None
    words: int = 0
    seconds: float = 0.0
    phase: str = "training"  # "preparing", "training", "evaluating"


@dataclass
class Prepared:
    """Everything decided before training starts (all bad input is refused while making it)."""

    base: Base
    split: float
    new_parts: dict[str, bool]
    train_articles: list[GoldArticle]
    eval_articles: list[GoldArticle]
    labels: list[str]
    workdir: Path
    eval_set: ExampleSet
    eval_path: Path
    notes: list[str] = field(default_factory=list)
    # Teach mode's answers on articles with no gold and not held out: trained on as partial examples.
    partial: list[PartialArticle] = field(default_factory=list)


@dataclass
class Outcome:
    """A finished run of spaCy's loop: the folder of the model kept, its scores, how it ended."""

    folder: Path
    scores: dict[str, Any]
    train_set: ExampleSet
    stopped: str
    seconds: float
    words: int
    masked: list[str]


@dataclass
class TrainResult:
    record: registry.ModelRecord
    prepared: Prepared
    outcome: Outcome


class _TimeUp(Exception):
    """Raised from the before-update callback when the time limit is reached: spaCy's loop then
    saves the last model, as it does when any exception ends it."""


# -- the hooks spaCy's config names; they report to the run in progress ---------------------------

_active: _Run | None = None


@dataclass
class _Run:
    deadline: float
    on_progress: Callable[[Progress], None] | None
    progress: Progress = field(default_factory=Progress)
    started: float = field(default_factory=time.monotonic)
    # The scores of the evaluation spaCy saved model-best after (the last of the highest, as its loop
    # keeps), so the model kept need not be scored again.
    best_score: float = float("-inf")
    best_scores: dict[str, Any] | None = None

    def step(self, step: int, epoch: int) -> None:
        if time.monotonic() > self.deadline:
            raise _TimeUp()
        self.progress.step, self.progress.epoch = step, epoch
        self._report()

    def log(self, info: dict[str, Any]) -> None:
        self.progress.loss = float(info["losses"].get("ner", 0.0))
        self.progress.words = int(info.get("words", 0))
        score = info.get("score")
        if score is not None and float(score) >= self.best_score:
            self.best_score, self.best_scores = float(score), info["other_scores"]
        f = info["other_scores"].get("ents_f")
        if f is not None:
            self.progress.eval_f = float(f)
            self.progress.best_f = max(self.progress.best_f or 0.0, float(f))
        self._report()

    def _report(self) -> None:
        self.progress.seconds = time.monotonic() - self.started
        if self.on_progress is not None:
            self.on_progress(self.progress)


def _register_hooks() -> None:
    from spacy.util import registry as spacy_registry

    if "goldspan.before_update.v1" in spacy_registry.callbacks:
        return

    def before_update(nlp: Language, args: dict[str, Any]) -> None:
        if _active is not None:
            _active.step(int(args["step"]), int(args["epoch"]))

    def logger() -> Callable[..., Any]:
        def setup(nlp: Language, stdout: Any = None, stderr: Any = None) -> tuple[Callable[[Any], None], Callable[[], None]]:
            def log_step(info: dict[str, Any] | None) -> None:
                if info is not None and _active is not None:
                    _active.log(info)

            return log_step, lambda: None

        return setup

    spacy_registry.callbacks.register("goldspan.before_update.v1", func=lambda: before_update)
    spacy_registry.loggers.register("goldspan.progress.v1", func=logger)


# -- preparing ------------------------------------------------------------------------------------


def check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"--out {out}: already exists; give a new folder (a trained model is never written over).")
    ancestor = out.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(f"--out {out}: cannot write there ({ancestor} is not a writable folder).")


def _workdir_near(out: Path | None) -> Path:
    """A scratch folder on the same file system as ``out``, so the model is moved there, not copied."""
    if out is None:
        return Path(tempfile.mkdtemp(prefix="goldspan-train-"))
    ancestor = out.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    try:
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.goldspan-train-", dir=ancestor))
    except OSError as error:
        raise InputError(f"--out {out}: cannot write there ({error.strerror or error}).") from None


def check_request(request: TrainRequest) -> None:
    """What can be refused before the DB is opened (so a refused command never migrates or touches it)."""
    if request.out is not None:
        check_out(request.out)
    if request.max_minutes <= 0:
        raise InputError(f"--max-minutes {request.max_minutes:g}: give a time limit above 0 minutes.")
    if request.eval_split is not None:
        eval_split.check_split(request.eval_split)
    _gpu(request.gpu_id)


def prepare(store: Store, request: TrainRequest) -> Prepared:
    """Check the request against the DB and write the evaluation DocBin; refuses bad input (InputError)
    before anything is written outside a scratch folder that is removed on failure."""
    check_request(request)
    if store.read_only:
        raise InputError(f"{store.path}: cannot save to this database, so a trained model could not be recorded in it.")
    split = eval_split.chosen_split(store, request.eval_split, request.reset_eval)
    gold = gold_articles(store, request.annotator)
    if not gold:
        whose = f"by {request.annotator} " if request.annotator else ""
        raise InputError(f"{store.path}: no accepted gold {whose}to train on; accept articles in `goldspan annotate` (or `goldspan import --as gold`) first.")
    base = choose_base(store, request.base, registry.bases(store))
    counter = example_counter(gold, base.lang)
    parts, new_parts = eval_split.parts_for(store, [a.article_id for a in gold], split, request.reset_eval, counter)
    eval_articles = [a for a in gold if parts[a.article_id]]
    train_articles = [a for a in gold if not parts[a.article_id]]
    if not train_articles:
        raise InputError(f"{store.path}: all {plural(len(gold), 'accepted article')} are held out for evaluation; accept more articles to train on.")
    nlp = sentence_nlp(base.lang)
    held_out = {a for a, held in {**store.eval_parts(), **parts}.items() if held}
    partial = partial_articles(store, {a.article_id for a in gold} | held_out, request.annotator)
    left_out = partial if request.spancat else []
    if request.spancat:
        # spaCy's span categorizer has no "unknown" for a span: an article known only through a few
        # answers would teach it that every other span of it is no entity.
        partial = []
    trained_labels = sorted({s[2] for a in train_articles for s in a.spans} | {s[2] for a in partial for s in a.accepted})
    if request.labels:
        missing = [label for label in request.labels if label not in trained_labels]
        if missing:
            raise InputError(f"--labels {','.join(request.labels)}: no training example has the label {missing[0]!r}; give labels the gold has.")
        labels = list(dict.fromkeys(request.labels))
    else:
        labels = trained_labels
    if not labels:
        raise InputError(f"{store.path}: the accepted gold has no entities to learn from.")
    workdir = _workdir_near(request.out)
    try:
        eval_path = workdir / "eval.spacy"
        eval_set = write_docbin(nlp, eval_articles, eval_path, set(labels), span_key=request.span_key)
        if eval_set.docs < MIN_EVAL_EXAMPLES:
            raise InputError(
                f"{store.path}: only {plural(eval_set.docs, 'evaluation example')} (sentences of {plural(len(eval_articles), 'held-out article')}); "
                f"at least {MIN_EVAL_EXAMPLES} are needed for a score that means anything: accept more articles."
            )
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    notes = []
    only_eval = sorted({s[2] for a in eval_articles for s in a.spans} - set(labels))
    if only_eval:
        notes.append(f"not trained, so not scored: {', '.join(only_eval)} (no gold in the training articles{'' if not request.labels else ' or not in --labels'}).")
    if left_out:
        notes.append(f"teach answers in {plural(len(left_out), 'article')} without gold left out: the span categorizer "
                     "(--spancat) cannot learn from partial examples.")  # fmt: skip
    if partial:
        answers = sum(len(a.accepted) + len(a.rejected) for a in partial)
        notes.append(f"also training on {plural(answers, 'teach answer')} in {plural(len(partial), 'article')} without gold "
                     "(as partial examples: accepted spans are entities, rejected ones are not, the rest unknown).")  # fmt: skip
    return Prepared(base, split, new_parts, train_articles, eval_articles, labels, workdir, eval_set, eval_path, notes, partial)


# -- training -------------------------------------------------------------------------------------


def run(prepared: Prepared, request: TrainRequest, train_articles: list[GoldArticle] | None = None,
        on_progress: Callable[[Progress], None] | None = None, name: str = "run") -> Outcome:  # fmt: skip
    """spaCy's initialisation and training loop on the prepared data (or a subset of its training
    articles, for a curve point); the model kept is the best evaluated, else the last."""
    import spacy
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import train as spacy_train

    global _active
    _register_hooks()
    folder = prepared.workdir / name
    folder.mkdir()
    articles = prepared.train_articles if train_articles is None else train_articles
    train_path = folder / "train.spacy"
    train_set = write_docbin(sentence_nlp(prepared.base.lang), articles, train_path, set(prepared.labels), span_key=request.span_key)
    if prepared.partial:
        from_answers = add_partial_docs(sentence_nlp(prepared.base.lang), prepared.partial, train_path, set(prepared.labels))
        train_set.docs += from_answers.docs
        train_set.words += from_answers.words
    use_gpu = _gpu(request.gpu_id)
    config = build_config(
        prepared.base, train_path, prepared.eval_path, gpu=use_gpu >= 0,
        max_steps=request.max_steps, eval_frequency=request.eval_frequency, seed=request.seed, spancat=request.spancat,
    )  # fmt: skip
    config["training"]["logger"] = {"@loggers": "goldspan.progress.v1"}
    config["training"]["before_update"] = {"@callbacks": "goldspan.before_update.v1"}
    started = time.monotonic()
    _active = _Run(started + request.max_minutes * 60, on_progress)
    stopped = "finished"
    try:
        with _quiet():
            nlp = init_nlp(config, use_gpu=use_gpu)
        add_labels(nlp, prepared.labels)
        if prepared.partial:
            _read_incorrect_spans(nlp)
        masked = [] if prepared.base.is_blank else mask_labels(nlp, set(prepared.labels))
        try:
            with _quiet():
                spacy_train(nlp, folder, use_gpu=use_gpu, stdout=io.StringIO(), stderr=io.StringIO())
        except _TimeUp:
            stopped = "time limit"
        except KeyboardInterrupt:
            stopped = "interrupted"
        words, checkpoint = _active.progress.words, _active.best_scores
    finally:
        _active = None
    best, last = folder / "model-best", folder / "model-last"
    kept = best if (best / "meta.json").exists() else last
    if not (kept / "meta.json").exists():
        raise KeyboardInterrupt() if stopped == "interrupted" else InputError("training ended before any model was saved; give it more time (--max-minutes).")
    if kept == best and checkpoint is not None:
        scores = {key: checkpoint.get(key) for key in ("ents_p", "ents_r", "ents_f", "ents_per_type")}
    else:  # stopped before any evaluation: the last model, scored now
        if on_progress is not None:
            on_progress(Progress(phase="evaluating", seconds=time.monotonic() - started))
        scores = evaluate(spacy.load(kept), prepared.eval_path)
    return Outcome(kept, scores, train_set, stopped, time.monotonic() - started, words, masked)


def _gpu(gpu_id: int) -> int:
    if gpu_id < 0:
        return -1
    from thinc.api import require_gpu

    try:
        require_gpu(gpu_id)
    except Exception as error:  # thinc raises ValueError without cupy, cupy its own errors without a device
        raise InputError(f"--gpu-id {gpu_id}: no GPU to train on here ({str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__}); leave the option out to train on the CPU.") from None
    return gpu_id


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """spaCy's loggers print to stderr while it initialises; the progress display says what matters."""
    import logging

    logger = logging.getLogger("spacy")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def evaluate(nlp: Language, eval_path: Path) -> dict[str, Any]:
    """spaCy's ``Scorer`` over the evaluation examples: ents_p, ents_r, ents_f and ents_per_type."""
    from spacy.training import Corpus

    scores = nlp.evaluate(list(Corpus(str(eval_path))(nlp)))
    return {key: scores.get(key) for key in ("ents_p", "ents_r", "ents_f", "ents_per_type")}


# -- keeping the model ----------------------------------------------------------------------------


def train(
    store: Store,
    request: TrainRequest,
    on_progress: Callable[[Progress], None] | None = None,
    on_prepared: Callable[[Prepared], None] | None = None,
) -> TrainResult:
    """Prepare, train, and keep the model in ``request.out``; the run and the new evaluation
    assignments are stored in the DB once the model is in place. A ctrl+c during training keeps the
    best model so far (the result says ``stopped="interrupted"``)."""
    assert request.out is not None
    prepared = prepare(store, request)
    try:
        if on_prepared is not None:
            on_prepared(prepared)
        outcome = run(prepared, request, on_progress=on_progress)
        generation = eval_split.generation_after(store, request.reset_eval)
        # The model in use now, scored on this run's evaluation set (it grows as articles are added,
        # so a score stored earlier would not compare): the new model is used only if it beats it.
        current = in_use_now(store, generation)
        why_not = _not_eligible(store, request, prepared, generation)
        current_f = None
        if current is not None:
            if on_progress is not None:
                on_progress(Progress(phase="comparing", seconds=outcome.seconds))
            try:
                current_f = score(current, prepared.eval_path)
            except KeyboardInterrupt:  # the model is made: keep it, unused, since it was not compared
                outcome.stopped, why_not = "interrupted", why_not or "interrupted before it was compared with the model in use"
        store.refresh()  # another run may have recorded a model meanwhile: the version number follows it
        record = _record(store, prepared, outcome, request, generation, current, current_f, why_not)
        _write_model(outcome.folder, record, prepared, outcome, request)
        request.out.parent.mkdir(parents=True, exist_ok=True)
        if request.out.exists():  # an empty folder given as --out: the model takes its place, not a place inside it
            request.out.rmdir()
        shutil.move(str(outcome.folder), str(request.out))  # a rename on one file system
    finally:
        shutil.rmtree(prepared.workdir, ignore_errors=True)
    eval_split.store_run(store, prepared.new_parts, prepared.split, request.reset_eval, record.to_dict())
    return TrainResult(record, prepared, outcome)


MIN_FIT = 20  # right and wrong suggestions each, at least, for a calibration fit: with 3 wrong in a half, a fit hurt (docs/confidence.md)


def fitted_calibration(folder: Path | str, eval_path: Path) -> dict[str, Any] | None:
    """Isotonic fits of the model's scorers' raw scores on its own held-out suggestions (the greedy
    scorer's, and the span categorizer's if it has one), for its meta (``confidence.scoring.calibration_for``
    reads it); None when the evaluation set has too few wrong (or right) suggestions for a fit to help."""
    import spacy
    from spacy.tokens import DocBin

    from ..confidence.calibration import Isotonic
    from ..confidence.scoring import entity_scores, scored_ner
    from ..confidence.span_categorizer import spancat_of

    nlp = spacy.load(str(folder))  # a folder, or (tests) an installed package by name
    if scored_ner(nlp) is None:
        return None
    gold_docs = list(DocBin().from_disk(eval_path).get_docs(nlp.vocab))
    gold = [{(e.start_char, e.end_char, e.label_) for e in doc.ents} for doc in gold_docs]
    texts = [doc.text for doc in gold_docs]
    fits: dict[str, Any] = {}
    for scorer in ["greedy", *(["spancat"] if spancat_of(nlp) else [])]:
        scored = entity_scores(nlp, texts, scorer)
        pairs = [(p, key in gold[i]) for i, found in enumerate(scored) for key, p in found.items() if p is not None]
        wrong = sum(1 for _, right in pairs if not right)
        if wrong < MIN_FIT or len(pairs) - wrong < MIN_FIT:
            continue
        fit = Isotonic.fit([p for p, _ in pairs], [right for _, right in pairs])
        fits[scorer] = {"xs": [round(x, 6) for x in fit.xs], "ys": [round(y, 6) for y in fit.ys],
                        "fitted_on": f"isotonic fit on {len(pairs)} held-out suggestions ({wrong} wrong)"}  # fmt: skip
    return fits or None


def _read_incorrect_spans(nlp: Language) -> None:
    """Have the NER learn from the span group of known-wrong spans (its ``incorrect_spans_key``). A NER
    sourced from a base model keeps the base's settings, where the key is unset; it lives in the
    component's cfg and its transition system's, which is where spaCy's own constructor puts it."""
    for name in nlp.pipe_names:
        pipe = nlp.get_pipe(name)
        if nlp.get_pipe_meta(name).factory in ("ner", "beam_ner"):
            pipe.cfg["incorrect_spans_key"] = INCORRECT_SPANS  # type: ignore[attr-defined]
            pipe.moves.cfg["neg_key"] = INCORRECT_SPANS  # type: ignore[attr-defined]


def _not_eligible(store: Store, request: TrainRequest, prepared: Prepared, generation: int) -> str:
    """Why this run's model may not become the one annotate uses, whatever its score ("" if it may)."""
    if request.annotator is not None:
        return f"trained on {request.annotator}'s versions only, not the final gold"
    current = registry.in_use(store, generation)
    if current is not None and not set(current.labels) <= set(prepared.labels):
        missing = sorted(set(current.labels) - set(prepared.labels))
        return f"it does not predict {', '.join(missing)}, which {current.version} does"
    return ""


def in_use_now(store: Store, generation: int) -> str | None:
    """What ``goldspan annotate`` suggests with now: the DB's model in use, else the installed English model."""
    from ..errors import ModelError
    from ..nlp import pipelines

    found = registry.in_use(store, generation)
    if found is not None:
        return found.path
    try:
        return pipelines.resolve(None).name
    except ModelError:
        return None


def score(model: str, eval_path: Path) -> float | None:
    """A pipeline's entity F on the evaluation set, its other components switched off (None if it has no NER
    or cannot be loaded: then nothing stands in a new model's way)."""
    from ..errors import GoldspanError
    from ..nlp import pipelines

    try:
        nlp = pipelines.load(pipelines.resolve(model))
    except GoldspanError:
        return None
    entity = pipelines.entity_components(nlp)
    if not entity:
        return None
    with nlp.select_pipes(enable=entity):
        return float(evaluate(nlp, eval_path).get("ents_f") or 0.0)


def _record(
    store: Store, prepared: Prepared, outcome: Outcome, request: TrainRequest, generation: int, current: str | None, current_f: float | None,
    why_not: str,
) -> registry.ModelRecord:
    from ..nlp import pipelines

    scores = outcome.scores
    f = float(scores.get("ents_f") or 0.0)
    compared_with = pipelines.resolve(current).display_name if current is not None else ""
    per_label = {label: {k: float(v) for k, v in figures.items()} for label, figures in (scores.get("ents_per_type") or {}).items()}
    assert request.out is not None
    return registry.ModelRecord(
        version=registry.next_version(store), run=secrets.token_hex(4), path=str(request.out.resolve()), base=prepared.base.name,
        labels=prepared.labels, train_articles=len(prepared.train_articles), train_examples=outcome.train_set.docs,
        eval_articles=len(prepared.eval_articles), eval_examples=prepared.eval_set.docs, eval_generation=generation,
        gold_hash=gold_digest(prepared.train_articles), f=f, p=float(scores.get("ents_p") or 0.0),
        r=float(scores.get("ents_r") or 0.0), per_label=per_label, seconds=round(outcome.seconds, 2), stopped=outcome.stopped, created=now_iso(),
        in_use=not why_not and (current_f is None or f > current_f), compared_with=compared_with, compared_f=current_f, not_used_because=why_not,
    )  # fmt: skip


def _write_model(folder: Path, record: registry.ModelRecord, prepared: Prepared, outcome: Outcome, request: TrainRequest) -> None:
    """The kept pipeline's meta names its version, what it was trained on and its scores; its config
    is spaCy's own again (goldspan's progress hooks replaced by spaCy's defaults, the scratch paths
    emptied), so ``spacy.load`` and ``spacy train`` need nothing of goldspan's."""
    import srsly
    from thinc.api import Config

    meta = srsly.read_json(folder / "meta.json")
    meta.update(
        name="goldspan", version=f"{record.number}.0.0",
        description=f"{record.version}: NER trained by goldspan from {plural(record.train_articles, 'article')} of gold ({record.base} as base).",
        performance={**outcome.scores, "ents_per_type": record.per_label},
    )  # fmt: skip
    meta.setdefault("labels", {})["ner"] = list(prepared.labels)
    meta["goldspan"] = {
        "version": record.version, "run": record.run, "base": record.base, "stopped": record.stopped,
        "trained_on": {"articles": record.train_articles, "examples": record.train_examples, "gold_hash": record.gold_hash,
                       "annotator": request.annotator or "final gold"},
        "eval": {"articles": record.eval_articles, "examples": record.eval_examples, "split": prepared.split, "generation": record.eval_generation},
        "masked_labels": outcome.masked,
    }  # fmt: skip
    calibration = fitted_calibration(folder, prepared.eval_path)
    if calibration is not None:
        meta["goldspan"]["calibration"] = calibration
    srsly.write_json(folder / "meta.json", meta)
    config = Config().from_disk(folder / "config.cfg", interpolate=False)
    config["training"]["logger"] = {"@loggers": "spacy.ConsoleLogger.v1", "progress_bar": False}
    config["training"]["before_update"] = None
    config["paths"]["train"] = None
    config["paths"]["dev"] = None
    config.to_disk(folder / "config.cfg")
