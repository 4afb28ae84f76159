"""``goldspan serve``'s web server: textual-serve's ``Server``, which runs one app process per browser
tab, with four changes a goldspan user needs (textual-serve's own page and scripts are served as
they are; only the page's HTML is amended on its way out):

- each tab's app runs as the annotator named on a first page (or by ``--annotator`` for every tab),
  through a WebSocket route that carries the name: ``/ws/NAME``;
- the page's font is textual-serve's own Roboto Mono from its static folder, not a request to a
  web font service (offline it fell back to another font, and the grid changed: 50 rows, not 42);
- keys work without a first click on the terminal (a short script focuses xterm.js's input box);
- the app is started with ``exec``, so the server is its parent and it ends when the server dies
  (``Leaving.watch_for_endings``).
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import logging
import re
import shlex
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

log = logging.getLogger("textual-serve")

# A name that is safe in a URL path and on a command line, and reads as a person's name (fullmatch:
# `$` would let a final newline through; no leading "-": it would read as an option).
NAME = re.compile(r"(?!-)[\w.@-]{1,64}")
NAME_RULE = "1 to 64 letters, digits, '.', '-', '_' or '@', not starting with '-'"
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
FONT_SERVICE = re.compile(r"<link[^>]*fonts\.googleapis\.com[^>]*>", re.S)
WEBSOCKET_URL = re.compile(r'(data-session-websocket-url="[^"]*/ws)(")')

FOCUS_SCRIPT = """<script>
  // goldspan: keys reach the annotator without a first click on the terminal.
  (function () {
    function box() { return document.querySelector("textarea.xterm-helper-textarea"); }
    function focusTerminal() {
      var found = box();
      if (found && document.activeElement !== found) { found.focus(); }
      return found !== null;
    }
    var tries = 0;
    var early = setInterval(function () { if (focusTerminal() || ++tries > 300) { clearInterval(early); } }, 50);
    // Once the app has drawn, focus again: the page tells the app about focus over its connection,
    // which was not open yet the first time, and the app starts out unfocused (it shows its keys,
    // and counts active time, only while focused).
    var late = setInterval(function () {
      if (!document.body || !document.body.classList.contains("-first-byte")) { return; }
      clearInterval(late);
      var found = box();
      if (found && document.hasFocus()) { found.blur(); found.focus(); }
    }, 50);
    window.addEventListener("focus", focusTerminal);
  })();
</script>
"""


@dataclass(frozen=True)
class Served:
    """What each tab runs: ``argv`` plus the option that names its annotator (``--annotator``, or
    ``--as`` for the review screen), given the name from ``fixed_name`` or the first page."""

    argv: tuple[str, ...]
    name_option: str
    fixed_name: str | None
    title: str
    question: str = "Who is annotating? Your answers are saved under this name."

    def command_for(self, name: str) -> str:
        return "exec " + shlex.join([*self.argv, self.name_option, name])


def goldspan_argv(command: str, args: list[str]) -> tuple[str, ...]:
    """The goldspan command line that runs ``command`` with ``args`` in this Python."""
    return (sys.executable, "-P", "-c", "import sys; from goldspan.tui.cli import main; main(sys.argv[1:])", command, *args)


class GoldspanServer(Server):
    def __init__(self, served: Served, *, host: str, port: int, public_url: str, per_request: bool = False) -> None:
        """``per_request``: listening on every address with no --public-url, each page is given the
        address it was opened at."""
        super().__init__(served.command_for(served.fixed_name or "NAME"), host=host, port=port, title=served.title, public_url=public_url)
        self.served = served
        self.per_request = per_request
        self.loopback = is_loopback(host)
        self.tabs: set[web.WebSocketResponse] = set()  # open now

    async def on_shutdown(self, app: web.Application) -> None:
        """ctrl+c or SIGTERM: each open tab's app quits now, as on q (aiohttp alone left them open
        until its shutdown timeout: 16-20 s)."""
        await asyncio.gather(*(tab.close(code=WSCloseCode.GOING_AWAY, message=b"goldspan serve stopped") for tab in list(self.tabs)), return_exceptions=True)

    async def _make_app(self) -> web.Application:
        application = await super()._make_app()
        application.add_routes(
            [
                web.get("/ws/{name}", self.handle_named_websocket, name="named-websocket"),
                web.get("/goldspan/fonts.css", self.handle_fonts, name="fonts"),
            ]
        )
        return application

    async def on_startup(self, app: web.Application) -> None:
        who = f"as {self.served.fixed_name}" if self.served.fixed_name else "as the name each browser tab gives"
        self.console.print(f"goldspan: serving {self.served.title} on {self.public_url} ({who}); ctrl+c stops it.", highlight=False, soft_wrap=True)

    async def handle_index(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        name = self.served.fixed_name or request.query.get("annotator", "").strip()
        if not self.served.fixed_name and not NAME.fullmatch(name):
            problem = f"“{name}” is not a name goldspan takes: use {NAME_RULE}." if name else ""
            return web.Response(text=name_page(self.served.title, self.served.question, problem), content_type="text/html")
        response = await super().handle_index(request)
        assert isinstance(response, web.Response) and response.text is not None
        return web.Response(text=self.amend(response.text, None if self.served.fixed_name else name, self.base_url(request)), content_type="text/html")

    def base_url(self, request: web.Request) -> str:
        return f"{request.scheme}://{request.host}" if self.per_request else self.public_url

    def amend(self, page: str, name: str | None, base: str) -> str:
        """textual-serve's page, with the tab's WebSocket route (``/ws/NAME``; a fixed name keeps
        ``/ws``), the bundled font and the focus script. Each change must take: a textual-serve
        whose page differs would otherwise leave tabs broken without a word."""
        fonts = (
            f'<link rel="preload" href="{base}/static/fonts/RobotoMono-VariableFont_wght.ttf" as="font" type="font/ttf" crossorigin />\n'
            f'    <link rel="stylesheet" href="{base}/goldspan/fonts.css" />'
        )
        page, fonts_changed = FONT_SERVICE.subn(lambda _: fonts, page)
        page, routes_changed = WEBSOCKET_URL.subn(lambda match: f"{match.group(1)}{'' if name is None else '/' + name}{match.group(2)}", page)
        if not (fonts_changed and routes_changed and "</body>" in page):
            log.error("goldspan serve: this textual-serve's page is not the one goldspan knows (textual-serve 1.1); tabs may not work")
        if base != self.public_url:
            netloc = urlsplit(self.public_url).netloc
            page = page.replace(f"//{netloc}/", f"//{urlsplit(base).netloc}/").replace(f'//{netloc}"', f'//{urlsplit(base).netloc}"')
        return page.replace("</body>", FOCUS_SCRIPT + "</body>")

    async def handle_fonts(self, request: web.Request) -> web.Response:
        static = f"{self.base_url(request)}/static/fonts"
        css = "\n".join(
            f'@font-face {{ font-family: "Roboto Mono"; src: url("{static}/{file}") format("truetype"); font-weight: 100 700; font-style: {style}; }}'
            for file, style in (("RobotoMono-VariableFont_wght.ttf", "normal"), ("RobotoMono-Italic-VariableFont_wght.ttf", "italic"))
        )
        return web.Response(text=css, content_type="text/css")

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """The page's own route, without a name: only a fixed --annotator makes it usable."""
        if self.served.fixed_name is None:
            raise web.HTTPNotFound(text="goldspan serve: open the page at / and give your name first.")
        return await self.run_tab(request, self.served.fixed_name)

    async def handle_named_websocket(self, request: web.Request) -> web.WebSocketResponse:
        name = request.match_info["name"]
        if self.served.fixed_name is not None:
            name = self.served.fixed_name
        elif not NAME.fullmatch(name):
            raise web.HTTPBadRequest(text=f"goldspan serve: “{name}” is not a name goldspan takes: use {NAME_RULE}.")
        return await self.run_tab(request, name)

    def trusted(self, request: web.Request) -> bool:
        """A connection from goldspan's own page: the Host is the server's address, and so is the
        page's Origin when a browser sends one. Another web site's page open in the same browser
        (or one that rebinds its name to 127.0.0.1) cannot reach a tab's annotator."""
        public = urlsplit(self.public_url)
        allowed = {public.netloc.lower()}
        if self.loopback:  # the same port through another loopback name (an SSH tunnel on the same port)
            allowed |= {f"{name}:{self.port}" for name in ("localhost", "127.0.0.1", "[::1]")}
        if self.per_request:  # every address: the page's own, whatever it is
            allowed.add(request.host.lower())
        origin = request.headers.get("Origin")
        return request.host.lower() in allowed and (origin is None or urlsplit(origin).netloc.lower() in allowed)

    async def run_tab(self, request: web.Request, name: str) -> web.WebSocketResponse:
        """One tab: its own app process, as textual-serve's ``handle_websocket`` runs one, for ``name``."""
        if not self.trusted(request):
            log.warning("refused a connection from %s (Host %s): not goldspan's own page", request.headers.get("Origin"), request.host)
            raise web.HTTPForbidden(text="goldspan serve: connections come from its own page only.")
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        app_service: AppService | None = None
        try:
            await websocket.prepare(request)
            self.tabs.add(websocket)
            app_service = AppService(
                self.served.command_for(name),
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,  # type: ignore[arg-type]  # as textual-serve passes it
                download_manager=self.download_manager,
                debug=self.debug,
            )
            log.info("a tab opened for %s", name)
            await app_service.start(width, height)
            messages = asyncio.ensure_future(self._process_messages(websocket, app_service))
            # textual-serve's task that reads the app's output ends when the app's process does; one that
            # never started its screen (a refusal) sends no exit, and the tab would wait for ever.
            app_ended = app_service._task
            try:
                await asyncio.wait({messages, *([app_ended] if app_ended else [])}, return_when=asyncio.FIRST_COMPLETED)
                if not messages.done():
                    await websocket.close()
                await messages
            finally:
                await app_service.stop()  # the app quits as on q: every change is saved as it is made
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # one tab's failure is logged; the server and the other tabs go on
            log.exception(error)
        finally:
            self.tabs.discard(websocket)
            if app_service is not None:
                await app_service.stop()
        return websocket


def name_page(title: str, question: str, problem: str) -> str:
    """The first page of a tab when no --annotator was given: whose work this tab saves."""
    message = f'<p class="problem">{html.escape(problem)}</p>' if problem else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>{html.escape(title)}</title>
  <style>
    body {{ background: #0c181f; color: rgba(255, 255, 255, 0.95); font-family: monospace; display: flex;
           align-items: center; justify-content: center; height: 100vh; margin: 0; }}
    form {{ background: #12232d; padding: 32px 48px; }}
    input, button {{ font: inherit; padding: 8px 12px; margin: 8px 0; }}
    button {{ background: #5e0ba7; color: white; border: none; cursor: pointer; }}
    .problem {{ color: #ff8a80; }}
  </style>
</head>
<body>
  <form method="get" action="">
    <h1>{html.escape(title)}</h1>
    <p>{html.escape(question)}</p>
    {message}
    <label for="annotator">Name</label><br />
    <input id="annotator" name="annotator" autofocus required maxlength="64" /><br />
    <button type="submit">Start</button>
  </form>
</body>
</html>
"""

