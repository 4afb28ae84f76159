"""Modal screens over the annotator: help, the label picker, and go-to-article."""

from __future__ import annotations

from typing import Mapping, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from goldspan.tui.keymap import ACTIONS, Action, shown_key


def key_names(keys: Sequence[str]) -> str:
    """Textual key names as a person types them: left_square_bracket → [; the help spells out X."""
    spelled = {"X": "X (shift+x)", "space": "space", "enter": "enter", "escape": "escape"}
    return " / ".join(spelled.get(k) or shown_key(k) for k in keys)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90; max-width: 100%; height: 90%; border: thick $primary; background: $panel; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q,question_mark", "close", "close help")]

    def __init__(
        self, keymap: Mapping[str, Sequence[str]], labels: Sequence[str], actions: Sequence[Action] = ACTIONS,
        definitions: Mapping[str, str] | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        self.keymap = keymap
        self.labels = labels
        self.actions = actions
        self.definitions = definitions or {}

    def compose(self) -> ComposeResult:
        table = Table(title="goldspan keys (escape closes)", expand=True, show_lines=False)
        table.add_column("keys", no_wrap=True, style="bold")
        table.add_column("action")
        for action in self.actions:
            description = action.description
            if action.id.startswith("label_"):
                n = int(action.id.removeprefix("label_"))
                if n > len(self.labels):
                    continue
                label = self.labels[n - 1]
                description = f"label {label}" + (f": {self.definitions[label]}" if label in self.definitions else "")
            table.add_row(Text(key_names(self.keymap.get(action.id, action.keys))), Text(description))
        with VerticalScroll():
            yield Static(table)
            first = {a.id: shown_key(self.keymap.get(a.id, a.keys)[0]) for a in ACTIONS if self.keymap.get(a.id, a.keys)}
            yield Static(
                Text(
                    f"A label key labels the focused entity (and confirms it), the new span drawn with {first.get('begin_span', 'v')}, "
                    f"or else the token under the cursor. Labels past the tenth: {first.get('pick_label', 't')}. Every change is saved at once."
                )
            )

    def action_close(self) -> None:
        self.dismiss(None)


class GuidelinesScreen(ModalScreen[None]):
    """The annotation guidelines, rendered (Textual's Markdown), over the article."""

    DEFAULT_CSS = """
    GuidelinesScreen { align: center middle; }
    GuidelinesScreen > VerticalScroll { width: 100; max-width: 100%; height: 90%; border: thick $primary; background: $panel; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q,G", "close", "close the guidelines")]

    def __init__(self, markdown: str) -> None:
        super().__init__()
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown

        with VerticalScroll():
            yield Markdown(self.markdown)

    def action_close(self) -> None:
        self.dismiss(None)


class PickerScreen(ModalScreen[str | None]):
    """A filterable list: type to narrow it, enter picks, escape cancels."""

    DEFAULT_CSS = """
    PickerScreen { align: center middle; }
    PickerScreen > Vertical { width: 60; max-width: 100%; height: auto; max-height: 80%; border: thick $primary; background: $panel; }
    PickerScreen OptionList { height: auto; max-height: 20; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "cancel"),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]

    def __init__(self, title: str, choices: Sequence[tuple[str, str]], placeholder: str) -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)  # (value, shown text)
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text, style="bold"))
            yield Input(placeholder=self.placeholder)
            yield OptionList(*self._options(""))

    def _options(self, query: str) -> list[Option]:
        needle = query.strip().casefold()
        return [Option(Text(shown), id=value) for value, shown in self.choices if needle in shown.casefold()]

    def on_input_changed(self, event: Input.Changed) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(self._options(event.value))
        if options.option_count:
            options.highlighted = 0

    def on_input_submitted(self, event: Input.Submitted) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None and options.option_count:
            self.dismiss(options.get_option_at_index(options.highlighted).id)
        else:
            self.dismiss(self.fallback(event.value))

    def fallback(self, typed: str) -> str | None:
        return None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted if options.highlighted is not None else -1
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    def action_cancel(self) -> None:
        self.dismiss(None)


class GotoScreen(PickerScreen):
    """Articles by number or title: digits pick by number (4 is article 4, not a title with a 4 in
    it), anything else by title; a number and enter go there even if the list shows none. At most
    ``SHOWN`` rows are listed (a DB of 200,000 articles took 4.5 s to list whole): typing narrows it."""

    SHOWN = 300

    def __init__(self, articles: Sequence[tuple[int, bool, str]]) -> None:
        self.articles = list(articles)  # (number, answered, title), numbered 1, 2, 3… in order
        super().__init__("Go to article (number or title)", [], "number or title…")

    def _line(self, n: int) -> str:
        _, done, title = self.articles[n - 1]
        return f"{n:>4}  {'✓' if done else ' '}  {title}"

    def _options(self, query: str) -> list[Option]:
        needle = query.strip()
        if not needle:
            order: list[int] = [n for n, _, _ in self.articles[: self.SHOWN + 1]]
            more = len(self.articles) - self.SHOWN
        elif needle.isdigit():  # that number first, then the numbers it begins (4, then 40-49)
            order = sorted((n for n, _, _ in self.articles if str(n).startswith(needle)), key=lambda n: str(n) != needle)
            more = len(order) - self.SHOWN
        else:
            folded = needle.casefold()
            order = [n for n, _, title in self.articles if folded in title.casefold()]
            more = len(order) - self.SHOWN
        options = [Option(Text(self._line(n)), id=str(n)) for n in order[: self.SHOWN]]
        if more > 0:
            options.append(Option(Text(f"… and {more:,} more: type a number or part of a title", style="dim"), disabled=True))
        return options

    def fallback(self, typed: str) -> str | None:
        return typed.strip() or None


class CommentScreen(ModalScreen[str | None]):
    """The annotator's note on an article: enter saves it (empty removes it), escape leaves it as it was."""

    DEFAULT_CSS = """
    CommentScreen { align: center middle; }
    CommentScreen > Vertical { width: 80; max-width: 100%; height: auto; border: thick $primary; background: $panel; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, comment: str, title: str) -> None:
        super().__init__()
        self.comment = comment
        self.article_title = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text.assemble(("Note on ", "bold"), (self.article_title, "italic"), " (enter saves, empty removes, escape cancels)"))
            yield Input(value=self.comment, placeholder="e.g. not sure whether Belarus is GPE or ORG here")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
