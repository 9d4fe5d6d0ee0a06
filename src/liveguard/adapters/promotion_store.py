"""Where the Plan B switch and its outbox live: ``state/promotions.json``.

One small file, so a transition and the outbox entries it creates land in ONE atomic write.
Callers change it only through :meth:`PromotionStore.update`, which reads, applies and
writes under the state write lock, and they do so *before* the side effect the change
announces. Only one process at a time sends from the outbox (:class:`OutboxLease`); the
lease is an OS file lock, so a crashed process gives it up without help.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from liveguard.core.bounds import bounded_text, bounded_value
from liveguard.core.promotion import OutboxEntry, Switch

from .atomic_storage import atomic_write_bytes, refuse_symlink
from .audit_journal import journal_entries, journal_seq
from .state_home import StateHome

__all__ = [
    "KEEP_JOURNAL",
    "PROMOTIONS_FILE",
    "OutboxLease",
    "PlanBState",
    "PromotionStore",
    "save_text_file",
]

PROMOTIONS_FILE = "promotions.json"
KEEP_ACTIVATIONS = 4  # outbox entries and ticks of older activations are dropped
# Past this many records waiting in the journal, a change copies them to the audit log at
# once (they are never cut: see adapters/audit_journal.py).
KEEP_JOURNAL = 64


@dataclass(frozen=True)
class PlanBState:
    switch: Switch | None = None
    entries: tuple[OutboxEntry, ...] = ()
    ticks: dict[str, tuple[int, ...]] = field(default_factory=dict)  # activation id -> step numbers
    # Audit records travel in the same atomic write as the change they describe and leave
    # only once the audit log holds them (adapters/audit_journal.py).
    journal: tuple[dict[str, Any], ...] = ()
    journal_seq: int = 0  # the number given to the last record noted

    def entry(self, key: str) -> OutboxEntry | None:
        return next((e for e in self.entries if e.key == key), None)

    def with_entry(self, entry: OutboxEntry) -> PlanBState:
        entries = tuple(entry if e.key == entry.key else e for e in self.entries)
        if entry.key not in {e.key for e in self.entries}:
            entries += (entry,)
        return replace(self, entries=entries)

    def noting(self, record: dict[str, Any]) -> PlanBState:
        seq = self.journal_seq + 1
        return replace(self, journal=(*self.journal, {**record, "jseq": seq}), journal_seq=seq)


class PromotionStore:
    def __init__(self, home: StateHome) -> None:
        self.home = home

    def load(self) -> PlanBState:
        raw = self.home.db(PROMOTIONS_FILE, "promotions").storage.read() or {}
        return _decode(raw)

    def update(self, change: Callable[[PlanBState], PlanBState]) -> PlanBState:
        """Read, change and durably write the state in one step under the write lock."""
        with self.home.writing():
            db = self.home.db(PROMOTIONS_FILE, "promotions")
            raw = db.storage.read() or {}
            before = _decode(raw)
            after = change(before)
            if after == before:
                return after
            data = {k: v for k, v in raw.items() if k in ("_meta",)}
            data.update(_encode(_bounded(after)))
            db.storage.write(data)
            return after


def _bounded(state: PlanBState) -> PlanBState:
    current = state.switch.activation_id if state.switch else ""
    ids = sorted({e.activation_id for e in state.entries} | set(state.ticks))
    keep = set(ids[-KEEP_ACTIVATIONS:]) | {current}
    return replace(
        state,
        entries=tuple(
            replace(e, error=bounded_text(e.error))
            for e in state.entries
            if e.activation_id in keep
        ),
        ticks={k: v for k, v in state.ticks.items() if k in keep},
        journal=tuple(bounded_value(r) for r in state.journal),
    )


def _encode(state: PlanBState) -> dict[str, Any]:
    return {
        "switch": {"1": state.switch.to_dict()} if state.switch else {},
        "outbox": {"1": {"entries": [e.to_dict() for e in state.entries]}},
        "ticks": {"1": {k: list(v) for k, v in state.ticks.items()}},
        "journal": {"1": {"seq": state.journal_seq, "entries": list(state.journal)}},
    }


def _decode(raw: dict[str, Any]) -> PlanBState:
    switch_raw = raw.get("switch", {}).get("1")
    switch = Switch.from_dict(switch_raw) if isinstance(switch_raw, dict) else None
    entries: list[OutboxEntry] = []
    for item in raw.get("outbox", {}).get("1", {}).get("entries", []):
        with contextlib.suppress(KeyError, TypeError, ValueError):
            entries.append(OutboxEntry.from_dict(item))
    ticks: dict[str, tuple[int, ...]] = {}
    for activation, steps in raw.get("ticks", {}).get("1", {}).items():
        if isinstance(steps, list):
            ticks[activation] = tuple(sorted({int(s) for s in steps if isinstance(s, int)}))
    return PlanBState(switch, tuple(entries), ticks, tuple(journal_entries(raw)), journal_seq(raw))


class OutboxLease:
    """Held by the one process that sends from the outbox; others leave sending to it."""

    def __init__(self, home: StateHome, name: str = "outbox.lock") -> None:
        # the phone's outbox holds its own lease ("notify.lock") with the same rules
        self._lock = FileLock(str(home.dir / name), timeout=0, mode=0o600)

    def try_acquire(self) -> bool:
        if self._lock.is_locked:
            return True
        try:
            self._lock.acquire()
        except Timeout:
            return False
        return True

    @property
    def held(self) -> bool:
        return bool(self._lock.is_locked)

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)


def save_text_file(path: Path, text: str) -> None:
    """Save a Plan B message so it can be found again (atomic, owner-only)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # the atomic replace would not follow a link either, but a link here was planted: say so
    refuse_symlink(path)
    atomic_write_bytes(path, text.encode("utf-8"))
