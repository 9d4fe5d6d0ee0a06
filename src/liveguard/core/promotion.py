"""The Plan B switch: its state machine, its outbox of actions, retries and request rendering.

Pure: no I/O. The adapters persist what these functions return *before* any side effect.

States of the switch (``Phase``)::

    idle ──press──▶ pending ──grace over──▶ activating ──all actions settled──▶ active
     ▲                 │ cancel                                                  │ press
     │◀────────────────┘                                                         ▼
     └──all undos settled── deactivating ◀──grace over── pending_off ──cancel──▶ activating

``idle`` is shown as ``armed`` (or ``inactive`` for the promotions that are not armed),
``pending_off`` as ``pending``. A grace of 0 skips ``pending``/``pending_off``.

Retry schedule of a webhook (documented in docs/reference.md, "Plan B delivery"): the first
attempt goes at once; after a connection error, a timeout, 408, 429 or 5xx the next attempt
waits ``RETRY_DELAYS_S[n]`` seconds with ±25 % jitter (1, 2, 5, 10, 30, 60, 120, 300 s), so a
webhook is tried at most 9 times over about nine minutes and then marked failed. A 429 or
503 with ``Retry-After`` waits what the server asked (at most ``MAX_RETRY_AFTER_S``) if that
is longer. Any other 4xx fails at once, showing the reply. 2xx is delivered; 3xx is a failure
too (redirects are not followed: they would re-send the body to another place).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import quote

from .config import (
    Action,
    HeaderValueError,
    MissingEnvError,
    Promotion,
    env_names,
    header_problem,
)
from .webhook_signing import sign

__all__ = [
    "MAX_ATTEMPTS",
    "RETRY_DELAYS_S",
    "Decision",
    "OutboxEntry",
    "Phase",
    "RenderedRequest",
    "Switch",
    "TemplateValues",
    "TransitionError",
    "activation_id_for",
    "arm",
    "cancel",
    "decide",
    "entries_for",
    "expire",
    "idempotency_key",
    "parse_retry_after",
    "press",
    "public_state",
    "render_text",
    "render_webhook",
    "settle",
]

Phase = Literal["idle", "pending", "activating", "active", "pending_off", "deactivating"]
Step = Literal["do", "undo"]
EntryStatus = Literal["waiting", "sending", "retrying", "delivered", "done", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"delivered", "done", "failed", "cancelled"})

RETRY_DELAYS_S: tuple[float, ...] = (1, 2, 5, 10, 30, 60, 120, 300)
MAX_ATTEMPTS = len(RETRY_DELAYS_S) + 1
JITTER = 0.25
MAX_RETRY_AFTER_S = 600.0
RETRYABLE_STATUS = frozenset({408, 429})
MASK = "•••"


class TransitionError(Exception):
    """A key press that means nothing in this state; ``key`` names the message."""

    def __init__(self, key: str, **params: str) -> None:
        super().__init__(key)
        self.key, self.params = key, params


# -- the switch ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Switch:
    promotion: str = ""  # the armed promotion while idle, the engaged one otherwise
    phase: Phase = "idle"
    activation_id: str = ""
    reason: str = ""
    channel: str = ""
    actor: str = ""
    since: datetime | None = None
    due: datetime | None = None  # end of the grace countdown in pending / pending_off
    activated_at: datetime | None = None
    deactivated_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Switch:
        kwargs: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            value = raw.get(name)
            if name in ("since", "due", "activated_at", "deactivated_at"):
                kwargs[name] = datetime.fromisoformat(value) if isinstance(value, str) else None
            elif isinstance(value, str):
                kwargs[name] = value
        if kwargs.get("phase") not in (
            "idle",
            "pending",
            "activating",
            "active",
            "pending_off",
            "deactivating",
        ):
            kwargs["phase"] = "idle"
        return cls(**kwargs)

    def countdown(self, now: datetime) -> float | None:
        if self.phase not in ("pending", "pending_off") or self.due is None:
            return None
        return max(0.0, (self.due - now).total_seconds())


def public_state(switch: Switch, promotion_id: str) -> str:
    """``armed|pending|activating|active|deactivating|inactive`` as docs/reference.md names them."""
    if switch.promotion != promotion_id:
        return "inactive"
    return {"idle": "armed", "pending_off": "pending"}.get(switch.phase, switch.phase)


def activation_id_for(now: datetime, token: str) -> str:
    """A readable, unique id: UTC time of the press plus a random token from the caller."""
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{token}"


def press(
    switch: Switch,
    promotion: Promotion,
    now: datetime,
    *,
    token: str,
    actor: str,
    reason: str = "",
    channel: str = "",
    skip_grace: bool = False,
) -> Switch:
    """The Plan B key: start, cancel the countdown, or start deactivating."""
    if switch.phase in ("pending", "pending_off"):
        return cancel(switch, now)
    no_wait = skip_grace or promotion.grace <= timedelta(0)
    if switch.phase == "idle":
        base = Switch(
            promotion=promotion.id,
            activation_id=activation_id_for(now, token),
            reason=reason,
            channel=channel or promotion.channel,
            actor=actor,
            since=now,
        )
        if no_wait:
            return replace(base, phase="activating", activated_at=now)
        return replace(base, phase="pending", due=now + promotion.grace)
    if switch.phase in ("activating", "active"):
        if no_wait:
            return replace(
                switch, phase="deactivating", since=now, due=None, deactivated_at=now, actor=actor
            )
        return replace(
            switch, phase="pending_off", since=now, due=now + promotion.grace, actor=actor
        )
    raise TransitionError("planb.error.busy", state=switch.phase)


def cancel(switch: Switch, now: datetime) -> Switch:
    if switch.phase == "pending":
        return Switch(promotion=switch.promotion, since=now, actor=switch.actor)
    if switch.phase == "pending_off":
        # back to activating; settle() moves it on to active once every action is settled
        return replace(switch, phase="activating", since=now, due=None)
    raise TransitionError("planb.error.nothing_to_cancel")


def expire(switch: Switch, now: datetime) -> Switch:
    """The end of a grace countdown, or the switch unchanged when it is not due yet."""
    if switch.due is None or now < switch.due:
        return switch
    if switch.phase == "pending":
        return replace(switch, phase="activating", since=now, due=None, activated_at=now)
    if switch.phase == "pending_off":
        return replace(switch, phase="deactivating", since=now, due=None, deactivated_at=now)
    return switch


def settle(switch: Switch, entries: Iterable[OutboxEntry], now: datetime) -> Switch:
    """activating → active, deactivating → idle, once every action of that step is settled."""
    steps: tuple[str, ...]
    if switch.phase == "activating":
        steps, target = ("do",), "active"
    elif switch.phase == "deactivating":
        # also wait for a do-attempt still in flight, so it is never resumed after the switch
        # has forgotten this activation's reason and channel
        steps, target = ("do", "undo"), "idle"
    else:
        return switch
    mine = [e for e in entries if e.activation_id == switch.activation_id and e.step in steps]
    if any(e.status not in TERMINAL for e in mine):
        return switch
    if target == "idle":
        # the last activation's window stays, so its impact on sales can still be shown
        return Switch(
            promotion=switch.promotion,
            since=now,
            actor=switch.actor,
            activated_at=switch.activated_at,
            deactivated_at=switch.deactivated_at,
        )
    return replace(switch, phase="active", since=now)


def arm(switch: Switch, promotion_id: str, now: datetime, actor: str) -> Switch:
    if switch.phase != "idle":
        raise TransitionError("planb.error.arm_busy", promotion=switch.promotion)
    return Switch(promotion=promotion_id, since=now, actor=actor)


# -- the outbox --------------------------------------------------------------------------------
def idempotency_key(activation_id: str, index: int, step: Step) -> str:
    return f"lg-{activation_id}-{index}-{step}"


@dataclass(frozen=True)
class OutboxEntry:
    activation_id: str
    promotion: str
    index: int  # position of the action in the promotion
    step: Step
    kind: str
    status: EntryStatus = "waiting"
    attempts: int = 0
    next_at: datetime | None = None
    http_status: int | None = None
    error: str = ""
    action_id: str = ""  # the action's stable id; entries written before ids have none

    @property
    def key(self) -> str:
        return idempotency_key(self.activation_id, self.index, self.step)

    @property
    def settled(self) -> bool:
        return self.status in TERMINAL

    def due(self, now: datetime) -> bool:
        if self.status in ("waiting", "sending"):
            return True
        return self.status == "retrying" and (self.next_at is None or self.next_at <= now)

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["next_at"] = self.next_at.isoformat() if self.next_at else None
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> OutboxEntry:
        next_at = raw.get("next_at")
        return cls(
            activation_id=str(raw["activation_id"]),
            promotion=str(raw.get("promotion", "")),
            index=int(raw["index"]),
            step="undo" if raw.get("step") == "undo" else "do",
            kind=str(raw.get("kind", "webhook")),
            status=raw.get("status", "waiting"),
            attempts=int(raw.get("attempts", 0)),
            next_at=datetime.fromisoformat(next_at) if isinstance(next_at, str) else None,
            http_status=raw.get("http_status"),
            error=str(raw.get("error", "")),
            action_id=str(raw.get("action_id", "")),
        )


def action_for(promotion: Promotion, entry: OutboxEntry) -> Action | None:
    """The action an entry stands for, by its stable id: after the config is reordered or
    edited the entry finds its own action, or none when it was removed or its target
    changed (the key, from the position at activation, stays the same either way)."""
    if entry.action_id:
        action = next((a for a in promotion.actions if a.id == entry.action_id), None)
    elif 0 <= entry.index < len(promotion.actions):
        action = promotion.actions[entry.index]
    else:
        action = None
    if action is None:
        return None
    return action if entry.step == "do" else action.undo


def entries_for(promotion: Promotion, activation_id: str, step: Step) -> list[OutboxEntry]:
    out = []
    for i, action in enumerate(promotion.actions):
        target = action if step == "do" else action.undo
        if target is not None:
            out.append(
                OutboxEntry(activation_id, promotion.id, i, step, target.kind, action_id=action.id)
            )
    return out


@dataclass(frozen=True)
class Decision:
    status: EntryStatus  # delivered | retrying | failed
    delay_s: float = 0.0
    reason: str = ""


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²".isdigit() is True, float("²") fails
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def decide(
    attempts: int,
    *,
    http_status: int | None,
    error: str = "",
    retry_after_s: float | None = None,
    jitter: float = 0.5,
) -> Decision:
    """What to do after attempt number ``attempts`` (1-based); ``jitter`` is uniform in [0, 1)."""
    if http_status is not None and 200 <= http_status < 300:
        return Decision("delivered")
    retryable = http_status is None or http_status in RETRYABLE_STATUS or http_status >= 500
    reason = error or f"HTTP {http_status}"
    if not retryable:
        return Decision("failed", reason=reason)
    if attempts >= MAX_ATTEMPTS:
        return Decision("failed", reason=f"{reason} (gave up after {attempts} attempts)")
    base = RETRY_DELAYS_S[min(attempts, len(RETRY_DELAYS_S)) - 1]
    delay = base * (1 - JITTER + 2 * JITTER * jitter)
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, MAX_RETRY_AFTER_S))
    return Decision("retrying", delay_s=delay, reason=reason)


# -- rendering ---------------------------------------------------------------------------------
PLACEHOLDERS = ("promotion", "reason", "channel", "activated_at", "activation_id")
_TOKEN_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\{(" + "|".join(PLACEHOLDERS) + r")\}")


@dataclass(frozen=True)
class TemplateValues:
    promotion: str
    reason: str
    channel: str
    activated_at: str
    activation_id: str

    def get(self, name: str) -> str:
        return str(getattr(self, name))


def render_text(
    text: str,
    values: TemplateValues,
    environ: Mapping[str, str],
    *,
    mask: bool = False,
    in_url: bool = False,
) -> str:
    """Fill placeholders and ``${ENV}`` in one pass, so a filled value is never re-read.

    A ``{reason}`` typed by the seller can therefore never pull in an environment variable.
    ``mask`` shows secrets as ``•••`` (for ``promo test``); ``in_url`` percent-encodes values.
    """

    def sub(m: re.Match[str]) -> str:
        env_name, placeholder = m.group(1), m.group(2)
        if env_name:
            if mask:
                return MASK
            if env_name not in environ:
                raise MissingEnvError(env_name)
            return environ[env_name]
        value = values.get(placeholder)
        return quote(value, safe="") if in_url else value

    return _TOKEN_RE.sub(sub, text)


def _render_value(
    value: Any, values: TemplateValues, environ: Mapping[str, str], mask: bool
) -> Any:
    if isinstance(value, str):
        return render_text(value, values, environ, mask=mask)
    if isinstance(value, Mapping):
        return {k: _render_value(v, values, environ, mask) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_render_value(v, values, environ, mask) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class RenderedRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def render_webhook(
    action: Action,
    values: TemplateValues,
    environ: Mapping[str, str],
    *,
    key: str,
    timestamp: int,
    mask: bool = False,
) -> RenderedRequest:
    """The exact request one attempt sends. Same key and body on every retry; the timestamp
    (and so the signature) is that of the attempt, as Standard Webhooks expects."""
    url = render_text(action.url, values, environ, mask=mask, in_url=True)
    headers: dict[str, str] = {}
    for name, value in action.headers.items():
        text = render_text(value, values, environ, mask=mask)
        problem = None if mask else header_problem(text)
        if problem is not None:
            raise HeaderValueError(name, problem, env_names(value))
        headers[name] = text
    body = b""
    if action.body is not None or action.secret:
        # A signed request always carries JSON: Standard Webhooks receivers parse the body
        # they verify (an undo without a body sends ``{}``).
        rendered = _render_value(action.body or {}, values, environ, mask)
        body = json.dumps(rendered, ensure_ascii=False, separators=(",", ":")).encode()
        headers.setdefault("Content-Type", "application/json")
    headers["Idempotency-Key"] = key
    headers["webhook-id"] = key
    headers["webhook-timestamp"] = str(timestamp)
    if action.secret:
        if mask:
            headers["webhook-signature"] = "v1," + MASK
        else:
            secret = render_text(action.secret, values, environ)
            headers["webhook-signature"] = sign(secret, key, timestamp, body)
    return RenderedRequest(action.method, url, headers, body)
