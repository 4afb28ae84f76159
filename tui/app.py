"""The annotator app: keys map to ``Session`` calls; the screen is redrawn from the session's state.

The first article paints before spaCy is imported. A worker thread then tokenizes the article (and
loads the model only when an article has no cached suggestions); its results come back to the UI
thread, which alone touches the session and the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Static

from goldspan.annotations.datamodel import Answer, Article, Span, first_line
from goldspan.annotations.errors import GoldspanError
from goldspan.tui.keymap import ACTIONS, Action, default_keymap
from goldspan.annotations.nlp.pipelines import PipelineSpec, load
from goldspan.annotations.session.session import Outcome, Session
from goldspan.annotations.words import plural

from .background import Background
from .widgets.article_view import ArticleView, ViewState
from .widgets.entity_list import STATE_MARK, EntityList, ListState

if TYPE_CHECKING:
    from spacy.language import Language

    from goldspan.annotations.nlp.align import Aligned

# Named ANSI colours, so labels stay distinct on 16-colour terminals.
PALETTE = ("bright_blue", "bright_green", "bright_magenta", "bright_cyan", "bright_yellow", "bright_red",
           "blue", "green", "magenta", "cyan", "yellow", "red")  # fmt: skip

# Each action id → the Session method it calls and its arguments. Screen-level actions (pickers,
# search, help, quit) are methods of AnnotateScreen named action_<id>.
SESSION_CALLS: dict[str, tuple[str, tuple[object, ...]]] = {
    "next_entity": ("focus_next", ()),
    "previous_entity": ("focus_previous", ()),
    "confirm": ("confirm", ()),
    "remove": ("remove", ()),
    "start_left": ("move_boundary", ("start", -1)),
    "start_right": ("move_boundary", ("start", 1)),
    "end_left": ("move_boundary", ("end", -1)),
    "end_right": ("move_boundary", ("end", 1)),
    "cursor_left": ("move_cursor", (-1,)),
    "cursor_right": ("move_cursor", (1,)),
    "word_right": ("move_word", (1,)),
    "word_left": ("move_word", (-1,)),
    "begin_span": ("begin_span", ()),
    "cancel": ("cancel", ()),
    "undo": ("undo", ()),
    "redo": ("redo", ()),
    "accept": ("answer", (Answer.ACCEPT,)),
    "reject": ("answer", (Answer.REJECT,)),
    "skip": ("answer", (Answer.IGNORE,)),
    "next_article": ("next_article", ()),
    "previous_article": ("previous_article", ()),
    "save_again": ("save_again", ()),
    "every_mention": ("begin_every_mention", ()),
    "flag": ("toggle_flag", ()),
}


def screen_bindings(actions: Sequence[Action] = ACTIONS) -> list[Binding]:
    """One Binding per action, with its id, so a keymap file can move it (App.set_keymap).

    Actions of one group sit side by side in the footer under one name: ``[ ] start``."""
    groups = {a.group: Binding.Group(a.group, compact=True) for a in actions if a.group}
    return [
        Binding(",".join(a.keys), f"run('{a.id}')", a.footer or a.description, show=bool(a.footer or a.group), id=a.id,
                group=groups.get(a.group))  # fmt: skip
        for a in actions
    ]


class AnnotateScreen(Screen[None]):
    BINDINGS = screen_bindings()
    calls = SESSION_CALLS
    help_actions: Sequence[Action] = ACTIONS
    DEFAULT_CSS = """
    #status { height: 1; background: $primary-background; color: $text; padding: 0 1; }
    #main { height: 1fr; }
    #article { width: 1fr; }
    #side { width: 36%; min-width: 28; max-width: 46; border-left: solid $primary; }
    #entities { height: 1fr; }
    #labels { height: auto; max-height: 9; border-top: solid $primary; padding: 0 1; }
    #message { height: 1; padding: 0 1; }
    #message.error { color: $error; text-style: bold; }
    #search { display: none; }
    #search.active { display: block; }
    #too-small { display: none; }
    AnnotateScreen.too-small #too-small { display: block; height: 1fr; content-align: center middle; text-style: bold; }
    AnnotateScreen.too-small #status, AnnotateScreen.too-small #main, AnnotateScreen.too-small Footer,
    AnnotateScreen.too-small #message { display: none; }
    """
    MIN_SIZE = (60, 12)
    show_others = True  # the top line counts the differences from other annotators' versions

    def __init__(self, session: Session, colours: Mapping[str, str]) -> None:
        super().__init__()
        self.session = session
        self.colours = colours
        self.search_text = ""

    def compose(self) -> ComposeResult:
        yield Static(id="too-small")
        yield Static(id="status")
        with Horizontal(id="main"):
            yield ArticleView(self.colours, id="article")
            with Vertical(id="side"):
                yield EntityList(self.colours, id="entities")
                yield from self.extra_panels()
                yield Static(id="labels")
        yield Static(id="message")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(ArticleView).focus()
        self.redraw()

    def on_resize(self, event: events.Resize) -> None:
        width, height = event.size
        small = width < self.MIN_SIZE[0] or height < self.MIN_SIZE[1]
        self.set_class(small, "too-small")
        if small:
            self.query_one("#too-small", Static).update(
                Text(f"terminal too small ({width}x{height}): goldspan needs {self.MIN_SIZE[0]}x{self.MIN_SIZE[1]}; your work is saved", justify="center")
            )
        self.call_after_refresh(self._relabel)  # the label panel's columns follow its new width

    def _relabel(self) -> None:
        self.query_one("#labels", Static).update(self._labels_text())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While the search box has the keyboard, the annotator's keys would be typed into it: they are
        off, and the footer shows the search box's own keys instead."""
        if action == "run" and self.searching:
            return False
        return True

    @property
    def searching(self) -> bool:
        return isinstance(self.focused, Input) and self.focused.id == "search"

    # Hooks for screens built on this one (the review screen).
    def extra_panels(self) -> Iterable[Widget]:
        return ()

    def marks(self) -> tuple[tuple[int, int], ...]:
        return ()

    def status_prefix(self) -> str:
        return ""

    @property
    def app_(self) -> GoldspanApp:
        return self.app  # type: ignore[return-value]

    # -- drawing ---------------------------------------------------------------------------

    def redraw(self, message: Outcome = None, *, error: bool = False) -> None:
        s = self.session
        draft = s.draft
        if self.app_.draft_needs_work(draft):
            self.app_.prepare(s.index)  # first: the top line drawn below then says the model is loading
        article = s.article
        spans = draft.spans if isinstance(draft.spans, tuple) else tuple(draft.spans)  # a version's own tuple: no copy
        self.query_one(ArticleView).show(
            ViewState(
                article.id,
                article.text,
                spans,
                draft.focus,
                s.cursor_chars,
                s.selection,
                self.search_text,
                title_paragraph=first_line(article.text) == article.title,
                marks=self.marks(),
                version=(article.id, draft.version),
                change=draft.change,
            )
        )
        self.query_one(EntityList).show(ListState(article.text, spans, draft.focus, draft.suggestions_pending))
        self.query_one("#labels", Static).update(self._labels_text())
        self.query_one("#status", Static).update(self._status_text())
        note = self.query_one("#message", Static)
        error = error or bool(message and message.startswith(("NOT SAVED", "read-only")))
        if message and message.startswith("NOT SAVED"):
            self.notify(message + " The change stays on screen; ctrl+s saves it again.", severity="error", timeout=20)
        note.set_class(error, "error")
        note.update(Text(message or "", style=""))

    def _status_text(self) -> Text:
        s = self.session
        draft = s.draft
        answer = f" [{draft.answer}]" if draft.answer else ""
        model = self.app_.model_status + (" · READ-ONLY" if s.store.read_only else "")
        if s.save_error:
            saved = Text(" NOT SAVED ", style="bold white on red")
        elif s.last_saved:
            saved = Text(f"saved {datetime.fromisoformat(s.last_saved).astimezone():%H:%M:%S}", style="green")
        else:
            saved = Text("nothing changed yet", style="dim")
        others = s.other_versions() if self.show_others else []
        versus = ("others: " + ", ".join(f"{name} {n} diff" for name, n in others) + " · ") if others else ""
        marks = ("⚑ flagged · " if draft.flagged else "") + ("✉ note · " if draft.comment else "")
        text = Text.assemble(
            self.status_prefix(),
            (f"article {s.index + 1}/{len(s.articles)}", "bold"),
            answer,
            f" · done {s.done} · {s.annotator} · {model} · {marks}{versus}",
            saved,
        )
        text.truncate(max(20, self.size.width - 2), overflow="ellipsis")
        return text

    def _labels_text(self) -> Text:
        s = self.session
        counts = s.label_counts()
        out = Text()
        shown = [label for label in s.labels[:10]]
        # Two columns in whatever width the panel has: at 60 columns it has 25, and cells of 16
        # wrapped "0 PRODUCT 0" onto two lines.
        room = self.query_one("#labels", Static).content_size.width or 32
        cell_width = max(8, min(16, room // 2))
        for i, label in enumerate(shown):
            key = s.label_key(label) or " "
            count = f" {counts.get(label, 0)}"
            fits = max(1, cell_width - 3 - len(count))
            name = label if len(label) <= fits else label[: fits - 1] + "…"
            cell = Text.assemble((f"{key}", "bold"), " ", (name, f"reverse {self.colours.get(label, '')}"), count)
            cell.truncate(cell_width, pad=True)
            out.append_text(cell)
            out.append("\n" if i % 2 else "")
        if len(shown) % 2:
            out.append("\n")
        extra = [label for label in counts if label not in shown]
        if extra:
            out.append(f"t: {plural(len(extra), 'more label')}\n", style="dim")
        out.append(" ".join(f"{mark} {state}" for state, mark in STATE_MARK.items()), style="dim")
        return out

    # -- actions: each is one session call, then a redraw -----------------------------------

    def action_run(self, action: str) -> None:
        if isinstance(self.focused, Input):
            return
        if action.startswith("label_"):
            self.label(int(action.removeprefix("label_")) - 1)
        elif action in self.calls:
            method, args = self.calls[action]
            self.redraw(getattr(self.session, method)(*args))
        elif action == "quit":
            self.app_.leave()
        else:
            getattr(self, f"action_{action}")()

    def label(self, index: int) -> None:
        labels = self.session.labels
        if index >= len(labels):
            self.redraw(f"no label on key {(index + 1) % 10}; t opens the label picker")
            return
        self.redraw(self.session.apply_label(labels[index]))

    def action_pick_label(self) -> None:
        s = self.session
        choices = [(label, f"{s.label_key(label) or ' '}  {label}") for label in dict.fromkeys([*s.labels, *s.label_counts()])]

        def chosen(label: str | None) -> None:
            self.redraw(None if label is None else s.apply_label(label))

        from .screens.modals import PickerScreen  # the modal screens are imported when first opened, not at start

        self.app.push_screen(PickerScreen("Label (type to filter, enter applies)", choices, "label…"), chosen)

    def action_goto(self) -> None:
        s = self.session
        articles = [(i + 1, article_id in s.answered, title) for i, (article_id, title) in enumerate(zip(s.articles.ids, s.articles.titles))]

        def chosen(value: str | None) -> None:
            if value is None:
                return self.redraw()
            if value.isdigit():  # a number is that article, never a title with the digit in it
                return self.redraw(s.go_to(int(value) - 1))
            index = s.find_article(value)
            self.redraw(f"no article title has {value!r} in it" if index is None else s.go_to(index))

        from .screens.modals import GotoScreen

        self.app.push_screen(GotoScreen(articles), chosen)

    def action_comment(self) -> None:
        s = self.session

        def written(text: str | None) -> None:
            self.redraw(None if text is None else s.set_comment(text))

        from .screens.modals import CommentScreen

        self.app.push_screen(CommentScreen(s.draft.comment, s.article.title), written)

    def action_help(self) -> None:
        from .screens.modals import HelpScreen

        self.app.push_screen(HelpScreen(self.app_.keymap, self.session.labels, self.help_actions))

    def action_search(self) -> None:
        from .widgets.search_box import SearchBox

        box = next(self.query("#search").results(SearchBox), None)
        if box is None:
            # Built when first asked for: composed at start, this box nobody sees yet was a fifth of
            # what the first frame's widgets cost (about 7 ms).
            box = SearchBox(placeholder="search: type, enter for the next hit, escape to leave", id="search")
            self.mount(box, before="#message")
        box.add_class("active")
        box.value = self.search_text
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self.search_text = event.value
            self.redraw(self.session.search(event.value, after=-1) if event.value else None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            self.redraw(self.session.search(event.value))

    def on_search_box_left(self, event: Message) -> None:
        event.stop()
        self.query_one("#search", Input).remove_class("active")
        self.search_text = ""
        self.query_one(ArticleView).focus()
        self.redraw()

    def on_article_view_clicked(self, event: ArticleView.Clicked) -> None:
        s = self.session
        hit = next((i for i, span in enumerate(s.spans) if span.start <= event.offset < span.end), None)
        if hit is not None:
            s.focus_span(hit)
            self.redraw()
        else:
            self.redraw(s.cursor_to_offset(event.offset))

    def on_entity_list_clicked(self, event: EntityList.Clicked) -> None:
        self.session.focus_span(event.index)
        self.redraw()


class GoldspanApp(App[None]):
    TITLE = "goldspan"
    ENABLE_COMMAND_PALETTE = False
    # ctrl+c quits from everywhere, a dialog or the search box included (where Input would take it).
    BINDINGS = [Binding("ctrl+c", "quit_now", "quit", show=False, priority=True)]
    CSS = """
    Footer.-compact FooterLabel { margin-right: 1; }
    Footer.-compact KeyGroup { padding-left: 0; }
    """
    SIGNAL_GRACE = 1.5  # seconds from SIGTERM or SIGHUP to a forced exit, if the clean one is stuck

    def __init__(
        self,
        session: Session,
        spec: PipelineSpec,
        *,
        keymap: Mapping[str, Sequence[str]],
        notes: Sequence[str] = (),
        loader: Callable[[PipelineSpec], Language] = load,
        screen: Callable[[Session, Mapping[str, str]], AnnotateScreen] | None = None,
    ) -> None:
        super().__init__()
        if self.no_color:
            # NO_COLOR means no colour: Textual's default for it is greyscale, which drew some labels
            # grey on near-black (59,59,59 on 30,30,30). The terminal's own colours, with the
            # underline and reverse video the screen uses anyway, are what NO_COLOR asks for.
            from textual.filter import Monochrome, NoColor

            self._filters = [f for f in self._filters if not isinstance(f, Monochrome)] + [NoColor()]
        self.make_screen = screen or AnnotateScreen
        self.session = session
        self.spec = spec
        self.keymap = dict(keymap)
        self.notes = list(notes)
        self.loader = loader
        self.model_status = "model not needed yet"
        self.background = Background(on_error=self._background_failed)
        self._terminal: int | None = None  # the terminal's file descriptor, once the screen runs on one
        self._forced_exit: threading.Timer | None = None
        self._nlp: Language | None = None  # touched by the background thread only
        self._tokenizer: Callable[[str], object] | None = None  # likewise
        self._preparing: set[tuple[str, int]] = set()
        labels = list(dict.fromkeys([*session.labels, *session.label_counts()]))
        self.colours = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}
        # Before the first screen shows its keys. Only the keys the user moved: Textual re-adds every
        # binding it remaps, and the footer would lose the order its keys are listed in.
        defaults = default_keymap()
        self.set_keymap({action: ",".join(keys) for action, keys in self.keymap.items() if tuple(keys) != defaults.get(action)})

    def get_default_screen(self) -> AnnotateScreen:
        # The annotate screen is the app's first screen, composed and drawn in Textual's start-up
        # like any app's own widgets: pushed after it, over a blank default screen drawn first, the
        # first paint took 21 M more instructions (about 8 ms).
        return self.make_screen(self.session, self.colours)

    def on_mount(self) -> None:
        for note in [*self.notes, *self.session.store.notices]:
            self.notify(note, severity="warning", timeout=8)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            # Every change is already on disk; leave cleanly so the terminal is restored. (SIGINT
            # comes from `kill -INT`: in raw mode ctrl+c arrives as a key, not as this signal.)
            loop.add_signal_handler(sig, self._on_signal, sig)
        from textual.drivers.linux_driver import LinuxDriver

        driver = self._driver
        fileno = getattr(driver, "fileno", None)
        self._terminal = fileno if isinstance(driver, LinuxDriver) and isinstance(fileno, int) and os.isatty(fileno) else None
        if self._terminal is not None:
            self.set_interval(1.0, self._check_terminal, name="terminal-gone")

    def _on_signal(self, sig: int) -> None:
        """SIGTERM, SIGINT, or SIGHUP with the terminal still there: leave as q does, within
        SIGNAL_GRACE seconds whatever is open. SIGHUP from a terminal that has gone: at once."""
        self.background.stop()
        if sig == signal.SIGHUP and not self._terminal_alive():
            self._end_without_terminal(sig)
        if self._forced_exit is None:
            # Should the clean way out hang, the process still ends; everything shown as saved is
            # in the journal already, fsync'd, so this loses nothing (the next open replays it).
            self._forced_exit = threading.Timer(self.SIGNAL_GRACE, os._exit, args=(128 + sig,))
            self._forced_exit.daemon = True
            self._forced_exit.start()
        self.exit()

    def _end_without_terminal(self, sig: int) -> None:
        """The terminal is gone: there is nothing to restore on it, and Textual's shutdown, which writes
        to it, hung there (its writer thread dies on the dead pty, the bounded queue it fed then blocks
        the next write, and its input thread spins on end-of-file): closed terminals left orphans that
        ignored SIGTERM. Fold the journal into the main file, as a clean close does, and end now."""
        with contextlib.suppress(Exception):  # a full disk, say: the journal keeps everything anyway
            self.session.store.close()
        os._exit(128 + sig)

    def _terminal_alive(self) -> bool:
        if self._terminal is None:
            return True  # a headless test driver, or a browser: no terminal to lose
        import termios

        try:
            termios.tcgetattr(self._terminal)  # a hung-up terminal fails every ioctl
        except (termios.error, OSError):
            return False
        return True

    def _check_terminal(self) -> None:
        """The terminal closed without a SIGHUP reaching us (the shell that had it died first): end
        as if it had come."""
        if not self._terminal_alive():
            self._on_signal(signal.SIGHUP)

    def run(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().run(*args, **kwargs)
        finally:
            if self._forced_exit is not None:  # the screen has closed: the rest (the store's close, the
                self._forced_exit.cancel()  # goodbye line) runs to its end

    def action_quit_now(self) -> None:
        self.leave()

    def leave(self) -> None:
        """q and ctrl+c: say so at once; the model, if it is still loading, is not waited for."""
        busy = self.background.busy
        self.background.stop()
        if busy and self.screen_ is not None:
            self.screen_.redraw("stopping…")
            self.call_after_refresh(self.exit)  # once the message is on the screen
        else:
            self.exit()

    def get_key_display(self, binding: Binding) -> str:
        """An action's first key as the keymap lists it (j for next entity, not tab, which Textual's
        own focus binding puts first), as short as a footer at 100 columns needs: ␣ for space."""
        keys = self.keymap.get(binding.id or "")
        key = keys[0] if keys else binding.key
        return {"space": "␣", "escape": "esc"}.get(key) or super().get_key_display(dataclasses.replace(binding, key=key))

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: DOMNode) -> None:
        keys = ", ".join(sorted({f"{b.key} ({b.id or b.action})" for b in clashed_bindings}))
        self.notify(f"key clash: {keys}; check your keymap file", severity="error", timeout=10)

    @property
    def screen_(self) -> AnnotateScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, AnnotateScreen):
                return screen
        return None

    # -- background work -------------------------------------------------------------------

    def draft_needs_work(self, draft) -> bool:  # type: ignore[no-untyped-def]
        return draft.tokens is None or draft.suggestions_pending

    def prepare(self, index: int) -> None:
        """Fetch what the article at ``index`` still lacks: suggestions, then tokens."""
        draft = self.session.draft_for(index)
        key = (draft.article.id, draft.version)
        if key in self._preparing:
            return
        self._preparing.add(key)
        article, spans, version, needs = draft.article, tuple(draft.spans), draft.version, draft.suggestions_pending
        if needs and self._nlp is None:
            # Said now, not when the background thread gets to it: the list already says the
            # suggestions are on their way, and the top line said "model not needed yet".
            self.model_status = f"loading {self.spec.name}…"
        self.background.submit(lambda: self._prepare(article, spans, version, needs))

    def _prepare(self, article: Article, spans: tuple[Span, ...], version: int, needs_suggestions: bool) -> None:
        """On the background thread: the model's suggestions for the article, or its tokens."""
        from goldspan.annotations.nlp.align import align_article, blank_tokenizer  # here: not needed for the first paint

        stopping = self.background.stopping
        try:
            if needs_suggestions:
                suggestions = self._suggest(article, stop=stopping.is_set)
                if suggestions is not None and not stopping.is_set():
                    self._hand_over(self._got_suggestions, article, version, suggestions)
                return
            if self._tokenizer is None:
                self._tokenizer = blank_tokenizer(self.spec)
            aligned = align_article(self._tokenizer, article, spans)  # type: ignore[arg-type]
        except Exception as error:  # a model or tokenizer that fails must not take the annotator down
            reason = str(error) if isinstance(error, GoldspanError) else f"spaCy failed ({type(error).__name__}: {error})."
            self._hand_over(self._failed, article, version, reason, needs_suggestions)
            return
        if not stopping.is_set():
            self._hand_over(self._got_tokens, article, version, aligned)

    def _hand_over(self, callback: Callable[..., object], *args: object, **kwargs: object) -> None:
        """Run ``callback`` on the UI thread, which alone touches the session and the store."""
        if self.background.stopping.is_set():
            return
        try:
            self.call_from_thread(callback, *args, **kwargs)
        except RuntimeError:
            if self.is_running and self._loop is not None:
                raise  # a real error of the callback's: Background reports it
            # else the app has closed meanwhile: nothing left to show it on

    def _background_failed(self, error: BaseException) -> None:
        """On the background thread: a job failed past its own handling (a bug). Say so; the next job runs."""
        self._hand_over(self.notify, f"background work failed ({type(error).__name__}: {error}); the annotator goes on", severity="error")

    def _suggest(self, article: Article, stop: Callable[[], bool]) -> tuple[Span, ...] | None:
        """The model's spans for the article; None if the app quit first."""
        if self._nlp is None:
            self._hand_over(self._set_model_status, f"loading {self.spec.name}…")
            self._nlp = self.loader(self.spec)
            if stop():
                return None
            self._hand_over(self._set_model_status, str(self.spec.model_id))
        # One piece at a time, so a quit is noticed within one piece of a long article.
        from goldspan.annotations.nlp.suggest import suggest  # as align above

        results = list(suggest(self._nlp, [article], self.spec.model_id, batch_size=1, stop=stop))
        return results[0].spans if results else None

    def _set_model_status(self, status: str) -> None:
        self.model_status = status
        if self.screen_ is not None:
            self.screen_.redraw()

    def _got_suggestions(self, article: Article, version: int, spans: tuple[Span, ...]) -> None:
        from goldspan.annotations.datamodel import Suggestions

        self._preparing.discard((article.id, version))
        try:
            self.session.store.save_suggestions([Suggestions(article.id, self.spec.model_id, spans)])
        except GoldspanError as error:
            self.notify(f"suggestions not cached: {error}", severity="warning")
        self.session.add_suggestions(article.id, spans)
        if self.screen_ is not None:
            self.screen_.redraw()

    def _got_tokens(self, article: Article, version: int, aligned: Aligned) -> None:
        self._preparing.discard((article.id, version))
        if self.session.set_tokens(article.id, aligned, version):
            for note in aligned.notes:
                self.notify(note, severity="warning", timeout=6)
        if self.screen_ is not None:
            self.screen_.redraw()

    def _failed(self, article: Article, version: int, reason: str, suggesting: bool) -> None:
        # The key stays in _preparing: the same work is not retried on every redraw.
        draft = self.session.draft_for(self.session.articles.position(article.id))
        if suggesting:
            draft.suggestions_pending = False
            self._preparing.discard((article.id, version))  # tokens may still be had
            self.model_status = "model failed to load"
            self.notify(f"{reason} Articles with cached suggestions, and annotating by hand, still work.", severity="error", timeout=15)
        else:
            self.notify(f"{reason} Editing boundaries needs tokens and is off for this article.", severity="error", timeout=15)
        if self.screen_ is not None:
            self.screen_.redraw()
