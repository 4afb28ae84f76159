"""A child process on a real pseudo-terminal, read as a terminal would show it (pyte emulates one)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time
from pathlib import Path


class Terminal:
    """A child process on a pty (100x30 unless told), read as a stream (enough to find words on the screen)."""

    def __init__(self, argv: list[str], cwd: Path, size: tuple[int, int] = (100, 30), env: dict[str, str] | None = None) -> None:
        self.size = size
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child
            os.chdir(cwd)
            # The size is the terminal's, set before the program starts, as a real terminal's is: not
            # COLUMNS and LINES, which Textual prefers to it, so that a resize (SIGWINCH) takes effect.
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
            env = {**os.environ, "TERM": "xterm-256color", **(env or {})}
            for name in ("GOLDSPAN_DEBUG", "COLUMNS", "LINES"):
                env.pop(name, None)
            os.execve(argv[0], argv, env)
        self.seen = b""

    def wait_for(self, text: str, timeout: float = 60, after: int = 0) -> None:
        """Read until ``text`` has been drawn (after byte ``after`` of what was read, if given)."""
        end = time.monotonic() + timeout
        while text.encode() not in self.seen[after:]:
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{text!r} never appeared on the screen")
            ready, _, _ = select.select([self.fd], [], [], min(remaining, 0.5))
            if ready:
                try:
                    self.seen += os.read(self.fd, 65536)
                except OSError:
                    raise AssertionError(f"the program ended before {text!r} appeared") from None

    def drain(self, quiet: float = 0.5, timeout: float = 20) -> None:
        """Read until the program has drawn nothing for ``quiet`` seconds: its screen has settled."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and select.select([self.fd], [], [], quiet)[0]:
            self.seen += os.read(self.fd, 65536)

    def screen(self) -> list[str]:
        """The terminal's rows as a terminal would show them now (pyte emulates one)."""
        return list(self.emulated().display)

    def emulated(self):  # type: ignore[no-untyped-def]
        """pyte's screen after everything the program wrote: each cell's character, colours and attributes."""
        import pyte

        screen = pyte.Screen(*self.size)
        pyte.ByteStream(screen).feed(self.seen)
        return screen

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def exit_status(self, timeout: float = 20) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.2)
                if ready:
                    self.seen += os.read(self.fd, 65536)
            except OSError:
                pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError("the program did not end")

    def hang_up(self) -> None:
        """Close the terminal, as closing its window does: the kernel sends SIGHUP to the program."""
        os.close(self.fd)
        self.fd = -1

    def ends_within(self, seconds: float) -> int | None:
        """The exit status if the program ends within ``seconds`` (polled), else None (and it is killed)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.fd >= 0:
                try:
                    if select.select([self.fd], [], [], 0.05)[0]:
                        self.seen += os.read(self.fd, 65536)
                except OSError:
                    pass
            else:
                time.sleep(0.05)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                if self.fd >= 0:
                    os.close(self.fd)
                    self.fd = -1
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        return None
