"""``goldspan serve``: the annotator (or the review screen) in web browsers, through textual-serve
(the ``serve`` extra). Each tab runs its own ``goldspan annotate`` process on the same database, as
two terminals would; ``web`` has the server."""

# No `from __future__ import annotations`: Typer reads every command's signature at each start.
import dataclasses
import errno
import socket
from typing import Annotated, Optional
from urllib.parse import urlsplit

import typer

from goldspan.annotations.errors import InputError

from .cli import app, say


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    options_metavar="[OPTIONS] [SOURCES]... [ANNOTATE OR REVIEW OPTIONS]",
    epilog="[b]Examples[/b]\n\n  goldspan serve sample_articles/ --db goldspan.json\n\n"
    "  goldspan serve --db team.json --queue --port 8001 --public-url http://localhost:9000\n\n"
    "  goldspan serve --review --db goldspan.json --only model-errors\n\n"
    "From another machine, through SSH: ssh -L 8000:localhost:8000 SERVER, then open http://localhost:8000.",
)
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="The address to listen on. Anything but loopback lets anyone who reaches the port annotate.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="The port to listen on.")] = 8000,
    public_url: Annotated[
        Optional[str], typer.Option("--public-url", help="The address browsers use, when it is not http://HOST:PORT (an SSH tunnel on another port, a proxy).")
    ] = None,
    review: Annotated[bool, typer.Option("--review", help="Serve the review screen (goldspan review's options) instead of the annotator.")] = False,
) -> int:
    """Serve the annotator to web browsers: each tab is its own session on the same database. Takes annotate's options (review's with --review); without --annotator each tab asks for a name."""
    try:
        from .web import NAME, NAME_RULE, GoldspanServer, Served, goldspan_argv, is_loopback
    except ImportError:
        raise InputError("serve needs textual-serve, which is not installed: pip install \"goldspan[serve]\".") from None

    if not 0 < port < 65536:
        raise InputError(f"--port {port}: give a port from 1 to 65535.")
    if public_url is not None:
        public_url = checked_public_url(public_url)
    # The address checks first: a refusal there must not come after the served command's own check.
    refuse_busy(host, port)
    command = "review" if review else "annotate"
    args = list(ctx.args)
    fixed_name = check_served(ctx, command, args)
    name_option = "--as" if review else "--annotator"
    if fixed_name is not None:  # the name goes after the other options, once
        if not NAME.fullmatch(fixed_name):
            raise InputError(f"{name_option} {fixed_name}: not a name goldspan serve takes: use {NAME_RULE}.")
        args = without_option(args, name_option)
    wildcard = host in ("0.0.0.0", "::", "")
    if not is_loopback(host):
        who = f"as {fixed_name}" if fixed_name else "under any name they type"
        say(
            f"warning: --host {host}: anyone who can reach port {port} can {'review' if review else 'annotate'} {who}; "
            f"goldspan serve has no passwords. An SSH tunnel is the safe way: ssh -L {port}:localhost:{port} SERVER."
        )
    served = Served(goldspan_argv(command, args), name_option, fixed_name, f"goldspan {command}")
    if review:
        served = dataclasses.replace(served, question="Who is reviewing? The reviewed records are saved under this name.")
    # A wildcard address is no address to open: without --public-url each page uses the one it was opened at.
    server = GoldspanServer(served, host=host, port=port, public_url=public_url or f"http://{url_host(host)}:{port}", per_request=wildcard and not public_url)
    server.serve()
    return 0


def checked_public_url(public_url: str) -> str:
    parts = urlsplit(public_url)
    try:
        parts.port  # a port that is not a number raises here
        well_formed = parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.path.strip("/")
    except ValueError:
        well_formed = False
    if not well_formed or parts.query or parts.fragment or any(c in public_url for c in "\"'<> "):
        raise InputError(f"--public-url {public_url}: give the address browsers open, as http://HOST:PORT or https://HOST.")
    return public_url.rstrip("/")


def url_host(host: str) -> str:
    """The host as it goes in a URL: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def check_served(ctx: typer.Context, command: str, args: list[str]) -> Optional[str]:
    """Run the served command's own checks (``--check``: nothing is opened or written) so that a bad
    option is refused here, in one line, not in each tab. Returns the name given to every tab."""
    group = ctx.parent.command if ctx.parent is not None else None
    served = group.get_command(ctx.parent, command) if group is not None and hasattr(group, "get_command") else None  # type: ignore[union-attr]
    if served is None:  # pragma: no cover - the commands are registered with the app
        raise InputError(f"serve: goldspan has no {command} command.")
    # --check first: after the others, an option missing its value (`--db` last) would take it as one.
    served.main(args=["--check", *args], prog_name=f"goldspan serve{' --review' if command == 'review' else ''}", standalone_mode=False)
    parsed = served.make_context(command, list(args), parent=ctx.parent)
    name = parsed.params.get("reviewer" if command == "review" else "annotator")
    return name if isinstance(name, str) else None


def without_option(args: list[str], option: str) -> list[str]:
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == option:
            skip = True
        elif not arg.startswith(option + "="):
            kept.append(arg)
    return kept


def refuse_busy(host: str, port: int) -> None:
    """Refuse a port that cannot be listened on, in one line (aiohttp would raise with a traceback)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise InputError(f"--host {host}: not an address of this machine.") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds: a port in TIME_WAIT is free
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise InputError(f"--port {port}: {host}:{port} is already in use; choose another port with --port.") from None
            if error.errno == errno.EADDRNOTAVAIL:
                raise InputError(f"--host {host}: not an address of this machine.") from None
            if error.errno == errno.EACCES:
                raise InputError(f"--port {port}: this user may not listen on it (ports below 1024 need root); choose one above 1024.") from None
            raise InputError(f"--host {host} --port {port}: cannot listen there ({error.strerror}).") from None
