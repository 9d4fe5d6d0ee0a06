"""The audit log: who did what, when, and what came of it.

The newest entries live in a bounded ring, ``state/audit.json`` (one small atomic file).
When the ring overflows, its oldest entries are appended to ``logs/audit-YYYY-MM.jsonl``
(append-only, fsynced) *before* they leave the ring, so nothing is lost. If a crash falls
between the two, the next archiving skips entries the archive already holds (by ``seq``).
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from liveguard.core.bounds import bounded_text, bounded_value

from .atomic_storage import NOFOLLOW, symlink_refused
from .state_home import StateHome, current_actor

__all__ = ["AUDIT_FILE", "AuditLog"]

AUDIT_FILE = "audit.json"
RING_SIZE = 200  # about 80 KB: rewritten whole on each audit write, so kept small
ARCHIVE_BATCH = 50


class AuditLog:
    def __init__(
        self,
        home: StateHome,
        *,
        ring_size: int = RING_SIZE,
        archive_batch: int = ARCHIVE_BATCH,
        actor: str | None = None,
    ) -> None:
        self.home = home
        self.ring_size = ring_size
        self.archive_batch = max(1, min(archive_batch, ring_size))
        self.actor = actor or current_actor()

    def _data(self) -> dict[str, Any]:
        raw = self.home.db(AUDIT_FILE, "audit").storage.read()
        return raw if raw is not None else {}

    def record(
        self, kind: str, detail: Mapping[str, Any], *, at: datetime | None = None
    ) -> dict[str, Any]:
        """Append one entry durably (the caller may already hold the write lock)."""
        at_text = (at or self.home.now()).isoformat()
        return self.record_many([{"kind": kind, "detail": dict(detail), "at": at_text}])[0]

    def copied_upto(self, source: str) -> int:
        """The highest journal number (``jseq``) of ``source`` this log holds."""
        mark = self._data().get("copied", {}).get("1", {}).get(source, 0)
        return mark if isinstance(mark, int) else 0

    def record_many(
        self, items: Sequence[Mapping[str, Any]], *, source: str | None = None
    ) -> list[dict[str, Any]]:
        """Append ``{kind, detail, at, id?, actor?, jseq?}`` items in one write.

        With ``source``, items numbered (``jseq``) at or below the mark this log keeps for
        that source are skipped and the mark moves in the same write: a journal replayed
        after a crash is copied exactly once, however far the ring has moved on
        (adapters/audit_journal.py). An item whose ``id`` is already in the ring is skipped
        too."""
        with self.home.writing():
            db = self.home.db(AUDIT_FILE, "audit")
            data = dict(self._data())
            ring = dict(data.get("entries", {}))
            last = int(data.get("next", {}).get("1", {}).get("seq", 0))
            seq = max([last, *(int(k) for k in ring)])
            known = {e.get("id") for e in ring.values() if e.get("id")}
            marks = dict(data.get("copied", {}).get("1", {}))
            mark = marks.get(source, 0) if source else 0
            added: list[dict[str, Any]] = []
            for item in items:
                jseq = item.get("jseq")
                if source and isinstance(jseq, int):
                    if jseq <= mark:
                        continue
                    mark = jseq
                if item.get("id") and item["id"] in known:
                    continue
                seq += 1
                entry = {
                    "seq": seq,
                    "at": bounded_text(str(item.get("at") or self.home.now().isoformat()), 64),
                    "actor": bounded_text(str(item.get("actor") or self.actor), 200),
                    "kind": bounded_text(str(item["kind"]), 64),
                    "detail": bounded_value(dict(item.get("detail", {}))),
                }
                if item.get("id"):
                    entry["id"] = str(item["id"])
                if source and isinstance(jseq, int):
                    entry["source"], entry["jseq"] = source, jseq  # where it came from
                ring[str(seq)] = entry
                added.append(entry)
            moved = bool(source) and mark != marks.get(source, 0)
            if not added and not moved:
                return []
            if source:
                marks[source] = mark
                data["copied"] = {"1": marks}
            if len(ring) > self.ring_size:
                excess = len(ring) - self.ring_size
                oldest = sorted(ring, key=int)[: max(self.archive_batch, excess)]
                try:
                    self._archive([ring[k] for k in oldest])
                except SymlinkRefused as exc:
                    # nothing is lost and Plan B still works: the entries stay in the ring
                    # until the link is gone; the seller is told once
                    if str(exc) not in self.home.notices:
                        self.home.notices.append(str(exc))
                    oldest = []
                for k in oldest:
                    del ring[k]
            data["entries"] = ring
            data["next"] = {"1": {"seq": seq}}
            db.storage.write(data)
            return added

    def entries(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The newest ``limit`` entries (all when None), oldest first."""
        ring = sorted(self._data().get("entries", {}).values(), key=lambda e: int(e.get("seq", 0)))
        if limit is not None and len(ring) >= limit:
            return ring[len(ring) - limit :] if limit > 0 else []
        older: list[dict[str, Any]] = []
        first_seq = int(ring[0]["seq"]) if ring else None
        for path in sorted(self.home.paths.logs.glob("audit-*.jsonl"), reverse=True):
            lines = [
                e
                for e in _read_jsonl(path)
                if first_seq is None or int(e.get("seq", 0)) < first_seq
            ]
            older = lines + older
            if limit is not None and len(older) + len(ring) >= limit:
                break
        merged = older + ring
        return merged[-limit:] if limit is not None else merged

    def _archive(self, entries: list[dict[str, Any]]) -> None:
        by_month: dict[str, list[dict[str, Any]]] = {}
        for entry in entries:
            month = str(entry.get("at", ""))[:7] or "unknown"
            by_month.setdefault(month, []).append(entry)
        logs = self.home.paths.logs
        logs.mkdir(parents=True, exist_ok=True, mode=0o700)
        for month, batch in by_month.items():
            path = logs / f"audit-{month}.jsonl"
            last = _last_seq(path)
            fresh = [e for e in batch if int(e["seq"]) > last]
            if not fresh:
                continue
            payload = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in fresh).encode()
            if _ends_torn(path):
                payload = b"\n" + payload  # keep a torn line from a crash apart from ours
            try:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | NOFOLLOW, 0o600)
            except OSError as exc:
                if exc.errno == errno.ELOOP or path.is_symlink():
                    raise SymlinkRefused(symlink_refused(path)) from None
                raise
            try:
                os.write(fd, payload)
                os.fsync(fd)
            finally:
                os.close(fd)


class SymlinkRefused(Exception):
    """The archive path is a link: not written through."""


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    out = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a torn last line after a crash: skip it, keep the rest
        if isinstance(entry, dict):
            out.append(entry)
    return out


def _ends_torn(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell() == 0:
                return False
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) != b"\n"
    except OSError:
        return False


def _last_seq(path: Path) -> int:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 65536))
            tail = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return 0
    for line in reversed(tail.splitlines()):
        try:
            return int(json.loads(line)["seq"])
        except (ValueError, KeyError, TypeError):
            continue
    return 0
