from __future__ import annotations

import os
from pathlib import Path

import pytest

from goldspan.annotations.articles import load_articles
from goldspan.annotations.errors import InputError

from .conftest import SAMPLES, write_jsonl


def test_folder_loads_txt_md_and_jsonl_recursively_in_path_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "second.md").write_text("# Second\n\nBody two.", encoding="utf-8")
    (tmp_path / "a.txt").write_text("First\n\nBody one.", encoding="utf-8")
    (tmp_path / "notes.csv").write_text("not,an,article", encoding="utf-8")
    write_jsonl(tmp_path / "b" / "z.jsonl", [{"text": "Third\nBody three.", "meta": {"source": "wire"}}])
    report = load_articles([tmp_path])
    assert [a.title for a in report.articles] == ["First", "Second", "Third"]
    assert report.problems == []
    assert report.articles[2].meta == {"source": "wire"}


def test_utf8_bom_is_stripped_and_offsets_index_the_shown_text(tmp_path: Path) -> None:
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbfMinsk\r\nLukashenko spoke in Minsk.\r\n")
    [article] = load_articles([tmp_path / "bom.txt"]).articles
    assert article.text == "Minsk\nLukashenko spoke in Minsk.\n"
    start = article.text.index("Lukashenko")
    assert article.text[start : start + len("Lukashenko")] == "Lukashenko"


def test_a_non_utf8_file_is_named_once_and_the_rest_load(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Good\nZoë met Łukasz in Gdańsk.", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("Café\nAu café à Genève.".encode("latin-1"))
    report = load_articles([tmp_path])
    assert [a.title for a in report.articles] == ["Good"]
    assert len(report.problems) == 1
    assert str(tmp_path / "latin1.txt") in report.problems[0] and "not UTF-8" in report.problems[0]


@pytest.mark.parametrize(
    "raw,reason",
    [("Text\n".encode("utf-16"), "UTF-16"), (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary")],
)
def test_utf16_and_binary_files_are_refused_with_the_reason(tmp_path: Path, raw: bytes, reason: str) -> None:
    (tmp_path / "odd.txt").write_bytes(raw)
    report = load_articles([tmp_path])
    assert report.articles == []
    assert len(report.problems) == 1 and reason in report.problems[0] and "odd.txt" in report.problems[0]


def test_empty_and_whitespace_files_are_skipped_with_a_notice(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_text(" \n\t\n", encoding="utf-8")
    (tmp_path / "real.txt").write_text("Real\ntext", encoding="utf-8")
    report = load_articles([tmp_path])
    assert len(report.articles) == 1
    assert sorted(n.split(":")[0] for n in report.notices) == sorted(str(tmp_path / n) for n in ("blank.md", "empty.txt"))


def test_the_same_text_twice_is_one_article(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"Same\r\nwords here.")
    (tmp_path / "b.txt").write_bytes(b"Same\nwords here.")
    report = load_articles([tmp_path])
    assert len(report.articles) == 1
    assert "same text as" in report.notices[0]


def test_jsonl_bad_lines_are_reported_by_line_and_the_rest_load(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(
        '{"text": "One\\nfirst"}\n'
        "{broken json\n"
        '{"meta": {"title": "no text"}}\n'
        '{"text": 42}\n'
        '{"text": "Two\\nsecond", "meta": {"title": "Second story"}, "_input_hash": 7}\n',
        encoding="utf-8",
    )
    report = load_articles([path])
    assert [a.title for a in report.articles] == ["One", "Second story"]
    assert report.articles[1].meta == {"title": "Second story", "_input_hash": 7}
    assert [p.split(": ")[0] for p in report.problems] == [f"{path}:2", f"{path}:3", f"{path}:4"]


def test_jsonl_text_may_hold_unicode_line_separators(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "sep.jsonl", [{"text": "Title\u2028still one record"}])
    [article] = load_articles([path]).articles
    assert "\u2028" in article.text


def test_a_missing_source_or_unknown_file_type_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_articles([tmp_path / "nope"])
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(InputError, match="not an article file"):
        load_articles([tmp_path / "x.pdf"])


def test_a_symlink_loop_does_not_hang_the_walk(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A\nbody", encoding="utf-8")
    os.symlink(tmp_path, tmp_path / "loop")
    assert len(load_articles([tmp_path]).articles) == 1


def test_the_sample_articles_load_cleanly() -> None:
    report = load_articles([SAMPLES])
    assert report.problems == [] and report.notices == []
    assert len(report.articles) >= 6
    assert max(a.word_count for a in report.articles) > 5000
    assert any("Putin" in a.title for a in report.articles)


def test_files_of_other_kinds_in_a_folder_are_named_not_skipped_silently(tmp_path: Path) -> None:
    (tmp_path / "story.txt").write_text("Story\nbody", encoding="utf-8")
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "photo.bin").write_bytes(b"\x00\x01")
    (tmp_path / ".hidden.swp").write_bytes(b"x")
    report = load_articles([tmp_path])
    assert len(report.articles) == 1
    assert report.notices == [f"{tmp_path}: skipped 2 files that are not .txt, .md or .jsonl: {tmp_path / 'photo.bin'}, {tmp_path / 'scan.pdf'}."]


def test_the_samples_open_on_the_seed_article_first() -> None:
    from .conftest import SEED

    first = load_articles([SAMPLES]).articles[0]
    assert first.text == load_articles([SEED]).articles[0].text  # not the 5,000-word article, as in alphabetical order
    assert max(a.word_count for a in load_articles([SAMPLES]).articles[-1:]) > 5000  # that one comes last
