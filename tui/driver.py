"""Textual's Linux driver, with an input thread that hears the app end at once.

Textual's input thread waits on the terminal with a 0.1 s timeout and, once told to stop, waits
once more for trailing input: every quit spent 0.2 s there (measured in tmux: 0.21 s of the 0.46 s
from `q` to the shell's next line). Here the thread also watches a pipe that is written the moment
it is told to stop, and its last look at the terminal does not wait. The rest is Textual's own
``run_input_thread`` (8.2), unchanged.
"""

from __future__ import annotations

import os
import selectors
import threading
from codecs import getincrementaldecoder
from typing import Any

from textual._loop import loop_last
from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver


class _WakingEvent(threading.Event):
    """An event that also writes a byte to a pipe when set: the input thread's select wakes at once."""

    def __init__(self, wake_fd: int) -> None:
        super().__init__()
        self._wake_fd = wake_fd

    def set(self) -> None:
        super().set()
        try:
            os.write(self._wake_fd, b"!")
        except OSError:  # the pipe is full (already woken) or closed: nothing to add
            pass


class PromptLinuxDriver(LinuxDriver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)
        self.exit_event = _WakingEvent(wake_write)

    def run_input_thread(self) -> None:
        """Wait for input and dispatch events (Textual's loop, and the wake-up pipe beside the terminal)."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        selector.register(self._wake_read, selectors.EVENT_READ)
        fileno = self.fileno
        parser = XTermParser(self._debug)
        feed, tick = parser.feed, parser.tick
        decode = getincrementaldecoder("utf-8")().decode

        def process_selector_events(selector_events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            for last, (key, mask) in loop_last(selector_events):
                if key.fd == self._wake_read:
                    os.read(self._wake_read, 1024)
                    continue
                if mask & selectors.EVENT_READ:
                    unicode_data = decode(os.read(fileno, 1024 * 4), final=final and last)
                    if not unicode_data:
                        break
                    for event in feed(unicode_data):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process_selector_events(selector.select(0.1))
            selector.unregister(self._wake_read)
            selector.unregister(self.fileno)
            process_selector_events(selector.select(0), final=True)  # what is there now, without waiting for more
        finally:
            selector.close()
            try:
                for _ in feed(""):
                    pass
            except (EOFError, ParseError):
                pass
