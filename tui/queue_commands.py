"""``goldspan queue setup`` and ``goldspan queue status``: a lead's commands for a team's work queue
(``annotations/queue``); annotators take work with ``goldspan annotate --queue``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress_bar import ProgressBar
from rich.table import Table

from goldspan.annotations.errors import InputError, StoreError
from goldspan.annotations.guidelines import label_definitions, read_guidelines, save_guidelines
from goldspan.annotations.queue.routing import save_settings, settings_of
from goldspan.annotations.queue.settings import QueueSettings
from goldspan.annotations.queue.status import queue_status
from goldspan.annotations.store import Store

from .cli import DbOption, SharedOption, app, out, report_store_notices

queue_app = typer.Typer(help="A team's work queue: who annotates which article (set up by a lead; annotators use annotate --queue).", no_args_is_help=True)
app.add_typer(queue_app, name="queue")


@queue_app.command(
    "setup",
    epilog="[b]Examples[/b]\n\n  goldspan queue setup --db team.json --overlap 1\n\n"
    "  goldspan queue setup --db team.json --overlap 2 --annotators alice,bob,carol --lease-minutes 20\n\n"
    "  goldspan queue setup --db team.json --overlap 2 --overlap-fraction 0.1 --order random --seed 7",
)
def setup(
    db: DbOption = Path("goldspan.json"),
    overlap: Annotated[Optional[int], typer.Option("--overlap", help="How many different annotators answer each article (1: split the work) [first setup: 1].")] = None,
    overlap_fraction: Annotated[
        Optional[float], typer.Option("--overlap-fraction", help="Only this share of the articles gets --overlap answers (for agreement); the rest one.")
    ] = None,
    annotators: Annotated[Optional[str], typer.Option("--annotators", help="Comma-separated names allowed to take work.")] = None,
    open_to_all: Annotated[bool, typer.Option("--open", help="Anyone who can write the database may take work (the first setup's default).")] = False,
    order: Annotated[Optional[str], typer.Option("--order", help="Which article comes next: source, random or uncertain [first setup: source].")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed of --order random and of the --overlap-fraction sample [first setup: 0].")] = None,
    lease_minutes: Annotated[
        Optional[float], typer.Option("--lease-minutes", help="How long an article stays with an annotator who has stopped [first setup: 30].")
    ] = None,
    guidelines: Annotated[
        Optional[Path], typer.Option("--guidelines", help="Annotation guidelines (Markdown) to store in the database; annotators open them with G.", dir_okay=False)
    ] = None,
    shared: SharedOption = False,
) -> int:
    """Set up the database's work queue, or change it: an option not given keeps its setting. The settings apply to the articles not done yet; what changed is printed."""
    if annotators is not None and open_to_all:
        raise InputError("--annotators and --open: give one (a list of names, or anyone).")
    names = None if annotators is None else tuple(dict.fromkeys(n.strip() for n in annotators.split(",") if n.strip()))
    markdown = read_guidelines(guidelines) if guidelines is not None else None
    if not db.exists():
        raise InputError(f"{db}: no such database; add the articles first (goldspan preannotate ARTICLES --db {db}).")
    with Store(db, shared=shared, must_write=True) as store:
        report_store_notices(store)
        articles = store.article_count()
        if not articles:
            raise InputError(f"{db}: holds no articles; add them first (goldspan preannotate ARTICLES --db {db}).")
        try:
            base = settings_of(store) or QueueSettings()
        except StoreError as error:
            if "newer goldspan" in str(error):
                raise
            base = QueueSettings()  # damaged: replaced
        settings = QueueSettings(
            overlap=base.overlap if overlap is None else overlap,
            overlap_fraction=base.overlap_fraction if overlap_fraction is None else overlap_fraction,
            annotators=None if open_to_all else (base.annotators if names is None else names),
            order=base.order if order is None else order,
            seed=base.seed if seed is None else seed,
            lease_minutes=base.lease_minutes if lease_minutes is None else lease_minutes,
        )  # fmt: skip
        saved = save_settings(store, settings)
        if markdown is not None:
            save_guidelines(store, markdown)
    old = saved.replaced
    if old is None:
        out.print(f"{db}: work queue set up over {articles:,} articles: {settings.describe()}.", markup=False)
        out.print(f"Annotators start with: goldspan annotate --db {db} --queue" + (" --shared" if shared else ""), markup=False)
    else:
        changed = settings.changes_from(old)
        out.print(f"{db}: " + ("changed " + "; ".join(changed) if changed else "settings unchanged") + f". Now: {settings.describe()}.", markup=False)
        if saved.kept:
            out.print(f"{saved.kept:,} articles already done keep the answers they were done with; the new settings apply to the rest.", markup=False)
    if markdown is not None:
        defined = label_definitions(markdown)
        out.print(f"{db}: guidelines stored from {guidelines}" + (f" (definitions of {', '.join(defined)})" if defined else "") + ".", markup=False)
    return 0


@queue_app.command("status")
def status(
    db: DbOption = Path("goldspan.json"),
    as_json: Annotated[bool, typer.Option("--json", help="The same figures as JSON.")] = False,
) -> int:
    """Where the queue stands: what each annotator holds and has answered, and what is left."""
    if not db.exists():
        raise InputError(f"{db}: no such database.")
    with Store(db, read_only=True) as store:
        found = queue_status(store, time.time())
    if as_json:
        out.print(json.dumps(found.to_json(), ensure_ascii=False, indent=2), markup=False)
        return 0
    table = Table(title=f"{db}: {found.settings.describe()}", title_justify="left")
    for column, justify in (("annotator", "left"), ("holds now", "left"), ("answered today", "right"), ("answered", "right"), ("may still take", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for name, st in sorted(found.annotators.items()):
        held = ", ".join(f"{title[:40]} ({seconds / 60:.0f} min)" for _, title, seconds in st.leased) or "–"
        table.add_row(name, held, f"{st.answered_today:,}", f"{st.answered:,}", f"{st.remaining:,}")
    out.print(table)
    out.print(
        f"articles: {found.total:,} · done {found.done:,} · in progress {found.in_progress:,} · waiting {found.waiting:,}",
        markup=False,
    )
    out.print(ProgressBar(total=max(1, found.needed), completed=found.answers, width=50), f" {found.share_done:.0%} of {found.needed:,} answers")
    return 0
