"""The one rule for audit records, for every writer (Plan B, declarations, …).

A record travels in the SAME atomic write as the change it describes: a ``journal`` table
inside that change's own state file, each record numbered (``jseq``) by the file. It leaves
the journal only after it is durably in the audit log, whose write also stores, per source,
the highest ``jseq`` it holds. So:

- a crash between the change and the copy loses nothing (the journal still has it);
- a crash between the copy and the trim duplicates nothing (the audit log's mark skips it);
- a copy that fails (full disk) leaves the journal as it was, to be copied later.

The journal is small in practice (copied after every burst of changes); it is never cut
by count, because a record cut before its copy would be lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from .audit_log import AuditLog
from .state_home import StateHome

__all__ = ["JOURNAL_TABLE", "copy_journal", "journal_entries", "journal_seq", "note", "trimmed"]

JOURNAL_TABLE = "journal"

Raw = MutableMapping[str, Any]


def _table(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    table = raw.get(JOURNAL_TABLE, {}).get("1", {})
    return table if isinstance(table, Mapping) else {}


def journal_entries(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The records waiting in a state file's journal, oldest first."""
    entries = _table(raw).get("entries", [])
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict) and "kind" in e]


def journal_seq(raw: Mapping[str, Any]) -> int:
    """The last number given to a record of this file (kept when the journal empties)."""
    seq = _table(raw).get("seq", 0)
    numbered = [int(e["jseq"]) for e in journal_entries(raw) if isinstance(e.get("jseq"), int)]
    return max([seq if isinstance(seq, int) else 0, *numbered])


def note(raw: Raw, records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Add records to the journal of ``raw`` (the file's data, inside its write); returns them
    numbered."""
    seq = journal_seq(raw)
    entries = journal_entries(raw)
    added = []
    for record in records:
        seq += 1
        added.append({**record, "jseq": seq})
    raw[JOURNAL_TABLE] = {"1": {"seq": seq, "entries": entries + added}}
    return added


def trimmed(raw: Raw, upto: int) -> bool:
    """Drop the records numbered ``upto`` or lower from ``raw``; True when any went."""
    entries = journal_entries(raw)
    # Called after a copy succeeded, so an unnumbered record (written before records were
    # numbered) is in the audit log by then too (the log skips ids it has).
    kept = [e for e in entries if isinstance(e.get("jseq"), int) and e["jseq"] > upto]
    if len(kept) == len(entries):
        return False
    raw[JOURNAL_TABLE] = {"1": {"seq": journal_seq(raw), "entries": kept}}
    return True


def copy_journal(home: StateHome, relpath: str, kind: str, source: str, audit: AuditLog) -> int:
    """Copy what waits in the journal of one state file into the audit log, then trim it.

    Returns how many records the audit log took. Raises StateError when a write fails; the
    journal then still holds everything not yet copied.
    """
    with home.writing():
        db = home.db(relpath, kind)
        raw = dict(db.storage.read() or {})
        waiting = journal_entries(raw)
        if not waiting:
            return 0
        added = audit.record_many(waiting, source=source)
        if trimmed(raw, audit.copied_upto(source)):
            db.storage.write(raw)
        return len(added)
