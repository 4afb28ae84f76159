"""Shared fixtures: real files in tmp_path, a fast pattern pipeline, and the real `goldspan` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from goldspan.annotations.nlp import pipelines

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_articles"
SEED = SAMPLES / "1-putin-lukashenko-sochi.txt"

SEED_PATTERNS = [
    {"label": "PERSON", "pattern": "Vladimir Putin"},
    {"label": "PERSON", "pattern": "Alexander Lukashenko"},
    {"label": "PERSON", "pattern": "Lukashenko"},
    {"label": "GPE", "pattern": "Minsk"},
    {"label": "GPE", "pattern": "Belarus"},
    {"label": "GPE", "pattern": "Russia"},
    {"label": "GPE", "pattern": "Ukraine"},
    {"label": "ORG", "pattern": [{"LOWER": "the"}, {"LOWER": "moscow"}, {"LOWER": "times"}]},
]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def patterns_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "patterns.jsonl", SEED_PATTERNS)


@pytest.fixture
def pattern_spec(patterns_file: Path) -> pipelines.PipelineSpec:
    return pipelines.resolve("blank:en", patterns_file)


def goldspan_command() -> list[str]:
    """The installed console script, as a user runs it."""
    script = Path(sys.executable).with_name("goldspan")
    return [str(script)] if script.exists() else [sys.executable, "-m", "goldspan.tui.cli"]


def run_goldspan(*args: str | Path, cwd: Path | None = None, prefix: Sequence[str | Path] = ()) -> subprocess.CompletedProcess[str]:
    """``goldspan ARGS`` in a child process; ``prefix`` runs it through another command (setpriv, unshare)."""
    env = {k: v for k, v in os.environ.items() if k != "GOLDSPAN_DEBUG"}
    return subprocess.run(
        [*map(str, prefix), *goldspan_command(), *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str, status: int = 2) -> None:
    """The house rule for bad input: one sentence on stderr naming what is wrong, a non-zero exit, no traceback."""
    assert result.returncode == status, (result.returncode, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
