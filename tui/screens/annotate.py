"""The annotate screen: the article beside its entities, the labels, the status line and the keys.

It maps each key to a session call (``bindings``) or to one of its own dialogs, and redraws from
the session's state; it decides nothing itself.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Callable, ClassVar, Iterable, Mapping, Sequence

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Static

from goldspan.annotations.datamodel import first_line
from goldspan.annotations.session.outcome import Kind, Outcome, refused
from goldspan.annotations.session.session import Session
from goldspan.annotations.words import plural

from ..bindings import SESSION_ACTIONS, SessionCall, screen_bindings
from ..keymap import ACTIONS, Action
from ..plots import progress_strip
from ..widgets.article_view import ArticleView, ViewState
from ..widgets.entity_list import STATE_MARK, EntityList, ListState
from ..widgets.text_lines import TextLines

if TYPE_CHECKING:
    from ..app import GoldspanApp

# Named ANSI colours, so labels stay distinct on 16-colour terminals.
PALETTE = ("bright_blue", "bright_green", "bright_magenta", "bright_cyan", "bright_yellow", "bright_red",
           "blue", "green", "magenta", "cyan", "yellow", "red")  # fmt: skip

class AnnotateScreen(Screen[None]):
    BINDINGS = screen_bindings()
    help_actions: Sequence[Action] = ACTIONS
    session_actions: ClassVar[Mapping[str, SessionCall]]
    screen_actions: ClassVar[Mapping[str, Callable[[AnnotateScreen], None]]]
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
        self._shown: dict[str | None, Text] = {}  # what each one-row line last showed (``_show``)
        self._labels_shown: tuple[tuple[tuple[str, int], ...], int] | None = None  # the counts and width the label panel shows
        self.search_text = ""

    def compose(self) -> ComposeResult:
        yield Static(id="too-small")
        yield Static(id="status")
        with Horizontal(id="main"):
            yield ArticleView(self.colours, id="article")
            with Vertical(id="side"):
                yield EntityList(self.colours, id="entities")
                yield from self.extra_panels()
                yield TextLines(id="labels")
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
        self._labels_shown = None
        self._show_labels()

    def _show_labels(self) -> None:
        """The label panel, made again only when a count or its width changed: most keys change neither."""
        panel = self.query_one("#labels", TextLines)
        shown = (tuple(self.session.label_counts().items()), panel.content_size.width)
        if shown != self._labels_shown:
            self._labels_shown = shown
            panel.show(self._labels_text())

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

    def redraw(self, message: Outcome | None = None) -> None:
        s = self.session
        draft = s.draft
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
                stretch=draft.stretch,
            )
        )
        self.query_one(EntityList).show(
            ListState(article.text, spans, draft.focus, draft.suggestions_pending, (article.id, draft.version), draft.stretch)
        )
        self._show_labels()
        self._show(self.query_one("#status", Static), self._status_text())
        note = self.query_one("#message", Static)
        error = message is not None and message.is_error
        if message is not None and message.kind is Kind.NOT_SAVED:
            self.notify(f"{message} The change stays on screen; {self.app_.key_name('save_again')} saves it again.", severity="error", timeout=20)
        note.set_class(error, "error")
        self._show(note, Text(message or "", style=""))

    def _show(self, static: Static, text: Text) -> None:
        """Update a one-row line (the status, the message) only when its text changed, and without a
        layout: its height is fixed, and a layout repaints the whole screen where the line is one row."""
        if self._shown.get(static.id) != text:
            self._shown[static.id] = text
            static.update(text, layout=False)

    def _status_text(self) -> Text:
        s = self.session
        draft = s.draft
        answer = f" [{draft.answer}]" if draft.answer else ""
        model = self.app_.model_status + (f" · {self.app_.training_status}" if self.app_.training_status else "") + (" · READ-ONLY" if s.read_only else "")
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
            " ",
            # Answered of all, at a glance; shorter on a narrow screen, where the line's end says what was saved.
            progress_strip(*s.progress_share(), 10 if self.size.width >= 100 else 5),
            f" {s.progress_line()} · {s.annotator} · {model} · {marks}{versus}",
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
        room = self.query_one("#labels", TextLines).content_size.width or 32
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
            out.append(f"{self.app_.key_name('pick_label')}: {plural(len(extra), 'more label')}\n", style="dim")
        out.append(" ".join(f"{mark} {state}" for state, mark in STATE_MARK.items()), style="dim")
        return out

    # -- actions: each is one session call, then a redraw -----------------------------------

    def action_run(self, action: str) -> None:
        """A key: its session call (``bindings.SESSION_ACTIONS``), then a redraw; or one of the screen's own."""
        if isinstance(self.focused, Input):
            return
        self.session.note_activity(time.monotonic())
        call = self.session_actions.get(action)
        if call is not None:
            self.redraw(call(self.session))
        else:
            self.screen_actions[action](self)
        self.app_.after_key()

    def label(self, index: int) -> None:
        self.session.note_activity(time.monotonic())
        self.redraw(self.session.apply_label_key(index))

    def action_pick_label(self) -> None:
        s = self.session
        defined = s.label_definitions()
        choices = [
            (label, f"{s.label_key(label) or ' '}  {label}" + (f"  {defined[label]}" if label in defined else ""))
            for label in dict.fromkeys([*s.labels, *s.label_counts()])
        ]

        def chosen(label: str | None) -> None:
            self.redraw(None if label is None else s.apply_label(label))

        from .modals import PickerScreen  # the modal screens are imported when first opened, not at start

        self.app.push_screen(PickerScreen("Label (type to filter, enter applies)", choices, "label…"), chosen)

    def action_goto(self) -> None:
        s = self.session
        articles = [(i + 1, s.answered.at(i), title) for i, title in enumerate(s.articles.titles)]

        def chosen(value: str | None) -> None:
            self.redraw(None if value is None else s.go_to_query(value))

        from .modals import GotoScreen

        self.app.push_screen(GotoScreen(articles), chosen)

    def action_comment(self) -> None:
        s = self.session

        def written(text: str | None) -> None:
            self.redraw(None if text is None else s.set_comment(text))

        from .modals import CommentScreen

        self.app.push_screen(CommentScreen(s.draft.comment, s.article.title), written)

    def action_help(self) -> None:
        from .modals import HelpScreen

        self.app.push_screen(HelpScreen(self.app_.keymap, self.session.labels, self.help_actions, self.session.label_definitions()))

    def action_guidelines(self) -> None:
        markdown = self.session.guidelines()
        if markdown is None:
            self.redraw(refused("this database holds no annotation guidelines; a lead adds them with goldspan queue setup --guidelines FILE.md"))
            return
        from .modals import GuidelinesScreen

        self.app.push_screen(GuidelinesScreen(markdown))

    def action_search(self) -> None:
        from ..widgets.search_box import SearchBox

        box = next(self.query("#search").results(SearchBox), None)
        if box is None:
            # Built when first asked for: composed at start, this box that nobody sees yet was a good
            # part of what the first frame's widgets cost (docs/performance.md).
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
        self.redraw(self.session.click_at(event.offset))

    def on_entity_list_clicked(self, event: EntityList.Clicked) -> None:
        self.session.focus_span(event.index)
        self.redraw()




# The screen's own actions, beside the session's: each id → what it does on this screen.
SCREEN_ACTIONS: dict[str, Callable[[AnnotateScreen], None]] = {
    "pick_label": AnnotateScreen.action_pick_label,
    "goto": AnnotateScreen.action_goto,
    "comment": AnnotateScreen.action_comment,
    "help": AnnotateScreen.action_help,
    "guidelines": AnnotateScreen.action_guidelines,
    "search": AnnotateScreen.action_search,
    "quit": lambda screen: screen.app_.leave(),
    **{f"label_{n}": (lambda screen, index=n - 1: screen.label(index)) for n in range(1, 11)},
}
AnnotateScreen.session_actions = SESSION_ACTIONS
AnnotateScreen.screen_actions = SCREEN_ACTIONS
