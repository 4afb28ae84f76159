"""Teach mode's screen: one entity at a time in its paragraph, with the model's score; a accepts,
x rejects, space ignores, u undoes, q quits. The app maps keys to ``TeachSession`` calls and shows
its state; the model (when an article has no scored suggestions yet) runs in its own process,
asked from a background thread that keeps a few articles ahead of the annotator.
"""

from __future__ import annotations

import functools
import sys
import time
from dataclasses import dataclass, field
from typing import Sequence

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer

from goldspan.annotations.datamodel import Answer, Article
from goldspan.annotations.errors import GoldspanError
from goldspan.annotations.nlp.pipelines import PipelineSpec
from goldspan.annotations.nlp.remote import ProcessPreparer, WorkerClosed
from goldspan.annotations.nlp.suggest import UNSCORABLE
from goldspan.annotations.store import EncodedSuggestions, Store, encoded_suggestions
from goldspan.annotations.teaching.session import TeachSession
from goldspan.annotations.teaching.stream import Arrival, TeachStream

from .background import Background
from .collector import Collector
from .leaving import Leaving
from .widgets.text_lines import TextLines

AHEAD = 20  # candidates kept ready in the pool, so no key waits for the model
IN_FLIGHT = 2  # articles asked of the model at once (the next one parses while this one is answered)
SWITCH_INTERVAL = 0.0005  # seconds a thread waits for the interpreter's lock before it is handed over


@dataclass(frozen=True)
class Scored:
    """An article the model scored, made ready on the background thread for the pool and the store."""

    arrival: Arrival
    record: EncodedSuggestions


@dataclass
class Feed:
    """Where the pool's articles come from: the source's articles, in order, as far as read so far."""

    articles: Sequence[Article]
    next_row: int = 0
    asked: set[str] = field(default_factory=set)  # articles the model is scoring now


class TeachApp(Leaving):
    TITLE = "goldspan teach"
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    #top { height: 1; background: $panel; }
    #example { padding: 1 2; height: 1fr; }
    #status { height: 1; }
    """
    BINDINGS = [
        Binding("a", "answer('accept')", "accept"),
        Binding("x", "answer('reject')", "reject"),
        Binding("space", "answer('ignore')", "ignore"),
        Binding("u", "undo", "undo"),
        Binding("q", "leave", "quit"),
        Binding("ctrl+c", "leave", "quit", show=False, priority=True),
    ]

    def __init__(self, session: TeachSession, feed: Feed, spec: PipelineSpec, *, labels: str, scorer: str) -> None:
        super().__init__()
        self.session, self.feed, self.spec, self.labels, self.scorer = session, feed, spec, labels, scorer
        self.preparer = ProcessPreparer(spec, on_restart=lambda reason: self.call_from_thread(self._say, reason))
        self.background = Background("goldspan-teach")
        self.collector = Collector()  # full collections wait for a pause, as in the annotator
        self.status = ""
        self.status_failed = False  # the last answer did not reach the disk: said in red, not dim
        self.model_status = "model not needed yet"
        self._switch_interval = sys.getswitchinterval()

    def compose(self) -> ComposeResult:
        # TextLines redraw only the rows that changed (a Static redraws all of itself).
        yield TextLines(id="top")
        yield TextLines(id="example")
        yield TextLines(id="status")
        yield Footer()

    def on_mount(self) -> None:
        # The background thread's Python work (a scored article's spans and candidates made ready)
        # shares the interpreter's lock with the keys; at Python's 5 ms switch interval a key that came
        # during it took 34 ms, at 0.5 ms at most 7 (docs/performance.md).
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.collector.start()
        self.set_interval(1.0, self.collector.idle, name="collector")
        self.watch_for_endings()
        self.refill()
        self.session.show_next(time.monotonic())
        self.redraw()

    def on_app_blur(self, event: events.AppBlur) -> None:
        self.session.note_away(time.monotonic())

    def on_app_focus(self, event: events.AppFocus) -> None:
        self.session.note_back(time.monotonic())

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.collector.key()
        await super().on_event(event)

    def on_unmount(self) -> None:
        self._stop_background()
        self.collector.stop()
        sys.setswitchinterval(self._switch_interval)  # as it was (a test process goes on)

    def _stop_background(self) -> None:
        self.background.stop()
        self.preparer.close()

    def _close_for_exit(self) -> None:
        self.session.store.close()

    # -- keys ------------------------------------------------------------------------------

    def action_answer(self, answer: str) -> None:
        said = self.session.answer(Answer(answer), time.monotonic())
        self._after(said.message, failed=said.failed)

    def action_undo(self) -> None:
        said = self.session.undo(time.monotonic())
        self._after(said.message, failed=said.failed)

    def action_leave(self) -> None:
        self._stop_background()
        self.exit()

    def _after(self, message: str, failed: bool = False) -> None:
        self.status = message
        self.status_failed = failed
        self.refill()
        self.session.show_next(time.monotonic())
        self.redraw()

    # -- the pool --------------------------------------------------------------------------

    def refill(self) -> None:
        """Keep AHEAD candidates ready: from the stored scored suggestions of the next articles, else
        by asking the model (at most IN_FLIGHT at once); on the UI thread, which alone touches the store."""
        feed, store, model = self.feed, self.session.store, self.spec.model_id
        while len(self.session.stream) < AHEAD and feed.next_row < len(feed.articles) and len(feed.asked) < IN_FLIGHT:
            article = feed.articles[feed.next_row]
            feed.next_row += 1
            scored_by = store.suggestion_scorer(article.id, model)
            if scored_by is not None and scored_by.partition(",")[0] in (self.scorer, UNSCORABLE):
                found = store.suggestions(article.id, model)
                if found is not None:
                    self.session.stream.add(article, found)
                    continue
            feed.asked.add(article.id)
            self.background.submit(functools.partial(self._score, article))

    def _score(self, article: Article) -> None:
        """On the background thread: the model's scored suggestions for the article, handed to the UI thread."""
        try:
            found = self.preparer.suggestions(article, stop=self.background.stopping.is_set, on_loading=lambda: self.call_from_thread(self._loading))
        except WorkerClosed:
            return
        except GoldspanError as error:
            self.call_from_thread(self._scored, article, None, str(error))
            return
        if found is not None:
            # Made here, not on the UI thread: for a 50,000-word article, 12,000 spans encoded and as
            # many candidates sorted out took a key's 45 ms there (docs/performance.md).
            ready = Scored(self.session.stream.sort_out(article, found), encoded_suggestions(found))
            self.call_from_thread(self._scored, article, ready, "")

    def _loading(self) -> None:
        self.model_status = f"loading {self.spec.display_name}…"
        self.redraw()

    def _scored(self, article: Article, ready: Scored | None, problem: str) -> None:
        self.feed.asked.discard(article.id)
        self.model_status = str(self.spec.display_name)
        if ready is None:
            self.status = f"the model could not score “{article.title}”: {problem}"
        else:
            try:
                self.session.store.save_encoded_suggestions([ready.record])  # scored once: the next session reads them
            except GoldspanError as error:
                self.status = f"suggestions not saved: {error}"
            self.session.stream.join(ready.arrival)
        self.refill()
        if self.session.current is None:
            self.session.show_next(time.monotonic())
        self.redraw()

    def _say(self, message: str) -> None:
        self.status = message
        self.redraw()

    # -- drawing ---------------------------------------------------------------------------

    def redraw(self) -> None:
        session = self.session
        counts = session.counts
        top = (
            f" teach {self.labels} · {session.annotator} · {self.model_status} · "
            f"{counts[Answer.ACCEPT]} accepted, {counts[Answer.REJECT]} rejected, {counts[Answer.IGNORE]} ignored · "
            f"{len(session.stream):,} ready"
        )
        width = max(1, self.size.width)
        self.query_one("#top", TextLines).show(Text(_fit(top, width)))
        example = self.query_one("#example", TextLines)
        text = self._example()
        # As many rows as the pane has, whatever the example's length: the same number of rows
        # redraws only those that changed, where another number lays the screen out again.
        rows = len(text.wrap(self.console, max(1, example.content_size.width), overflow="fold"))
        text.append("\n" * max(0, example.content_size.height - rows))
        example.show(text)
        style = "bold white on red" if self.status_failed else "dim"
        self.query_one("#status", TextLines).show(Text(_fit(" " + self.status, width), style=style))

    def _example(self) -> Text:
        candidate = self.session.current
        if candidate is None:
            waiting = len(self.feed.asked) + (len(self.feed.articles) - self.feed.next_row)
            return Text(self.session.stream.why_dry(waiting if self.feed.asked else 0, self.labels) + ".", style="bold")
        span = candidate.span
        head, tail = span.start - candidate.offset, span.end - candidate.offset
        text = Text()
        text.append(candidate.title + "\n\n", style="dim")
        text.append(candidate.context[:head])
        text.append(candidate.context[head:tail], style="bold reverse")
        text.append(candidate.context[tail:])
        score = "no score" if span.score is None else f"{span.score:.2f}"
        text.append("\n\n")
        text.append(f" {span.label} ", style="bold reverse")
        text.append(f"  {score}  ", style="dim")
        text.append(f"Is “{candidate.text}” a {span.label}?")
        return text


def _fit(line: str, width: int) -> str:
    """One row: cut with an ellipsis where it is wider than the screen."""
    return line if len(line) <= width else line[: max(0, width - 1)] + "…"


def open_teach(
    store: Store, articles: Sequence[Article], spec: PipelineSpec, *, labels: Sequence[str], annotator: str, include_all: bool,
) -> TeachApp:  # fmt: skip
    from goldspan.annotations.teaching.decisions import stored_decisions

    decided = [d.key for d in stored_decisions(store, annotator)]
    stream = TeachStream(labels, decided, include_all=include_all)
    session = TeachSession(store, stream, annotator=annotator)
    return TeachApp(session, Feed(articles), spec, labels=",".join(labels), scorer=spec.scorer)
