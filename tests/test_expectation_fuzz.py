"""Fuzz the expectation grammar: any rule text parses or says why; any reply evaluates to
"holds" or a readable reason, never an exception."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveguard.core.expectations import (
    Expectation,
    ExpectationError,
    Observed,
    evaluate,
    parse_expectation,
)

LEFTS = st.sampled_from(
    ["status", "response_time", "body", "connected", "body.live.enabled", "body.data[0].x",
     "body.a.b[2]", "bodyx", "statuss", "body..x", "body[1]"]
)  # fmt: skip
OPS = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "contains", "=", "=>", "in"])
RIGHTS = st.one_of(
    st.sampled_from(["200", "true", "false", "null", '"on"', "'x'", "3000", "1e3", "-1", "abc"]),
    st.text(max_size=12),
)
JSON = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["live", "enabled", "data", "x", "a", "b"]), inner, max_size=4
        ),
    ),
    max_leaves=15,
)
BODIES = st.one_of(st.none(), st.text(max_size=60), JSON.map(json.dumps))


@pytest.fixture
def examples(big: bool) -> int:
    return 5000 if big else 400


def test_any_rule_text_parses_or_says_why(examples: int) -> None:
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(st.text(max_size=40), st.tuples(LEFTS, OPS, RIGHTS).map(" ".join)))
    def check(rule: str) -> None:
        try:
            parsed = parse_expectation(rule)
        except ExpectationError as exc:
            assert str(exc)
        else:
            assert isinstance(parsed, Expectation)

    check()


def test_any_reply_evaluates_to_holds_or_a_reason(examples: int) -> None:
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.tuples(LEFTS, OPS, RIGHTS).map(" ".join),
        st.booleans(),
        st.one_of(st.none(), st.integers(100, 599)),
        st.one_of(st.none(), st.integers(0, 100_000)),
        BODIES,
    )
    def check(
        rule: str, connected: bool, status: int | None, ms: int | None, body: str | None
    ) -> None:
        try:
            exp = parse_expectation(rule)
        except ExpectationError:
            return
        reason = evaluate(exp, Observed(connected, status, ms, body))
        assert reason is None or (isinstance(reason, str) and reason.strip())

    check()
