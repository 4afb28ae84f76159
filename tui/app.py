"""The annotator app: it runs the screen (``screens.annotate``) over a session, the model's work in
the background, and the ways out (quit, signals, a terminal that goes away).

The first article paints before spaCy is imported. A worker thread then tokenizes the article (and
loads the model only when an article has no cached suggestions); its results come back to the UI
thread, which alone touches the session and the store.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from textual import events
from textual.binding import Binding
from textual.dom import DOMNode

from goldspan.annotations.errors import GoldspanError
from goldspan.annotations.datamodel import Suggestions
from goldspan.annotations.nlp.pipelines import PipelineSpec
from goldspan.annotations.nlp.preparation import Preparer, Work
from goldspan.annotations.nlp.remote import ProcessPreparer, WorkerClosed
from goldspan.annotations.session.outcome import done
from goldspan.annotations.session.session import Session

from .background import Background
from .collector import Collector
from .keymap import default_keymap, key_namer
from .leaving import Leaving
from .screens.annotate import PALETTE, AnnotateScreen

if TYPE_CHECKING:
    from spacy.language import Language

    from goldspan.annotations.nlp.align import Aligned

    from .retrain import Retrainer


class GoldspanApp(Leaving):
    TITLE = "goldspan"
    ENABLE_COMMAND_PALETTE = False
    # ctrl+c quits from everywhere, a dialog or the search box included (where Input would take it).
    BINDINGS = [Binding("ctrl+c", "quit_now", "quit", show=False, priority=True)]
    CSS = """
    Footer.-compact FooterLabel { margin-right: 1; }
    Footer.-compact KeyGroup { padding-left: 0; }
    """

    def __init__(
        self,
        session: Session,
        spec: PipelineSpec,
        *,
        keymap: Mapping[str, Sequence[str]],
        notes: Sequence[str] = (),
        loader: Callable[[PipelineSpec], Language] | None = None,
        screen: Callable[[Session, Mapping[str, str]], AnnotateScreen] | None = None,
        retrain_every: int | None = None,
        retrain_args: tuple[str, ...] = (),
        retrain_minutes: float = 10.0,
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
        self.key_name = key_namer(self.keymap)  # the key bound now to an action, as messages name it
        session.key = self.key_name  # the session's messages name the keys as this keymap binds them
        self.notes = list(notes)
        # The model and the tokenizer, asked by the background thread: in a process of their own, or
        # (a test's own loader) in this one.
        self._loader = loader
        self.preparer: Preparer | ProcessPreparer = self._preparer_for(spec)
        self.model_status = spec.title if spec.trained else "model not needed yet"
        self.training_status = ""  # what --retrain-every's training is doing, after the model's name
        self._trained: dict[str, Any] = {}  # the last run's "trained" event: the model to switch to when it is done
        self._retired: list[Preparer | ProcessPreparer] = []  # the models' workers switched from (closed on quit if not yet)
        self.retrainer: Retrainer | None = None
        if retrain_every:
            from .retrain import Retrainer

            self.retrainer = Retrainer(
                session, retrain_every, self._hand_over, self._training_event, max_minutes=retrain_minutes, extra_args=retrain_args
            )
        self.background = Background(on_error=self._background_failed)
        self.collector = Collector()  # full collections wait for a pause
        self._preparing: set[tuple[str, int]] = set()  # (article, draft version) asked for and not yet come
        self._suggesting: set[str] = set()  # articles whose suggestions are asked for, this one's or ahead
        self._looked_ahead_from: int | None = None
        # Set when the article on screen needs the model: a parse ahead gives way at its next piece.
        self._urgent = threading.Event()
        labels = list(dict.fromkeys([*session.labels, *session.label_counts()]))
        self.colours = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}
        # Before the first screen shows its keys. Only the keys the user moved: Textual re-adds every
        # binding it remaps, and the footer would lose the order its keys are listed in.
        defaults = default_keymap()
        self.set_keymap({action: ",".join(keys) for action, keys in self.keymap.items() if tuple(keys) != defaults.get(action)})

    def _preparer_for(self, spec: PipelineSpec) -> Preparer | ProcessPreparer:
        return ProcessPreparer(spec, on_restart=self._worker_restarted) if self._loader is None else Preparer(spec, self._loader)

    def after_key(self) -> None:
        """After each key: --retrain-every counts accepted articles."""
        if self.retrainer is not None:
            self.retrainer.after_action()

    def _training_event(self, event: dict[str, Any]) -> None:
        """On the UI thread: what the training process reported (``retrain``'s events)."""
        kind = event.get("event")
        if kind == "started":
            self.training_status = "training on the gold…"
        elif kind == "progress":
            f = event.get("f")
            self.training_status = f"training: step {event.get('step', 0):,}" + (f", F {f:.2f}" if isinstance(f, (int, float)) else "")
        elif kind == "failed":
            self.training_status = ""
            self.notify(f"training did not run: {event.get('reason', '')}", severity="warning", timeout=10)
        elif kind == "trained":
            self._trained = event
            version, f, was, before = event["version"], event["f"], event.get("compared_with"), event.get("compared_f")
            if event.get("in_use"):
                self.training_status = f"{version} F {f:.2f}: suggesting…"
            else:
                self.training_status = f"{version} F {f:.2f} not better than {was} ({before:.2f}): kept aside"
        elif kind == "suggested":
            self.training_status = f"{self._trained.get('version')} re-suggesting {event['done']:,}/{event['total']:,}"
        elif kind == "done":
            self._switch_model(int(event.get("resuggested", 0)))
        if self.screen_ is not None:
            self.screen_.redraw()

    def _switch_model(self, resuggested: int) -> None:
        """Suggest with the model that just beat the one in use: new work goes to it, the old model's
        process ends once the work already queued for it is done (its results are not kept)."""
        from goldspan.annotations.nlp.pipelines import resolve

        event, version = self._trained, self._trained["version"]
        self.training_status = ""
        try:
            spec = resolve(str(event["path"]))
            self.session.store.refresh()  # the suggestions the training process stored
        except GoldspanError as error:  # its folder removed meanwhile, say: the model in use stays
            self.notify(f"could not switch to {version}: {error}", severity="warning", timeout=10)
            return
        old, self.preparer = self.preparer, self._preparer_for(spec)
        self._retired.append(old)
        self.spec = spec
        self.session.model = spec.model_id
        # Its labels not in use yet (a label the old model never knew) are offered after the others:
        # else its suggestions of them would be filtered out as labels the annotator does not use.
        for label in self.session.add_labels(spec.labels):
            self.colours.setdefault(label, PALETTE[len(self.colours) % len(PALETTE)])
        self.background.submit(old.close)  # after the work already queued for it
        before = event.get("compared_f")
        gain = f" ({event['f'] - before:+.2f})" if isinstance(before, (int, float)) else ""
        self.model_status = f"model {version} · F {event['f']:.2f}{gain} · {resuggested:,} articles re-suggested"

    def get_default_screen(self) -> AnnotateScreen:
        # The annotate screen is the app's first screen, composed and drawn in Textual's start-up
        # like any app's own widgets: pushed after it, a blank default screen was drawn first, for
        # nothing (what that cost: docs/performance.md).
        return self.make_screen(self.session, self.colours)

    def on_mount(self) -> None:
        self.collector.start()
        self.set_interval(1.0, self.collector.idle, name="collector")
        for note in [*self.notes, *self.session.take_notices()]:
            self.notify(note, severity="warning", timeout=8)
        self.watch_for_endings()

    def on_app_blur(self, event: events.AppBlur) -> None:
        """A terminal that reports focus says the annotator went elsewhere: that time is not active time."""
        self.session.note_away(time.monotonic())

    def on_app_focus(self, event: events.AppFocus) -> None:
        self.session.note_back(time.monotonic())

    def on_unmount(self) -> None:
        """The app is closing, however it ends (a test's too): the model's process ends with it."""
        self._stop_background()
        self.collector.stop()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.collector.key()
        await super().on_event(event)

    def _close_for_exit(self) -> None:
        self.session.close()

    def action_quit_now(self) -> None:
        self.leave()

    def leave(self) -> None:
        """q and ctrl+c: say so at once; the model, if it is still loading, is not waited for."""
        busy = self.background.busy
        self._stop_background()
        if busy and self.screen_ is not None:
            self.screen_.redraw(done("stopping…"))
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

    def prepare(self, index: int) -> None:
        """Have what the article at ``index`` still lacks (suggestions, then tokens) prepared in the
        background; once it lacks nothing, the next article's suggestions, so that it opens ready."""
        work = self.session.work_for(index)
        if work is None:
            self._look_ahead(index)
            return
        key = (work.article.id, work.version)
        if key in self._preparing or (work.suggestions and work.article.id in self._suggesting):
            return  # asked for already (the suggestions perhaps ahead, as the next article): on their way
        self._preparing.add(key)
        if not work.suggestions and not self.session.draft_for(index).stored_tokens_read:
            # The tokens stored with the suggestions, read once the screen is painted (decoding and
            # checking them is 9 ms at 50,000 words); the worker only if there are none that fit.
            self.call_after_refresh(self._tokens_from_store, index, key)
            return
        self._urgent.set()
        self._submit(work)

    def _tokens_from_store(self, index: int, key: tuple[str, int]) -> None:
        self._preparing.discard(key)
        self.session.stored_tokens_for(index)
        if self.screen_ is not None:
            self.screen_.redraw()  # which asks the worker for tokens if the stored ones did not fit

    def _look_ahead(self, index: int) -> None:
        if self._looked_ahead_from == index:
            return  # asked on every redraw: once per article is enough
        self._looked_ahead_from = index
        if self.session.read_only:
            return  # nowhere to keep what it would find: the article would be parsed again when shown
        work = self.session.work_ahead(index)
        if work is not None and work.article.id not in self._suggesting:
            self._submit(work)

    def _submit(self, work: Work) -> None:
        if work.suggestions:
            self._suggesting.add(work.article.id)
            if not self.preparer.model_loaded:
                # Said now, not when the background thread gets to it: the list already says the
                # suggestions are on their way, and the top line said "model not needed yet".
                self.model_status = f"loading {self.spec.display_name}…"
        self.background.submit(lambda: self._prepare(work))

    def _prepare(self, work: Work) -> None:
        """On the background thread: the preparer's result for ``work``, handed to the UI thread."""
        stopping = self.background.stopping
        article = work.article
        ahead = work.version < 0  # the next article's, asked for before it is shown
        if not ahead:
            self._urgent.clear()
        stop = (lambda: stopping.is_set() or self._urgent.is_set()) if ahead else stopping.is_set
        try:
            if work.suggestions:
                loaded = []

                def loading() -> None:
                    loaded.append(True)
                    self._hand_over(self._set_model_status, f"loading {self.spec.display_name}…")

                found = self.preparer.suggestions(article, stop=stop, on_loading=loading)
                if loaded:
                    self._hand_over(self._set_model_status, self.spec.title)
                if found is not None:
                    self._hand_over(self._got_suggestions, work, found)
                elif ahead:
                    self._hand_over(self._gave_way, work)
                return
            aligned = self.preparer.tokens(article, work.spans)
        except WorkerClosed:
            return  # the app is closing
        except Exception as error:  # a model or tokenizer that fails must not take the annotator down
            reason = str(error) if isinstance(error, GoldspanError) else f"spaCy failed ({type(error).__name__}: {error})."
            self._hand_over(self._failed, work, reason)
            return
        self._hand_over(self._got_tokens, work, aligned)

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

    def _stop_background(self) -> None:
        """Quitting: the background thread stops at its next check, the model's process at once."""
        self.background.stop()
        self.preparer.close()
        for old in self._retired:
            old.close()
        if self.retrainer is not None:
            self.retrainer.stop()

    def _worker_restarted(self, reason: str) -> None:
        """On the background thread: the model's process died and another took its place."""
        self._hand_over(self.notify, reason, severity="warning", timeout=10)

    def _background_failed(self, error: BaseException) -> None:
        """On the background thread: a job failed past its own handling (a bug). Say so; the next job runs."""
        self._hand_over(self.notify, f"background work failed ({type(error).__name__}: {error}); the annotator goes on", severity="error")

    def _set_model_status(self, status: str) -> None:
        self.model_status = status
        if self.screen_ is not None:
            self.screen_.redraw()

    def _gave_way(self, work: Work) -> None:
        """A parse ahead stopped for the article on screen: asked for again once that one is ready."""
        self._suggesting.discard(work.article.id)
        self._looked_ahead_from = None

    def _got_suggestions(self, work: Work, found: Suggestions) -> None:
        self._preparing.discard((work.article.id, work.version))
        self._suggesting.discard(work.article.id)
        if found.model != self.session.model:  # parsed by the model in use before a switch: asked again of the new one
            self._looked_ahead_from = None
            self.prepare(self.session.index)
            return
        outcome = self.session.receive_suggestions(work.article.id, found.spans, found.tokens)
        if outcome is not None:
            self.notify(str(outcome), severity="warning")
        if self.screen_ is not None:
            self.screen_.redraw()

    def _got_tokens(self, work: Work, aligned: Aligned) -> None:
        self._preparing.discard((work.article.id, work.version))
        if self.session.set_tokens(work.article.id, aligned, work.version):
            for note in aligned.notes:
                self.notify(note, severity="warning", timeout=6)
        if self.screen_ is not None:
            self.screen_.redraw()

    def _failed(self, work: Work, reason: str) -> None:
        # The key stays in _preparing: the same work is not retried on every redraw.
        if work.suggestions:
            self._suggesting.discard(work.article.id)
            self.session.suggestions_failed(work.article.id)
            self._preparing.discard((work.article.id, work.version))  # tokens may still be had
            self.model_status = "model failed to load"
            self.notify(f"{reason} Articles with cached suggestions, and annotating by hand, still work.", severity="error", timeout=15)
        else:
            self.notify(f"{reason} Editing boundaries needs tokens and is off for this article.", severity="error", timeout=15)
        if self.screen_ is not None:
            self.screen_.redraw()
