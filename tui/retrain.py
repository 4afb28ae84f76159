"""`goldspan annotate --retrain-every N`: after every N articles accepted in the session, train in a
process of its own (``goldspan.annotations.training.retrain``, at a low priority and on one thread),
and when its model beats the one in use on the same evaluation set, switch to it: the articles not
started yet get its suggestions in that process, and the status line says what happened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from goldspan.annotations.session.session import Session

RESUGGEST_AHEAD = 1_000  # articles after the one on screen that get the new model's suggestions
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")}


def models_folder(db: Path) -> Path:
    """Where the loop's models go: beside the DB (goldspan.json → goldspan.json.models/goldspan-3)."""
    return db.with_name(db.name + ".models")


class Retrainer:
    """Counts accepted articles and runs one training at a time; ``on_event`` gets each event the
    training process reports (on the UI thread, through ``hand_over``)."""

    def __init__(
        self,
        session: Session,
        every: int,
        hand_over: Callable[..., None],
        on_event: Callable[[dict[str, Any]], None],
        *,
        max_minutes: float = 10.0,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.session = session
        self.every = every
        self.hand_over = hand_over
        self.on_event = on_event
        self.max_minutes = max_minutes
        self.extra_args = extra_args  # tests: --max-steps, --eval-frequency
        self.process: subprocess.Popen[str] | None = None
        self._counted = 0  # accepted articles already counted towards a run

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def after_action(self) -> None:
        """After each key: start a run once N more articles were accepted and none is running."""
        if self.session.accepted_here - self._counted >= self.every and not self.running and not self.session.store.read_only:
            self._counted = self.session.accepted_here
            self.start()

    def start(self) -> None:
        db = self.session.store.path
        argv = [sys.executable, "-m", "goldspan.annotations.training.retrain", "--db", str(db), "--models", str(models_folder(db)),
                "--max-minutes", str(self.max_minutes), *self.extra_args]  # fmt: skip
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, **ONE_THREAD}, preexec_fn=lambda: os.nice(10), start_new_session=True,
        )  # fmt: skip
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(self._not_started()) + "\n")
        self.process.stdin.close()
        self.on_event({"event": "started"})  # on the UI thread, as after_action is
        threading.Thread(target=self._read, args=(self.process,), name="goldspan-retrain", daemon=True).start()

    def _not_started(self) -> list[str]:
        """The articles after the one on screen (then those before it) that this annotator has no record of."""
        s = self.session
        order = [*range(s.index + 1, len(s.articles)), *range(0, s.index)]
        chosen = []
        for i in order:
            article_id = s.articles.ids[i]
            if not s.answered.at(i) and s.store.annotation_updated(article_id, s.annotator, s.role) is None:
                chosen.append(article_id)
                if len(chosen) >= RESUGGEST_AHEAD:
                    break
        return chosen

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        ended = False
        for line in process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            ended = ended or event.get("event") in ("done", "failed") or (event.get("event") == "trained" and not event.get("in_use"))
            self.hand_over(self.on_event, event)
        status = process.wait()
        if not ended and status not in (0, -15, 143):  # killed (out of memory, say) before it could say why
            self.hand_over(self.on_event, {"event": "failed", "reason": f"the training process ended with status {status}"})

    def stop(self) -> None:
        """The app is closing: the training ends with it (its scratch folder removed, nothing recorded)."""
        if self.running:
            assert self.process is not None
            self.process.terminate()
