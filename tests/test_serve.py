"""``goldspan serve``: the annotator in a real browser (Debian's Chromium, driven by Playwright), and
the server's refusals, warning and pages, against a real server process."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from goldspan.annotations.datamodel import Answer
from goldspan.annotations.store import Store

from .conftest import SAMPLES

GOLDSPAN = [sys.executable, "-c", "import sys; from goldspan.tui.cli import main; main(sys.argv[1:])"]
CHROMIUM = os.environ.get("GOLDSPAN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
# As the machine's own Chromium runs headless in a closed network: no first-run, sync or update calls.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]
# The page's script, with its terminal client kept where the test can read the screen (xterm.js draws
# to a canvas, and the page's accessibility tree holds only its input box).
KEEP_CLIENT = ("const t=new w(e,{ping:r});", "const t=new w(e,{ping:r});window.textualClient=t;")
READ_SCREEN = """() => {
  const client = window.textualClient;
  if (!client) return "";
  const buffer = client.terminal.buffer.active, lines = [];
  for (let y = 0; y < client.terminal.rows; y++) {
    const line = buffer.getLine(y);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server(subprocess.Popen[str]):
    said: tuple[str, str] = ("", "")  # what it printed on stdout and stderr, once it has ended


@contextmanager
def serving(tmp_path: Path, *args: str, port: int) -> Iterator[Server]:
    """`goldspan serve ARGS --port PORT` in a process of its own, once its page answers."""
    server = Server(
        [*GOLDSPAN, "serve", *args, "--port", str(port)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    out, err = server.communicate()
                    pytest.fail(f"goldspan serve did not start: {out}{err}")
                time.sleep(0.1)
        yield server
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        try:
            server.said = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.said = server.communicate()


def get(url: str) -> str:
    return str(urllib.request.urlopen(url, timeout=10).read().decode("utf-8"))


def processes_with(*parts: str) -> list[int]:
    """Live processes whose command line holds every one of ``parts`` (this test's database path and
    an annotator's name: other tests' and other users' servers may run apps for an "alice" too)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if all(part in command for part in parts) and state != "Z":
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (Debian's chromium package, or GOLDSPAN_CHROMIUM=PATH): the one browser test is skipped")
def test_a_browser_annotates_and_the_change_is_saved(tmp_path: Path) -> None:
    from playwright.sync_api import Route, sync_playwright

    db = tmp_path / "browser.json"
    port = free_port()
    with serving(tmp_path, str(SAMPLES), "--db", str(db), port=port) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        off_machine: list[str] = []
        page.on("request", lambda request: off_machine.append(request.url) if "127.0.0.1" not in request.url else None)

        def keep_client(route: Route) -> None:
            response = route.fetch()
            script = response.text()
            assert KEEP_CLIENT[0] in script, "textual-serve's textual.js changed: update KEEP_CLIENT"
            route.fulfill(response=response, body=script.replace(*KEEP_CLIENT))

        page.route("**/static/js/textual.js", keep_client)
        page.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
        page.goto(f"http://127.0.0.1:{port}/")
        page.fill("#annotator", "alice")  # the first page asks whose work this tab saves
        page.click("button")

        def screen() -> str:
            return str(page.evaluate(READ_SCREEN))

        def wait_for(pattern: str, seconds: float = 90) -> str:
            deadline = time.monotonic() + seconds
            while not re.search(pattern, text := screen()):
                assert time.monotonic() < deadline, f"{pattern!r} never showed; the page shows:\n{text}"
                page.wait_for_timeout(100)
            return text

        wait_for(r"Russian President Putin and Belarusian President Lukashenko")
        shown = wait_for(r"Putin\s+0\.\d\d\s+PERSON")  # the model's suggestions, with their scores
        assert "article 1/9" in shown and "alice" in shown
        # The app knows it has the focus (the page told it once connected): it shows its keys.
        wait_for(r"jk entity .* q quit")
        # No click first: the keys reach the app as soon as the page has loaded.
        page.keyboard.press("j")  # the second entity: Putin
        page.keyboard.press("2")  # label 2, ORG
        wait_for(r"✎ Putin\s+ORG")  # edited: the score was the model's, the label is now alice's
        page.keyboard.press("a")  # accept the article: saved, and the next one shows
        wait_for(r"article 2/9 \S+ done 1")  # the strip between: one of nine answered
        font_ready = page.evaluate("document.fonts.check('16px \"Roboto Mono\"')")
        assert off_machine == [], "the page asked for something off this machine"
        assert font_ready, "textual-serve's own Roboto Mono did not load"
        with Store(db, read_only=True) as store:
            first = store.article_list()[0]
            record = store.annotation(first.id, "alice")
            assert record is not None and record.answer is Answer.ACCEPT
            putin = next(span for span in record.spans if first.text[span.start : span.end] == "Putin")
            assert putin.label == "ORG"
            assert record.active_seconds > 0  # focused, so the time between the keys counted

        alices_app = (str(db), "--annotator alice")
        assert processes_with(*alices_app)
        page.close()  # closing the tab quits its app, as q would
        gone_within(30, alices_app, "the app of a closed tab went on running")

        # A second tab, bob's own session; its app ends when the server is killed with SIGKILL.
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        page.route("**/static/js/textual.js", keep_client)
        page.goto(f"http://127.0.0.1:{port}/?annotator=bob")
        wait_for(r"article 1/9 .* bob")
        bobs_app = (str(db), "--annotator bob")
        assert processes_with(*bobs_app)
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        gone_within(30, bobs_app, "an app process outlived its server")
        browser.close()


def gone_within(seconds: float, parts: tuple[str, ...], problem: str) -> None:
    deadline = time.monotonic() + seconds
    while processes_with(*parts):
        assert time.monotonic() < deadline, problem
        time.sleep(0.1)


def test_every_tab_gets_its_own_name_and_the_page_asks_nothing_off_the_machine(tmp_path: Path) -> None:
    db = tmp_path / "pages.json"
    port = free_port()
    with serving(tmp_path, str(SAMPLES), "--db", str(db), port=port) as server:
        first = get(f"http://127.0.0.1:{port}/")
        assert 'name="annotator"' in first and "Who is annotating?" in first
        refused = get(f"http://127.0.0.1:{port}/?annotator=a%20b")
        assert "is not a name goldspan takes" in refused
        page = get(f"http://127.0.0.1:{port}/?annotator=alice")
        assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws/alice"' in page
        assert "googleapis" not in page and "/static/fonts/RobotoMono-VariableFont_wght.ttf" in page
        assert "xterm-helper-textarea" in page  # the focus script: keys without a first click
        css = get(f"http://127.0.0.1:{port}/goldspan/fonts.css")
        assert "@font-face" in css and f"http://127.0.0.1:{port}/static/fonts/RobotoMono" in css
        font = urllib.request.urlopen(f"http://127.0.0.1:{port}/static/fonts/RobotoMono-VariableFont_wght.ttf", timeout=10).read()
        assert len(font) > 10_000  # textual-serve's own copy, served from its static folder
        assert server.poll() is None
    assert not db.exists(), "no tab opened, so nothing was written"


def test_public_url_and_a_fixed_annotator(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path, str(SAMPLES), "--db", "fixed.json", "--annotator", "bob", "--public-url", "http://localhost:9000", port=port) as server:
        page = get(f"http://127.0.0.1:{port}/")
        assert 'data-session-websocket-url="ws://localhost:9000/ws"' in page  # no name asked: bob for every tab
        assert 'href="http://localhost:9000/static/css/xterm.css"' in page
    out, _ = server.said
    assert "as bob" in out


def test_refusals_are_one_line_and_write_nothing(tmp_path: Path) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    cases = {
        ("--port", str(port)): f"--port {port}: 127.0.0.1:{port} is already in use; choose another port with --port.",
        ("--port", "70000"): "--port 70000: give a port from 1 to 65535.",
        ("--public-url", "localhost:9000"): "--public-url localhost:9000: give the address browsers open",
        ("--host", "no-such-host.invalid"): "--host no-such-host.invalid: not an address of this machine.",
        ("--labels", ""): "--labels '': give comma-separated label names",
        ("--order", "sideways"): "--order sideways: not an order",
        ("--bogus",): "No such option: --bogus",
        ("--db",): "Option '--db' requires an argument",  # not the check's flag taken as its value
        ("--annotator", "team/bob"): "--annotator team/bob: not a name goldspan serve takes",
        ("--annotator", "-x"): "--annotator -x: not a name goldspan serve takes",
        ("--public-url", 'http://a"b:9000'): "--public-url",
    }
    try:
        for extra, message in cases.items():
            # A free port first (the last --port given counts): the cases must not hang on what else runs on 8000.
            done = subprocess.run([*GOLDSPAN, "serve", str(SAMPLES), "--db", "x.json", "--port", str(free_port()), *extra],
                                  cwd=tmp_path, capture_output=True, text=True, timeout=60)  # fmt: skip
            assert done.returncode == 2, (extra, done.stderr)
            assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, (extra, done.stderr)
            assert "Traceback" not in done.stderr
        done = subprocess.run([*GOLDSPAN, "serve", "--review", "--db", "none.json", "--port", str(free_port())], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and "none.json: no such database" in done.stderr
    finally:
        busy.close()
    assert list(tmp_path.iterdir()) == []


def test_another_address_than_loopback_is_served_with_a_warning(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path, str(SAMPLES), "--db", "open.json", "--host", "0.0.0.0", port=port) as server:
        assert "Who is annotating?" in get(f"http://127.0.0.1:{port}/")
        page = get(f"http://127.0.0.1:{port}/?annotator=ann")  # every address: the page points back at the one it was opened at
        assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws/ann"' in page and "0.0.0.0" not in page
    _, err = server.said
    assert f"warning: --host 0.0.0.0: anyone who can reach port {port} can annotate under any name they type" in err
    assert f"ssh -L {port}:localhost:{port} SERVER" in err


def upgrade(port: int, path: str, origin: str | None, host: str | None = None) -> int:
    """The status of a WebSocket handshake to the server (101: a tab's app would start)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    if origin is not None:
        headers["Origin"] = origin
    if host is not None:
        headers["Host"] = host
    connection.request("GET", path, headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status


def test_only_goldspans_own_page_can_open_a_tab(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path, str(SAMPLES), "--db", "origin.json", port=port):
        assert upgrade(port, "/ws/mallory", "https://evil.example") == 403  # another site's page in the same browser
        assert upgrade(port, "/ws/mallory", None, host=f"evil.example:{port}") == 403  # a name rebound to 127.0.0.1
        assert upgrade(port, "/ws/alice%0A", f"http://127.0.0.1:{port}") == 400  # a name with a line end
        assert upgrade(port, "/ws/-x", f"http://localhost:{port}") == 400  # a name that reads as an option
        assert upgrade(port, "/ws/alice", f"http://localhost:{port}") == 101  # the page, through a tunnel on the same port


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (Debian's chromium package, or GOLDSPAN_CHROMIUM=PATH): the one browser test is skipped")
def test_a_tab_that_cannot_open_says_why_in_the_page(tmp_path: Path) -> None:
    """A refusal the server's check cannot foresee (the name typed on the first page is not on the
    queue's list) shows in the tab, not only in the server's log."""
    from playwright.sync_api import sync_playwright

    from goldspan.annotations.datamodel import Article
    from goldspan.annotations.queue.routing import save_settings
    from goldspan.annotations.queue.settings import QueueSettings

    db = tmp_path / "team.json"
    with Store(db) as store:
        store.add_articles([Article.from_text("Story\nAnna Nowak met Jan Kowalski in Gdańsk.")])
        save_settings(store, QueueSettings(annotators=("bob",)))
    port = free_port()
    with serving(tmp_path, "--db", str(db), "--queue", "--labels", "PERSON,GPE", port=port), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.route("**/static/js/textual.js", lambda route: route.fulfill(response=(r := route.fetch()), body=r.text().replace(*KEEP_CLIENT)))
        page.goto(f"http://127.0.0.1:{port}/?annotator=alice")
        deadline = time.monotonic() + 60
        while "not on this queue's list" not in (shown := str(page.evaluate(READ_SCREEN))):
            assert time.monotonic() < deadline, shown
            page.wait_for_timeout(100)
        assert "--annotator alice" in shown
        browser.close()
