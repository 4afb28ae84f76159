"""The annotator on a pty whose model never finishes loading, as a child process for the quit tests.

    python blocked_model.py DB ARTICLE_FILE

The loader prints nothing and blocks forever: a quit must neither wait for it nor leave a blank
screen. After the app ends, the CLI's own ``run_app`` prints its line, then the process exits."""

from __future__ import annotations

import sys
import threading

from goldspan.annotations.nlp import pipelines
from goldspan.annotations.articles import load_articles
from goldspan.tui.keymap import default_keymap
from goldspan.annotations.session.session import Session
from goldspan.annotations.store import Store
from goldspan.tui.app import GoldspanApp
from goldspan.tui.screen_commands import run_app


def never(spec: pipelines.PipelineSpec) -> object:
    threading.Event().wait()  # a model load that takes forever
    raise AssertionError("unreachable")


def main() -> int:
    db, source = sys.argv[1], sys.argv[2]
    articles = load_articles([source]).articles
    spec = pipelines.resolve("blank:en")
    with Store(db) as store:
        store.add_articles(articles)
        session = Session(store, articles, annotator="alice", labels=("PERSON", "ORG", "GPE"), model=spec.model_id)  # nothing cached: it loads
        app = GoldspanApp(session, spec, keymap=default_keymap(), loader=never)
        status = run_app(app, lambda: f"{db}: {session.done} answered")
    return status


if __name__ == "__main__":
    sys.exit(main())
