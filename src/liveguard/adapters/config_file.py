"""Read ``liveguard.toml`` into a validated :class:`~liveguard.core.config.Config`.

Every error names the file, the line where it can be known, and the key, e.g.
``liveguard.toml:14: channels[0].checks[0].timeout: bad duration '10x' (use 500ms, 30s, 5m or 2h)``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from liveguard.core.actions import ACTION_NAMES
from liveguard.core.config import (
    Action,
    Alerts,
    Channel,
    Check,
    Config,
    OrderSource,
    Promotion,
    env_names,
    resolve_env,
)
from liveguard.core.expectations import ExpectationError, parse_expectation
from liveguard.core.timekeeping import DurationError, load_zone, parse_duration

from .toml_lines import key_lines, line_of

__all__ = ["ConfigError", "load_config", "parse_config"]

T = TypeVar("T")
ID_RE = re.compile(r"^[a-z0-9-]+$")


class ConfigError(Exception):
    """A config problem, already phrased for the seller: ``file:line: key: what``."""

    def __init__(self, file: str, line: int | None, key: str, message: str) -> None:
        self.file, self.line, self.key, self.message = file, line, key, message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


class _Reader:
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
            raise self.fail(path, f"must be a table, not {_kind(value)}")
        for key in value:
            if key not in allowed:
                hint = _closest(key, allowed)
                raise self.fail(
                    _join(path, key), "unknown key" + (f" (did you mean {hint!r}?)" if hint else "")
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
            raise self.fail(_join(path, key), f"must be {_name(kind)}, not {_kind(value)}")
        return value  # type: ignore[no-any-return]

    def text(self, table: dict[str, Any], key: str, path: str, default: str = "") -> str:
        value = self.typed(table, key, path, str, default)
        self.env_present(value, _join(path, key))
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
            raise self.fail(_join(path, key), str(exc)) from None
        if value < minimum:
            raise self.fail(_join(path, key), f"must be at least {minimum.total_seconds():g}s")
        return value

    def url(self, table: dict[str, Any], key: str, path: str, *, required: bool = True) -> str:
        value = self.text(table, key, path)
        if not value:
            if required:
                raise self.fail(
                    path if key not in table else _join(path, key), f"missing key {key!r}"
                )
            return ""
        check_url(resolve_env(value, self.environ), lambda msg: self.fail(_join(path, key), msg))
        return value

    def headers(self, table: dict[str, Any], path: str) -> dict[str, str]:
        raw = table.get("headers", {})
        if not isinstance(raw, dict):
            raise self.fail(_join(path, "headers"), f"must be a table, not {_kind(raw)}")
        out: dict[str, str] = {}
        for name, value in raw.items():
            if not isinstance(value, str):
                raise self.fail(
                    _join(path, f"headers.{name}"), f"must be a string, not {_kind(value)}"
                )
            self.env_present(value, _join(path, f"headers.{name}"))
            out[name] = value
        return out

    def string_list(self, table: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
        raw = table.get(key, [])
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise self.fail(_join(path, key), "must be a list of strings")
        return tuple(raw)

    def items(
        self, root: dict[str, Any], key: str, path: str = ""
    ) -> list[tuple[str, dict[str, Any]]]:
        raw = root.get(key, [])
        full = _join(path, key)
        if not isinstance(raw, list):
            raise self.fail(full, f"must be a list of tables ([[{full}]]), not {_kind(raw)}")
        return [(f"{full}[{i}]", item) for i, item in enumerate(raw)]


def check_url(url: str, fail: Callable[[str], Exception]) -> None:
    """http(s) only; plain http only to loopback, so secrets never cross a network in clear."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError as exc:
        raise fail(f"bad URL {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise fail(f"bad URL {url!r} (expected https://host/…)")
    if parts.scheme == "http" and not is_loopback(host):
        raise fail(f"plain http is allowed only for loopback hosts; use https:// for {host}")


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _name(kind: type) -> str:
    return {bool: "true or false", int: "a whole number", str: "a string", float: "a number"}.get(
        kind, kind.__name__
    )


def _closest(key: str, allowed: set[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    return matches[0] if matches else None


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate the config file; raises ConfigError (one clear line) on any problem."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            str(path), None, "", "no config file here; run `liveguard init` to write one"
        ) from None
    except OSError as exc:
        raise ConfigError(str(path), None, "", f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), None, "", f"not UTF-8 text (byte {exc.start})") from None
    return parse_config(text, str(path), os.environ if environ is None else environ)


def parse_config(
    text: str, file: str = "liveguard.toml", environ: Mapping[str, str] | None = None
) -> Config:
    env = os.environ if environ is None else environ
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        message = getattr(exc, "msg", str(exc))
        match = re.search(r"\(at line (\d+)", str(exc))
        if line is None and match:
            line = int(match.group(1))
            message = str(exc).split(" (at line")[0]
        raise ConfigError(file, line, "", f"not valid TOML: {message}") from None
    r = _Reader(file, text, env)
    return _config(r, data, file)


_TOP_KEYS = {"shop", "timezone", "language", "alerts", "channels", "sources", "promotions", "keys"}


def _config(r: _Reader, data: dict[str, Any], file: str) -> Config:
    r.table(data, "", _TOP_KEYS)
    shop = r.typed(data, "shop", "", str, "Toko Saya")
    zone = r.typed(data, "timezone", "", str, "Asia/Jakarta")
    try:
        load_zone(zone)
    except ValueError as exc:
        raise r.fail("timezone", str(exc)) from None
    language = r.typed(data, "language", "", str, "") or None
    if language not in (None, "id", "en"):
        raise r.fail("language", f'must be "id" or "en", not {language!r}')
    alerts = _alerts(r, data.get("alerts", {}))
    channels = tuple(_channel(r, path, item) for path, item in r.items(data, "channels"))
    seen: dict[str, str] = {}
    for (path, _), channel in zip(r.items(data, "channels"), channels, strict=True):
        if channel.id in seen:
            raise r.fail(
                f"{path}.id", f"duplicate channel id {channel.id!r} (first in {seen[channel.id]})"
            )
        seen[channel.id] = path
    sources = tuple(_source(r, path, item, seen) for path, item in r.items(data, "sources"))
    promotions = tuple(_promotion(r, path, item) for path, item in r.items(data, "promotions"))
    _check_promotions(r, data, promotions)
    keys = _keys(r, data.get("keys", {}))
    return Config(
        path=file,
        shop=shop,
        timezone=zone,
        language=language,
        alerts=alerts,
        channels=channels,
        sources=sources,
        promotions=promotions,
        keys=keys,
    )


def _alerts(r: _Reader, raw: Any) -> Alerts:
    t = r.table(
        raw, "alerts", {"failures_before_down", "successes_before_up", "auto_activate_after"}
    )
    fails = r.typed(t, "failures_before_down", "alerts", int, 3)
    ups = r.typed(t, "successes_before_up", "alerts", int, 2)
    for key, value in (("failures_before_down", fails), ("successes_before_up", ups)):
        if not 1 <= value <= 100:
            raise r.fail(f"alerts.{key}", f"must be between 1 and 100, not {value}")
    auto = t.get("auto_activate_after", "off")
    after = (
        None
        if auto == "off"
        else r.duration(
            t, "auto_activate_after", "alerts", timedelta(0), minimum=timedelta(seconds=1)
        )
    )
    return Alerts(fails, ups, after)


_CHECK_KEYS = {
    "http": {"kind", "url", "method", "expect", "headers", "every", "timeout"},
    "statuspage": {"kind", "url", "component", "headers", "every", "timeout"},
    "tcp": {"kind", "host", "port", "every", "timeout"},
    "feed": {"kind", "url", "channel", "headers", "every", "timeout"},
}


def _channel(r: _Reader, path: str, raw: Any) -> Channel:
    t = r.table(raw, path, {"id", "name", "live", "checks"}, {"id"})
    cid = r.typed(t, "id", path, str, "")
    if not ID_RE.match(cid):
        raise r.fail(f"{path}.id", f"{cid!r} is not a valid id (use a-z, 0-9 and -)")
    name = r.typed(t, "name", path, str, cid)
    live = r.typed(t, "live", path, bool, False)
    checks = tuple(_check(r, p, item) for p, item in r.items(t, "checks", path))
    return Channel(cid, name, live, checks)


def _check(r: _Reader, path: str, raw: Any) -> Check:
    if not isinstance(raw, dict):
        raise r.fail(path, f"must be a table, not {_kind(raw)}")
    kind = raw.get("kind")
    if kind not in _CHECK_KEYS:
        raise r.fail(f"{path}.kind", f"must be one of http, statuspage, tcp, feed, not {kind!r}")
    t = r.table(raw, path, _CHECK_KEYS[kind])
    every = r.duration(t, "every", path, timedelta(seconds=30), minimum=timedelta(seconds=1))
    timeout = r.duration(
        t, "timeout", path, timedelta(seconds=10), minimum=timedelta(milliseconds=50)
    )
    if kind == "tcp":
        host = r.typed(t, "host", path, str, "")
        port = r.typed(t, "port", path, int, 0)
        if not host:
            raise r.fail(path, "missing key 'host'")
        if not 1 <= port <= 65535:
            raise r.fail(f"{path}.port", f"must be a port number 1-65535, not {port}")
        return Check("tcp", host=host, port=port, every=every, timeout=timeout)
    url = r.url(t, "url", path)
    headers = r.headers(t, path)
    if kind == "http":
        expect = r.string_list(t, "expect", path)
        for i, rule in enumerate(expect):
            try:
                parse_expectation(rule)
            except ExpectationError as exc:
                raise r.fail(f"{path}.expect[{i}]", str(exc)) from None
        method = r.typed(t, "method", path, str, "GET").upper()
        if method not in ("GET", "HEAD", "POST"):
            raise r.fail(f"{path}.method", f"must be GET, HEAD or POST, not {method!r}")
        return Check(
            "http",
            url=url,
            method=method,
            expect=expect,
            headers=headers,
            every=every,
            timeout=timeout,
        )
    if kind == "statuspage":
        component = r.typed(t, "component", path, str, "")
        return Check(
            "statuspage",
            url=url,
            component=component,
            headers=headers,
            every=every,
            timeout=timeout,
        )
    feed_channel = r.typed(t, "channel", path, str, "")
    return Check(
        "feed", url=url, feed_channel=feed_channel, headers=headers, every=every, timeout=timeout
    )


_SOURCE_FIELDS = {"id", "created", "amount", "status"}


def _source(r: _Reader, path: str, raw: Any, channels: dict[str, str]) -> OrderSource:
    t = r.table(
        raw,
        path,
        {"kind", "channel", "url", "every", "timeout", "headers", "items", "fields"},
        {"kind", "channel", "url"},
    )
    kind = r.typed(t, "kind", path, str, "")
    if kind != "http-json":
        raise r.fail(f"{path}.kind", f'must be "http-json", not {kind!r}')
    channel = r.typed(t, "channel", path, str, "")
    if channel not in channels:
        raise r.fail(
            f"{path}.channel",
            f"unknown channel {channel!r} (known: {', '.join(channels) or 'none'})",
        )
    fields = t.get("fields", {})
    r.table(fields, f"{path}.fields", _SOURCE_FIELDS)
    for key, value in fields.items():
        if not isinstance(value, str) or not value:
            raise r.fail(f"{path}.fields.{key}", "must be a field name (a string)")
    return OrderSource(
        kind="http-json",
        channel=channel,
        url=r.url(t, "url", path),
        every=r.duration(t, "every", path, timedelta(seconds=60), minimum=timedelta(seconds=1)),
        timeout=r.duration(
            t, "timeout", path, timedelta(seconds=10), minimum=timedelta(milliseconds=50)
        ),
        headers=r.headers(t, path),
        items=r.typed(t, "items", path, str, ""),
        fields=dict(fields),
    )


def _promotion(r: _Reader, path: str, raw: Any) -> Promotion:
    t = r.table(raw, path, {"id", "name", "armed", "grace", "actions", "channel"}, {"id"})
    pid = r.typed(t, "id", path, str, "")
    if not ID_RE.match(pid):
        raise r.fail(f"{path}.id", f"{pid!r} is not a valid id (use a-z, 0-9 and -)")
    channel = r.typed(t, "channel", path, str, "")
    return Promotion(
        id=pid,
        channel=channel,
        name=r.typed(t, "name", path, str, pid),
        armed=r.typed(t, "armed", path, bool, False),
        grace=r.duration(t, "grace", path, timedelta(seconds=5)),
        actions=tuple(_action(r, p, item) for p, item in r.items(t, "actions", path)),
    )


_ACTION_KEYS = {
    "webhook": {"kind", "name", "url", "method", "headers", "body", "secret", "timeout", "undo"},
    "message": {"kind", "name", "text", "file", "undo"},
    "link": {"kind", "name", "url", "undo"},
    "checklist": {"kind", "name", "steps", "undo"},
}


def _action(r: _Reader, path: str, raw: Any, *, inherit: Action | None = None) -> Action:
    if not isinstance(raw, dict):
        raise r.fail(path, f"must be a table, not {_kind(raw)}")
    kind = inherit.kind if inherit else raw.get("kind")
    if kind not in _ACTION_KEYS:
        raise r.fail(
            f"{path}.kind", f"must be one of webhook, message, link, checklist, not {kind!r}"
        )
    allowed = _ACTION_KEYS[kind] - ({"kind", "undo"} if inherit else set())
    t = r.table(raw, path, allowed)
    name = r.typed(t, "name", path, str, "")
    if kind == "webhook":
        method = r.typed(t, "method", path, str, inherit.method if inherit else "POST").upper()
        if method not in ("POST", "PUT", "PATCH", "DELETE", "GET"):
            raise r.fail(
                f"{path}.method", f"must be POST, PUT, PATCH, DELETE or GET, not {method!r}"
            )
        body = t.get("body")
        if body is not None and not isinstance(body, dict):
            raise r.fail(f"{path}.body", f"must be a table, not {_kind(body)}")
        if body is not None:
            _env_in_values(r, body, f"{path}.body")
        secret = r.text(t, "secret", path, inherit.secret if inherit else "")
        action = Action(
            "webhook",
            name=name,
            url=r.url(t, "url", path),
            method=method,
            headers=r.headers(t, path) or (dict(inherit.headers) if inherit else {}),
            body=body,
            secret=secret,
            timeout=r.duration(
                t,
                "timeout",
                path,
                inherit.timeout if inherit else timedelta(seconds=10),
                minimum=timedelta(milliseconds=50),
            ),
        )
    elif kind == "message":
        text = r.text(t, "text", path)
        if not text.strip():
            raise r.fail(f"{path}.text" if "text" in t else path, "a message needs some text")
        action = Action("message", name=name, text=text, file=r.typed(t, "file", path, str, ""))
    elif kind == "link":
        action = Action("link", name=name, url=r.url(t, "url", path))
    else:
        steps = r.string_list(t, "steps", path)
        if not steps:
            raise r.fail(
                f"{path}.steps" if "steps" in t else path, "a checklist needs at least one step"
            )
        action = Action("checklist", name=name, steps=steps)
    if inherit is None and "undo" in t:
        undo = _action(r, f"{path}.undo", t["undo"], inherit=action)
        action = Action(**{**action.__dict__, "undo": undo})
    return action


def _env_in_values(r: _Reader, value: Any, path: str) -> None:
    if isinstance(value, str):
        r.env_present(value, path)
    elif isinstance(value, dict):
        for k, v in value.items():
            _env_in_values(r, v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _env_in_values(r, v, f"{path}[{i}]")


def _check_promotions(r: _Reader, data: dict[str, Any], promotions: tuple[Promotion, ...]) -> None:
    seen: dict[str, int] = {}
    armed: list[int] = []
    for i, promo in enumerate(promotions):
        if promo.id in seen:
            raise r.fail(f"promotions[{i}].id", f"duplicate promotion id {promo.id!r}")
        seen[promo.id] = i
        if promo.armed:
            armed.append(i)
    if len(armed) > 1:
        raise r.fail(
            f"promotions[{armed[1]}].armed",
            f"only one promotion can be armed (also promotions[{armed[0]}])",
        )
    channels = {c.get("id") for c in data.get("channels", []) if isinstance(c, dict)}
    for i, raw in enumerate(data.get("promotions", [])):
        channel = raw.get("channel") if isinstance(raw, dict) else None
        if channel is not None and channel not in channels:
            known = ", ".join(sorted(map(str, channels))) or "none"
            message = f"unknown channel {channel!r} (known: {known})"
            raise r.fail(f"promotions[{i}].channel", message)


def _keys(r: _Reader, raw: Any) -> dict[str, str]:
    t = r.table(raw, "keys", set(raw) if isinstance(raw, dict) else set())
    out: dict[str, str] = {}
    for action, key in t.items():
        if action not in ACTION_NAMES:
            hint = _closest(action, set(ACTION_NAMES))
            raise r.fail(
                f"keys.{action}", "unknown action" + (f" (did you mean {hint!r}?)" if hint else "")
            )
        if not isinstance(key, str) or not key.strip():
            raise r.fail(f"keys.{action}", 'must be a key name such as "b" or "f5"')
        out[action] = key
    return out
