from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goldspan.annotations.datamodel import Annotation, Answer, Article, Origin, Span, article_id


def test_article_id_is_the_same_for_crlf_lf_and_cr_line_ends() -> None:
    lf = Article.from_text("Title\nMinsk is in Belarus.\n")
    crlf = Article.from_text("Title\r\nMinsk is in Belarus.\r\n")
    cr = Article.from_text("Title\rMinsk is in Belarus.\r")
    assert lf.id == crlf.id == cr.id == article_id("Title\nMinsk is in Belarus.\n")
    assert "\r" not in crlf.text and "\r" not in cr.text


def test_article_id_changes_with_the_text() -> None:
    assert Article.from_text("Minsk").id != Article.from_text("Minsk.").id


def test_title_is_the_first_non_empty_line_without_markdown_marks() -> None:
    article = Article.from_text("\n\n# Solarin and Vexa merge\n\nSÃO PAULO — ...")
    assert article.title == "Solarin and Vexa merge"


def test_annotation_refuses_overlapping_spans() -> None:
    with pytest.raises(ValueError, match="overlap"):
        Annotation("a1", "alice", (Span(0, 5, 0, 1, "PERSON"), Span(3, 8, 0, 2, "GPE")))


def test_annotation_keeps_spans_in_reading_order() -> None:
    ann = Annotation("a1", "alice", (Span(10, 15, 2, 3, "GPE"), Span(0, 5, 0, 1, "PERSON")))
    assert [s.start for s in ann.spans] == [0, 10]


@pytest.mark.parametrize("start,end", [(5, 5), (6, 5), (-1, 3)])
def test_span_refuses_empty_or_negative_offsets(start: int, end: int) -> None:
    with pytest.raises(ValueError):
        Span(start, end, 0, 1, "PERSON")


spans = st.lists(st.tuples(st.integers(0, 50), st.integers(1, 5), st.sampled_from(["PERSON", "GPE", "Ортография", "ラベル"])), max_size=8)


@given(spans, st.sampled_from(list(Answer) + [None]))
def test_annotation_survives_a_dict_round_trip(raw: list[tuple[int, int, str]], answer: Answer | None) -> None:
    made, cursor = [], 0
    for gap, length, label in raw:
        start = cursor + gap
        made.append(Span(start, start + length, start, start + length, label, Origin.ANNOTATOR))
        cursor = start + length
    ann = Annotation("id", "zoë", tuple(made), answer, "en_core_web_sm", "3.8.0")
    assert Annotation.from_dict(ann.to_dict()) == ann


@given(
    st.lists(st.tuples(st.integers(0, 50), st.integers(1, 5), st.text(min_size=1, max_size=8)), max_size=8),
    st.sampled_from([None, *Answer]),
    st.text(max_size=12),
)
def test_a_records_json_built_from_cached_span_pieces_is_its_dict(raw: list[tuple[int, int, str]], answer: Answer | None, note: str) -> None:
    import json

    from goldspan.annotations.store.codec import annotation_doc, annotation_from_doc, annotation_json

    spans, at = [], 0
    for gap, length, label in raw:  # labels with quotes, backslashes, control characters and any script
        spans.append(Span(at + gap, at + gap + length, at + gap, at + gap + length, label))
        at += gap + length
    record = Annotation("a1", "zoë \"q\"", tuple(spans), answer, note=note)
    assert json.loads(annotation_json(record)) == record.to_dict() == annotation_doc(record)[0]
    assert json.loads(annotation_json(record)) == record.to_dict()  # again, from the cache
    assert annotation_from_doc(json.loads(annotation_json(record))) == record


def test_a_spans_cached_dict_and_json_never_outlive_a_change_and_do_not_count_in_equality() -> None:
    import json

    from goldspan.annotations.store.codec import span_dict, span_json

    span = Span(0, 5, 0, 1, "GPE")
    assert span_json(span) and span_dict(span)["label"] == "GPE"
    moved = span.replace(end=7, token_end=2, label="LOC")
    assert json.loads(span_json(moved)) == {**span.to_dict(), "end": 7, "token_end": 2, "label": "LOC"}
    assert span == Span(0, 5, 0, 1, "GPE") and hash(span) == hash(Span(0, 5, 0, 1, "GPE"))
    assert span_dict(span)["end"] == 5 and "_json" not in repr(span)


@st.composite
def ordered_and_edited(draw: st.DrawFn) -> tuple[list[Span], list[Span], tuple[int, int, int]]:
    """Disjoint spans in order, the same list with one stretch replaced by arbitrary spans, and that stretch."""
    cuts = sorted(draw(st.sets(st.integers(0, 200), min_size=0, max_size=40)))
    old = [Span(a, b, a, b, "X", Origin.MODEL) for a, b in zip(cuts[0::2], cuts[1::2])]
    head = draw(st.integers(0, len(old)))
    stop = draw(st.integers(head, len(old)))
    pairs = draw(st.lists(st.tuples(st.integers(0, 200), st.integers(1, 10)), max_size=4))
    middle = [Span(a, a + n, a, a + n, "Y", Origin.ANNOTATOR) for a, n in pairs]
    return old, [*old[:head], *middle, *old[stop:]], (head, stop, head + len(middle))


@given(ordered_and_edited())
def test_a_checked_edit_is_refused_or_ordered_exactly_as_a_full_check_would(case: tuple[list[Span], list[Span], tuple[int, int, int]]) -> None:
    from goldspan.annotations.datamodel import make_edit, sorted_spans
    from goldspan.annotations.stretch import changed_stretch

    old, new, replaced = case
    checked_old = sorted_spans(old)  # a session's last saved version
    for told in (None, replaced):  # found by the function, or told by the caller that made the edit
        try:
            expected = sorted_spans(new)
        except ValueError:
            with pytest.raises(ValueError, match="spans overlap"):
                make_edit(checked_old, new, told)
            continue
        edit = make_edit(checked_old, new, told)
        result, change = edit.spans, edit.stretch
        assert edit.before is checked_old
        assert list(result) == list(expected)
        head, old_stop, new_stop = change
        assert result[:head] == checked_old[:head] and result[new_stop:] == checked_old[old_stop:]
        if told is None:
            assert change == changed_stretch(checked_old, result)
