"""The seller's configuration as typed, validated objects (loaded by adapters.config_file).

Strings may hold ``${NAME}`` placeholders; they stay unresolved here and are resolved by
:func:`resolve_env` at the moment of use, so secrets are never stored or shown.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any, Literal

__all__ = [
    "DEFAULT_EVENTS",
    "NOTIFY_EVENTS",
    "Action",
    "Alerts",
    "Channel",
    "Check",
    "Config",
    "HeaderValueError",
    "Heartbeat",
    "MissingEnvError",
    "Network",
    "NotifyTarget",
    "OrderSource",
    "Promotion",
    "QuietHours",
    "ShopeeSource",
    "content_id",
    "env_names",
    "header_problem",
    "is_header_name",
    "resolve_env",
    "resolve_headers",
]

CheckKind = Literal["http", "statuspage", "tcp", "feed"]
ActionKind = Literal["webhook", "message", "link", "checklist"]

ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class MissingEnvError(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"environment variable {self.name} is not set"


class HeaderValueError(ValueError):
    """A header whose value, once its ``${NAME}`` are filled in, HTTP cannot carry. Names
    the header and the variables, never the value (it is usually a token)."""

    def __init__(self, header: str, problem: str, names: list[str]) -> None:
        super().__init__(header)
        self.header, self.problem, self.names = header, problem, names

    def __str__(self) -> str:
        source = ", ".join(f"${{{n}}}" for n in self.names)
        where = f" (from {source})" if source else ""
        return f"header {self.header}: the value{where} {self.problem}"


# A header name is an HTTP token; a value is visible ASCII with spaces or tabs inside.
_HEADER_NAME_RE = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_HEADER_VALUE_RE = re.compile(r"[\x21-\x7e]+(?:[ \t]+[\x21-\x7e]+)*")


def is_header_name(name: str) -> bool:
    return _HEADER_NAME_RE.fullmatch(name) is not None


def header_problem(value: str) -> str | None:
    """What is wrong with this header value for HTTP, in words, or None."""
    if not value or _HEADER_VALUE_RE.fullmatch(value):
        return None
    if "\r" in value or "\n" in value:
        return "has a line break (CR or LF), which HTTP does not allow"
    if value != value.strip(" \t"):
        return "starts or ends with a space"
    if any(ord(ch) > 0x7E for ch in value):
        return "has a character outside ASCII, which a header cannot carry"
    return "has a control character, which HTTP does not allow"


def resolve_headers(headers: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """Headers with their ``${NAME}`` filled in, each checked for HTTP; raises
    MissingEnvError or HeaderValueError (naming the header, never the value)."""
    out: dict[str, str] = {}
    for name, raw in headers.items():
        value = resolve_env(raw, environ)
        problem = header_problem(value)
        if problem is not None:
            raise HeaderValueError(name, problem, env_names(raw))
        out[name] = value
    return out


def env_names(text: str) -> list[str]:
    return ENV_RE.findall(text)


def resolve_env(text: str, environ: Mapping[str, str]) -> str:
    """Replace every ``${NAME}`` with its value; raises MissingEnvError naming the first gap."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in environ:
            raise MissingEnvError(name)
        return environ[name]

    return ENV_RE.sub(sub, text)


@dataclass(frozen=True)
class Alerts:
    failures_before_down: int = 3
    successes_before_up: int = 2
    auto_activate_after: timedelta | None = None
    remind_every: timedelta | None = timedelta(hours=2)  # "still down" reminders; None = off


@dataclass(frozen=True)
class Network:
    """``[network]``: proxies from the environment only when opted in, never for loopback."""

    use_env_proxy: bool = False


@dataclass(frozen=True)
class Check:
    kind: CheckKind
    url: str = ""
    host: str = ""
    port: int = 0
    method: str = "GET"
    expect: tuple[str, ...] = ()
    component: str = ""
    feed_channel: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    every: timedelta = timedelta(seconds=30)
    timeout: timedelta = timedelta(seconds=10)

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}" if self.kind == "tcp" else self.url


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    live: bool = False
    checks: tuple[Check, ...] = ()
    aliases: tuple[str, ...] = ()  # short names a seller types: "wa", "ig"


@dataclass(frozen=True)
class OrderSource:
    kind: Literal["http-json"]
    channel: str
    url: str
    every: timedelta = timedelta(seconds=60)
    timeout: timedelta = timedelta(seconds=10)
    headers: Mapping[str, str] = field(default_factory=dict)
    items: str = ""  # dotted path to the list of orders inside the reply; "" = the reply itself
    fields: Mapping[str, str] = field(default_factory=dict)  # our name -> the feed's name


@dataclass(frozen=True)
class ShopeeSource:
    """``[[sources]] kind = "shopee"``: orders from the Shopee Open Platform for the seller's
    own shop. partner_id, partner_key and shop_id are usually ``${ENV}`` placeholders."""

    channel: str
    partner_id: str
    partner_key: str
    shop_id: str
    every: timedelta = timedelta(minutes=2)
    timeout: timedelta = timedelta(seconds=10)
    api: str = "https://partner.shopeemobile.com"

    @property
    def id(self) -> str:
        return f"shopee:{self.channel}"


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    id: str = ""  # stable identity the outbox refers to: given, or derived from the content
    url: str = ""
    method: str = "POST"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, Any] | None = None
    secret: str = ""
    text: str = ""
    file: str = ""
    steps: tuple[str, ...] = ()
    name: str = ""
    timeout: timedelta = timedelta(seconds=10)
    undo: Action | None = None
    check_url: str = ""  # readiness: answers 2xx when the webhook's service is up
    test_url: str = ""  # fire drill: receives a signed request marked as a test

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.kind in ("webhook", "link"):
            return self.url
        if self.kind == "message":
            first = self.text.splitlines()[0] if self.text else ""
            return first[:40]
        return f"{len(self.steps)} steps"


def content_id(action: Action) -> str:
    """An id derived from what an action does (its target), so that an action keeps its
    identity when the config is reordered and loses it when its target changes."""
    what = {
        "webhook": [action.method, action.url],
        "link": [action.url],
        "message": [action.text],
        "checklist": list(action.steps),
    }[action.kind]
    digest = hashlib.sha256(json.dumps([action.kind, *what]).encode()).hexdigest()
    return f"{action.kind}-{digest[:8]}"


@dataclass(frozen=True)
class Promotion:
    id: str
    name: str
    armed: bool = False
    channel: str = ""  # the live channel this plan stands in for; fills {channel}
    grace: timedelta = timedelta(seconds=5)
    actions: tuple[Action, ...] = ()
    ends_after: timedelta | None = None  # stop by itself this long after it started
    ends_at: time | None = None  # … or at this local time (the first one after the start)
    when_live_returns: Literal["ask", "stop", "keep"] = "ask"
    live_back_for: timedelta = timedelta(minutes=30)  # how long live is up before that


NotifyKind = Literal["telegram", "ntfy", "webhook", "email"]
# What a notification target may ask for (``events = [...]``); "pending" and "sales" only
# when asked, the rest by default.
NOTIFY_EVENTS = ("down", "pending", "up", "reminder", "sales", "planb", "readiness", "watchdog")
DEFAULT_EVENTS = ("down", "up", "reminder", "planb", "readiness", "watchdog")


@dataclass(frozen=True)
class QuietHours:
    """Local clock minutes ``start``..``end`` (may wrap past midnight: 23.00-06.00)."""

    start: int
    end: int

    def holds(self, minute_of_day: int) -> bool:
        if self.start <= self.end:
            return self.start <= minute_of_day < self.end
        return minute_of_day >= self.start or minute_of_day < self.end

    def text(self) -> str:
        return (
            f"{self.start // 60:02d}.{self.start % 60:02d}-{self.end // 60:02d}.{self.end % 60:02d}"
        )


@dataclass(frozen=True)
class NotifyTarget:
    """One ``[[notify]]`` target. Kind-specific fields are empty for the other kinds."""

    id: str
    kind: NotifyKind
    events: tuple[str, ...] = DEFAULT_EVENTS
    language: str | None = None
    quiet_hours: QuietHours | None = None
    after: timedelta = timedelta(0)
    timeout: timedelta = timedelta(seconds=10)
    # telegram
    token: str = ""
    chats: tuple[str, ...] = ()
    commands: bool = False
    api: str = "https://api.telegram.org"
    # ntfy and webhook
    url: str = ""
    priority: int = 3
    tags: tuple[str, ...] = ()
    method: str = "POST"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | Mapping[str, Any] | None = None
    form: Mapping[str, str] | None = None
    # email
    host: str = ""
    port: int = 0
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password: str = ""
    sender: str = ""
    to: tuple[str, ...] = ()

    def wants(self, event: str) -> bool:
        return event in self.events

    @property
    def secrets(self) -> tuple[str, ...]:
        """The config strings whose resolved values must never be shown."""
        kind_secrets = {
            "telegram": (self.token,),
            "ntfy": (self.url, *self.headers.values()),
            "webhook": (self.url, *self.headers.values()),
            "email": (self.username, self.password),
        }
        return tuple(s for s in kind_secrets[self.kind] if s)


@dataclass(frozen=True)
class Heartbeat:
    url: str
    every: timedelta = timedelta(minutes=1)
    timeout: timedelta = timedelta(seconds=10)
    fail_url: str = ""  # "" = derived from url (Healthchecks ``/fail``, Kuma ``status=down``)


@dataclass(frozen=True)
class Config:
    path: str = ""
    shop: str = "Toko Saya"
    timezone: str = "Asia/Jakarta"
    language: str | None = None
    alerts: Alerts = field(default_factory=Alerts)
    channels: tuple[Channel, ...] = ()
    sources: tuple[OrderSource, ...] = ()
    shopee: tuple[ShopeeSource, ...] = ()  # the [[sources]] of kind "shopee", in file order
    promotions: tuple[Promotion, ...] = ()
    keys: Mapping[str, str] = field(default_factory=dict)
    network: Network = field(default_factory=Network)
    # [imports] status_map: the seller's own status words -> paid|unpaid|cancelled|returned
    status_map: Mapping[str, str] = field(default_factory=dict)
    notify: tuple[NotifyTarget, ...] = ()
    heartbeat: Heartbeat | None = None

    def target(self, target_id: str) -> NotifyTarget | None:
        return next((t for t in self.notify if t.id == target_id), None)

    def channel(self, channel_id: str) -> Channel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def find_channel(self, text: str) -> Channel | None:
        """The channel a seller means: its id, name or an alias, in any case."""
        wanted = " ".join(text.split()).casefold()
        for channel in self.channels:
            names = (channel.id, channel.name, *channel.aliases)
            if wanted in (" ".join(n.split()).casefold() for n in names):
                return channel
        return None

    def promotion(self, promotion_id: str) -> Promotion | None:
        return next((p for p in self.promotions if p.id == promotion_id), None)

    @property
    def armed_promotion(self) -> Promotion | None:
        return next((p for p in self.promotions if p.armed), None)
