"""Fuzz the config loader: whatever the file holds, the answer is a Config or a ConfigError."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveguard.adapters.config_file import ConfigError, parse_config
from liveguard.cli.home_commands import starter_config_text

KEYS = [
    "shop",
    "timezone",
    "language",
    "alerts",
    "channels",
    "sources",
    "promotions",
    "keys",
    "id",
    "name",
    "live",
    "checks",
    "kind",
    "url",
    "expect",
    "every",
    "timeout",
    "host",
    "port",
    "component",
    "channel",
    "headers",
    "armed",
    "grace",
    "actions",
    "text",
    "steps",
    "undo",
    "body",
    "secret",
    "method",
    "fields",
    "items",
    "failures_before_down",
    "auto_activate_after",
]
SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(
        [
            "http",
            "tcp",
            "feed",
            "statuspage",
            "webhook",
            "message",
            "link",
            "checklist",
            "http-json",
            "30s",
            "0s",
            "5m",
            "off",
            "tiktok",
            "https://x.example/a",
            "http://127.0.0.1:1/x",
            "${MISSING}",
            "status == 200",
            "body.a[0] contains x",
        ]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=6),
    ),
    max_leaves=30,
)
DOCS = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=8)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(value), repr(value))
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic strings
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"


def _document(doc: dict[str, object]) -> str:
    return "\n".join(f"{k} = {_toml(v)}" for k, v in doc.items()) + "\n"


def _examples(big: bool) -> int:
    return 3000 if big else 300


@pytest.fixture
def examples(big: bool) -> int:
    return _examples(big)


def test_structured_garbage_is_a_config_or_a_clear_error(examples: int) -> None:
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(DOCS)
    def check(doc: dict[str, object]) -> None:
        text = _document(doc)
        try:
            parse_config(text, "fuzz.toml", {})
        except ConfigError as exc:
            assert str(exc).startswith("fuzz.toml")
            assert "\n" not in str(exc)

    check()


def test_random_text_is_a_config_or_a_clear_error(examples: int) -> None:
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.text(max_size=200))
    def check(text: str) -> None:
        try:
            parse_config(text, "fuzz.toml", {})
        except ConfigError as exc:
            assert str(exc).startswith("fuzz.toml")

    check()


def test_mutated_starter_lines_are_a_config_or_a_clear_error(examples: int) -> None:
    lines = starter_config_text().splitlines()

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.integers(0, len(lines) - 1), st.text(max_size=40))
    def check(index: int, replacement: str) -> None:
        mutated = [*lines[:index], replacement, *lines[index + 1 :]]
        try:
            parse_config("\n".join(mutated), "fuzz.toml", {})
        except ConfigError as exc:
            assert str(exc).startswith("fuzz.toml")

    check()
