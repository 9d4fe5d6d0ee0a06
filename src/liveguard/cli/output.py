"""The one way out of the command line: whatever a command prints (a feed's reason, a file
name, an error quoting a cell) reaches the terminal without control characters, so no
escape sequence can retitle the window, rewrite the clipboard or forge a line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from liveguard.core.text import terminal_safe

__all__ = ["TerminalSafeStream", "terminal_safe_output"]


class TerminalSafeStream:
    """A text stream that drops control and format characters (keeping ``\\n``) on write."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(terminal_safe(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def terminal_safe_output() -> Iterator[None]:
    """Route ``sys.stdout`` and ``sys.stderr`` through :class:`TerminalSafeStream`."""
    saved = sys.stdout, sys.stderr
    sys.stdout = TerminalSafeStream(saved[0])
    sys.stderr = TerminalSafeStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
