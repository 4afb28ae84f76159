"""How a goldspan screen ends, whichever screen it is (the annotator, teach mode): on q, on a signal,
or when its terminal goes away, always promptly and never losing what was shown as saved.

A ``Leaving`` app says what to stop (``_stop_background``) and what to close when the terminal has
gone (``_close_for_exit``); the rest is the same for every screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from typing import Any

from textual.app import App


class Leaving(App[None]):
    SIGNAL_GRACE = 1.5  # seconds from SIGTERM or SIGHUP to a forced exit, if the clean one is stuck

    _terminal: int | None = None  # the terminal's file descriptor, once the screen runs on one
    _server: int = 0  # in a browser tab: the server's process id
    _forced_exit: threading.Timer | None = None

    def _stop_background(self) -> None:
        """Quitting: stop whatever works in the background (at once: nothing there needs saving)."""

    def _close_for_exit(self) -> None:
        """The terminal is gone and the process ends now: close the store (fold its journal) if it can."""

    def get_driver_class(self) -> Any:
        """Textual's own choice, but its Linux terminal driver with an input thread woken on quit (``driver``)."""
        from textual.drivers.linux_driver import LinuxDriver

        chosen = super().get_driver_class()
        if chosen is LinuxDriver:
            from .driver import PromptLinuxDriver

            return PromptLinuxDriver
        return chosen

    def watch_for_endings(self) -> None:
        """From on_mount: signals, and a terminal that closes without one."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            # Every change is already on disk; leave cleanly so the terminal is restored. (SIGINT
            # comes from `kill -INT`: in raw mode ctrl+c arrives as a key, not as this signal.)
            loop.add_signal_handler(sig, self._on_signal, sig)
        from textual.drivers.linux_driver import LinuxDriver

        driver = self._driver
        fileno = getattr(driver, "fileno", None)
        self._terminal = fileno if isinstance(driver, LinuxDriver) and isinstance(fileno, int) and os.isatty(fileno) else None
        if self._terminal is not None:
            self.set_interval(1.0, self._check_terminal, name="terminal-gone")
        if self.is_web:
            # In a browser tab (goldspan serve): the server is this process's parent (it is started
            # with exec). A server that dies without closing the tab's pipe (kill -9) leaves it here.
            self._server = os.getppid()
            self.set_interval(1.0, self._check_server, name="server-gone")

    def _on_signal(self, sig: int) -> None:
        """SIGTERM, SIGINT, or SIGHUP with the terminal still there: leave as q does, within
        SIGNAL_GRACE seconds whatever is open. SIGHUP from a terminal that has gone: at once."""
        self._stop_background()
        if sig == signal.SIGHUP and not self._terminal_alive():
            self._end_without_terminal(sig)
        if self._forced_exit is None:
            # Should the clean way out hang, the process still ends; everything shown as saved is
            # in the journal already, fsync'd, so this loses nothing (the next open replays it).
            self._forced_exit = threading.Timer(self.SIGNAL_GRACE, os._exit, args=(128 + sig,))
            self._forced_exit.daemon = True
            self._forced_exit.start()
        self.exit()

    def _end_without_terminal(self, sig: int) -> None:
        """The terminal is gone: there is nothing to restore on it, and Textual's shutdown, which writes
        to it, hung there (its writer thread dies on the dead pty, the bounded queue it fed then blocks
        the next write, and its input thread spins on end-of-file): closed terminals left orphans that
        ignored SIGTERM. Fold the journal into the main file, as a clean close does, and end now."""
        with contextlib.suppress(Exception):  # a full disk, say: the journal keeps everything anyway
            self._close_for_exit()
        os._exit(128 + sig)

    def _terminal_alive(self) -> bool:
        if self._terminal is None:
            return True  # a headless test driver, or a browser: no terminal to lose
        import termios

        try:
            termios.tcgetattr(self._terminal)  # a hung-up terminal fails every ioctl
        except (termios.error, OSError):
            return False
        return True

    def _check_server(self) -> None:
        """The server that showed this screen in a browser has gone: no one can see or type into it."""
        if os.getppid() != self._server:
            self._stop_background()
            self._end_without_terminal(signal.SIGHUP)

    def _check_terminal(self) -> None:
        """The terminal closed without a SIGHUP reaching us (the shell that had it died first): end
        as if it had come."""
        if not self._terminal_alive():
            self._on_signal(signal.SIGHUP)

    def run(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().run(*args, **kwargs)
        finally:
            if self._forced_exit is not None:  # the screen has closed: the rest (the store's close, the
                self._forced_exit.cancel()  # goodbye line) runs to its end
