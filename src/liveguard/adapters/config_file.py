"""Read ``liveguard.toml`` into a validated :class:`~liveguard.core.config.Config`.

Every error names the file, the line where it can be known, and the key, e.g.
``liveguard.toml:14: channels[0].checks[0].timeout: bad duration '10x' (use 500ms, 30s, 5m or 2h)``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from liveguard.core.actions import ACTION_NAMES
from liveguard.core.config import Action, Alerts, Channel, Check, Config, OrderSource, Promotion
from liveguard.core.expectations import ExpectationError, parse_expectation
from liveguard.core.text import NAME_MAX, clean_block, clean_line
from liveguard.core.timekeeping import load_zone

from .config_reader import ConfigError, Reader, check_url, closest, is_loopback, kind_of

__all__ = ["ConfigError", "check_url", "is_loopback", "load_config", "parse_config"]

ID_RE = re.compile(r"^[a-z0-9-]+$")


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
    r = Reader(file, text, env)
    return _config(r, data, file)


_TOP_KEYS = {"shop", "timezone", "language", "alerts", "channels", "sources", "promotions", "keys"}


def _config(r: Reader, data: dict[str, Any], file: str) -> Config:
    r.table(data, "", _TOP_KEYS)
    shop = clean_line(r.typed(data, "shop", "", str, "Toko Saya"), NAME_MAX)
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
    _check_channel_names(r, list(r.items(data, "channels")), channels)
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


def _alerts(r: Reader, raw: Any) -> Alerts:
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


def _channel(r: Reader, path: str, raw: Any) -> Channel:
    t = r.table(raw, path, {"id", "name", "live", "checks", "aliases"}, {"id"})
    cid = r.typed(t, "id", path, str, "")
    if not ID_RE.match(cid):
        raise r.fail(f"{path}.id", f"{cid!r} is not a valid id (use a-z, 0-9 and -)")
    name = clean_line(r.typed(t, "name", path, str, cid), NAME_MAX)
    live = r.typed(t, "live", path, bool, False)
    checks = tuple(_check(r, p, item) for p, item in r.items(t, "checks", path))
    aliases = r.string_list(t, "aliases", path)
    return Channel(cid, name, live, checks, aliases)


def _check_channel_names(
    r: Reader, places: list[tuple[str, Any]], channels: tuple[Channel, ...]
) -> None:
    """Every id, name and alias points at one channel, whatever its case."""
    owner: dict[str, str] = {}
    for (path, _), channel in zip(places, channels, strict=True):
        for alias in (channel.id, channel.name, *channel.aliases):
            key = " ".join(alias.split()).casefold()
            if owner.get(key, channel.id) != channel.id:
                raise r.fail(f"{path}.aliases", f"{alias!r} already names channel {owner[key]!r}")
            owner[key] = channel.id


def _check(r: Reader, path: str, raw: Any) -> Check:
    if not isinstance(raw, dict):
        raise r.fail(path, f"must be a table, not {kind_of(raw)}")
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


def _source(r: Reader, path: str, raw: Any, channels: dict[str, str]) -> OrderSource:
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


def _promotion(r: Reader, path: str, raw: Any) -> Promotion:
    t = r.table(raw, path, {"id", "name", "armed", "grace", "actions", "channel"}, {"id"})
    pid = r.typed(t, "id", path, str, "")
    if not ID_RE.match(pid):
        raise r.fail(f"{path}.id", f"{pid!r} is not a valid id (use a-z, 0-9 and -)")
    channel = r.typed(t, "channel", path, str, "")
    return Promotion(
        id=pid,
        channel=channel,
        name=clean_line(r.typed(t, "name", path, str, pid), NAME_MAX),
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


def _action(r: Reader, path: str, raw: Any, *, inherit: Action | None = None) -> Action:
    if not isinstance(raw, dict):
        raise r.fail(path, f"must be a table, not {kind_of(raw)}")
    kind = inherit.kind if inherit else raw.get("kind")
    if kind not in _ACTION_KEYS:
        raise r.fail(
            f"{path}.kind", f"must be one of webhook, message, link, checklist, not {kind!r}"
        )
    allowed = _ACTION_KEYS[kind] - ({"kind", "undo"} if inherit else set())
    t = r.table(raw, path, allowed)
    name = clean_line(r.typed(t, "name", path, str, ""), NAME_MAX)
    if kind == "webhook":
        method = r.typed(t, "method", path, str, inherit.method if inherit else "POST").upper()
        if method not in ("POST", "PUT", "PATCH", "DELETE", "GET"):
            raise r.fail(
                f"{path}.method", f"must be POST, PUT, PATCH, DELETE or GET, not {method!r}"
            )
        body = t.get("body")
        if body is not None and not isinstance(body, dict):
            raise r.fail(f"{path}.body", f"must be a table, not {kind_of(body)}")
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
        text = clean_block(r.text(t, "text", path))
        if not text.strip():
            raise r.fail(f"{path}.text" if "text" in t else path, "a message needs some text")
        action = Action("message", name=name, text=text, file=r.typed(t, "file", path, str, ""))
    elif kind == "link":
        action = Action("link", name=name, url=r.url(t, "url", path))
    else:
        steps = tuple(clean_line(step) for step in r.string_list(t, "steps", path))
        if not steps:
            raise r.fail(
                f"{path}.steps" if "steps" in t else path, "a checklist needs at least one step"
            )
        action = Action("checklist", name=name, steps=steps)
    if inherit is None and "undo" in t:
        undo = _action(r, f"{path}.undo", t["undo"], inherit=action)
        action = Action(**{**action.__dict__, "undo": undo})
    return action


def _env_in_values(r: Reader, value: Any, path: str) -> None:
    if isinstance(value, str):
        r.env_present(value, path)
    elif isinstance(value, dict):
        for k, v in value.items():
            _env_in_values(r, v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _env_in_values(r, v, f"{path}[{i}]")


def _check_promotions(r: Reader, data: dict[str, Any], promotions: tuple[Promotion, ...]) -> None:
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


def _keys(r: Reader, raw: Any) -> dict[str, str]:
    t = r.table(raw, "keys", set(raw) if isinstance(raw, dict) else set())
    out: dict[str, str] = {}
    for action, key in t.items():
        if action not in ACTION_NAMES:
            hint = closest(action, set(ACTION_NAMES))
            raise r.fail(
                f"keys.{action}", "unknown action" + (f" (did you mean {hint!r}?)" if hint else "")
            )
        if not isinstance(key, str) or not key.strip():
            raise r.fail(f"keys.{action}", 'must be a key name such as "b" or "f5"')
        out[action] = key
    return out
