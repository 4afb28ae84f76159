"""The README's install is a regular one, not editable: every module must be in the package list.

An editable install finds a package that pyproject's `[tool.setuptools] packages` leaves out; a
regular install leaves it out, and the installed `goldspan` then fails on its first import of it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import ROOT


def source_modules() -> list[str]:
    found = []
    for top, package in (("annotations", "goldspan.annotations"), ("tui", "goldspan.tui")):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT / top).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found.append(".".join([package, *parts]))
    return found


def test_a_regular_install_holds_every_module(tmp_path: Path) -> None:
    import shutil

    source, target = tmp_path / "source", tmp_path / "site"
    # A copy without the build/ folder an earlier build left, which setuptools would take files from.
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__", "tests"))
    build = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-compile", "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout + build.stderr
    modules = source_modules()
    check = (
        "import importlib, sys; bad = []\n"
        f"for name in {modules!r}:\n"
        "    module = importlib.import_module(name)\n"
        f"    if not module.__file__.startswith({str(target)!r}): bad.append(name)\n"
        "print(' '.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env={"PYTHONPATH": str(target)}, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "", f"not in the regular install (add them to pyproject's packages): {result.stdout}"
    assert len(modules) > 40
