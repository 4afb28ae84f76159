"""A team's work queue (issue 22): articles routed to annotators with an overlap, leases that end
when answered, given back or expired, and never held twice at once, even by many processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from goldspan.annotations.datamodel import Annotation, Answer, Article
from goldspan.annotations.errors import InputError, StoreError
from goldspan.annotations.queue.routing import release, save_settings, take_next
from goldspan.annotations.queue.settings import QueueSettings
from goldspan.annotations.queue.status import queue_status
from goldspan.annotations.store import QUEUE, Store

from .apphelpers import settle
from .conftest import assert_one_line_error, run_goldspan


def team_db(path: Path, n: int, **settings: object) -> list[Article]:
    articles = [Article.from_text(f"Story {i}\nAnna Nowak met Jan Kowalski in Gdańsk on day {i}.") for i in range(n)]
    with Store(path) as store:
        store.add_articles(articles)
        save_settings(store, QueueSettings(**settings))  # type: ignore[arg-type]
    return articles


def answer(store: Store, article_id: str, annotator: str, how: Answer = Answer.ACCEPT) -> None:
    store.save_annotation(Annotation(article_id, annotator, (), how))


def drain(store: Store, annotators: list[str]) -> Counter[tuple[str, str]]:
    """The annotators take turns taking and answering until the queue has nothing for any of them."""
    given: Counter[tuple[str, str]] = Counter()
    active = list(annotators)
    while active:
        for who in list(active):
            offer = take_next(store, who)
            if offer.article_id is None:
                active.remove(who)
                continue
            given[(offer.article_id, who)] += 1
            answer(store, offer.article_id, who, [Answer.ACCEPT, Answer.REJECT, Answer.IGNORE][len(given) % 3])
    return given


def test_overlap_one_splits_the_work_and_overlap_two_gives_each_article_two_annotators(tmp_path: Path) -> None:
    articles = team_db(tmp_path / "one.json", 10, overlap=1)
    with Store(tmp_path / "one.json") as store:
        given = drain(store, ["alice", "bob", "carol"])
        assert sorted(a for a, _ in given) == sorted(a.id for a in articles)  # each once, whoever took it
        assert set(Counter(who for _, who in given).values()) <= {3, 4}  # the work split
        assert "nothing left for alice: 10 of 10 articles done" in take_next(store, "alice").reason
    team_db(tmp_path / "two.json", 10, overlap=2)
    with Store(tmp_path / "two.json") as store:
        given = drain(store, ["alice", "bob", "carol"])
        per_article = Counter(a for a, _ in given)
        assert set(per_article.values()) == {2} and len(per_article) == 10  # an answer of any kind counts
        assert all(n == 1 for n in given.values())  # never the same annotator twice on one article


def test_overlap_fraction_gives_a_seeded_share_two_answers_and_the_rest_one(tmp_path: Path) -> None:
    articles = team_db(tmp_path / "g.json", 60, overlap=2, overlap_fraction=0.25, seed=3)
    with Store(tmp_path / "g.json") as store:
        settings = QueueSettings(overlap=2, overlap_fraction=0.25, seed=3)
        doubled = {a.id for a in articles if settings.needed(a.id) == 2}
        assert 5 <= len(doubled) <= 25  # about a quarter, drawn by the seed
        given = drain(store, ["alice", "bob"])
    per_article = Counter(a for a, _ in given)
    assert {a for a, n in per_article.items() if n == 2} == doubled and len(per_article) == 60


def test_a_fast_annotator_keeps_getting_work_and_is_told_why_when_there_is_none(tmp_path: Path) -> None:
    articles = team_db(tmp_path / "g.json", 3, overlap=2, lease_minutes=10)
    with Store(tmp_path / "g.json") as store:
        now = time.time()
        for article in articles:  # alice answers all three; each still needs one more annotator
            offer = take_next(store, "alice", now)
            assert offer.article_id == article.id
            answer(store, article.id, "alice")
        nothing = take_next(store, "alice", now)
        assert nothing.article_id is None and "3 you answered wait for another annotator" in nothing.reason
        held = take_next(store, "bob", now)
        assert held.article_id == articles[0].id
        assert take_next(store, "bob", now).resumed  # asking again gives back the same lease
        carol = take_next(store, "carol", now)
        assert carol.article_id == articles[1].id  # the first is held by bob: it needs no third
        assert take_next(store, "dave", now).article_id == articles[2].id
        why = take_next(store, "erin", now).reason
        assert "0 of 3 articles done" in why and "3 leased by bob, carol, dave" in why
        # bob's lease expires (no renewal for 10 minutes): the next asker gets his article
        later = now + 10 * 60 + 1
        assert take_next(store, "erin", later).article_id == articles[0].id
        release(store, articles[1].id, "carol")  # carol gives hers back (n, or quitting)
        assert take_next(store, "frank", later).article_id == articles[1].id


WORKER = """
import sys, random
from goldspan.annotations.datamodel import Annotation, Answer
from goldspan.annotations.queue.routing import take_next
from goldspan.annotations.store import Store
db, who = sys.argv[1], sys.argv[2]
with Store(db) as store:
    while True:
        offer = take_next(store, who)
        if offer.article_id is None:
            break
        print(offer.article_id, flush=True)
        store.save_annotation(Annotation(offer.article_id, who, (), random.choice(list(Answer))))
"""


def test_many_processes_taking_at_once_never_share_a_lease_and_finish_the_queue(tmp_path: Path) -> None:
    articles = team_db(tmp_path / "g.json", 60, overlap=2)
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    names = [f"annotator{i}" for i in range(6)]
    children = [subprocess.Popen([sys.executable, str(script), str(tmp_path / "g.json"), name], stdout=subprocess.PIPE, text=True) for name in names]
    taken = {name: child.communicate(timeout=300)[0].split() for name, child in zip(names, children)}
    assert all(child.returncode == 0 for child in children)
    per_article = Counter(a for ids in taken.values() for a in ids)
    assert per_article == Counter({a.id: 2 for a in articles})  # exactly two each: no lease was taken twice
    assert all(len(ids) == len(set(ids)) for ids in taken.values())  # by two different annotators
    with Store(tmp_path / "g.json", read_only=True) as store:
        assert queue_status(store).done == 60 and not store.lease_docs()


HOLDER = """
import sys, time
from goldspan.annotations.queue.routing import take_next
from goldspan.annotations.store import Store
store = Store(sys.argv[1])
print(take_next(store, "bob").article_id, flush=True)
time.sleep(600)
"""


def test_a_killed_annotators_article_goes_to_another_once_the_lease_expires(tmp_path: Path) -> None:
    articles = team_db(tmp_path / "g.json", 2, overlap=1, lease_minutes=1)
    script = tmp_path / "holder.py"
    script.write_text(HOLDER, encoding="utf-8")
    child = subprocess.Popen([sys.executable, str(script), str(tmp_path / "g.json")], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    held = child.stdout.readline().strip()
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert held == articles[0].id
    with Store(tmp_path / "g.json") as store:
        now = time.time()
        assert take_next(store, "alice", now).article_id == articles[1].id  # bob's is still his for a minute
        answer(store, articles[1].id, "alice")
        assert take_next(store, "alice", now).article_id is None
        assert take_next(store, "alice", now + 61).article_id == articles[0].id


def test_queue_status_figures_against_a_hand_built_db(tmp_path: Path) -> None:
    articles = team_db(tmp_path / "g.json", 4, overlap=2, annotators=("alice", "bob", "carol"))
    with Store(tmp_path / "g.json") as store:
        answer(store, articles[0].id, "alice")
        answer(store, articles[0].id, "bob", Answer.REJECT)  # done: two answers
        answer(store, articles[1].id, "alice", Answer.IGNORE)  # in progress: one of two
        assert take_next(store, "bob").article_id == articles[1].id  # in progress: leased
        store.save_annotation(Annotation(articles[2].id, "carol", (), None))  # a draft: not an answer
    result = run_goldspan("queue", "status", "--db", tmp_path / "g.json", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["articles"] == {"total": 4, "done": 1, "in_progress": 1, "waiting": 2}
    assert found["answers"] == {"given": 3, "needed": 8}
    alice, bob, carol = (found["annotators"][name] for name in ("alice", "bob", "carol"))
    assert (alice["answered"], alice["remaining"], alice["leased"]) == (2, 2, [])
    assert (bob["answered"], bob["remaining"]) == (1, 3) and [l["article_id"] for l in bob["leased"]] == [articles[1].id]
    assert (carol["answered"], carol["remaining"]) == (0, 2)  # article 2 is filled by alice's answer and bob's lease
    table = run_goldspan("queue", "status", "--db", tmp_path / "g.json")
    assert table.returncode == 0 and "done 1 · in progress 1 · waiting 2" in table.stdout and "38% of 8 answers" in table.stdout


def test_queue_commands_refuse_bad_input_in_one_line_and_change_nothing(tmp_path: Path) -> None:
    db = tmp_path / "g.json"
    assert_one_line_error(run_goldspan("queue", "setup", "--db", db), f"{db}: no such database")
    assert not db.exists()
    team_db(db, 3, overlap=1, annotators=("alice",))
    before = db.read_bytes()
    for args, words in (
        (["--overlap", "0"], "--overlap 0"),
        (["--overlap-fraction", "1.5", "--overlap", "2"], "--overlap-fraction 1.5"),
        (["--annotators", "a,b", "--open"], "--annotators and --open"),
        (["--order", "newest"], "--order newest: not an order"),
        (["--lease-minutes", "0"], "--lease-minutes 0"),
    ):
        assert_one_line_error(run_goldspan("queue", "setup", "--db", db, *args), words)
    for args, words in (
        (["--queue", "--annotator", "mallory"], "--annotator mallory: not on this queue's list (alice)"),
        (["--queue", "--order", "random"], "--order random: with --queue"),
        (["--queue", tmp_path], "--queue takes the database's articles"),
    ):
        assert_one_line_error(run_goldspan("annotate", "--db", db, "--model", "blank:en", "--labels", "PERSON", *args), words)
    assert db.read_bytes() == before
    with Store(db) as store:  # a queue set up by a newer goldspan, or a damaged record
        store.transact(lambda s: ([(QUEUE, {"name": "settings", "version": 99, "overlap": 1})], []))
        with pytest.raises(StoreError, match="newer goldspan"):
            take_next(store, "alice")
        store.transact(lambda s: ([(QUEUE, {"name": "settings", "version": 1, "overlap": "two"})], []))
        with pytest.raises(StoreError, match="damaged work queue settings"):
            take_next(store, "alice")
    assert_one_line_error(run_goldspan("queue", "status", "--db", db), "damaged work queue settings")
    with pytest.raises(InputError, match="has no work queue"):
        with Store(tmp_path / "none.json") as store:
            store.add_articles([Article.from_text("T\nx")])
            take_next(store, "alice")


async def test_annotate_with_queue_answers_take_the_next_article_and_n_gives_one_back(tmp_path: Path) -> None:
    from goldspan.annotations.nlp import pipelines
    from goldspan.annotations.queue.session import QueueSession
    from goldspan.tui.app import GoldspanApp
    from goldspan.tui.keymap import default_keymap

    articles = team_db(tmp_path / "g.json", 4, overlap=1)
    spec = pipelines.resolve("blank:en")
    with Store(tmp_path / "g.json") as other:
        assert take_next(other, "bob").article_id == articles[0].id  # bob holds the first
    store = Store(tmp_path / "g.json")
    session = QueueSession(store, annotator="alice", labels=("PERSON",), model=spec.model_id)
    app = GoldspanApp(session, spec, keymap=default_keymap())
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert session.article.id == articles[1].id and "3 left for you" in session.progress_line()
        await pilot.press("a")  # accept: counts, and the queue gives the next one
        await settle(pilot)
        assert session.article.id == articles[2].id
        await pilot.press("n")  # given back without an answer: the next, and not offered again
        await pilot.pause()
        assert session.article.id == articles[3].id
        await pilot.press("p")
        await pilot.pause()
        assert session.article.id == articles[3].id  # refused: the queue decides
        await pilot.press("X")  # reject: counts; nothing is left (bob holds the first, alice gave the third back)
        await pilot.pause()
        assert session.holding is None and "nothing left for alice" in str(app.screen.query_one("#message").render())
        await pilot.press("q")
    with Store(tmp_path / "g.json", read_only=True) as store:
        answered = {a.article_id: a.answer for a in store.annotations() if a.annotator == "alice"}
        assert answered == {articles[1].id: Answer.ACCEPT, articles[3].id: Answer.REJECT}
        assert [d["annotator"] for d in store.lease_docs()] == ["bob"]  # alice's ended; bob's runs on


async def test_guidelines_open_on_their_key_and_define_the_labels_in_the_picker_and_help(tmp_path: Path, pattern_spec) -> None:
    from textual.widgets import Markdown, OptionList

    from goldspan.annotations.guidelines import label_definitions, save_guidelines

    from .apphelpers import make_app

    guide = tmp_path / "guide.md"
    guide.write_text("# Guidelines\n\nAs OntoNotes.\n\n## PERSON\nPeople, fictional ones too.\n\n## GPE\nPlaces with a government.\n", encoding="utf-8")
    assert label_definitions(guide.read_text(encoding="utf-8")) == {"PERSON": "People, fictional ones too.", "GPE": "Places with a government."}
    app = make_app(tmp_path / "g.json", pattern_spec)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("G")  # none stored yet: said so
        await pilot.pause()
        assert "holds no annotation guidelines" in str(app.screen.query_one("#message").render())
        save_guidelines(app.session.store, guide.read_text(encoding="utf-8"))
        await pilot.press("G")
        await pilot.pause()
        shown = app.screen.query_one(Markdown)
        assert "Places with a government." in shown.source
        await pilot.press("escape")
        await pilot.press("t")
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        texts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any("PERSON" in t and "People, fictional ones too." in t for t in texts)
        await pilot.press("escape")
        await pilot.press("question_mark")
        await pilot.pause()
        assert "fictional" in app.export_screenshot()  # the help's PERSON row, as drawn
        await pilot.press("escape", "q")
    # stored by the command, and refused in one line when unreadable
    result = run_goldspan("queue", "setup", "--db", tmp_path / "g.json", "--guidelines", guide)
    assert result.returncode == 0 and "definitions of PERSON, GPE" in result.stdout
    assert_one_line_error(run_goldspan("queue", "setup", "--db", tmp_path / "g.json", "--guidelines", tmp_path / "none.md"), "--guidelines", "no such file")


def test_setup_again_changes_the_settings_for_the_articles_not_done_yet(tmp_path: Path) -> None:
    articles = team_db(tmp_path / "g.json", 4, overlap=1)
    with Store(tmp_path / "g.json") as store:
        for _ in range(2):
            offer = take_next(store, "alice")
            answer(store, offer.article_id, "alice")  # articles 0 and 1 done with one answer
    result = run_goldspan("queue", "setup", "--db", tmp_path / "g.json", "--overlap", "2")
    assert result.returncode == 0, result.stderr
    assert "changed overlap: 1 → 2" in result.stdout and "2 articles already done keep the answers they were done with" in result.stdout
    with Store(tmp_path / "g.json") as store:
        given = drain(store, ["alice", "bob"])
        status = queue_status(store)
    assert Counter(a for a, _ in given) == Counter({articles[2].id: 2, articles[3].id: 2})  # 0 and 1 stay done with one
    assert status.done == 4 and status.needed == 6


def test_articles_added_after_setup_join_the_queue(tmp_path: Path) -> None:
    articles = team_db(tmp_path / "g.json", 1, overlap=1)
    with Store(tmp_path / "g.json") as store:
        answer(store, take_next(store, "alice").article_id or "", "alice")
        assert take_next(store, "alice").article_id is None
        late = Article.from_text("Late story\nPiotr Zieliński arrived in Minsk.")
        with Store(tmp_path / "g.json") as other:  # another process adds it (preannotate, import)
            other.add_articles([late])
        assert take_next(store, "bob").article_id == late.id
    assert articles[0].id != late.id


def test_setup_again_keeps_every_option_not_given_and_guidelines_alone_change_no_setting(tmp_path: Path) -> None:
    team_db(tmp_path / "g.json", 3, overlap=2, annotators=("alice", "bob"), lease_minutes=20, seed=5)
    guide = tmp_path / "guide.md"
    guide.write_text("## PERSON\nPeople.\n", encoding="utf-8")
    result = run_goldspan("queue", "setup", "--db", tmp_path / "g.json", "--guidelines", guide)
    assert result.returncode == 0 and "settings unchanged" in result.stdout, result.stdout
    changed = run_goldspan("queue", "setup", "--db", tmp_path / "g.json", "--lease-minutes", "10")
    assert "changed lease-minutes: 20 → 10" in changed.stdout and "overlap" not in changed.stdout.split("Now:")[0]
    with Store(tmp_path / "g.json", read_only=True) as store:
        from goldspan.annotations.queue.routing import settings_of

        assert settings_of(store) == QueueSettings(overlap=2, annotators=("alice", "bob"), lease_minutes=10, seed=5)
    assert_one_line_error(run_goldspan("queue", "setup", "--db", tmp_path / "g.json", "--overlap", "3"), "--overlap 3: more than the 2 annotators")


async def test_undo_in_a_queue_session_never_writes_onto_the_next_article(tmp_path: Path) -> None:
    from goldspan.annotations.nlp import pipelines
    from goldspan.annotations.queue.session import QueueSession
    from goldspan.tui.app import GoldspanApp
    from goldspan.tui.keymap import default_keymap

    articles = team_db(tmp_path / "g.json", 2, overlap=1)
    spec = pipelines.resolve("blank:en")
    store = Store(tmp_path / "g.json")
    session = QueueSession(store, annotator="alice", labels=("PERSON",), model=spec.model_id)
    app = GoldspanApp(session, spec, keymap=default_keymap())
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("v", "1")  # a new PERSON span at the token cursor, then accept the article
        await pilot.press("a")
        await settle(pilot)
        assert session.article.id == articles[1].id
        await pilot.press("u")  # nothing of this article to undo; the last one's answer stays
        await pilot.pause()
        await pilot.press("q")
    with Store(tmp_path / "g.json", read_only=True) as fresh:
        first = fresh.annotation(articles[0].id, "alice")
        assert first is not None and first.answer is Answer.ACCEPT and len(first.spans) == 1
        assert fresh.annotation(articles[1].id, "alice") is None  # untouched


def test_a_lease_is_renewed_while_working_and_a_lapsed_one_is_said_and_not_answered(tmp_path: Path) -> None:
    from goldspan.annotations.nlp import pipelines
    from goldspan.annotations.queue.session import QueueSession

    articles = team_db(tmp_path / "g.json", 2, overlap=1, lease_minutes=0.05)  # 3 s: renewed every second
    with Store(tmp_path / "g.json") as store:
        session = QueueSession(store, annotator="alice", labels=("PERSON",), model=pipelines.resolve("blank:en").model_id)
        assert session.renew_every == pytest.approx(1.0)
        first = {d["annotator"]: d["expires"] for d in store.lease_docs()}["alice"]
        assert session.keep(time.monotonic() + 1.5) is None  # renewed: it now runs 3 s from now
        assert {d["annotator"]: d["expires"] for d in store.lease_docs()}["alice"] > first
        # alice goes quiet past the lease; bob asks and takes her article
        assert take_next(store, "bob", time.time() + 10).article_id == articles[0].id
        said = session.keep(time.monotonic() + 3)
        assert said is not None and "lapsed" in said and session.holding is None
        assert "no longer yours" in str(session.answer(Answer.ACCEPT))
        assert store.annotation(articles[0].id, "alice") is None


def test_a_damaged_lease_is_refused_in_one_line_and_setup_clears_it(tmp_path: Path) -> None:
    from goldspan.annotations.store import LEASES

    team_db(tmp_path / "g.json", 2, overlap=1)
    with Store(tmp_path / "g.json") as store:
        store.transact(lambda s: ([(LEASES, {"article_id": "x", "annotator": "bob", "since": "x", "expires": 1})], []))
    assert_one_line_error(run_goldspan("queue", "status", "--db", tmp_path / "g.json"), "damaged lease record")
    assert run_goldspan("queue", "setup", "--db", tmp_path / "g.json").returncode == 0
    assert run_goldspan("queue", "status", "--db", tmp_path / "g.json").returncode == 0
