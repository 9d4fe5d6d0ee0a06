"""A command in a pseudo-terminal (POSIX): what it printed, keys sent to it, how it ended.

Used by the demo test and by scripts/check_installed.py (which runs the installed command).
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path


class PtySession:
    def __init__(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> None:
        import pty

        self.seen = b""
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the command
            os.chdir(cwd)
            os.execve(argv[0], list(argv), dict(env))

    def read_until(self, done: Callable[[bytes], bool], deadline_s: float) -> bool:
        """Collect output until ``done(output)``, the end of output or the deadline."""
        give_up = time.monotonic() + deadline_s
        while not done(self.seen) and time.monotonic() < give_up:
            if not self._read(0.2):
                break
        return done(self.seen)

    def _read(self, wait_s: float) -> bool:
        """Read what the command printed within ``wait_s``; False at the end of output."""
        ready, _, _ = select.select([self.fd], [], [], wait_s)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # the child is gone
            return False
        self.seen += chunk
        return bool(chunk)

    def send(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def wait(self, deadline_s: float) -> int | None:
        """The exit code once the command ended (reading what it still prints), or None
        when it did not end before the deadline: then it is killed."""
        give_up = time.monotonic() + deadline_s
        try:
            while time.monotonic() < give_up:
                # keep reading: a command whose output nobody reads blocks and never ends
                self._read(0.05)
                waited, status = os.waitpid(self.pid, os.WNOHANG)
                if waited:
                    self.read_until(lambda out: False, 0.5)  # the last words
                    return os.waitstatus_to_exitcode(status)
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
            return None
        finally:
            os.close(self.fd)
