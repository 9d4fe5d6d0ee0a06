"""The phone's outbox: ``state/notify.json``, its own small file beside Plan B's.

Like ``promotions.json``: every change is one atomic write under the state write lock,
made *before* the send it announces, and it carries the audit records that describe it
(a journal copied into the audit log afterwards: ``adapters/audit_journal.py``). It also
keeps each Telegram bot's update offset (so a restart never replays a command), the last
time liveguard was seen running (to say how long it was off), and the chats already
reported as unknown. Everything is bounded.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from liveguard.core.notify import Delivery

from .audit_journal import journal_entries, journal_seq
from .state_home import StateHome

__all__ = ["NOTIFY_FILE", "NotifyState", "NotifyStore", "token_id"]

NOTIFY_FILE = "notify.json"
KEEP_DELIVERIES = 300  # settled ones beyond this are dropped, oldest first
KEEP_UNKNOWN_CHATS = 50


def token_id(token: str) -> str:
    """A bot token's name in the state file: a short hash, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class NotifyState:
    deliveries: tuple[Delivery, ...] = ()
    offsets: dict[str, int] = field(default_factory=dict)  # token_id -> next update_id
    alive_at: datetime | None = None
    unknown_chats: tuple[str, ...] = ()
    # audit records of these changes, until the audit log holds them (audit_journal.py)
    journal: tuple[dict[str, Any], ...] = ()
    journal_seq: int = 0

    def delivery(self, key: str) -> Delivery | None:
        return next((d for d in self.deliveries if d.key == key), None)

    def with_delivery(self, delivery: Delivery) -> NotifyState:
        found = False
        out = []
        for d in self.deliveries:
            if d.key == delivery.key:
                out.append(delivery)
                found = True
            else:
                out.append(d)
        if not found:
            out.append(delivery)
        return replace(self, deliveries=tuple(out))

    def noting(self, record: dict[str, Any]) -> NotifyState:
        seq = self.journal_seq + 1
        return replace(self, journal=(*self.journal, {**record, "jseq": seq}), journal_seq=seq)

    def last_for(self, target: str) -> Delivery | None:
        """The target's latest attempted delivery (settled or retrying)."""
        tried = [d for d in self.deliveries if d.target == target and d.attempts > 0]
        return max(tried, key=lambda d: (d.sent_at or d.created_at, d.attempts), default=None)


class NotifyStore:
    def __init__(self, home: StateHome) -> None:
        self.home = home

    def load(self) -> NotifyState:
        raw = self.home.db(NOTIFY_FILE, "notify").storage.read() or {}
        return _decode(raw)

    def update(self, change: Callable[[NotifyState], NotifyState]) -> NotifyState:
        """Read, change and durably write in one step under the write lock."""
        with self.home.writing():
            db = self.home.db(NOTIFY_FILE, "notify")
            raw = db.storage.read() or {}
            before = _decode(raw)
            after = change(before)
            if after == before:
                return after
            data = {k: v for k, v in raw.items() if k == "_meta"}
            data.update(_encode(_bounded(after)))
            db.storage.write(data)
            return after


def _bounded(state: NotifyState) -> NotifyState:
    open_ = [d for d in state.deliveries if not d.settled]
    settled = [d for d in state.deliveries if d.settled]
    room = max(0, KEEP_DELIVERIES - len(open_))
    kept = set(map(id, settled[-room:] if room else []))
    return replace(
        state,
        deliveries=tuple(d for d in state.deliveries if not d.settled or id(d) in kept),
        unknown_chats=state.unknown_chats[-KEEP_UNKNOWN_CHATS:],
    )


def _encode(state: NotifyState) -> dict[str, Any]:
    return {
        "outbox": {"1": {"deliveries": [d.to_dict() for d in state.deliveries]}},
        "telegram": {
            "1": {"offsets": dict(state.offsets), "unknown_chats": list(state.unknown_chats)}
        },
        "alive": {"1": {"at": state.alive_at.isoformat() if state.alive_at else None}},
        "journal": {"1": {"seq": state.journal_seq, "entries": list(state.journal)}},
    }


def _decode(raw: dict[str, Any]) -> NotifyState:
    deliveries: list[Delivery] = []
    for item in raw.get("outbox", {}).get("1", {}).get("deliveries", []):
        with contextlib.suppress(KeyError, TypeError, ValueError):
            deliveries.append(Delivery.from_dict(item))
    tg = raw.get("telegram", {}).get("1", {})
    offsets = {
        str(k): int(v)
        for k, v in tg.get("offsets", {}).items()
        if isinstance(v, int) and not isinstance(v, bool)
    }
    unknown = tuple(str(c) for c in tg.get("unknown_chats", []) if isinstance(c, (str, int)))
    alive_raw = raw.get("alive", {}).get("1", {}).get("at")
    alive = None
    with contextlib.suppress(TypeError, ValueError):
        alive = datetime.fromisoformat(alive_raw) if isinstance(alive_raw, str) else None
    journal = tuple(journal_entries(raw))
    return NotifyState(tuple(deliveries), offsets, alive, unknown, journal, journal_seq(raw))
