"""Stable action identity: outbox entries refer to an action's id, so an edited config never
sends a resumed action to another target, and a removed action is cancelled with a record."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from liveguard.adapters.audit_log import AuditLog
from liveguard.adapters.config_file import ConfigError, parse_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.config import Config
from liveguard.core.timekeeping import FixedClock
from liveguard.service.planb import PlanBService
from tests.servers import LoopbackServer, reply


def hook(path: str, base: str, extra: str = "") -> str:
    return f"""
  [[promotions.actions]]
  kind = "webhook"
  url = "{base}{path}"
  {extra}
"""


def plan(*actions: str) -> Config:
    text = '[[promotions]]\nid = "plan-b"\nname = "Plan B"\narmed = true\ngrace = "0s"\n'
    return parse_config(text + "".join(actions), "liveguard.toml")


def test_ids_are_given_or_derived_from_the_target_and_survive_a_reorder() -> None:
    a, b = hook("/a", "https://h.example"), hook("/b", "https://h.example", 'id = "flash-sale"')
    first = [x.id for x in plan(a, b).promotions[0].actions]
    again = [x.id for x in plan(b, a).promotions[0].actions]
    assert first[1] == "flash-sale"
    assert first[0].startswith("webhook-") and len(first[0]) == len("webhook-") + 8
    assert sorted(first) == sorted(again)
    twice = [x.id for x in plan(a, a).promotions[0].actions]
    assert twice == [first[0], first[0] + "-2"]
    changed = plan(hook("/a2", "https://h.example")).promotions[0].actions[0].id
    assert changed != first[0]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('id = "Flash Sale"', "'Flash Sale' is not a valid id"),
        ('id = "x"', "duplicate action id 'x' (first in promotions[0].actions[0])"),
    ],
)
def test_bad_or_duplicate_action_ids_are_refused(extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        plan(hook("/a", "https://h.example", 'id = "x"'), hook("/b", "https://h.example", extra))
    assert message in str(err.value)
    assert "promotions[0].actions[1].id" in str(err.value)


async def test_a_resumed_activation_follows_ids_after_the_config_was_edited(
    tmp_path: Path,
) -> None:
    home = StateHome(Paths.resolve(home=str(tmp_path))).open()
    clock = FixedClock(datetime.fromisoformat("2026-11-28T20:41:00+07:00"))

    async def sleep(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))

    def service(config: Config) -> PlanBService:
        return PlanBService(config, home, clock=clock, sleep=sleep, environ={}, opener=None)

    with LoopbackServer() as srv:
        for path in ("/a", "/b", "/c", "/c2"):
            srv.route(path, reply(200))
        base = srv.url("")
        before = service(plan(hook("/a", base), hook("/b", base), hook("/c", base)))
        before.press(reason="TikTok Live off")  # queued, then "the machine stops"
        keys = {e.action_id: e.key for e in before.state().entries}
        before.lease.release()
        # the seller edits the config: reordered, /a removed, /c pointed elsewhere
        after = service(plan(hook("/c2", base), hook("/b", base)))
        await after.drain()
        await after.aclose()
        seen = [(r.path, r.headers["idempotency-key"]) for r in srv.requests]

    b_id = plan(hook("/b", base)).promotions[0].actions[0].id
    assert seen == [("/b", keys[b_id])], "only /b is still the same action"
    attempts = [e["detail"] for e in AuditLog(home).entries() if e["kind"] == "planb.attempt"]
    cancelled = sorted(a["key"] for a in attempts if a["result"] == "cancelled")
    assert cancelled == sorted(k for aid, k in keys.items() if aid != b_id)
    assert all(
        "removed from the config" in a["error"] for a in attempts if a["result"] == "cancelled"
    )
    home.close()
