"""The expectation grammar of ``http`` checks: ``LEFT OP RIGHT``.

LEFT is ``status``, ``response_time`` (ms), ``body``, ``body.<dotted.json.path>`` (``[n]`` for
list items) or ``connected``; OP one of ``== != < <= > >= contains``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_EXPECTATIONS",
    "Expectation",
    "ExpectationError",
    "Observed",
    "evaluate",
    "parse_expectation",
]

OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "contains")
_LEFT_RE = re.compile(
    r"^(status|response_time|connected|body(\.[A-Za-z0-9_\-]+(\[\d+\])*|\[\d+\])*)$"
)
_RULE_RE = re.compile(r"^\s*(\S+)\s+(==|!=|<=|>=|<|>|contains)\s+(.+?)\s*$")


class ExpectationError(ValueError):
    pass


@dataclass(frozen=True)
class Expectation:
    left: str
    op: str
    right: Any
    text: str

    @property
    def is_timing(self) -> bool:
        return self.left == "response_time"


def _literal(text: str) -> Any:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    try:
        return json.loads(text)  # numbers, true/false/null
    except ValueError:
        return text  # a bare word compares as a string


def parse_expectation(rule: str) -> Expectation:
    m = _RULE_RE.match(rule)
    if not m:
        raise ExpectationError(
            f'cannot read {rule!r}: write LEFT OP RIGHT, e.g. "status == 200" '
            f"(OP one of {' '.join(OPERATORS)})"
        )
    left, op, right_text = m.groups()
    if not _LEFT_RE.match(left):
        raise ExpectationError(
            f"unknown left side {left!r} in {rule!r} "
            "(use status, response_time, body, body.<path> or connected)"
        )
    right = _literal(right_text)
    numeric = left in ("status", "response_time")
    if numeric and not (isinstance(right, int | float) and not isinstance(right, bool)):
        raise ExpectationError(f"{left} compares with a number, not {right_text!r}")
    if left == "connected" and (op not in ("==", "!=") or not isinstance(right, bool)):
        raise ExpectationError(
            f"connected compares with == true or == false, not {op} {right_text}"
        )
    if op in ("<", "<=", ">", ">=") and not isinstance(right, int | float):
        raise ExpectationError(f"{op} needs a number on the right, not {right_text!r}")
    return Expectation(left, op, right, rule.strip())


DEFAULT_EXPECTATIONS = ("status < 400",)
_NOT_JSON = object()
_MISSING = object()
_PATH_PART_RE = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class Observed:
    """What one http check saw; ``body`` is the decoded text (None when nothing came back)."""

    connected: bool
    status: int | None = None
    response_time: int | None = None  # ms
    body: str | None = None
    _json: list[Any] = field(default_factory=list, repr=False, compare=False)

    def json(self) -> Any:
        """The body parsed as JSON once, or the _NOT_JSON marker."""
        if not self._json:
            try:
                self._json.append(json.loads(self.body or ""))
            except (ValueError, RecursionError):  # a body nested thousands deep
                self._json.append(_NOT_JSON)
        return self._json[0]


def _show(value: Any) -> str:
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return json.dumps(shown, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


def _expected(exp: Expectation) -> str:
    return _show(exp.right) if exp.op == "==" else f"{exp.op} {_show(exp.right)}"


def _holds(op: str, actual: Any, right: Any) -> bool:
    if op == "contains":
        if isinstance(actual, str):
            return isinstance(right, str) and right in actual
        if isinstance(actual, list):
            return right in actual
        if isinstance(actual, dict):
            return isinstance(right, str) and right in actual
        return False
    if op in ("==", "!="):
        # true == 1 in Python; a JSON true must not pass "== 1"
        same = actual == right and isinstance(actual, bool) == isinstance(right, bool)
        return same if op == "==" else not same
    if isinstance(actual, bool) or not isinstance(actual, int | float):
        return False
    if op == "<":
        return bool(actual < right)
    if op == "<=":
        return bool(actual <= right)
    if op == ">":
        return bool(actual > right)
    return bool(actual >= right)


def _lookup(data: Any, path: str) -> Any:
    for name, index in _PATH_PART_RE.findall(path):
        if name:
            if not isinstance(data, dict) or name not in data:
                return _MISSING
            data = data[name]
        else:
            if not isinstance(data, list) or int(index) >= len(data):
                return _MISSING
            data = data[int(index)]
    return data


def evaluate(exp: Expectation, seen: Observed) -> str | None:
    """None when the expectation holds, else a reason a person can read.

    e.g. ``status 503 (expected 200)``, ``body.live.enabled is false (expected true)``.
    """
    if exp.left == "connected":
        return (
            None
            if _holds(exp.op, seen.connected, exp.right)
            else ("connected" if seen.connected else "not connected")
            + f" (expected connected {_expected(exp)})"
        )
    if not seen.connected:
        return "not connected"
    if exp.left == "status":
        if _holds(exp.op, seen.status, exp.right):
            return None
        return f"status {seen.status} (expected {_expected(exp)})"
    if exp.left == "response_time":
        if _holds(exp.op, seen.response_time, exp.right):
            return None
        return f"response time {seen.response_time} ms (expected {_expected(exp)})"
    if exp.left == "body":
        if _holds(exp.op, seen.body or "", exp.right):
            return None
        if exp.op == "contains":
            return f"body does not contain {_show(exp.right)}"
        return f"body is {_show(seen.body or '')} (expected {_expected(exp)})"
    data = seen.json()
    if data is _NOT_JSON:
        return "not JSON"
    actual = _lookup(data, exp.left[len("body") :])
    if actual is _MISSING:
        return f"{exp.left} is missing (expected {_expected(exp)})"
    if _holds(exp.op, actual, exp.right):
        return None
    if exp.op == "contains":
        return f"{exp.left} does not contain {_show(exp.right)}"
    return f"{exp.left} is {_show(actual)} (expected {_expected(exp)})"
