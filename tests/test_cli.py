"""The `goldspan` command as a user meets it: real child processes, exit codes and messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import SEED, assert_one_line_error, run_goldspan


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    src = tmp_path / "articles"
    src.mkdir()
    (src / "seed.txt").write_bytes(SEED.read_bytes())
    (src / "cafe.txt").write_bytes("Café de Flore\nLe café est à Paris.".encode("latin-1"))
    return src


def test_a_non_utf8_file_is_named_in_one_line_and_the_rest_load(tmp_path: Path, folder: Path, patterns_file: Path) -> None:
    db = tmp_path / "g.json"
    result = run_goldspan("preannotate", folder, "--db", db, "--model", "blank:en", "--patterns", patterns_file)
    problem_lines = [line for line in result.stderr.splitlines() if "cafe.txt" in line]
    assert len(problem_lines) == 1 and "not UTF-8" in problem_lines[0]
    assert "Traceback" not in result.stderr
    assert result.returncode == 1  # done, but something was skipped
    assert "1 article read" in result.stdout and "Parsed 1 article" in result.stdout


def test_stats_on_a_missing_db_and_unknown_options_are_one_line_errors(tmp_path: Path) -> None:
    assert_one_line_error(run_goldspan("stats", "--db", tmp_path / "none.json"), "none.json", "no such database")
    assert_one_line_error(run_goldspan("stats", "--dbb", "x"), "No such option")
    assert_one_line_error(run_goldspan("preannotate", tmp_path, "--n-process", "zero"), "--n-process")
    assert not (tmp_path / "none.json").exists()


def test_a_missing_model_says_which_command_installs_one(tmp_path: Path, folder: Path) -> None:
    result = run_goldspan("preannotate", folder / "seed.txt", "--db", tmp_path / "g.json", "--model", "de_core_news_sm")
    assert_one_line_error(result, "de_core_news_sm", "not on PyPI", "python -m spacy download de_core_news_sm")
    assert "pip install" not in result.stderr  # there is no such PyPI package to name


def test_a_source_with_no_articles_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run_goldspan("preannotate", tmp_path / "empty", "--db", tmp_path / "g.json", "--model", "blank:en")
    assert result.returncode == 2 and "no articles to load" in result.stderr
    assert not (tmp_path / "g.json").exists()


@pytest.mark.parametrize("command", ["preannotate", "stats", "annotate"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run_goldspan(command, "--help")
    assert result.returncode == 0
    assert "Example" in result.stdout and f"goldspan {command}" in result.stdout


def test_annotate_stopped_by_bad_input_gives_the_cycle_collector_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """annotate starts with Python's cycle collector off (start-up speed); whoever called it gets it back on."""
    import gc

    from goldspan.tui.cli import main

    assert gc.isenabled()
    with pytest.raises(SystemExit) as stopped:
        main(["annotate", "--db", str(tmp_path / "none.json")])
    assert stopped.value.code == 2 and "no such database" in capsys.readouterr().err
    assert gc.isenabled()


def test_a_db_in_a_folder_that_does_not_exist_says_so(tmp_path: Path, folder: Path) -> None:
    result = run_goldspan("preannotate", folder / "seed.txt", "--db", tmp_path / "no" / "such" / "g.json", "--model", "blank:en")
    assert_one_line_error(result, "does not exist")
    assert "may not write" not in result.stderr and not (tmp_path / "no").exists()


def test_counts_of_one_are_singular(tmp_path: Path, folder: Path) -> None:
    db = tmp_path / "g.json"
    result = run_goldspan("preannotate", folder / "seed.txt", "--db", db, "--model", "blank:en")
    assert "1 article read, 1 new to the database" in result.stdout, result.stdout
    export = run_goldspan("export", "--db", db, "--format", "doccano", "--out", tmp_path / "x.jsonl")
    assert export.returncode == 1 and "Exported 0 articles" in export.stdout  # nothing answered yet: nothing to write


def test_version_names_goldspan_its_libraries_and_the_model_found() -> None:
    from importlib.metadata import version

    result = run_goldspan("--version")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == [f"goldspan {version('goldspan')}", f"spaCy {version('spacy')}", f"Textual {version('textual')}", f"TinyDB {version('tinydb')}"]
    assert lines[4].startswith("default model: en_core_web_sm") and "3.8.0" in lines[4]


def test_shell_completion_installs_as_typer_clis_do(tmp_path: Path) -> None:
    import os
    import subprocess

    from .conftest import goldspan_command

    env = {**os.environ, "HOME": str(tmp_path), "SHELL": "/bin/bash"}
    done = subprocess.run([*goldspan_command(), "--install-completion", "bash"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    script = tmp_path / ".bash_completions" / "goldspan.sh"
    assert script.is_file() and str(script) in (tmp_path / ".bashrc").read_text()
    # What bash asks the script for when `goldspan sta` and `goldspan serve --ho` are tabbed:
    for words, index, expected in (("goldspan sta", "1", "stats"), ("goldspan serve --ho", "2", "--host")):
        asked = {**env, "COMP_WORDS": words, "COMP_CWORD": index, "_GOLDSPAN_COMPLETE": "complete_bash"}
        answer = subprocess.run(goldspan_command(), capture_output=True, text=True, env=asked, timeout=60)
        assert answer.stdout.split() == [expected], answer
