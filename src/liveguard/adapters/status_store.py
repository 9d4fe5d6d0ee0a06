"""Live status on disk: ``state/status.json`` (kind "status"), small and bounded.

Tables:
- ``declarations``: one doc per declared channel. Written only by a declaration (from the
  control room or ``liveguard mark``), so a running room never overwrites a mark it has not
  seen yet; the room re-reads this table instead.
- ``channels``: per channel the hysteresis of each check, the heartbeat ring and the open
  outage, so a restart continues where it stopped.
- ``outages``: a ring of the last ``OUTAGES_KEPT`` closed outages, keyed by (channel, start)
  so the same outage recorded by two processes is kept once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tinydb import TinyDB

from liveguard.core.status import (
    Beat,
    CheckTrack,
    Declaration,
    Outage,
    StatusBook,
    parse_stored_time,
)

from .audit_journal import copy_journal, note
from .audit_log import AuditLog
from .state_home import StateHome

__all__ = ["OUTAGES_KEPT", "StatusStore", "StoredChannel", "channel_docs"]

OUTAGES_KEPT = 500
FILE = "status.json"
AUDIT_SOURCE = "status"  # this file's journal in the audit log's copy marks


@dataclass(frozen=True)
class StoredChannel:
    tracks: list[CheckTrack]
    beats: list[Beat]
    open_outage: Outage | None
    down_seen: datetime | None = None


Docs = dict[int, Mapping[Any, Any]]


class StatusStore:
    def __init__(self, home: StateHome) -> None:
        self.home = home

    def _db(self) -> TinyDB:
        return self.home.db(FILE, "status")

    # -- reading ------------------------------------------------------------------------
    def declarations(self) -> dict[str, Declaration]:
        found = {}
        for doc in self._db().table("declarations").all():
            try:
                found[str(doc["channel"])] = Declaration.from_doc(doc)
            except (KeyError, ValueError, TypeError):
                continue  # one unreadable entry must not hide the others
        return found

    def channels(self) -> dict[str, StoredChannel]:
        found = {}
        for doc in self._db().table("channels").all():
            try:
                opened = doc.get("open_outage")
                found[str(doc["channel"])] = StoredChannel(
                    [CheckTrack.from_doc(t) for t in doc.get("tracks", [])],
                    [Beat.from_doc(b) for b in doc.get("beats", [])],
                    Outage.from_doc(opened) if isinstance(opened, dict) else None,
                    parse_stored_time(doc.get("down_seen")),
                )
            except (KeyError, ValueError, TypeError, IndexError, OverflowError):
                continue
        return found

    def outages(self, since: datetime | None = None) -> list[Outage]:
        """Closed outages, oldest first; those that ended before ``since`` are left out."""
        found = []
        for doc in self._db().table("outages").all():
            try:
                outage = Outage.from_doc(doc)
            except (KeyError, ValueError, TypeError):
                continue
            if since is None or outage.end is None or outage.end >= since:
                found.append(outage)
        return sorted(found, key=lambda o: o.start)

    # -- writing (each one durable write under the state lock) --------------------------
    def save_declaration(
        self,
        channel: str,
        declaration: Declaration | None,
        record: Mapping[str, Any] | None = None,
    ) -> None:
        """Store a declaration and its audit record together in one durable write; the record
        waits in this file's journal until it is copied (adapters/audit_journal.py)."""
        with self.home.writing():
            db = self._db()
            raw = dict(db.storage.read() or {})
            docs = {
                k: d for k, d in raw.get("declarations", {}).items() if d.get("channel") != channel
            }
            if declaration is not None:
                next_id = max((int(k) for k in docs), default=0) + 1
                docs[str(next_id)] = {"channel": channel, **declaration.to_doc()}
            raw["declarations"] = docs
            if record is not None:
                note(raw, [record])
            db.storage.write(raw)
            db.table("declarations").clear_cache()

    def save_channels(self, docs: Mapping[str, dict[str, Any]]) -> None:
        """Store channel docs made by :func:`channel_docs` (one durable write)."""
        fresh = dict(docs)
        if not fresh:
            return

        def apply(stored: Docs) -> None:
            by_channel = {d.get("channel"): i for i, d in stored.items()}
            next_id = max(stored, default=0) + 1
            for cid, doc in fresh.items():
                if cid in by_channel:
                    stored[by_channel[cid]] = doc
                else:
                    stored[next_id] = doc
                    next_id += 1

        with self.home.writing():
            self._db().table("channels")._update_table(apply)

    def add_outages(self, outages: Iterable[Outage]) -> None:
        new = {o.key: o.to_doc() for o in outages}
        if not new:
            return

        def apply(docs: Docs) -> None:
            merged: dict[tuple[Any, Any], Mapping[Any, Any]] = {
                (d.get("channel"), d.get("start")): d for d in docs.values()
            }
            merged.update(new)
            kept = sorted(merged.values(), key=lambda d: str(d.get("start")))[-OUTAGES_KEPT:]
            docs.clear()
            docs.update({i: d for i, d in enumerate(kept, start=1)})

        with self.home.writing():
            self._db().table("outages")._update_table(apply)

    def copy_journal(self, audit: AuditLog) -> int:
        """Copy the declarations' audit records still waiting here into the audit log."""
        return copy_journal(self.home, FILE, "status", AUDIT_SOURCE, audit)

    def restore_into(
        self, book: StatusBook, declarations: Mapping[str, Declaration] | None = None
    ) -> None:
        """Fill a fresh book with what is stored."""
        decls = self.declarations() if declarations is None else declarations
        stored = self.channels()
        for channel in book.channels:
            saved = stored.get(channel.id)
            book.restore(
                channel.id,
                tracks=saved.tracks if saved else (),
                declaration=decls.get(channel.id),
                beats=saved.beats if saved else (),
                open_outage=saved.open_outage if saved else None,
                down_seen=saved.down_seen if saved else None,
            )


def channel_docs(book: StatusBook, channel_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """What save_channels stores; made where the book lives (the event loop), written anywhere."""
    docs = {}
    for cid in channel_ids:
        outage = book.open_outage(cid)
        docs[cid] = {
            "channel": cid,
            "tracks": [t.to_doc() for t in book.tracks(cid)],
            "beats": [b.to_doc() for b in book.beats(cid)],
            "open_outage": outage.to_doc() if outage else None,
            "down_seen": seen.isoformat() if (seen := book.down_seen(cid)) else None,
        }
    return docs
