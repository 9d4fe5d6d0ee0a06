"""The audit log: a bounded ring in the state folder, overflow archived so nothing is lost."""

from __future__ import annotations

import json
from datetime import timedelta

from liveguard.adapters.audit_log import AuditLog
from liveguard.adapters.state_home import StateHome
from liveguard.core.timekeeping import FixedClock


def test_entries_carry_time_actor_kind_and_detail(home: StateHome, clock: FixedClock) -> None:
    log = AuditLog(home, actor="ani")
    log.record("planb.transition", {"to": "pending"})
    clock.advance(timedelta(seconds=5))
    log.record("planb.transition", {"to": "activating"})
    entries = AuditLog(home).entries()
    assert [(e["actor"], e["kind"], e["detail"]["to"]) for e in entries] == [
        ("ani", "planb.transition", "pending"),
        ("ani", "planb.transition", "activating"),
    ]
    assert entries[1]["at"] == "2026-11-28T14:00:05+00:00"
    assert [e["seq"] for e in entries] == [1, 2]


def test_overflow_goes_to_the_monthly_archive_and_nothing_is_lost(home: StateHome) -> None:
    log = AuditLog(home, ring_size=10, archive_batch=4, actor="ani")
    for n in range(37):
        log.record("test", {"n": n})
    ring = json.loads((home.dir / "audit.json").read_text())["entries"]
    assert len(ring) <= 10
    archive = home.paths.logs / "audit-2026-11.jsonl"
    archived = [json.loads(line)["detail"]["n"] for line in archive.read_text().splitlines()]
    assert archived == list(range(len(archived)))
    assert [e["detail"]["n"] for e in log.entries()] == list(range(37))
    assert [e["detail"]["n"] for e in log.entries(limit=15)] == list(range(22, 37))
    assert log.entries(limit=0) == []


def test_a_crash_between_archive_and_ring_write_does_not_duplicate(home: StateHome) -> None:
    log = AuditLog(home, ring_size=5, archive_batch=2, actor="ani")
    for n in range(5):
        log.record("test", {"n": n})
    snapshot = (home.dir / "audit.json").read_bytes()
    log.record("test", {"n": 5})  # archives 0 and 1
    # the ring write "never happened": the old ring is back, the archive already has 0 and 1
    (home.dir / "audit.json").write_bytes(snapshot)
    archive = home.paths.logs / "audit-2026-11.jsonl"
    with archive.open("a") as fh:
        fh.write('{"seq": 99, "torn')  # and a torn line from a crash mid-append
    log = AuditLog(home, ring_size=5, archive_batch=2, actor="ani")
    log.record("test", {"n": 5})
    lines = archive.read_text().splitlines()
    seqs = [json.loads(line)["seq"] for line in lines if line.endswith("}")]
    assert seqs == [1, 2]
    assert [e["detail"]["n"] for e in log.entries()] == [0, 1, 2, 3, 4, 5]
