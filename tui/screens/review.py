"""`goldspan review`: the annotator's screen, over the differences between versions of each article."""

from __future__ import annotations

from typing import Callable, Iterable, Mapping

from rich.text import Text
from textual.widget import Widget

from goldspan.annotations.session.outcome import Outcome
from goldspan.annotations.session.review import ReviewSession
from goldspan.annotations.session.session import Result, Session
from goldspan.annotations.words import plural

from ..bindings import SESSION_ACTIONS, screen_bindings
from ..keymap import ACTIONS, REVIEW_ACTIONS
from ..widgets.text_lines import TextLines
from ..widgets.wrap import visible
from .annotate import AnnotateScreen


def _review(call: Callable[[ReviewSession], Result]) -> Callable[[Session], Result]:
    """A review-only action, on the review's session (the screen holds a ReviewSession)."""
    return lambda session: call(session)  # type: ignore[arg-type]


REVIEW_SESSION_ACTIONS: Mapping[str, Callable[[Session], Result]] = {
    **SESSION_ACTIONS,
    "next_difference": _review(lambda r: r.step_difference(1)),
    "previous_difference": _review(lambda r: r.step_difference(-1)),
    **{f"take_{n}": _review(lambda r, version=n - 1: r.take(version)) for n in range(1, 6)},
}

class ReviewScreen(AnnotateScreen):
    BINDINGS = screen_bindings((*REVIEW_ACTIONS, *ACTIONS))  # the review's own keys first in the footer
    help_actions = (*REVIEW_ACTIONS, *ACTIONS)
    show_others = False  # the differences panel shows every version
    session_actions = REVIEW_SESSION_ACTIONS
    DEFAULT_CSS = AnnotateScreen.DEFAULT_CSS + """
    #differences { height: auto; max-height: 9; border-top: solid $warning; padding: 0 1; }
    """

    @property
    def review(self) -> ReviewSession:
        return self.session  # type: ignore[return-value]

    def extra_panels(self) -> Iterable[Widget]:
        yield TextLines(id="differences")

    def marks(self) -> tuple[tuple[int, int], ...]:
        return tuple((d.start, d.end) for d in self.review.differences())

    def status_prefix(self) -> str:
        return "review · "

    def redraw(self, message: Outcome | None = None) -> None:
        super().redraw(message)
        self.query_one("#differences", TextLines).show(self._differences_text())

    def _differences_text(self) -> Text:
        review = self.review
        diffs, now = review.differences(), review.current_difference
        versions = review.versions()
        out = Text()
        for remark in review.plan.remarks.get(review.article.id, ()):
            out.append(visible(remark) + "\n", style="italic")
        key = self.app_.key_name
        if not diffs:
            out.append(f"the versions agree: {key('accept')} accepts", style="dim")
            return out
        if now is None:
            unlooked = review.unlooked()
            out.append(f"{plural(len(diffs), 'difference')}, started from the majority's spans: {key('next_difference')} steps through them\n", style="bold")
            out.append("  ".join(f"{key(f'take_{i + 1}')} {v.name}" for i, v in enumerate(versions[:5])), style="dim")
            if unlooked < len(diffs):
                out.append(f"\n{unlooked} not looked at yet", style="dim")
            return out
        diff = diffs[now]
        out.append(f"difference {now + 1}/{len(diffs)} ({diff.kind()})\n", style="bold")
        text = review.article.text
        for i, version in enumerate(versions[:5]):
            said = ", ".join(f"{s.label} {visible(text[s.start:s.end])!r}" for s in diff.spans[version.name]) or "—"
            out.append(f"{key(f'take_{i + 1}')} ", style="bold")
            out.append(f"{version.name}: {said}\n")
        return out
