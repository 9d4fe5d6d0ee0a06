"""Both languages complete; the core stays free of I/O frameworks; one action table."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from liveguard.core.actions import ACTIONS
from liveguard.i18n import Catalog, pick_language

SRC = Path(__file__).resolve().parents[1] / "src" / "liveguard"


def test_both_catalogues_have_exactly_the_same_keys() -> None:
    en, id_ = Catalog("en").messages, Catalog("id").messages
    assert en, "the English catalogue is empty"
    assert sorted(set(en) - set(id_)) == [], "missing in Bahasa Indonesia"
    assert sorted(set(id_) - set(en)) == [], "missing in English"


def test_placeholders_match_between_languages() -> None:
    en, id_ = Catalog("en").messages, Catalog("id").messages
    fields = string.Formatter()
    for key, text in en.items():
        en_names = {f for _, f, _, _ in fields.parse(text) if f}
        id_names = {f for _, f, _, _ in fields.parse(id_[key]) if f}
        assert en_names == id_names, key


@pytest.mark.parametrize("lang", ["en", "id"])
def test_every_action_reads_in_both_languages(lang: str) -> None:
    t = Catalog(lang)
    for spec in ACTIONS:
        for key in (spec.label, spec.help, spec.group):
            assert key in t.messages, f"{lang}: {key} (action {spec.name})"


def test_ui_and_cli_keys_used_in_code_exist() -> None:
    """Every literal t("area.key") in the UI is in the catalogue (catches typos)."""
    known = set(Catalog("en").messages)
    used: set[str] = set()
    for path in (SRC / "ui").rglob("*.py"):
        used.update(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""", path.read_text()))
    assert used, "no catalogue lookups found: the pattern is stale"
    assert sorted(used - known) == []


def test_action_names_and_keys_are_unique() -> None:
    names = [a.name for a in ACTIONS]
    assert len(names) == len(set(names))
    keys = [k.strip() for a in ACTIONS for k in a.keys.split(",")]
    assert len(keys) == len(set(keys)), "two actions share a default key"


@pytest.mark.parametrize(
    ("flag", "configured", "env", "expected"),
    [
        ("id", "en", {"LANG": "en_US.UTF-8"}, "id"),
        (None, "id", {"LANG": "en_US.UTF-8"}, "id"),
        (None, None, {"LANG": "id_ID.UTF-8"}, "id"),
        (None, None, {"LANG": "en_GB.UTF-8"}, "en"),
        (None, None, {"LC_ALL": "id_ID.UTF-8", "LANG": "en_US"}, "id"),
    ],
)
def test_language_choice(
    flag: str | None, configured: str | None, env: dict[str, str], expected: str
) -> None:
    assert pick_language(flag, configured, env) == expected


FORBIDDEN_IN_CORE = {"textual", "httpx", "tinydb", "filelock", "platformdirs"}
FORBIDDEN_IN_UI = {"httpx", "tinydb", "liveguard.adapters"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def _violations(folder: str, forbidden: set[str]) -> list[str]:
    bad = []
    for path in (SRC / folder).rglob("*.py"):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(SRC)} imports {name}")
    return bad


def test_the_core_imports_no_io_framework() -> None:
    forbidden = FORBIDDEN_IN_CORE | {
        "liveguard.adapters",
        "liveguard.service",
        "liveguard.ui",
        "liveguard.cli",
    }
    assert _violations("core", forbidden) == []


def test_the_ui_reaches_the_core_only_through_the_service() -> None:
    assert _violations("ui", FORBIDDEN_IN_UI) == []


def test_adapters_do_not_reach_up() -> None:
    assert (
        _violations("adapters", {"textual", "liveguard.ui", "liveguard.service", "liveguard.cli"})
        == []
    )


def test_the_readme_lists_every_action_key() -> None:
    readme = (SRC.parents[1] / "README.md").read_text()
    keys_section = readme.split("## Keys", 1)[1].split("\n## ", 1)[0]
    shown = {
        "question_mark": "`?`",
        "escape": "`Esc`",
        "ctrl+q": "`Ctrl+Q`",
        "ctrl+p": "`Ctrl+P`",
        "tab": "`Tab`",
        "shift+tab": "`Shift+Tab`",
        "f1": "`F1`",
    }
    for spec in ACTIONS:
        first = spec.keys.split(",")[0].strip()
        if first.isdigit():
            assert "`1`–`9`" in keys_section
            continue
        assert shown.get(first, f"`{first}`") in keys_section, spec.name
