"""The phone's part of ``liveguard.toml``: ``[[notify]]`` targets and ``[heartbeat]``.

Errors name file, line and key like the rest of the loader (see ``config_reader.Reader``).
Secrets stay ``${NAME}`` placeholders here; only their presence is checked.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from liveguard.core.config import (
    DEFAULT_EVENTS,
    NOTIFY_EVENTS,
    Heartbeat,
    NotifyTarget,
    QuietHours,
    env_names,
    resolve_env,
)

from .config_reader import Reader, env_in_values, is_loopback, kind_of

__all__ = ["heartbeat", "notify_targets", "parse_quiet_hours"]

ID_RE = re.compile(r"^[a-z0-9-]+$")
_CLOCK_RE = re.compile(r"^\s*(\d{1,2})[.:](\d{2})\s*$")
_COMMON = {"id", "kind", "events", "language", "quiet_hours", "after", "timeout"}
_KEYS = {
    "telegram": _COMMON | {"token", "chats", "commands", "api"},
    "ntfy": _COMMON | {"url", "priority", "tags", "headers"},
    "webhook": _COMMON | {"url", "method", "headers", "body", "form"},
    "email": _COMMON | {"host", "port", "security", "username", "password", "from", "to"},
}
_KINDS = ", ".join(_KEYS)


def parse_quiet_hours(text: str) -> QuietHours:
    """``"23.00-06.00"`` (or with colons) -> QuietHours; ValueError says what is wrong."""
    parts = text.split("-")
    if len(parts) != 2:
        raise ValueError(f"bad quiet hours {text!r} (use a range like 23.00-06.00)")
    minutes = []
    for part in parts:
        m = _CLOCK_RE.match(part)
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise ValueError(f"bad quiet hours {text!r} (use a range like 23.00-06.00)")
        minutes.append(int(m.group(1)) * 60 + int(m.group(2)))
    if minutes[0] == minutes[1]:
        raise ValueError(f"quiet hours {text!r} start and end at the same time")
    return QuietHours(minutes[0], minutes[1])


def notify_targets(r: Reader, data: dict[str, Any]) -> tuple[NotifyTarget, ...]:
    targets = tuple(_target(r, path, item) for path, item in r.items(data, "notify"))
    seen: dict[str, int] = {}
    tokens: dict[str, int] = {}
    for i, target in enumerate(targets):
        if target.id in seen:
            first = f"notify[{seen[target.id]}]"
            raise r.fail(f"notify[{i}].id", f"duplicate target id {target.id!r} (first in {first})")
        seen[target.id] = i
        if target.commands:
            # Telegram allows one getUpdates poller per bot token: a second one gets 409.
            if target.token in tokens:
                first = f"notify[{tokens[target.token]}]"
                message = f"only one target per bot token may take commands (also {first})"
                raise r.fail(f"notify[{i}].commands", message)
            tokens[target.token] = i
    return targets


def _target(r: Reader, path: str, raw: Any) -> NotifyTarget:
    if not isinstance(raw, dict):
        raise r.fail(path, f"must be a table, not {kind_of(raw)}")
    kind = raw.get("kind")
    if kind not in _KEYS:
        raise r.fail(
            f"{path}.kind" if "kind" in raw else path, f"must be one of {_KINDS}, not {kind!r}"
        )
    t = r.table(raw, path, _KEYS[kind], {"id", "kind"})
    tid = r.typed(t, "id", path, str, "")
    if not ID_RE.match(tid):
        raise r.fail(f"{path}.id", f"{tid!r} is not a valid id (use a-z, 0-9 and -)")
    common: dict[str, Any] = {
        "id": tid,
        "kind": kind,
        "events": _events(r, t, path),
        "language": _language(r, t, path),
        "quiet_hours": _quiet(r, t, path),
        "after": r.duration(t, "after", path, timedelta(0)),
        "timeout": r.duration(
            t, "timeout", path, timedelta(seconds=10), minimum=timedelta(milliseconds=50)
        ),
    }
    if kind == "telegram":
        return _telegram(r, t, path, common)
    if kind == "ntfy":
        priority = r.typed(t, "priority", path, int, 3)
        if not 1 <= priority <= 5:
            raise r.fail(f"{path}.priority", f"must be between 1 and 5, not {priority}")
        return NotifyTarget(
            **common,
            url=r.url(t, "url", path),
            priority=priority,
            tags=r.string_list(t, "tags", path),
            headers=r.headers(t, path),
        )
    if kind == "webhook":
        return _webhook(r, t, path, common)
    return _email(r, t, path, common)


def _events(r: Reader, t: dict[str, Any], path: str) -> tuple[str, ...]:
    if "events" not in t:
        return DEFAULT_EVENTS
    events = r.string_list(t, "events", path)
    for i, event in enumerate(events):
        if event not in NOTIFY_EVENTS:
            known = ", ".join(NOTIFY_EVENTS)
            raise r.fail(f"{path}.events[{i}]", f"unknown event {event!r} (known: {known})")
    if not events:
        raise r.fail(f"{path}.events", "a target needs at least one event")
    return events


def _language(r: Reader, t: dict[str, Any], path: str) -> str | None:
    language = r.typed(t, "language", path, str, "") or None
    if language not in (None, "id", "en"):
        raise r.fail(f"{path}.language", f'must be "id" or "en", not {language!r}')
    return language


def _quiet(r: Reader, t: dict[str, Any], path: str) -> QuietHours | None:
    text = r.typed(t, "quiet_hours", path, str, "")
    if not text or text == "off":
        return None
    try:
        return parse_quiet_hours(text)
    except ValueError as exc:
        raise r.fail(f"{path}.quiet_hours", str(exc)) from None


def _secret(r: Reader, t: dict[str, Any], key: str, path: str) -> str:
    """A secret must come from the environment, never be written in the file itself."""
    value = r.text(t, key, path)
    if not value:
        raise r.fail(path if key not in t else f"{path}.{key}", f"missing key {key!r}")
    if not env_names(value):
        raise r.fail(
            f"{path}.{key}",
            f'write it as "${{NAME}}" and set NAME in the environment ({key} is a secret)',
        )
    return value


def _telegram(r: Reader, t: dict[str, Any], path: str, common: dict[str, Any]) -> NotifyTarget:
    chats = t.get("chats", [])
    if not isinstance(chats, list) or not chats:
        raise r.fail(
            f"{path}.chats" if "chats" in t else path, 'needs chat ids, e.g. chats = ["123456789"]'
        )
    out: list[str] = []
    for i, chat in enumerate(chats):
        text = str(chat) if isinstance(chat, int) and not isinstance(chat, bool) else chat
        if not isinstance(text, str) or not re.fullmatch(r"-?\d{1,20}|@[A-Za-z0-9_]{4,64}", text):
            raise r.fail(
                f"{path}.chats[{i}]",
                f"not a chat id: {chat!r} (see `liveguard notify setup telegram`)",
            )
        out.append(text)
    api = r.url(t, "api", path, required=False) or "https://api.telegram.org"
    # a bot on a loopback Bot API (the demo's phone, a test) has no secret to keep
    local = is_loopback(urlsplit(resolve_env(api, r.environ)).hostname or "")
    token = r.text(t, "token", path) if local and t.get("token") else _secret(r, t, "token", path)
    return NotifyTarget(
        **common,
        token=token,
        chats=tuple(out),
        commands=r.typed(t, "commands", path, bool, False),
        api=api,
    )


def _webhook(r: Reader, t: dict[str, Any], path: str, common: dict[str, Any]) -> NotifyTarget:
    method = r.typed(t, "method", path, str, "POST").upper()
    if method not in ("POST", "PUT", "GET"):
        raise r.fail(f"{path}.method", f"must be POST, PUT or GET, not {method!r}")
    body = t.get("body")
    if body is not None and not isinstance(body, (str, dict)):
        raise r.fail(f"{path}.body", f"must be a string or a table, not {kind_of(body)}")
    form = t.get("form")
    if form is not None:
        r.table(form, f"{path}.form", set(form) if isinstance(form, dict) else set())
        for key, value in form.items():
            if not isinstance(value, str):
                raise r.fail(f"{path}.form.{key}", f"must be a string, not {kind_of(value)}")
            r.env_present(value, f"{path}.form.{key}")
    if body is not None and form is not None:
        raise r.fail(f"{path}.form", "use either body or form, not both")
    if method == "GET" and (body is not None or form is not None):
        raise r.fail(f"{path}.method", "a GET sends no body; put the values in the url")
    env_in_values(r, body, f"{path}.body")
    return NotifyTarget(
        **common,
        url=r.url(t, "url", path),
        method=method,
        headers=r.headers(t, path),
        body=body,
        form=dict(form) if form is not None else None,
    )


def _email(r: Reader, t: dict[str, Any], path: str, common: dict[str, Any]) -> NotifyTarget:
    host = r.text(t, "host", path)
    if not host:
        raise r.fail(path, "missing key 'host'")
    security = r.typed(t, "security", path, str, "starttls")
    if security not in ("starttls", "ssl", "none"):
        raise r.fail(f"{path}.security", f'must be "starttls", "ssl" or "none", not {security!r}')
    if security == "none" and not is_loopback(host):
        raise r.fail(
            f"{path}.security", f"unencrypted SMTP is allowed only for loopback hosts, not {host}"
        )
    port = r.typed(t, "port", path, int, 465 if security == "ssl" else 587)
    if not 1 <= port <= 65535:
        raise r.fail(f"{path}.port", f"must be a port number 1-65535, not {port}")
    username = r.text(t, "username", path)
    password = _secret(r, t, "password", path) if "password" in t or username else ""
    sender = r.text(t, "from", path)
    to = r.string_list(t, "to", path)
    if not sender or "@" not in sender:
        raise r.fail(
            f"{path}.from" if "from" in t else path,
            'needs a sender address (from = "toko@example.com")',
        )
    if not to:
        raise r.fail(
            f"{path}.to" if "to" in t else path,
            'needs at least one address (to = ["me@example.com"])',
        )
    for i, address in enumerate(to):
        if "@" not in address or any(c in address for c in "\r\n,;<> "):
            raise r.fail(f"{path}.to[{i}]", f"not an email address: {address!r}")
    return NotifyTarget(
        **common,
        host=host,
        port=port,
        security=security,  # type: ignore[arg-type]
        username=username,
        password=password,
        sender=sender,
        to=to,
    )


def heartbeat(r: Reader, raw: Any) -> Heartbeat | None:
    if raw is None:
        return None
    t = r.table(raw, "heartbeat", {"url", "every", "timeout", "fail_url"}, {"url"})
    every = r.duration(t, "every", "heartbeat", timedelta(minutes=1), minimum=timedelta(seconds=10))
    timeout = r.duration(
        t, "timeout", "heartbeat", timedelta(seconds=10), minimum=timedelta(milliseconds=50)
    )
    return Heartbeat(
        url=r.url(t, "url", "heartbeat"),
        every=every,
        timeout=timeout,
        fail_url=r.url(t, "fail_url", "heartbeat", required=False),
    )
