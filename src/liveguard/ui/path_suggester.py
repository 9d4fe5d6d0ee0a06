"""File-path completion for the import screen: type the start, press → to accept."""

from __future__ import annotations

import os

from textual.suggester import Suggester

IMPORTABLE = (".csv", ".xlsx", ".txt")


class PathSuggester(Suggester):
    """Suggests the first folder or importable file that completes what was typed.

    The folder listing is one small ``os.scandir`` per keystroke; Textual runs suggesters
    as async tasks, so typing never waits on it.
    """

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        expanded = os.path.expanduser(value)
        folder, prefix = os.path.split(expanded)
        try:
            entries = sorted(os.scandir(folder or "."), key=lambda e: e.name.casefold())
        except OSError:
            return None
        for entry in entries:
            name = entry.name
            if not name.startswith(prefix) or name == prefix:
                continue
            if name.startswith(".") and not prefix.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if not is_dir and not name.lower().endswith(IMPORTABLE):
                continue
            rest = name[len(prefix) :] + (os.sep if is_dir else "")
            return value + rest
        return None
