"""The audit log never drops a record: every transition and attempt written to state reaches
it exactly once, whatever the number of actions, retries, crashes or failed copies.

The kill -9 test drives tests/audit_crash_child.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from liveguard.adapters.audit_journal import copy_journal, journal_entries
from liveguard.adapters.audit_log import AuditLog
from liveguard.adapters.config_file import parse_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.promotion_store import KEEP_JOURNAL, PROMOTIONS_FILE
from liveguard.adapters.state_home import StateHome, StateWriteError
from liveguard.adapters.webhook_sender import SendResult, WebhookSender
from liveguard.core.config import Config
from liveguard.core.promotion import MAX_ATTEMPTS
from liveguard.core.timekeeping import FixedClock
from liveguard.service.planb import PlanBService
from tests.servers import LoopbackServer, reply

ENV = {"HOOK_SECRET": "s3cret"}
FAIL_ENV = "LG_TEST_AUDIT_FAILS"  # probability that one audit copy fails, in the child
CHILD = Path(__file__).with_name("audit_crash_child.py")


def plan(actions: str, grace: str = "0s") -> Config:
    text = f"""
[[promotions]]
id = "plan-b"
name = "Plan B"
armed = true
grace = "{grace}"
{actions}
"""
    return parse_config(text, "liveguard.toml", environ=ENV)


def links(n: int) -> str:
    return "".join(
        f'\n  [[promotions.actions]]\n  kind = "link"\n  url = "https://example.com/{i}"\n'
        for i in range(n)
    )


def webhooks(n: int, base: str) -> str:
    return "".join(
        f"""
  [[promotions.actions]]
  kind = "webhook"
  url = "{base}/on/{i}"
  body = {{ n = {i} }}
  undo = {{ url = "{base}/off/{i}" }}
"""
        for i in range(n)
    )


def service(config: Config, home: StateHome, clock: FixedClock, **kw: Any) -> PlanBService:
    async def sleep(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))

    return PlanBService(
        config,
        home,
        clock=clock,
        environ=ENV,
        sleep=sleep,
        jitter=lambda: 0.5,
        opener=lambda url: True,
        actor="ani",
        **kw,
    )


def check_exactly_once(home: StateHome) -> list[dict[str, Any]]:
    """Each record in state reached the audit log once: for every outbox entry as many
    attempt records as attempts, numbered 1..N without gap or repeat, nothing waiting."""
    entries = AuditLog(home).entries()
    planb = [e for e in entries if e.get("source") == "planb"]
    assert [e["jseq"] for e in planb] == list(range(1, len(planb) + 1))
    ids = [e["id"] for e in planb]
    assert len(ids) == len(set(ids))
    raw = home.db(PROMOTIONS_FILE, "promotions").storage.read() or {}
    assert journal_entries(raw) == [], "records still waiting after the last copy"
    attempts = Counter(e["detail"]["key"] for e in planb if e["kind"] == "planb.attempt")
    from liveguard.adapters.promotion_store import PromotionStore

    outbox = {e.key: e.attempts for e in PromotionStore(home).load().entries}
    assert dict(attempts) == {k: n for k, n in outbox.items() if n}
    return planb


@pytest.fixture
def home(tmp_path: Path) -> StateHome:
    return StateHome(Paths.resolve(home=str(tmp_path / "home"))).open()


async def test_300_actions_every_transition_and_attempt_once(home: StateHome) -> None:
    clock = FixedClock(datetime.fromisoformat("2026-11-28T20:41:00+07:00"))
    planb = service(plan(links(300)), home, clock)
    planb.press(reason="TikTok Live off")
    await planb.drain()
    planb.press()
    await planb.drain()
    await planb.aclose()

    records = check_exactly_once(home)
    kinds = Counter(e["kind"] for e in records)
    assert kinds["planb.attempt"] == 300  # links have no undo
    story = [e["detail"]["to"] for e in records if e["kind"] == "planb.transition"]
    assert story == ["activating", "active", "deactivating", "armed"]
    # the journal stayed bounded while the audit log took everything
    assert len(journal_entries(home.db(PROMOTIONS_FILE, "promotions").storage.read() or {})) == 0


async def test_30_actions_failing_9_times_each_every_attempt_once(home: StateHome) -> None:
    clock = FixedClock(datetime.fromisoformat("2026-11-28T20:41:00+07:00"))
    with LoopbackServer() as srv:
        for i in range(30):
            srv.route(f"/on/{i}", reply(503, "busy"))
            srv.route(f"/off/{i}", reply(200))
        planb = service(plan(webhooks(30, srv.url(""))), home, clock)
        planb.press(reason="TikTok Live off")
        await planb.drain()
        await planb.aclose()
        on_requests = [r for r in srv.requests if r.path.startswith("/on/")]

    records = check_exactly_once(home)
    attempts = [e for e in records if e["kind"] == "planb.attempt"]
    assert len(attempts) == 30 * MAX_ATTEMPTS == len(on_requests)
    assert Counter(a["detail"]["result"] for a in attempts)["failed"] == 30


async def test_a_failing_copy_keeps_every_record_until_it_succeeds(
    home: StateHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FixedClock(datetime.fromisoformat("2026-11-28T20:41:00+07:00"))
    planb = service(plan(links(3 * KEEP_JOURNAL)), home, clock)
    real = AuditLog.record_many

    def full_disk(self: AuditLog, items: Any, **kw: Any) -> Any:
        raise StateWriteError("audit.json: could not save (No space left on device)")

    monkeypatch.setattr(AuditLog, "record_many", full_disk)
    planb.press(reason="TikTok Live off")
    with pytest.raises(StateWriteError):
        await planb.drain()
    waiting = journal_entries(home.db(PROMOTIONS_FILE, "promotions").storage.read() or {})
    assert len(waiting) > KEEP_JOURNAL  # over the bound, yet nothing was cut

    monkeypatch.setattr(AuditLog, "record_many", real)
    await planb.drain()
    await planb.aclose()
    records = check_exactly_once(home)
    assert Counter(e["kind"] for e in records)["planb.attempt"] == 3 * KEEP_JOURNAL


async def test_a_crash_between_copy_and_trim_repeats_nothing_once_the_ring_moved_on(
    home: StateHome,
) -> None:
    clock = FixedClock(datetime.fromisoformat("2026-11-28T20:41:00+07:00"))
    planb = service(plan(links(20)), home, clock)
    planb.press(reason="TikTok Live off")
    planb.advance()  # records waiting in the journal, none copied yet
    small = AuditLog(home, ring_size=10, archive_batch=5)
    waiting = journal_entries(home.db(PROMOTIONS_FILE, "promotions").storage.read() or {})
    assert waiting
    small.record_many(waiting, source="planb")  # copied; the crash comes before the trim
    for n in range(30):  # the ring moves on: the copied records go to the monthly archive
        small.record("status.mark", {"channel": "tiktok", "n": n})
    assert copy_journal(home, PROMOTIONS_FILE, "promotions", "planb", small) == 0
    planb_entries = [e for e in small.entries() if e.get("source") == "planb"]
    assert [e["jseq"] for e in planb_entries] == [r["jseq"] for r in waiting]
    await planb.aclose()


async def test_a_declaration_and_its_record_are_one_write_and_copied_once(
    home: StateHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    from liveguard.service.status import StatusService

    config = parse_config(
        '[[channels]]\nid = "tiktok"\nname = "TikTok Shop"\nlive = true\n', "liveguard.toml"
    )
    clock = FixedClock(datetime.fromisoformat("2026-11-28T20:41:00+07:00"))
    status = StatusService(config, home, clock)
    real = AuditLog.record_many

    def full_disk(self: AuditLog, items: Any, **kw: Any) -> Any:
        raise StateWriteError("audit.json: could not save (No space left on device)")

    monkeypatch.setattr(AuditLog, "record_many", full_disk)
    status.declare("tiktok", "down", "LIVE button fails", who="ani")
    assert AuditLog(home).entries() == []
    assert status.store.declarations()["tiktok"].reason == "LIVE button fails"
    monkeypatch.setattr(AuditLog, "record_many", real)
    status.declare("tiktok", "clear", who="ani")
    status.store.copy_journal(AuditLog(home))  # a later round: nothing twice
    marks = [(e["kind"], e["detail"]["mark"], e["actor"]) for e in AuditLog(home).entries()]
    assert marks == [("status.mark", "down", "ani"), ("status.mark", "clear", "ani")]


# -- kill -9 while the audit copy fails at random -------------------------------------------


def slow(rng: random.Random) -> Any:
    """A receiver that takes its time, so kills land mid-activation."""
    ok = reply(200)

    async def respond(req: Any, writer: Any, stop: Any) -> None:
        await asyncio.sleep(rng.uniform(0.05, 0.3))
        await ok(req, writer, stop)

    return respond


def test_kill_9_with_failing_copies_never_loses_or_repeats_a_record(
    tmp_path: Path, big: bool
) -> None:
    rounds, kills_per_round = (8, 8) if big else (2, 4)
    rng = random.Random(18)
    kills = 0
    for r in range(rounds):
        home_dir = tmp_path / f"home{r}"
        with LoopbackServer() as srv:
            for i in range(12):
                srv.route(f"/on/{i}", slow(rng))
                srv.route(f"/off/{i}", slow(rng))
            for attempt in range(kills_per_round + 1):
                last = attempt == kills_per_round
                proc = subprocess.Popen(
                    [sys.executable, str(CHILD), str(home_dir), srv.url("")],
                    cwd=Path(__file__).parent.parent,
                    env={**os.environ, FAIL_ENV: "0" if last else "0.3"},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
                try:
                    _, err = proc.communicate(timeout=120 if last else rng.uniform(0.3, 1.2))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.communicate()
                    kills += 1
                    continue
                assert proc.returncode == 0, err.decode()[-2000:]
                if not last:
                    break  # finished before the kill: start the next round
        home = StateHome(Paths.resolve(home=str(home_dir))).open()
        records = check_exactly_once(home)
        home.close()
        story = [e["detail"]["to"] for e in records if e["kind"] == "planb.transition"]
        assert story == ["activating", "active", "deactivating", "armed"], story
    assert kills > 0, "no kill landed: the test would prove nothing"


# -- any sequence of presses, deliveries, failures, crashes and failed copies -----------------


class ScriptedSender(WebhookSender):
    """Answers as the test says (no network: this property is about bookkeeping)."""

    def __init__(self) -> None:
        self.status = 200

    async def send(self, request: Any, timeout_s: float) -> SendResult:
        return SendResult(self.status, "" if self.status < 400 else "server said no")


class AuditMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self.tmp = tempfile.TemporaryDirectory()
        self.paths = Paths.resolve(home=self.tmp.name)
        self.home = StateHome(self.paths).open()
        self.clock = FixedClock(datetime.fromisoformat("2026-11-28T20:41:00+07:00"))
        self.config = plan(webhooks(3, "http://127.0.0.1:9"), grace="5s")
        self.sender = ScriptedSender()
        self.copy_fails = False
        self.real = AuditLog.record_many
        machine = self

        def maybe_failing(audit: AuditLog, items: Any, **kw: Any) -> Any:
            if machine.copy_fails:
                raise StateWriteError("audit.json: could not save (injected)")
            return machine.real(audit, items, **kw)

        AuditLog.record_many = maybe_failing  # type: ignore[method-assign]
        self.planb = self._start()

    def _start(self) -> PlanBService:
        return service(self.config, self.home, self.clock, sender=self.sender)

    def _run(self, coro: Any) -> None:
        from liveguard.adapters.state_home import StateError

        with contextlib.suppress(StateError):  # a failed copy: the records must still wait
            asyncio.run(coro)

    @rule()
    def press(self) -> None:
        from liveguard.service.planb import TransitionError

        with contextlib.suppress(TransitionError):
            self.planb.press(reason="TikTok Live off")

    @rule()
    def time_passes(self) -> None:
        self.clock.advance(timedelta(seconds=30))

    @rule(ok=st.booleans())
    def deliver(self, ok: bool) -> None:
        self.sender.status = 200 if ok else 503
        self._run(self.planb.step())

    @rule()
    def crash(self) -> None:
        self.planb.lease.release()
        self.planb = self._start()

    @rule(fails=st.booleans())
    def copy(self, fails: bool) -> None:
        self.copy_fails = fails
        self._run(self._flush())

    async def _flush(self) -> None:
        self.planb.flush_journal()

    @invariant()
    def audit_is_a_complete_prefix(self) -> None:
        audited = [e for e in AuditLog(self.home).entries() if e.get("source") == "planb"]
        seqs = [e["jseq"] for e in audited]
        assert seqs == list(range(1, len(seqs) + 1)), "a gap or a repeat in the audit log"
        state = self.planb.state()
        waiting = [r["jseq"] for r in state.journal]
        assert waiting == list(range(state.journal_seq - len(waiting) + 1, state.journal_seq + 1))
        # everything numbered so far is either audited or still waiting
        assert set(range(1, state.journal_seq + 1)) <= set(seqs) | set(waiting)

    def teardown(self) -> None:
        AuditLog.record_many = self.real  # type: ignore[method-assign]
        self.planb.lease.release()
        self.home.close()
        self.tmp.cleanup()


def test_audit_state_machine(big: bool) -> None:
    runner = AuditMachine.TestCase()
    runner.settings = settings(
        max_examples=300 if big else 30,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    runner.runTest()
