from __future__ import annotations

from pathlib import Path

from goldspan.annotations.nlp import pipelines
from goldspan.annotations.articles import load_articles
from goldspan.annotations.datamodel import Origin
from goldspan.annotations.store import Store
from goldspan.annotations.nlp.suggest import preannotate

from .conftest import SEED, write_jsonl


def counting_loader(calls: list[str]):
    def load(spec: pipelines.PipelineSpec):
        calls.append(spec.name)
        return pipelines.load(spec)

    return load


def test_pattern_suggestions_sit_on_the_right_characters(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    [article] = load_articles([SEED]).articles
    with Store(tmp_path / "g.json") as store:
        result = preannotate(store, [article], pattern_spec)
        cached = store.suggestions(article.id, pattern_spec.model_id)
    assert result.parsed == 1 and result.spans == len(cached.spans) > 0  # type: ignore[union-attr]
    found = {(s.text_in(article.text), s.label) for s in cached.spans}  # type: ignore[union-attr]
    assert {("Vladimir Putin", "PERSON"), ("Minsk", "GPE"), ("The Moscow Times", "ORG")} <= found
    assert all(s.origin is Origin.PATTERN for s in cached.spans)  # type: ignore[union-attr]


def test_an_article_is_parsed_once_per_model_version(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    articles = load_articles([SEED]).articles
    calls: list[str] = []
    with Store(tmp_path / "g.json") as store:
        first = preannotate(store, articles, pattern_spec, loader=counting_loader(calls))
    with Store(tmp_path / "g.json") as store:  # a later run, from the file
        second = preannotate(store, articles, pattern_spec, loader=counting_loader(calls))
    assert (first.parsed, first.cached) == (1, 0)
    assert (second.parsed, second.cached, second.new_articles) == (0, 1, 0)
    assert calls == ["blank:en"]  # the second run did not even load the pipeline

    changed = pipelines.resolve("blank:en", write_jsonl(tmp_path / "p2.jsonl", [{"label": "GPE", "pattern": "Brest"}]))
    with Store(tmp_path / "g.json") as store:
        third = preannotate(store, articles, changed, loader=counting_loader(calls))
        assert third.parsed == 1
        assert store.has_suggestions(articles[0].id, pattern_spec.model_id) and store.has_suggestions(articles[0].id, changed.model_id)


def test_parsing_in_two_processes_gives_the_same_suggestions(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    articles = load_articles([SEED.parent]).articles
    with Store(tmp_path / "one.json") as one, Store(tmp_path / "two.json") as two:
        preannotate(one, articles, pattern_spec, batch_size=2)
        preannotate(two, articles, pattern_spec, batch_size=2, n_process=2)
        for article in articles:
            assert one.suggestions(article.id, pattern_spec.model_id).spans == two.suggestions(article.id, pattern_spec.model_id).spans  # type: ignore[union-attr]


def test_an_article_longer_than_spacys_limit_is_parsed_in_pieces(tmp_path: Path, pattern_spec: pipelines.PipelineSpec) -> None:
    from goldspan.annotations.datamodel import Article
    from goldspan.annotations.nlp.suggest import CHUNK

    paragraph = "Vladimir Putin flew to Minsk. " * 40
    article = Article.from_text("Long\n\n" + "\n\n".join([paragraph] * (3 * CHUNK // len(paragraph))))
    with Store(tmp_path / "g.json") as store:
        preannotate(store, [article], pattern_spec)
        spans = store.suggestions(article.id, pattern_spec.model_id).spans  # type: ignore[union-attr]
    assert len(spans) == 2 * article.text.count("Vladimir Putin flew")
    assert all(s.text_in(article.text) in ("Vladimir Putin", "Minsk") for s in spans)
    import spacy

    doc = spacy.blank("en").tokenizer(article.text)
    assert all(doc[s.token_start : s.token_end].text == s.text_in(article.text) for s in spans[-5:])


def test_parsing_stops_before_the_next_piece_once_asked(pattern_spec: pipelines.PipelineSpec) -> None:
    from goldspan.annotations.datamodel import Article
    from goldspan.annotations.nlp.suggest import CHUNK, chunks, suggest

    paragraph = "Vladimir Putin flew to Minsk. " * 40
    article = Article.from_text("Long\n\n" + "\n\n".join([paragraph] * (3 * CHUNK // len(paragraph))))
    nlp = pipelines.load(pattern_spec)
    asked: list[int] = []

    def stop_after_one() -> bool:
        asked.append(1)
        return True

    assert len(chunks(article.text)) > 2
    assert list(suggest(nlp, [article], pattern_spec.model_id, batch_size=1, stop=stop_after_one)) == []
    assert len(asked) == 1  # the first piece was parsed, then it stopped: not one more piece
    [whole] = suggest(nlp, [article], pattern_spec.model_id, batch_size=1, stop=lambda: False)
    assert len(whole.spans) == 2 * article.text.count("Vladimir Putin flew")
