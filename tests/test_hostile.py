"""Hostile input: generated bad files and texts, each met with its answer and no lost data."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from goldspan.tui.widgets.text_lines import TextLines
from goldspan.annotations.articles import load_articles
from goldspan.annotations.datamodel import Annotation, Article, Span
from goldspan.annotations.store import Store
from goldspan.tui.widgets.wrap import WrappedArticle, tag_text, visible
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from .conftest import SEED, assert_one_line_error, run_goldspan
from .hostile.fixtures import TEXTS, make


def test_every_hostile_file_gets_its_answer_and_the_rest_load(tmp_path: Path, patterns_file: Path) -> None:
    folder = tmp_path / "hostile"
    expect = make(folder)
    result = run_goldspan(
        "preannotate",
        folder,
        "--db",
        tmp_path / "g.json",
        "--model",
        "blank:en",
        "--patterns",
        patterns_file,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr  # done, with skips
    lines = result.stderr.splitlines()
    for name, outcome in expect.items():
        named = [line for line in lines if f"{folder / name}" in line]
        if outcome == "loads":
            assert not named, named
        elif outcome == "skipped":
            assert len(named) == 1 and named[0].startswith("note:"), named
        elif outcome == "jsonl":
            assert sorted(line.split(": ")[1].rsplit(":", 1)[1] for line in named) == [
                "2",
                "3",
                "4",
            ]
        else:
            assert len(named) == 1 and outcome in named[0], named
    report = load_articles([folder])
    loaded = sum(1 for v in expect.values() if v == "loads") + 2
    assert len(report.articles) == loaded
    assert f"{loaded} articles read" in result.stdout


def test_control_characters_reach_the_screen_inert_and_one_cell_each() -> None:
    for text in TEXTS.values():
        shown = visible(text.replace("\r\n", "\n").replace("\r", "\n"))
        assert not any(ord(c) < 32 and c != "\n" for c in shown) and "\x7f" not in shown
        assert not any(0x80 <= ord(c) < 0xA0 for c in shown)


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300)


@st.composite
def article_and_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    text = draw(TEXT)
    cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=8))))
    spans = [Span(a, b, 0, 1, "PER") for a, b in zip(cuts[::2], cuts[1::2]) if a < b]
    return text, spans


@settings(max_examples=200, deadline=None)
@given(article_and_spans(), st.integers(4, 60), st.booleans())
def test_the_view_shows_every_character_once_in_order_and_maps_cells_back(case: tuple[str, list[Span]], width: int, lazy: bool) -> None:
    text, spans = case
    text = Article.from_text(text).text
    spans = [s for s in spans if s.end <= len(text)]
    # Lazy: wrapped block by block as rows are asked for, paragraphs cut into blocks of 16 characters.
    wrapped = WrappedArticle(text, spans, width, eager_chars=0, block_chars=16) if lazy else WrappedArticle(text, spans, width)
    covered: list[int] = []
    tagged: list[int] = []
    y = 0
    while y < wrapped.row_count:  # the count settles as blocks are wrapped
        _, row = wrapped.row(y)
        cells = 0
        for piece in row:
            if piece.tag:
                tagged.append(piece.span_start)
                cells += cell_len(tag_text(piece.tag))
                continue
            for offset in range(piece.start, piece.end):
                covered.append(offset)
                if wrapped.offset_at(y, cells) is not None:
                    assert wrapped.offset_at(y, cells) == offset or cell_len(wrapped.shown[offset]) == 0
                cells += cell_len(wrapped.shown[offset])
        assert wrapped.row_of_offset(row[0].start) == y if row and not row[0].tag and row[0].start < row[0].end else True
        y += 1
    assert covered == [i for i in range(len(text)) if text[i] != "\n"]
    assert tagged == [s.start for s in wrapped.spans]  # every entity's tag once, in order
    assert len(wrapped.shown) == len(text)


async def test_labels_with_spaces_markup_and_unicode_are_shown_literally_and_reachable(
    tmp_path: Path,
) -> None:
    from goldspan.annotations.nlp import pipelines
    from goldspan.tui.keymap import default_keymap
    from goldspan.annotations.session.session import Session
    from goldspan.annotations.store import Store
    from goldspan.tui.app import GoldspanApp

    from .apphelpers import search, settle

    labels = (
        "[bold]PER[/]",
        "ORG NAME",
        "Ωμέγα",
        *(f"L{i}" for i in range(1, 10)),
    )  # twelve labels: two only in the picker
    article = Article.from_text("Labels\nAnna Nowak met Łukasz in Gdańsk.")
    store = Store(tmp_path / "g.json")
    store.add_articles([article])
    session = Session(store, [article], annotator="alice", labels=labels)
    app = GoldspanApp(session, pipelines.resolve("blank:en"), keymap=default_keymap())
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await search(pilot, "Anna")
        await pilot.press("1")  # "[bold]PER[/]" on key 1
        await search(pilot, "Gdańsk")
        await pilot.press("t", *"L9", "enter")  # the twelfth label, through the picker
        await pilot.pause()
        panel = app.screen.query_one("#labels", TextLines).text.plain
        row = "".join(seg.text for seg in app.screen.query_one("ArticleView").render_line(1))
    assert "[bold]PER[…" in panel and "Ωμέγα" in panel and "t: 2 more labels" in panel  # literal, cut with an ellipsis
    assert " [bold]PER[/] " in row and " L9 " in row
    with Store(tmp_path / "g.json", read_only=True) as check:
        record = check.annotation(article.id, "alice")
    assert [(s.text_in(article.text), s.label) for s in record.spans] == [
        ("Anna", "[bold]PER[/]"),
        ("Gdańsk", "L9"),
    ]  # type: ignore[union-attr]


def test_a_folder_of_ten_thousand_small_files_loads_with_its_bad_ones_named(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "many"
    for i in range(100):
        sub = folder / f"{i:03d}"
        sub.mkdir(parents=True)
        for j in range(100):
            (sub / f"{j:03d}.txt").write_text(f"Story {i}-{j}\nMinsk, day {i * 100 + j}.", encoding="utf-8")
    (folder / "050" / "007.txt").write_bytes(b"Bad\n\xff")
    report = load_articles([folder])
    assert len(report.articles) == 9_999
    assert report.problems == [f"{folder / '050' / '007.txt'}: is not UTF-8 text (byte 0xff at offset 4); re-save it as UTF-8."]


def test_a_file_that_disappears_between_listing_and_reading_is_named(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from goldspan.annotations import articles

    (tmp_path / "a.txt").write_text("A\nstays", encoding="utf-8")
    (tmp_path / "b.txt").write_text("B\ngoes", encoding="utf-8")
    listed = articles._article_files

    def list_then_delete(folder: Path, report: articles.LoadReport):  # type: ignore[no-untyped-def]
        files = list(listed(folder, report))
        (tmp_path / "b.txt").unlink()  # gone after the listing, before the reading
        return iter(files)

    monkeypatch.setattr(articles, "_article_files", list_then_delete)
    report = load_articles([tmp_path])
    assert [a.title for a in report.articles] == ["A"]
    assert report.problems == [f"{tmp_path / 'b.txt'}: cannot be read (No such file or directory)."]


def as_a_plain_user() -> list[str]:
    """A command prefix under which file permissions apply: root (as the tests run here) ignores them."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be made to apply")
    # Root without the two capabilities that override read and search permission.
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


def test_a_folder_and_a_file_without_read_permission_are_named_and_the_rest_load(tmp_path: Path, patterns_file: Path) -> None:
    folder = tmp_path / "articles"
    (folder / "locked").mkdir(parents=True)
    (folder / "a.txt").write_text("A\nMinsk is open.", encoding="utf-8")
    (folder / "locked" / "b.txt").write_text("B\nBrest is locked away.", encoding="utf-8")
    (folder / "c.txt").write_text("C\nGomel is unreadable.", encoding="utf-8")
    (folder / "locked").chmod(0)
    (folder / "c.txt").chmod(0)
    try:
        result = run_goldspan("preannotate", folder, "--db", tmp_path / "g.json", "--model", "blank:en", "--patterns", patterns_file,
                              prefix=as_a_plain_user())  # fmt: skip
    finally:
        (folder / "locked").chmod(0o755)
        (folder / "c.txt").chmod(0o644)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"skipped: {folder / 'locked'}: cannot read this folder (Permission denied)." in result.stderr.splitlines()
    assert f"skipped: {folder / 'c.txt'}: cannot be read (Permission denied)." in result.stderr.splitlines()
    assert "1 article read" in result.stdout
    with Store(tmp_path / "g.json", read_only=True) as store:
        assert [a.title for a in store.articles()] == ["A"]


@settings(max_examples=150, deadline=None)
@given(article_and_spans(), st.integers(4, 40), st.lists(st.tuples(st.sampled_from(["add", "remove", "relabel"]), st.integers(0, 300)), max_size=6), st.booleans())
def test_a_wrap_updated_edit_by_edit_draws_what_a_fresh_wrap_draws_and_names_every_row_it_changed(
    case: tuple[str, list[Span]], width: int, edits: list[tuple[str, int]], lazy: bool
) -> None:
    text, spans = case
    text = Article.from_text(text).text
    spans = [s for s in spans if s.end <= len(text)]
    sizes = {"eager_chars": 0, "block_chars": 16} if lazy else {}
    wrapped = WrappedArticle(text, spans, width, **sizes)

    def draw_all(w: WrappedArticle) -> list[tuple[int, tuple]]:
        rows, y = [], 0
        while y < w.row_count:  # the count settles as blocks are wrapped
            rows.append(w.row(y))
            y += 1
        return rows

    def looks(w: WrappedArticle, spans: list[Span]) -> list[tuple]:
        """Each row's pieces and the labels colouring each piece: what the view draws from them."""
        return [
            (row, tuple(tuple(s.label for s in spans if s.start < p.end and p.start < s.end) for p in row[1] if not p.tag))
            for row in draw_all(w)
        ]

    draw_all(wrapped)  # every block wrapped before the edits, as once the whole article was scrolled through
    for kind, at in edits:  # as the session edits: a new list that keeps the untouched Span objects
        old = spans
        if kind == "add":
            free = [i for i in range(len(text)) if not any(s.start <= i < s.end for s in spans)]
            if free:
                start = free[at % len(free)]
                spans = sorted([*spans, Span(start, start + 1, 0, 1, "NEW")], key=lambda s: s.start)
        elif spans and kind == "remove":
            spans = spans[: at % len(spans)] + spans[at % len(spans) + 1 :]
        elif spans:
            i = at % len(spans)
            spans = [*spans[:i], spans[i].replace(label="RELABELLED"), *spans[i + 1 :]]
        before = looks(wrapped, old)
        changed = wrapped.update_spans(spans)
        after = looks(wrapped, spans)
        # The view redraws only the rows it is told of (all of them if the row count changed): every
        # row that looks different must be among them.
        if len(before) == len(after):
            differing = [y for y in range(len(after)) if before[y] != after[y]]
            assert all(changed is not None and changed[0] <= y < changed[1] for y in differing), (differing, changed)
    assert draw_all(wrapped) == draw_all(WrappedArticle(text, spans, width, **sizes))


@pytest.fixture
def read_only_mount(tmp_path: Path) -> Callable[[Path], list[str]]:
    """A prefix that runs a command in its own mount namespace where ``tmp_path/ro`` is a read-only
    file system holding a copy of the given DB (gone when the command ends)."""
    unshare = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    mount = tmp_path / "ro"
    mount.mkdir()
    script = 'mount -t tmpfs -o size=64m tmpfs "$0" && for f in "$1" "$1".*; do [ -e "$f" ] && cp "$f" "$0"/; done; mount -o remount,ro "$0" && shift && exec "$@"'
    if (
        shutil.which("unshare") is None
        or subprocess.run(
            [*unshare, "sh", "-c", script, mount, "/dev/null", "true"],
            capture_output=True,
        ).returncode
    ):
        pytest.skip("no mount namespaces here: cannot make a read-only file system")
    return lambda db: [*unshare, "sh", "-c", script, mount, db]


def test_a_db_on_a_read_only_file_system_is_read_and_never_written(
    tmp_path: Path, patterns_file: Path, read_only_mount: Callable[[Path], list[str]]
) -> None:
    db = tmp_path / "g.json"
    run_goldspan(
        "preannotate",
        SEED,
        "--db",
        db,
        "--model",
        "blank:en",
        "--patterns",
        patterns_file,
    )
    before = db.read_bytes()
    inside = tmp_path / "ro" / "g.json"
    on_ro = read_only_mount(db)
    stats = run_goldspan("stats", "--db", inside, "--json", prefix=on_ro)
    assert stats.returncode == 0 and json.loads(stats.stdout)["articles"] == 1, stats.stderr
    assert_one_line_error(run_goldspan("preannotate", SEED, "--db", inside, "--model", "blank:en", prefix=on_ro),
                          f"{inside}: cannot save to this database: it is on a read-only file system.")  # fmt: skip
    assert_one_line_error(run_goldspan("preannotate", SEED, "--db", inside.with_name("new.json"), "--model", "blank:en", prefix=on_ro),
                          "new.json: cannot create the database there: it is on a read-only file system.")  # fmt: skip
    probe = "from goldspan.annotations.store import Store; s = Store(%r); print(s.read_only, s.notices)" % str(inside)
    opened = subprocess.run(
        [*on_ro, sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert opened.stdout.strip() == f"True ['{inside}: it is on a read-only file system, so it is open read-only.']", opened.stderr
    assert db.read_bytes() == before


async def test_a_twenty_megabyte_article_opens_and_its_last_words_are_annotated_at_the_right_offsets(tmp_path: Path, pattern_spec) -> None:  # type: ignore[no-untyped-def]
    from goldspan.annotations.datamodel import Suggestions
    from goldspan.tui.keymap import default_keymap
    from goldspan.annotations.session.session import Session
    from goldspan.tui.app import GoldspanApp
    from goldspan.tui.widgets.article_view import ArticleView

    from .apphelpers import search, settle
    from .hostile.fixtures import twenty_megabytes

    article = Article.from_text(twenty_megabytes())
    assert len(article.text) > 19_000_000
    store = Store(tmp_path / "g.json")
    store.add_articles([article])
    store.save_suggestions([Suggestions(article.id, pattern_spec.model_id, ())])  # the model's work is not what this tests
    session = Session(store, [article], annotator="alice", labels=("PERSON", "ORG", "GPE"), model=pattern_spec.model_id)
    app = GoldspanApp(session, pattern_spec, keymap=default_keymap())
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.screen.query_one(ArticleView)

        def screen() -> str:
            return "\n".join("".join(seg.text for seg in view.render_line(y)) for y in range(view.size.height))

        await pilot.pause()
        assert "Twenty megabytes" in screen()  # the first screen, before the tokens have come
        await settle(pilot)  # the tokenizer's pass over 20 MB, in a worker
        await search(pilot, "Zanzibar")
        assert "Zanzibar" in screen() and "北京" in screen()
        await pilot.press("v", "3")  # Zanzibar becomes a GPE
        await search(pilot, "北京")
        await pilot.press("v", "3")
        await pilot.pause()
        assert " GPE " in screen()
    with Store(tmp_path / "g.json", read_only=True) as check:
        record = check.annotation(article.id, "alice")
    assert record is not None
    assert [(s.start, s.text_in(article.text), s.label) for s in record.spans] == [
        (article.text.index("Zanzibar"), "Zanzibar", "GPE"),
        (article.text.index("北京"), "北京", "GPE"),
    ]


@functools.cache
def blank_english():  # type: ignore[no-untyped-def]
    import spacy

    return spacy.blank("en")  # 1.7 s: once, not once per example


@settings(max_examples=60, deadline=None)
@given(TEXT, st.lists(st.integers(0, 10_000), max_size=12), st.integers(0, 100))
def test_the_store_round_trips_any_text_and_token_aligned_spans_whole_and_as_patches(text: str, picks: list[int], edit: int) -> None:
    import tempfile

    article = Article.from_text(text)
    doc = blank_english().make_doc(article.text)
    words = [t for t in doc if not t.is_space]
    chosen = sorted({words[p % len(words)].i for p in picks}) if words else []
    spans = [Span(doc[i].idx, doc[i].idx + len(doc[i]), i, i + 1, "ΛABEL [b]") for i in chosen]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "g.json"
        crashed = Store(db)  # never closed: the saves are read back from the journal, then from the main file
        crashed.add_articles([article])
        crashed.save_annotation(Annotation(article.id, "zoë", tuple(spans)))
        if spans:  # as the annotator edits: the other Span objects kept, so this is journaled as a patch
            spans[edit % len(spans)] = spans[edit % len(spans)].replace(label="😀 two")
            crashed.save_annotation(Annotation(article.id, "zoë", tuple(spans)))
        for _ in range(2):
            with Store(db) as store:
                assert store.article(article.id) == article
                record = store.annotation(article.id, "zoë")
                assert record is not None and record.spans == tuple(spans)
                assert [article.text[s.start : s.end] for s in record.spans] == [doc[s.token_start].text for s in spans]


def test_an_edit_of_every_mention_keeps_the_wrap_lazy() -> None:
    """`*` then a label changes every mention at once: the rows to redraw are found without wrapping
    the blocks between the first and the last (a lookup per entity wrapped the whole article)."""
    words = ("Warsaw met Minsk on Monday and talks went on " * 4000).split()
    text = " ".join(words)
    spans = [Span(m.start(), m.end(), 0, 1, "GPE") for m in re.finditer("Warsaw", text)]
    wrapped = WrappedArticle(text, spans, 60, eager_chars=0, block_chars=400)
    wrapped.row(0)
    wrapped_before = sum(rows is not None for rows in wrapped.rows)
    relabelled = [s.replace(label="LOC") for s in spans]
    changed = wrapped.update_spans(relabelled)
    assert changed is not None and changed[0] == 0
    # Looking up the rows of the last mention wraps a page above it (rows near an offset are kept
    # exact), not the hundreds of blocks in between.
    wrapped_after = sum(rows is not None for rows in wrapped.rows)
    assert wrapped_after - wrapped_before < len(wrapped.blocks) // 10, (wrapped_before, wrapped_after, len(wrapped.blocks))
