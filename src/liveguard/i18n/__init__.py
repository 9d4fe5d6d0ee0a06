"""Message catalogues for Bahasa Indonesia and English.

Each area keeps its own flat TOML file (``i18n/en/status.toml`` …); keys are prefixed by
nothing but what the file says, so ``shell.toml`` holding ``[keys] help = "Help"`` gives
``keys.help``. Both languages must have exactly the same keys (a test checks).
"""

from __future__ import annotations

import locale
import os
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["LANGUAGES", "Catalog", "pick_language"]

LANGUAGES = ("id", "en")


def _flatten(prefix: str, table: Mapping[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(full, value, out)
        else:
            out[full] = str(value)


@cache
def _messages(lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    folder = resources.files("liveguard.i18n").joinpath(lang)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            _flatten("", tomllib.loads(entry.read_text(encoding="utf-8")), out)
    return out


class Catalog:
    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}")
        self.lang = lang
        self.messages = _messages(lang)

    def __call__(self, key: str, /, **values: object) -> str:
        text = self.messages.get(key)
        if text is None:
            return key  # a missing key shows itself rather than crashing; tests catch it
        return text.format(**values) if values else text

    t = __call__


def pick_language(
    flag: str | None, configured: str | None, environ: Mapping[str, str] = os.environ
) -> str:
    """--lang, else the config's ``language``, else LANG/LC_ALL, else English."""
    for choice in (flag, configured):
        if choice in LANGUAGES:
            return choice
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(var, "")
        if value:
            return "id" if value.lower().startswith(("id", "in_")) else "en"
    try:
        current = locale.getlocale()[0] or ""
    except ValueError:
        current = ""
    return "id" if current.lower().startswith("id") else "en"
