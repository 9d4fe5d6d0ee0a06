"""Read ``liveguard.toml`` into a validated :class:`~liveguard.core.config.Config`.

Every error names the file, the line where it can be known, and the key, e.g.
``liveguard.toml:14: channels[0].checks[0].timeout: bad duration '10x' (use 500ms, …)``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from liveguard.core.actions import ACTION_NAMES
from liveguard.core.config import (
    Action,
    Alerts,
    Channel,
    Check,
    Config,
    Network,
    OrderSource,
    Promotion,
    ShopeeSource,
    content_id,
    resolve_env,
)
from liveguard.core.expectations import ExpectationError, parse_expectation
from liveguard.core.text import NAME_MAX, clean_block, clean_line
from liveguard.core.timekeeping import load_zone
from liveguard.core.webhook_signing import secret_problem

from .config_reader import (
    ConfigError,
    Reader,
    check_url,
    closest,
    env_in_values,
    is_loopback,
    join,
    kind_of,
)
from .importers.vocabulary import StatusMapError, parse_status_map
from .notify_config import heartbeat, notify_targets

__all__ = ["ConfigError", "check_url", "is_loopback", "load_config", "parse_config"]

CONFIG_TEXT_MAX = 100_000  # a message written in the config: cleaned, not cut
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


_TOP_KEYS = {"shop", "timezone", "language", "alerts", "channels", "sources", "promotions"}
_TOP_KEYS |= {"keys", "imports", "notify", "heartbeat", "network"}


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
    all_sources = [_source(r, path, item, seen) for path, item in r.items(data, "sources")]
    sources = tuple(s for s in all_sources if isinstance(s, OrderSource))
    shopee = tuple(s for s in all_sources if isinstance(s, ShopeeSource))
    _check_shopee(r, data)
    promotions = tuple(_promotion(r, path, item) for path, item in r.items(data, "promotions"))
    _check_promotions(r, data, promotions)
    keys = _keys(r, data.get("keys", {}))
    status_map = _imports(r, data.get("imports", {}))
    network = _network(r, data.get("network", {}))
    return Config(
        path=file,
        shop=shop,
        timezone=zone,
        language=language,
        alerts=alerts,
        channels=channels,
        sources=sources,
        shopee=shopee,
        promotions=promotions,
        keys=keys,
        status_map=status_map,
        notify=notify_targets(r, data),
        heartbeat=heartbeat(r, data.get("heartbeat")),
        network=network,
    )


def _network(r: Reader, raw: Any) -> Network:
    t = r.table(raw, "network", {"use_env_proxy"})
    return Network(use_env_proxy=r.typed(t, "use_env_proxy", "network", bool, False))


def _imports(r: Reader, raw: Any) -> dict[str, str]:
    t = r.table(raw, "imports", {"status_map"})
    words = t.get("status_map", {})
    if not isinstance(words, dict):
        raise r.fail("imports.status_map", f"must be a table, not {kind_of(words)}")
    for word, meaning in words.items():
        try:
            parse_status_map({word: meaning})
        except StatusMapError as exc:
            raise r.fail(f"imports.status_map.{word}", str(exc)) from None
    return parse_status_map(words)


def _alerts(r: Reader, raw: Any) -> Alerts:
    t = r.table(
        raw,
        "alerts",
        {"failures_before_down", "successes_before_up", "auto_activate_after", "remind_every"},
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
    remind = (
        None
        if t.get("remind_every", "2h") == "off"
        else r.duration(
            t, "remind_every", "alerts", timedelta(hours=2), minimum=timedelta(minutes=1)
        )
    )
    return Alerts(fails, ups, after, remind)


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


def _source(r: Reader, path: str, raw: Any, channels: dict[str, str]) -> OrderSource | ShopeeSource:
    if isinstance(raw, dict) and raw.get("kind") == "shopee":
        return _shopee_source(r, path, raw, channels)
    t = r.table(
        raw,
        path,
        {"kind", "channel", "url", "every", "timeout", "headers", "items", "fields"},
        {"kind", "channel", "url"},
    )
    kind = r.typed(t, "kind", path, str, "")
    if kind != "http-json":
        raise r.fail(f"{path}.kind", f'must be "http-json" or "shopee", not {kind!r}')
    channel = _source_channel(r, t, path, channels)
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


def _source_channel(r: Reader, t: dict[str, Any], path: str, channels: dict[str, str]) -> str:
    channel = r.typed(t, "channel", path, str, "")
    if channel not in channels:
        raise r.fail(
            f"{path}.channel",
            f"unknown channel {channel!r} (known: {', '.join(channels) or 'none'})",
        )
    return channel


SHOPEE_MIN_EVERY = timedelta(seconds=30)
_SHOPEE_KEYS = {
    "kind",
    "channel",
    "partner_id",
    "partner_key",
    "shop_id",
    "every",
    "timeout",
    "api",
}


def _shopee_source(r: Reader, path: str, raw: Any, channels: dict[str, str]) -> ShopeeSource:
    t = r.table(raw, path, _SHOPEE_KEYS, {"channel", "partner_id", "partner_key", "shop_id"})
    channel = _source_channel(r, t, path, channels)
    values = {}
    for key in ("partner_id", "shop_id"):
        value = r.text(t, key, path)
        resolved = resolve_env(value, r.environ).strip()
        if not resolved.isdigit():
            # never echo the value: it may be a secret read from the environment
            raise r.fail(f"{path}.{key}", "must be a number (Shopee's id)")
        values[key] = value
    key = r.text(t, "partner_key", path)
    if not resolve_env(key, r.environ).strip():
        raise r.fail(f"{path}.partner_key", "must not be empty")
    api = r.url(t, "api", path, required=False) or ShopeeSource.api
    host = urlsplit(resolve_env(api, r.environ)).hostname or ""
    # Polite to the real platform; a loopback stand-in (tests, the demo) may be asked faster.
    floor = timedelta(seconds=1) if is_loopback(host) else SHOPEE_MIN_EVERY
    return ShopeeSource(
        channel=channel,
        partner_id=values["partner_id"],
        partner_key=key,
        shop_id=values["shop_id"],
        every=r.duration(t, "every", path, timedelta(minutes=2), minimum=floor),
        timeout=r.duration(
            t, "timeout", path, timedelta(seconds=10), minimum=timedelta(milliseconds=50)
        ),
        api=api.rstrip("/"),
    )


def _check_shopee(r: Reader, data: dict[str, Any]) -> None:
    seen: set[str] = set()
    for path, raw in r.items(data, "sources"):
        if isinstance(raw, dict) and raw.get("kind") == "shopee":
            channel = raw.get("channel", "")
            if channel in seen:
                raise r.fail(f"{path}.channel", f"a second shopee source for {channel!r}")
            seen.add(channel)


def _promotion(r: Reader, path: str, raw: Any) -> Promotion:
    keys = {"id", "name", "armed", "grace", "actions", "channel", "ends_after", "ends_at"}
    keys |= {"when_live_returns", "live_back_for"}
    t = r.table(raw, path, keys, {"id"})
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
        ends_after=r.duration(t, "ends_after", path, timedelta(0), minimum=timedelta(minutes=1))
        if "ends_after" in t
        else None,
        ends_at=_clock_time(r, t, "ends_at", path),
        when_live_returns=_choice(r, t, "when_live_returns", path, ("ask", "stop", "keep")),
        live_back_for=r.duration(t, "live_back_for", path, timedelta(minutes=30)),
        actions=_identified(
            r, [(p, _action(r, p, item), item) for p, item in r.items(t, "actions", path)]
        ),
    )


def _clock_time(r: Reader, t: dict[str, Any], key: str, path: str) -> time | None:
    """A local clock time as sellers write it: ``23.59`` or ``23:59``."""
    if key not in t:
        return None
    text = r.typed(t, key, path, str, "")
    m = re.fullmatch(r"\s*(\d{1,2})[.:](\d{2})\s*", text)
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise r.fail(f"{path}.{key}", f"{text!r} is not a time of day (write 23.59)")
    return time(int(m.group(1)), int(m.group(2)))


def _choice(r: Reader, t: dict[str, Any], key: str, path: str, allowed: tuple[str, ...]) -> Any:
    value = r.typed(t, key, path, str, allowed[0])
    if value not in allowed:
        raise r.fail(f"{path}.{key}", f"must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _identified(r: Reader, actions: list[tuple[str, Action, Any]]) -> tuple[Action, ...]:
    """Give every action its stable id: the one written in the config, else one derived from
    its content (``webhook-1a2b3c4d``); the same content twice gets ``-2``, ``-3``…"""
    out: list[Action] = []
    taken: dict[str, str] = {}
    for place, action, raw in actions:
        given = raw.get("id") if isinstance(raw, dict) else None
        if given is not None:
            if not isinstance(given, str) or not ID_RE.match(given):
                raise r.fail(f"{place}.id", f"{given!r} is not a valid id (use a-z, 0-9 and -)")
            if given in taken:
                raise r.fail(
                    f"{place}.id", f"duplicate action id {given!r} (first in {taken[given]})"
                )
            aid = given
        else:
            base = aid = content_id(action)
            n = 1
            while aid in taken:
                n += 1
                aid = f"{base}-{n}"
        taken[aid] = place
        out.append(
            replace(action, id=aid, undo=replace(action.undo, id=aid) if action.undo else None)
        )
    return tuple(out)


_ACTION_KEYS = {
    "webhook": {
        "kind", "id", "name", "url", "method", "headers", "body", "secret", "timeout", "undo",
        "check_url", "test_url",
    },
    "message": {"kind", "id", "name", "text", "file", "undo"},
    "link": {"kind", "id", "name", "url", "undo"},
    "checklist": {"kind", "id", "name", "steps", "undo"},
}  # fmt: skip


def _action(r: Reader, path: str, raw: Any, *, inherit: Action | None = None) -> Action:
    if not isinstance(raw, dict):
        raise r.fail(path, f"must be a table, not {kind_of(raw)}")
    kind = inherit.kind if inherit else raw.get("kind")
    if kind not in _ACTION_KEYS:
        raise r.fail(
            f"{path}.kind", f"must be one of webhook, message, link, checklist, not {kind!r}"
        )
    own = {"kind", "undo", "id", "check_url", "test_url"}
    allowed = _ACTION_KEYS[kind] - (own if inherit else set())
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
            env_in_values(r, body, f"{path}.body")
        secret = r.text(t, "secret", path, inherit.secret if inherit else "")
        if secret:
            _check_secret(r, secret, join(path, "secret"))
        action = Action(
            "webhook",
            name=name,
            url=r.url(t, "url", path),
            method=method,
            headers=r.headers(t, path) or (dict(inherit.headers) if inherit else {}),
            body=body,
            secret=secret,
            check_url=r.url(t, "check_url", path, required=False),
            test_url=r.url(t, "test_url", path, required=False),
            timeout=r.duration(
                t,
                "timeout",
                path,
                inherit.timeout if inherit else timedelta(seconds=10),
                minimum=timedelta(milliseconds=50),
            ),
        )
    elif kind == "message":
        # controls go; the length stays the seller's (readiness says when WhatsApp's cap is passed)
        text = clean_block(r.text(t, "text", path), CONFIG_TEXT_MAX)
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


def _check_secret(r: Reader, secret: str, path: str) -> None:
    """The secret, as it will be used (``${NAME}`` filled in), must be a Standard Webhooks
    secret; the message says what is wrong without quoting it."""
    problem = secret_problem(resolve_env(secret, r.environ))
    if problem is not None:
        raise r.fail(path, problem)


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
