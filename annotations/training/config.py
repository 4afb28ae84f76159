"""The config spaCy trains from, built as ``spacy init config --pipeline ner`` builds one.

Two kinds of base:
- a trained pipeline (the default: the English model the DB's suggestions came from): its ``ner``
  is sourced (``[components.ner] source = ...``) and fine-tuned, new labels added. Its own labels
  that have no gold are masked (``mask_labels``), so it predicts only the labels it is trained on.
- ``blank:LANG``: ``init config``'s own NER with its tok2vec, trained from scratch.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from ..errors import InputError, ModelError
from ..nlp import pipelines
from ..store import Store

if TYPE_CHECKING:
    from spacy.language import Language
    from thinc.api import Config

# A bias this low puts a move's score far below any real one, so greedy decoding never takes it,
# and its softmax share (hence its gradient) is zero: training leaves it where it is.
MASKED_BIAS = -1e4


@dataclass(frozen=True)
class Base:
    """What a model is trained from."""

    name: str  # a package, a folder, or blank:LANG
    lang: str
    why: str  # how it was chosen, for the output ("the model the DB's suggestions came from")

    @property
    def is_blank(self) -> bool:
        return self.name.startswith(pipelines.BLANK_PREFIX)

    def describe(self) -> str:
        if self.is_blank:
            return f"{self.name}: a new NER trained from scratch"
        return f"{self.name} ({self.why}): its NER fine-tuned"


def choose_base(store: Store, asked: str | None, model_paths: dict[str, str]) -> Base:
    """``--base``, else the pipeline most of the DB's suggestions came from (a goldspan model counts
    as the base it was trained from), else the installed English model."""
    if asked is not None:
        try:
            spec = pipelines.resolve(asked)
        except ModelError as error:  # worded for --model: the same problem, under this option's name
            raise InputError(str(error).replace("--model ", "--base ", 1)) from None
        if spec.is_blank:
            _check_lang(spec.name[len(pipelines.BLANK_PREFIX) :], asked)
        return Base(asked, _lang(spec, asked), "--base")
    used: dict[str, int] = {}
    for model in store.suggestion_summaries().models:
        name = model.split(" ", 1)[0]
        used[name] = used.get(name, 0) + 1
    for name, _ in sorted(used.items(), key=lambda item: -item[1]):
        base = model_paths.get(name, name)  # a goldspan-N model: the base it was trained from
        if base.startswith(pipelines.BLANK_PREFIX):
            continue
        try:
            spec = pipelines.resolve(base)
        except ModelError:
            continue
        if spec.meta and "ner" in spec.meta.get("pipeline", ()):
            return Base(base, _lang(spec, base), "the model the database's suggestions came from")
    spec = pipelines.resolve(None)
    return Base(spec.name, _lang(spec, spec.name), "the installed English model")


def _check_lang(lang: str, asked: str) -> None:
    from spacy.util import get_lang_class

    try:
        get_lang_class(lang)
    except Exception:  # spaCy raises ImportError for a language it does not have
        raise InputError(f"--base {asked}: spaCy has no language with the code {lang!r}.") from None


def _lang(spec: pipelines.PipelineSpec, asked: str) -> str:
    if spec.is_blank:
        return spec.name[len(pipelines.BLANK_PREFIX) :]
    lang = (spec.meta or {}).get("lang")
    if not isinstance(lang, str) or "ner" not in (spec.meta or {}).get("pipeline", ()):
        raise InputError(f"--base {asked}: this pipeline has no ner component to fine-tune; give another, or blank:LANG.")
    return lang


def build_config(
    base: Base, train_path: Path, dev_path: Path, *, gpu: bool, max_steps: int | None, eval_frequency: int | None, seed: int,
    spancat: bool = False,
) -> Config:  # fmt: skip
    """``spacy init config``'s config for the base; with ``spancat``, a span categorizer beside the NER
    (``confidence.span_categorizer``), which only scores: the model kept is the one whose NER scored best."""
    from spacy.cli.init_config import init_config

    config = init_config(lang=base.lang, pipeline=["ner", "spancat"] if spancat else ["ner"], optimize="efficiency", gpu=gpu)
    if spancat:
        _own_span_categorizer(config)
    if not base.is_blank:
        # en_core_web_sm's NER embeds with a tok2vec of its own, so the separate tok2vec component that
        # init config adds would be trained for nothing; a base whose NER listens to a shared
        # component gets that component sourced too.
        upstream = _listened_to(base.name)
        config["nlp"]["pipeline"] = [*upstream, "ner", *(["spancat"] if spancat else [])]
        components = {name: {"source": base.name} for name in [*upstream, "ner"]}
        if spancat:
            components["spancat"] = config["components"]["spancat"]
        config["components"] = components
        config["initialize"]["vectors"] = None
    config["paths"]["train"] = str(train_path)
    config["paths"]["dev"] = str(dev_path)
    training = config["training"]
    training["seed"] = seed
    if max_steps is not None:
        training["max_steps"] = max_steps
    if eval_frequency is not None:
        training["eval_frequency"] = eval_frequency
    return config


def _own_span_categorizer(config: Config) -> None:
    """The spancat with an embedding of its own (init config's tok2vec architecture, inline), so it
    needs no other component and leaves the NER's untouched; suggested spans of 1-5 tokens; its
    scores weigh nothing in choosing the model kept."""
    from ..confidence.span_categorizer import NGRAMS, SPANS_KEY

    tok2vec = copy.deepcopy(dict(config["components"]["tok2vec"]["model"]))
    width = tok2vec["encode"]["width"]
    tok2vec["embed"] = {**tok2vec["embed"], "width": width}  # was a reference to the tok2vec component's
    spancat = config["components"]["spancat"]
    spancat["model"]["tok2vec"] = tok2vec
    spancat["suggester"] = {"@misc": "spacy.ngram_suggester.v1", "sizes": list(NGRAMS)}
    spancat["spans_key"] = SPANS_KEY
    weights = config["training"]["score_weights"]
    for key in list(weights):
        if key.startswith("spans_"):
            weights[key] = 0.0 if weights[key] is not None else None
    weights["ents_f"] = 1.0


def _listened_to(name: str) -> list[str]:
    """The components a pipeline's NER listens to (none for en_core_web_sm: its NER has its own tok2vec)."""
    import spacy

    nlp = spacy.load(name)
    return [other for other, pipe in nlp.pipeline if "ner" in (getattr(pipe, "listening_components", None) or ())]


def add_labels(nlp: Language, labels: Iterable[str]) -> None:
    """Every gold label on the NER before training, so its output layer is sized once, before masking."""
    ner = nlp.get_pipe("ner")
    for label in labels:
        ner.add_label(label)  # type: ignore[attr-defined]


def mask_labels(nlp: Language, keep: set[str]) -> list[str]:
    """Make the NER never predict a label outside ``keep`` (a sourced NER's labels without gold): the
    output bias of each of their moves is set far below any score. spaCy cannot remove a label from
    a trained NER. Returns the labels masked."""
    ner = nlp.get_pipe("ner")
    moves = ner.moves  # type: ignore[attr-defined]
    masked_labels = set()
    classes = []
    for i in range(moves.n_moves):
        action, _, label = moves.get_class_name(i).partition("-")
        if label and label not in keep:
            classes.append(i)
            masked_labels.add(label)
    if not classes:
        return []
    model = ner.model  # type: ignore[attr-defined]
    layer = model.get_ref("upper") if model.attrs.get("has_upper") else model.get_ref("lower")
    bias = layer.get_param("b").copy()
    bias[classes, ...] = MASKED_BIAS
    layer.set_param("b", bias)
    return sorted(masked_labels)
