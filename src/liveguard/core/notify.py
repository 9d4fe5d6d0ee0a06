"""Phone notifications: what is to be sent to whom, and what happens after each attempt.

Pure: no I/O. The notify outbox (``adapters/notify_store.py``) writes a :class:`Delivery`
before it is sent, claims it ("sending", attempt n + 1) in one write, and writes the result
after; retries follow Plan B's schedule (``core.promotion.decide``), honouring 429 with
``Retry-After`` or Telegram's ``parameters.retry_after``.

A delivery's key is ``<target>:<message key>``; a message key names the fact it reports
(``down:tiktok:<outage start>``), so the same fact is delivered at most once per target,
across restarts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .config import NotifyTarget, QuietHours
from .promotion import decide

__all__ = [
    "Delivery",
    "DeliveryStatus",
    "Message",
    "after_attempt",
    "heartbeat_fail_url",
    "quiet_until",
    "schedule",
    "telegram_retry_after",
]

DeliveryStatus = Literal["waiting", "held", "sending", "retrying", "delivered", "failed", "dropped"]
SETTLED: frozenset[str] = frozenset({"delivered", "failed", "dropped"})


@dataclass(frozen=True)
class Message:
    """One thing to tell the seller, already worded in the target's language."""

    event: str  # down | pending | up | reminder | sales | planb | readiness | watchdog | test
    key: str  # the fact it reports; the same key is delivered once per target
    title: str
    text: str
    urgent: bool = False  # passes quiet hours (live DOWN, a failed Plan B action, a test)
    priority: int = 3  # 1..5 (ntfy); 5 for DOWN
    condition: str = ""  # what must still hold when an escalation wait is over ("down:tiktok")


@dataclass(frozen=True)
class Delivery:
    target: str
    message_key: str
    event: str
    title: str
    text: str
    created_at: datetime
    urgent: bool = False
    priority: int = 3
    condition: str = ""
    status: DeliveryStatus = "waiting"
    attempts: int = 0
    next_at: datetime | None = None
    http_status: int | None = None
    error: str = ""
    sent_at: datetime | None = None
    to: str = ""  # one Telegram chat of the target (each chat is its own delivery)

    @property
    def key(self) -> str:
        where = f"{self.target}#{self.to}" if self.to else self.target
        return f"{where}:{self.message_key}"

    @property
    def settled(self) -> bool:
        return self.status in SETTLED

    def due(self, now: datetime) -> bool:
        if self.status == "sending":
            return True  # cut off by a crash: try again with the same key
        if self.status in ("waiting", "held", "retrying"):
            return self.next_at is None or self.next_at <= now
        return False

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for name in ("created_at", "next_at", "sent_at"):
            value = out[name]
            out[name] = value.isoformat() if value else None
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Delivery:
        def when(name: str) -> datetime | None:
            value = raw.get(name)
            return datetime.fromisoformat(value) if isinstance(value, str) else None

        created = when("created_at")
        if created is None:
            raise ValueError("a delivery needs created_at")
        status = str(raw.get("status", "waiting"))
        return cls(
            target=str(raw["target"]),
            message_key=str(raw["message_key"]),
            event=str(raw.get("event", "")),
            title=str(raw.get("title", "")),
            text=str(raw.get("text", "")),
            created_at=created,
            urgent=bool(raw.get("urgent", False)),
            priority=int(raw.get("priority", 3)),
            condition=str(raw.get("condition", "")),
            status=status if status in _STATUSES else "failed",  # type: ignore[arg-type]
            attempts=int(raw.get("attempts", 0)),
            next_at=when("next_at"),
            http_status=raw.get("http_status") if isinstance(raw.get("http_status"), int) else None,
            error=str(raw.get("error", "")),
            sent_at=when("sent_at"),
            to=str(raw.get("to", "")),
        )


_STATUSES = frozenset({"waiting", "held", "sending", "retrying", "delivered", "failed", "dropped"})


def quiet_until(quiet: QuietHours | None, now: datetime, zone: tzinfo) -> datetime | None:
    """When the quiet hours around ``now`` end (None when ``now`` is not in them)."""
    if quiet is None:
        return None
    local = now.astimezone(zone)
    minute = local.hour * 60 + local.minute
    if not quiet.holds(minute):
        return None
    end = local.replace(hour=quiet.end // 60, minute=quiet.end % 60, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(UTC)


def schedule(target: NotifyTarget, message: Message, now: datetime, zone: tzinfo) -> list[Delivery]:
    """The deliveries of ``message`` to ``target`` (one per Telegram chat): at once, after the
    target's escalation wait (``after``), or held until its quiet hours end (unless urgent)."""
    at = now + target.after
    status: DeliveryStatus = "waiting"
    if not message.urgent:
        end = quiet_until(target.quiet_hours, at, zone)
        if end is not None:
            at, status = end, "held"
    one = Delivery(
        target=target.id,
        message_key=message.key,
        event=message.event,
        title=message.title,
        text=message.text,
        created_at=now,
        urgent=message.urgent,
        priority=message.priority,
        condition=message.condition,
        status=status,
        next_at=at if at > now else None,
    )
    if target.kind == "telegram":
        return [replace(one, to=chat) for chat in target.chats]
    return [one]


def after_attempt(
    delivery: Delivery,
    now: datetime,
    *,
    http_status: int | None,
    error: str,
    retry_after_s: float | None,
    jitter: float,
) -> Delivery:
    """The claimed delivery once an attempt has answered (Plan B's retry schedule)."""
    decision = decide(
        delivery.attempts,
        http_status=http_status,
        error=error,
        retry_after_s=retry_after_s,
        jitter=jitter,
    )
    return replace(
        delivery,
        status=decision.status,  # type: ignore[arg-type]
        next_at=now + timedelta(seconds=decision.delay_s)
        if decision.status == "retrying"
        else None,
        http_status=http_status,
        error="" if decision.status == "delivered" else decision.reason,
        sent_at=now if decision.status == "delivered" else delivery.sent_at,
    )


def telegram_retry_after(body: str) -> float | None:
    """``parameters.retry_after`` of a Bot API error reply (seconds), if it has one."""
    try:
        reply = json.loads(body)
        value = reply["parameters"]["retry_after"]
    except (ValueError, KeyError, TypeError):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return float(value)


def heartbeat_fail_url(url: str, fail_url: str = "") -> str | None:
    """Where to report a fatal error: the configured ``fail_url``; else Healthchecks' ``/fail``
    for a plain ping URL, Uptime Kuma's ``status=down`` for a push URL; else nowhere."""
    if fail_url:
        return fail_url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(k == "status" for k, _ in query):
        fixed = [(k, "down" if k == "status" else v) for k, v in query]
        return urlunsplit(parts._replace(query=urlencode(fixed, safe="${}")))
    if parts.query:
        return None
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/fail"))
