"""Real Unix users (issue 25): the suite runs as root, who may read and write any file, which hides
permission bugs. These tests create two throwaway users and a group, and run goldspan as them.

The interpreter that runs the suite may sit in root's home, out of another user's reach, so the
users run a system Python of the same version, with a world-readable copy of goldspan and of the
few pure-Python packages its store and command line import (the annotator's screen and spaCy are
not needed here)."""

from __future__ import annotations

import grp
import importlib.util
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# What `goldspan stats`, the store and the session import, outside the standard library: found by
# importing them in a child of this interpreter (typer's own dependencies differ from release to release).
FIND_PACKAGES = """
import json, sys, sysconfig
import goldspan.tui.cli, goldspan.tui.data_commands, goldspan.annotations.session.session, goldspan.annotations.store
installed = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}  # site-packages
found = set()
for name, module in list(sys.modules.items()):
    where = getattr(module, "__file__", None) or ""
    if any(where.startswith(p) for p in installed) and not name.startswith(("goldspan", "_distutils_hack", "__editable__")):
        found.add(name.split(".")[0])
print(json.dumps(sorted(found)))
"""
SNIPPET = "import sys; sys.path.insert(0, {lib!r}); {code}"


def system_python() -> str | None:
    """A Python of this very version that every user may run (not one in root's home)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (f"/usr/bin/{version}", f"/usr/local/bin/{version}"):
        if os.path.exists(candidate) and os.stat(candidate).st_mode & 0o001:
            return candidate
    return None


pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("useradd") is None or shutil.which("runuser") is None or system_python() is None,
    reason="creates throwaway Unix users: needs root, useradd, runuser and a system Python of this version (CI runs as root)",
)


@dataclass
class Team:
    group: str
    alice: str
    bob: str
    python: str
    lib: Path
    home: Path  # world-traversable: the users' databases live below it

    def run(self, user: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """`goldspan ARGS` as ``user``."""
        return self.python_as(user, "from goldspan.tui.cli import main; main(sys.argv[1:])", *args, cwd=cwd)

    def python_as(self, user: str, code: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(self.home), "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8", "COLUMNS": "120"}
        return subprocess.run(
            ["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()), self.python, "-c",
             SNIPPET.format(lib=str(self.lib), code=code), *args],
            capture_output=True, text=True, cwd=cwd or self.home, timeout=120,
        )  # fmt: skip


def copy_package(name: str, lib: Path) -> None:
    spec = importlib.util.find_spec(name)
    assert spec is not None, name
    if spec.submodule_search_locations:
        source = Path(next(iter(spec.submodule_search_locations)))
        target = lib / name.replace(".", "/")
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        assert spec.origin is not None
        shutil.copy2(spec.origin, lib / Path(spec.origin).name)


@pytest.fixture(scope="module")
def team() -> Iterator[Team]:
    tag = secrets.token_hex(3)
    group, alice, bob = f"gst{tag}", f"gsa{tag}", f"gsb{tag}"
    home = Path(tempfile.mkdtemp(prefix="goldspan-users-", dir="/tmp"))
    try:
        subprocess.run(["groupadd", group], check=True)
        for user in (alice, bob):
            subprocess.run(["useradd", "-M", "-N", "-g", group, "-d", "/nonexistent", "-s", "/usr/sbin/nologin", user], check=True)
        home.chmod(0o755)
        lib = home / "lib"
        packages = json.loads(subprocess.run([sys.executable, "-c", FIND_PACKAGES], capture_output=True, text=True, check=True).stdout)
        for name in (*packages, "goldspan.annotations", "goldspan.tui"):
            copy_package(name, lib)
        for folder, _, files in os.walk(lib):
            os.chmod(folder, 0o755)
            for file in files:
                os.chmod(Path(folder) / file, 0o644)
        python = system_python()
        assert python is not None
        yield Team(group, alice, bob, python, lib, home)
    finally:
        for user in (alice, bob):
            subprocess.run(["userdel", user], capture_output=True)
        subprocess.run(["groupdel", group], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


CREATE = """
from goldspan.annotations.datamodel import Annotation, Answer, Article
from goldspan.annotations.store import Store
db, shared, who = sys.argv[1], sys.argv[2] == "shared", sys.argv[3]
articles = [Article.from_text(f"Story {n}\\nAnna Nowak met Jan Kowalski in Gdańsk.") for n in range(3)]
with Store(db, shared=shared) as store:
    store.add_articles(articles)
    store.save_annotation(Annotation(articles[0].id, who, (), Answer.ACCEPT))
print("created")
"""

SAVE_MANY = """
from goldspan.annotations.datamodel import Annotation, Answer
from goldspan.annotations.store import Store
db, who, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with Store(db, shared=True) as store:
    ids = store.article_list().ids
    for i in range(count):
        store.save_annotation(Annotation(ids[i % len(ids)], f"{who}-{i}", (), Answer.ACCEPT))
print("saved", count)
"""

SEEN = """
import json
from goldspan.annotations.store import Store
with Store(sys.argv[1]) as store:
    print(json.dumps(sorted({a.annotator.split("-")[0] for a in store.annotations()})))
"""


def test_a_private_db_is_refused_to_another_user_in_one_line(team: Team) -> None:
    folder = team.home / "private"
    folder.mkdir()
    folder.chmod(0o1777)  # both may enter and create files, as in /tmp
    db = folder / "alice.json"
    made = team.python_as(team.alice, CREATE, str(db), "private", team.alice)
    assert made.returncode == 0, made.stderr
    assert {oct(p.stat().st_mode & 0o777) for p in folder.iterdir()} == {"0o600"}, "not private by default"
    before = {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir()}
    for command in (("stats", "--db", str(db)), ("export", "--db", str(db), "--out", str(folder / "out.jsonl"), "--format", "prodigy")):
        refused = team.run(team.bob, *command)
        lines = refused.stderr.strip().splitlines()
        assert refused.returncode == 2 and len(lines) == 1 and "Traceback" not in refused.stderr, refused.stderr
        assert str(db) in lines[0] and ("not readable" in lines[0] or "Permission denied" in lines[0]), lines[0]
    assert {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir()} == before  # nothing created or changed
    mine = team.run(team.alice, "stats", "--db", str(db), "--json")
    assert mine.returncode == 0 and json.loads(mine.stdout)["articles"] == 3, mine.stderr


def test_a_shared_db_takes_both_users_saves_at_once(team: Team) -> None:
    folder = team.home / "team"
    folder.mkdir()
    shutil.chown(folder, user=team.alice, group=team.group)
    folder.chmod(0o2770)  # the team's folder: the group's, new files in the group
    db = folder / "team.json"
    made = team.python_as(team.alice, CREATE, str(db), "shared", team.alice)
    assert made.returncode == 0, made.stderr
    runs = [
        subprocess.Popen(["runuser", "-u", user, "--", "env", "-i", "PATH=/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1", team.python, "-c",
                          SNIPPET.format(lib=str(team.lib), code=SAVE_MANY), str(db), user, "60"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        for user in (team.alice, team.bob)
    ]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0 and out.strip() == "saved 60", err
    for user in (team.alice, team.bob):  # each sees the other's saves
        seen = team.python_as(user, SEEN, str(db))
        assert seen.returncode == 0 and set(json.loads(seen.stdout)) >= {team.alice, team.bob}, seen.stderr
    for path in folder.iterdir():
        status = path.stat()
        assert grp.getgrgid(status.st_gid).gr_name == team.group and status.st_mode & 0o060 == 0o060, (path.name, oct(status.st_mode))
    owners = {pwd.getpwuid(p.stat().st_uid).pw_name for p in folder.iterdir()}
    assert team.alice in owners


def unchanged(folder: Path) -> dict[str, tuple[int, int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir()}


READ_ONLY = """
from goldspan.annotations.datamodel import Answer
from goldspan.annotations.session.session import Session
from goldspan.annotations.store import Store
with Store(sys.argv[1]) as store:
    session = Session(store, store.article_list(), annotator="alice", labels=("PERSON",), model=None)
    print(store.read_only, session.read_only, session.answer(Answer.ACCEPT))  # the status line shows READ-ONLY from session.read_only
    print(store.take_notices())
"""


def test_a_db_in_a_read_only_folder_opens_for_reading_only_and_writes_nothing(team: Team) -> None:
    folder = team.home / "frozen"
    folder.mkdir()
    shutil.chown(folder, user=team.alice, group=team.group)
    db = folder / "frozen.json"
    assert team.python_as(team.alice, CREATE, str(db), "private", team.alice).returncode == 0
    folder.chmod(0o555)  # the owner's files, in a folder nobody may write
    before = unchanged(folder)
    opened = team.python_as(team.alice, READ_ONLY, str(db))
    assert opened.returncode == 0, opened.stderr
    first, notices = opened.stdout.splitlines()
    assert first.startswith("True True ") and "read-only" in first, first  # an answer is refused, saying why
    assert "read-only" in notices
    stats = team.run(team.alice, "stats", "--db", str(db), "--json")  # reading needs no write at all
    assert stats.returncode == 0 and json.loads(stats.stdout)["articles"] == 3, stats.stderr
    assert unchanged(folder) == before


def test_a_db_on_a_read_only_bind_mount_opens_for_reading_only_and_writes_nothing(team: Team) -> None:
    source, mounted = team.home / "rw-source", team.home / "ro-mount"
    source.mkdir()
    mounted.mkdir()
    shutil.chown(source, user=team.alice, group=team.group)
    assert team.python_as(team.alice, CREATE, str(source / "m.json"), "private", team.alice).returncode == 0
    bind = subprocess.run(["mount", "--bind", str(source), str(mounted)], capture_output=True, text=True)
    if bind.returncode != 0:
        pytest.skip(f"this machine does not allow bind mounts here ({bind.stderr.strip()})")
    try:
        remount = subprocess.run(["mount", "-o", "remount,ro,bind", str(mounted)], capture_output=True, text=True)
        if remount.returncode != 0:
            pytest.skip(f"this machine does not allow a read-only remount here ({remount.stderr.strip()})")
        before = unchanged(source)
        opened = team.python_as(team.alice, READ_ONLY, str(mounted / "m.json"))
        assert opened.returncode == 0, opened.stderr
        first, notices = opened.stdout.splitlines()
        assert first.startswith("True True ") and "read-only file system" in notices, opened.stdout
        assert unchanged(source) == before
    finally:
        subprocess.run(["umount", str(mounted)], capture_output=True)
