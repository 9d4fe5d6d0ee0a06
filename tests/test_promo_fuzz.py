"""Random key presses, countdowns, outcomes and arming against a real state home: the switch
only moves along its edges, every activation gets its outbox exactly once, and the audit log
tells the same story as the state file."""

from __future__ import annotations

import itertools
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveguard.adapters.audit_log import AuditLog
from liveguard.adapters.config_file import parse_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.promotion_store import PlanBState, PromotionStore
from liveguard.adapters.state_home import StateHome
from liveguard.core.promotion import TERMINAL
from liveguard.core.timekeeping import FixedClock
from liveguard.service.planb import PlanBService, TransitionError

CONFIG = parse_config(
    """
[[promotions]]
id = "plan-b"
name = "Plan B"
armed = true
grace = "5s"

  [[promotions.actions]]
  kind = "webhook"
  url = "http://127.0.0.1:9/start"
  undo = { url = "http://127.0.0.1:9/end" }

  [[promotions.actions]]
  kind = "webhook"
  url = "http://127.0.0.1:9/other"

[[promotions]]
id = "wa"
name = "WA"

  [[promotions.actions]]
  kind = "webhook"
  url = "http://127.0.0.1:9/wa"
  undo = { url = "http://127.0.0.1:9/wa-end" }
""",
    "liveguard.toml",
    environ={},
)

EDGES = {
    ("armed", "pending"),
    ("armed", "activating"),
    ("pending", "armed"),
    ("pending", "activating"),
    ("activating", "active"),
    ("activating", "pending"),  # pending_off, shown as pending
    ("activating", "deactivating"),
    ("active", "pending"),
    ("active", "deactivating"),
    ("pending", "deactivating"),
    ("deactivating", "armed"),
    ("armed", "armed"),  # arming another promotion
}

OPS = st.lists(
    st.one_of(
        st.just(("press", 0)),
        st.just(("press_now", 0)),
        st.just(("cancel", 0)),
        st.tuples(st.just("wait"), st.integers(0, 8)),
        st.tuples(st.just("outcome"), st.sampled_from(["delivered", "failed", "retrying"])),
        st.tuples(st.just("arm"), st.sampled_from(["plan-b", "wa"])),
    ),
    max_size=25,
)


def apply_outcome(store: PromotionStore, status: str, now: datetime) -> None:
    """What a send would have written: the first unsettled entry gets this outcome."""

    def change(state: PlanBState) -> PlanBState:
        for e in state.entries:
            if e.status not in TERMINAL:
                next_at = now + timedelta(seconds=3) if status == "retrying" else None
                return state.with_entry(
                    replace(e, status=status, attempts=e.attempts + 1, next_at=next_at)
                )  # type: ignore[arg-type]
        return state

    store.update(change)


BIG = "--big" in sys.argv  # the conftest flag; hypothesis settings are fixed at import


@settings(
    max_examples=400 if BIG else 30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(OPS)
def test_random_use_keeps_the_switch_and_its_record_consistent(
    ops: list[tuple[str, object]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clock = FixedClock(datetime(2026, 11, 28, 14, 0, tzinfo=UTC))
        home = StateHome(Paths.resolve(home=tmp), clock).open()
        tokens = iter(f"t{n}" for n in range(1000))
        service = PlanBService(CONFIG, home, clock=clock, opener=None, token=lambda: next(tokens))
        store = PromotionStore(home)
        for op, arg in ops:
            try:
                if op == "press":
                    service.press()
                elif op == "press_now":
                    service.press(skip_grace=True)
                elif op == "cancel":
                    service.cancel()
                elif op == "wait":
                    clock.advance(timedelta(seconds=int(arg)))  # type: ignore[call-overload]
                elif op == "outcome":
                    apply_outcome(store, str(arg), clock.now())
                else:
                    service.arm(str(arg))
            except TransitionError:
                pass
            service.advance()
            state = service.state()
            keys = [e.key for e in state.entries]
            assert len(keys) == len(set(keys)), "an action got two outbox entries"
            sw = service.switch(state)
            if sw.phase == "idle":
                assert all(e.settled for e in state.entries), "at rest with work left"
        service.flush_journal()
        entries = AuditLog(home).entries()
        home.close()
    moves = [e["detail"] for e in entries if e["kind"] == "planb.transition"]
    for m in moves:
        assert (m["from"], m["to"]) in EDGES, m
    started = [
        m["activation_id"]
        for m in moves
        if m["phase"] == "activating" and m["from_phase"] in ("idle", "pending")
    ]
    assert len(started) == len(set(started)), "an activation started twice"
    for a, b in itertools.pairwise(moves):
        assert a["to"] == b["from"] or b["by"] == "arm" or a["promotion"] != b["promotion"], (a, b)
