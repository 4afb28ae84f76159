"""`goldspan preannotate --engine dask`: the articles' suggestions made on a Dask cluster.

The client (this process) cuts the articles to parse into shards and sends each, as plain tuples,
to a worker. A worker loads the model once (kept in this module for the worker process's life, not
once per task) and runs ``suggest``, the same function the local engine runs, so the result is the
same spans, model key and scores. It sends back plain dictionaries (``Suggestions.to_dict``), never
spaCy objects, as spaCy's maintainers advise (spaCy#5111). The client stores them in batches
exactly as the local path does. Dask retries a task whose worker died. ``--workers N`` starts a
``LocalCluster`` of N single-threaded worker processes on loopback; ``--scheduler ADDRESS`` uses a
running cluster, and one that does not answer is refused within ``CONNECT_SECONDS``.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from ..datamodel import Article, Suggestions
from ..errors import InputError
from .pipelines import PipelineSpec

if TYPE_CHECKING:
    from spacy.language import Language

SHARD = 64  # articles per task: enough to batch, small enough that a lost worker costs little
CONNECT_SECONDS = 5
RETRIES = 3  # times a task is sent again after the worker running it died

_LOADED: dict[tuple[Any, ...], Language] = {}  # on a worker: its pipelines, loaded once per process


def available() -> bool:
    import importlib.util

    return importlib.util.find_spec("distributed") is not None


def _spec_fields(spec: PipelineSpec) -> tuple[Any, ...]:
    return (spec.name, spec.patterns, spec.patterns_path, spec.meta, spec.scorer)


def parse_shard(fields: tuple[Any, ...], scorer: str, batch_size: int, shard: Sequence[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """On a worker: the shard's suggestions, as plain dictionaries."""
    from ..datamodel import Origin
    from .pipelines import load
    from .suggest import suggest

    spec = PipelineSpec(*fields)
    key = (spec.name, spec.patterns_path, len(spec.patterns))
    nlp = _LOADED.get(key)
    if nlp is None:
        nlp = _LOADED[key] = load(spec)
    origin = Origin.MODEL if "ner" in nlp.pipe_names else Origin.PATTERN
    articles = [Article(article_id, title, text) for article_id, title, text in shard]
    return [s.to_dict() for s in suggest(nlp, articles, spec.model_id, batch_size=batch_size, origin=origin, scorer=scorer)]


@contextlib.contextmanager
def dask_client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """A client of the cluster at ``scheduler``, or of a LocalCluster of ``workers`` processes."""
    if not available():
        raise InputError('--engine dask needs Dask\'s distributed scheduler: pip install "goldspan[dask]".')
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise InputError(f"--scheduler {scheduler}: no Dask scheduler answered within {CONNECT_SECONDS} s ({reason}).") from None
        with contextlib.closing(client):
            yield client
        return
    cluster = LocalCluster(
        n_workers=workers or 2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
        silence_logs=50,  # logging.CRITICAL: the client's progress bar is what the user reads
    )  # fmt: skip
    with contextlib.closing(cluster), contextlib.closing(Client(cluster, set_as_default=False)) as client:
        yield client


def dask_suggestions(
    client: Any, articles: Sequence[Article], spec: PipelineSpec, *, scorer: str, batch_size: int, shard: int = SHARD
) -> Iterator[Suggestions]:
    """The articles' suggestions, made on the cluster, in the order the shards finish."""
    from distributed import as_completed

    fields = _spec_fields(spec)
    shards = [[(a.id, a.title, a.text) for a in articles[i : i + shard]] for i in range(0, len(articles), shard)]
    futures = client.map(parse_shard, [fields] * len(shards), [scorer] * len(shards), [batch_size] * len(shards), shards,
                         pure=False, retries=RETRIES)  # fmt: skip
    try:
        for future in as_completed(futures, loop=client.loop):
            for doc in future.result():
                yield Suggestions.from_dict(doc)
    finally:
        client.cancel(futures)
