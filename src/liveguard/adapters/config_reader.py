"""Reading TOML values with checks that name the file, line and key of every problem."""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from liveguard.core.config import env_names, header_problem, is_header_name, resolve_env
from liveguard.core.text import clean_line
from liveguard.core.timekeeping import DurationError, parse_duration

from .toml_lines import key_lines, line_of

__all__ = [
    "ConfigError",
    "Reader",
    "check_url",
    "closest",
    "env_in_values",
    "is_loopback",
    "join",
    "kind_of",
]

T = TypeVar("T")
MESSAGE_MAX = 300


class ConfigError(Exception):
    """A config problem, already phrased for the seller: ``file:line: key: what``."""

    def __init__(self, file: str, line: int | None, key: str, message: str) -> None:
        # the message may echo a value from the file: one clean line, never a control code
        message = clean_line(message, MESSAGE_MAX)
        self.file, self.line, self.key, self.message = file, line, key, message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


class Reader:
    """Walks the parsed TOML, checking keys and types, remembering where it is."""

    def __init__(self, file: str, text: str, environ: Mapping[str, str]) -> None:
        self.file = file
        self.lines = key_lines(text)
        self.environ = environ

    def fail(self, path: str, message: str) -> ConfigError:
        return ConfigError(self.file, line_of(self.lines, path), path, message)

    def table(
        self,
        value: Any,
        path: str,
        allowed: set[str],
        required: frozenset[str] | set[str] = frozenset(),
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a table, not {kind_of(value)}")
        for key in value:
            if key not in allowed:
                hint = closest(key, allowed)
                raise self.fail(
                    join(path, key), "unknown key" + (f" (did you mean {hint!r}?)" if hint else "")
                )
        for key in sorted(required):
            if key not in value:
                raise self.fail(path, f"missing key {key!r}")
        return value

    def typed(self, table: dict[str, Any], key: str, path: str, kind: type[T], default: T) -> T:
        if key not in table:
            return default
        value = table[key]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            raise self.fail(join(path, key), f"must be {type_name(kind)}, not {kind_of(value)}")
        return value  # type: ignore[no-any-return]

    def text(self, table: dict[str, Any], key: str, path: str, default: str = "") -> str:
        value = self.typed(table, key, path, str, default)
        self.env_present(value, join(path, key))
        return value

    def env_present(self, value: str, path: str) -> None:
        for name in env_names(value):
            if name not in self.environ:
                raise self.fail(
                    path, f"environment variable {name} is not set (used as ${{{name}}})"
                )

    def duration(
        self,
        table: dict[str, Any],
        key: str,
        path: str,
        default: timedelta,
        *,
        minimum: timedelta = timedelta(0),
    ) -> timedelta:
        if key not in table:
            return default
        try:
            value = parse_duration(table[key])
        except DurationError as exc:
            raise self.fail(join(path, key), str(exc)) from None
        if value < minimum:
            raise self.fail(join(path, key), f"must be at least {minimum.total_seconds():g}s")
        return value

    def url(self, table: dict[str, Any], key: str, path: str, *, required: bool = True) -> str:
        value = self.text(table, key, path)
        if not value:
            if required:
                raise self.fail(
                    path if key not in table else join(path, key), f"missing key {key!r}"
                )
            return ""
        check_url(
            resolve_env(value, self.environ),
            lambda msg: self.fail(join(path, key), msg),
            shown=not env_names(value),
        )
        return value

    def headers(self, table: dict[str, Any], path: str) -> dict[str, str]:
        raw = table.get("headers", {})
        if not isinstance(raw, dict):
            raise self.fail(join(path, "headers"), f"must be a table, not {kind_of(raw)}")
        out: dict[str, str] = {}
        for name, value in raw.items():
            if not isinstance(value, str):
                raise self.fail(
                    join(path, f"headers.{name}"), f"must be a string, not {kind_of(value)}"
                )
            key = join(path, f"headers.{name}")
            if not is_header_name(name):
                raise self.fail(key, "is not a valid header name")
            self.env_present(value, key)
            # ${NAME} values are checked when used (HeaderValueError names the header then)
            problem = None if env_names(value) else header_problem(value)
            if problem is not None:
                raise self.fail(key, f"the value {problem}")
            out[name] = value
        return out

    def string_list(self, table: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
        raw = table.get(key, [])
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise self.fail(join(path, key), "must be a list of strings")
        return tuple(raw)

    def items(
        self, root: dict[str, Any], key: str, path: str = ""
    ) -> list[tuple[str, dict[str, Any]]]:
        raw = root.get(key, [])
        full = join(path, key)
        if not isinstance(raw, list):
            raise self.fail(full, f"must be a list of tables ([[{full}]]), not {kind_of(raw)}")
        return [(f"{full}[{i}]", item) for i, item in enumerate(raw)]


def env_in_values(r: Reader, value: Any, path: str) -> None:
    """Every ``${NAME}`` anywhere in a nested value (a webhook body) must be set."""
    if isinstance(value, str):
        r.env_present(value, path)
    elif isinstance(value, dict):
        for k, v in value.items():
            env_in_values(r, v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            env_in_values(r, v, f"{path}[{i}]")


def check_url(url: str, fail: Callable[[str], Exception], *, shown: bool = False) -> None:
    """http(s) only; plain http only to loopback, so secrets never cross a network in clear.

    The messages never quote the URL (it may be a secret: a webhook URL often is); with
    ``shown`` (no ``${NAME}`` in it) the plain-http one names the host.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        raise fail("bad URL (expected https://host/…)") from None
    if parts.scheme not in ("http", "https") or not host:
        raise fail("bad URL (expected https://host/…)")
    if parts.scheme == "http" and not is_loopback(host):
        target = f" for {host}" if shown else ""
        raise fail(f"plain http is allowed only for loopback hosts; use https://{target}")


def is_loopback(host: str) -> bool:
    """A literal loopback address, or a name meant for loopback (``localhost``,
    ``*.localhost``). Names are only a first check: the pool refuses plain http at request
    time unless the name resolves to loopback addresses only."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def kind_of(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def type_name(kind: type) -> str:
    return {bool: "true or false", int: "a whole number", str: "a string", float: "a number"}.get(
        kind, kind.__name__
    )


def closest(key: str, allowed: set[str]) -> str | None:
    matches = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    return matches[0] if matches else None
