"""Plan B end to end against a real loopback webhook receiver and a real state home.

Time is a FixedClock; retry delays go through an injected sleep that moves the clock, so
nothing here sleeps for real (only the real HTTP round trips take time).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import date, timedelta
from urllib.parse import parse_qs

import pytest

from liveguard.adapters.audit_log import AuditLog
from liveguard.adapters.config_file import parse_config
from liveguard.adapters.promotion_store import PromotionStore
from liveguard.adapters.state_home import StateHome
from liveguard.core.config import Config
from liveguard.core.ledger import DayOrders
from liveguard.core.orders import Order, OrderStatus
from liveguard.core.promotion import MAX_ATTEMPTS
from liveguard.core.timekeeping import FixedClock, load_zone, local_day
from liveguard.core.webhook_signing import verify
from liveguard.service.planb import ImpactRow, PlanBService, TransitionError, orders_impact
from tests.conftest import EVENING
from tests.servers import LoopbackServer, close_at_once, hang, reply, sequence

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ENV = {"HOOK_TOKEN": "tok-123", "HOOK_SECRET": SECRET}


def plan_config(base: str, *, grace: str = "0s", timeout: str = "2s", extra: str = "") -> Config:
    text = f"""
[[channels]]
id = "tiktok"
name = "TikTok Shop"
live = true

[[promotions]]
id = "plan-b"
name = "Plan B: Shopee flash sale"
armed = true
channel = "tiktok"
grace = "{grace}"

  [[promotions.actions]]
  kind = "webhook"
  name = "Flash sale"
  url = "{base}/start?why={{reason}}"
  timeout = "{timeout}"
  headers = {{ Authorization = "Bearer ${{HOOK_TOKEN}}" }}
  secret = "${{HOOK_SECRET}}"
  body = {{ voucher = "LIVEDOWN20", reason = "{{reason}}", promo = "{{promotion}}", channel = "{{channel}}", at = "{{activated_at}}", id = "{{activation_id}}" }}
  undo = {{ url = "{base}/end" }}

  [[promotions.actions]]
  kind = "message"
  text = "Live {{channel}} off: pakai LIVEDOWN20 ({{reason}})"
  file = "wa-broadcast.txt"

  [[promotions.actions]]
  kind = "link"
  url = "https://seller.shopee.co.id/portal/marketing"

  [[promotions.actions]]
  kind = "checklist"
  steps = ["Start a Shopee Live session", "Post an Instagram story"]

[[promotions]]
id = "wa-only"
name = "WhatsApp only"

  [[promotions.actions]]
  kind = "message"
  text = "Halo kak!"
{extra}
"""
    return parse_config(text, "liveguard.toml", environ=ENV)


@pytest.fixture
def receiver(clock: FixedClock) -> Iterator[LoopbackServer]:
    with LoopbackServer(webhook_secret=SECRET, webhook_now=clock.now) as srv:
        srv.route("/start", reply(200))
        srv.route("/end", reply(200))
        yield srv


class Harness:
    def __init__(
        self, config: Config, home: StateHome, clock: FixedClock, env: dict[str, str] = ENV
    ) -> None:
        self.clock = clock
        self.opened: list[str] = []
        self.slept: list[float] = []
        tokens = iter(f"t{n}" for n in range(100))

        async def sleep(seconds: float) -> None:
            self.slept.append(seconds)
            clock.advance(timedelta(seconds=seconds))

        def opener(url: str) -> bool:
            self.opened.append(url)
            return True

        self.service = PlanBService(
            config,
            home,
            clock=clock,
            environ=env,
            sleep=sleep,
            jitter=lambda: 0.5,
            token=lambda: next(tokens),
            opener=opener,
            actor="ani",
        )

    async def run(self, **press: object) -> None:
        self.service.press(**press)  # type: ignore[arg-type]
        await self.service.drain()


def hits(srv: LoopbackServer, path: str) -> list[dict[str, object]]:
    return [
        {
            "key": r.headers.get("idempotency-key"),
            "headers": r.headers,
            "body": r.body,
            "query": r.query,
        }
        for r in srv.requests
        if r.path == path
    ]


def attempts(home: StateHome) -> list[dict[str, object]]:
    return [e["detail"] for e in AuditLog(home).entries() if e["kind"] == "planb.attempt"]


async def test_activation_sends_one_templated_signed_request(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    h = Harness(plan_config(receiver.url("")), home, clock)
    try:
        await h.run(reason="TikTok Live down", channel="tiktok")
    finally:
        await h.service.aclose()
    [req] = hits(receiver, "/start")
    headers = req["headers"]
    assert isinstance(headers, dict) and isinstance(req["body"], bytes)
    body = json.loads(req["body"])
    sw = h.service.switch()
    assert sw.phase == "active"
    assert body == {
        "voucher": "LIVEDOWN20",
        "reason": "TikTok Live down",
        "promo": "plan-b",
        "channel": "tiktok",
        "at": "2026-11-28T21:00:00+07:00",
        "id": sw.activation_id,
    }
    assert parse_qs(str(req["query"])) == {"why": ["TikTok Live down"]}
    assert headers["authorization"] == "Bearer tok-123"
    assert headers["idempotency-key"] == f"lg-{sw.activation_id}-0-do"
    ts = int(headers["webhook-timestamp"])
    assert verify(
        SECRET, headers["webhook-id"], ts, req["body"], headers["webhook-signature"], now=ts
    )
    # message saved, link opened, the story on record
    saved = (home.paths.logs / "wa-broadcast.txt").read_text()
    assert saved == "Live tiktok off: pakai LIVEDOWN20 (TikTok Live down)"
    assert h.opened == ["https://seller.shopee.co.id/portal/marketing"]
    view = h.service.view()
    assert [a.status for a in view.actions] == ["delivered", "done", "done", "done"]
    assert view.messages == (saved,)
    kinds = [(e["kind"], e["detail"].get("to")) for e in AuditLog(home).entries()]
    assert kinds[0] == ("planb.transition", "activating") and kinds[-1] == (
        "planb.transition",
        "active",
    )
    [hook] = [a for a in attempts(home) if a["kind"] == "webhook"]
    assert hook["result"] == "delivered" and hook["status"] == 200 and hook["attempt"] == 1
    assert "tok-123" not in json.dumps(AuditLog(home).entries())
    assert "tok-123" not in (home.dir / "promotions.json").read_text()


async def test_server_errors_are_retried_with_the_same_key(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    receiver.route("/start", sequence(reply(500), reply(503), reply(200)))
    h = Harness(plan_config(receiver.url("")), home, clock)
    try:
        await h.run()
    finally:
        await h.service.aclose()
    reqs = hits(receiver, "/start")
    assert len(reqs) == 3 and len({r["key"] for r in reqs}) == 1
    assert len({r["body"] for r in reqs}) == 1
    assert h.slept == [1.0, 2.0]
    results = [
        (a["attempt"], a["result"], a["status"]) for a in attempts(home) if a["kind"] == "webhook"
    ]
    assert results == [(1, "retrying", 500), (2, "retrying", 503), (3, "delivered", 200)]


async def test_429_waits_as_long_as_retry_after_says(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    receiver.route(
        "/start", sequence(reply(429, "slow down", headers={"Retry-After": "7"}), reply(200))
    )
    h = Harness(plan_config(receiver.url("")), home, clock)
    try:
        await h.run()
    finally:
        await h.service.aclose()
    assert len(hits(receiver, "/start")) == 2
    assert h.slept == [7.0]


async def test_client_error_fails_at_once_showing_the_reply(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    receiver.route("/start", reply(400, "voucher LIVEDOWN20 unknown"))
    h = Harness(plan_config(receiver.url("")), home, clock)
    try:
        await h.run()
    finally:
        await h.service.aclose()
    assert len(hits(receiver, "/start")) == 1
    hook = h.service.view().actions[0]
    assert hook.status == "failed" and "voucher LIVEDOWN20 unknown" in hook.error
    assert h.service.switch().phase == "active"  # the other actions still ran


@pytest.mark.parametrize("trouble", [hang(), close_at_once()], ids=["hang", "close"])
async def test_hang_or_closed_connection_is_retried(
    trouble: object, receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    receiver.route("/start", sequence(trouble, reply(200)))  # type: ignore[arg-type]
    h = Harness(plan_config(receiver.url(""), timeout="300ms"), home, clock)
    try:
        await h.run()
    finally:
        await h.service.aclose()
    reqs = hits(receiver, "/start")
    assert len(reqs) == 2 and reqs[0]["key"] == reqs[1]["key"]
    first = next(a for a in attempts(home) if a["kind"] == "webhook")
    assert first["result"] == "retrying" and first["status"] is None and first["error"]


async def test_gives_up_after_the_bounded_schedule(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    receiver.route("/start", reply(503))
    h = Harness(plan_config(receiver.url("")), home, clock)
    try:
        await h.run()
    finally:
        await h.service.aclose()
    assert len(hits(receiver, "/start")) == MAX_ATTEMPTS
    hook = h.service.view().actions[0]
    assert hook.status == "failed" and "gave up" in hook.error
    assert sum(h.slept) < 15 * 60


async def test_deactivation_runs_the_undo_and_rearms(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    h = Harness(plan_config(receiver.url(""), grace="5s"), home, clock)
    try:
        await h.run(skip_grace=True)
        assert h.service.switch().phase == "active"
        h.service.press()  # the same key on an active promotion: deactivate, with grace
        assert h.service.view().state == "pending" and h.service.view().countdown_s == 5
        await h.service.drain()
    finally:
        await h.service.aclose()
    [start] = hits(receiver, "/start")
    [end] = hits(receiver, "/end")
    assert end["key"] != start["key"] and str(end["key"]).endswith("-0-undo")
    assert end["headers"]["authorization"] == "Bearer tok-123"  # type: ignore[index]
    rested = h.service.view()
    assert rested.state == "armed"
    assert rested.activated_at is not None and rested.deactivated_at is not None  # for impact
    assert h.slept == [5.0]


async def test_stopping_cancels_the_start_actions_not_yet_delivered(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    """A start webhook still retrying when the seller stops Plan B must never go out again
    (it would restart the flash sale after its undo)."""
    receiver.route("/start", reply(503))
    h = Harness(plan_config(receiver.url("")), home, clock)
    try:
        h.service.press(reason="TikTok down")
        await h.service.step()  # the first attempt fails: the start action is retrying
        assert len(hits(receiver, "/start")) == 1
        assert h.service.view().actions[0].status == "retrying"
        h.service.press()  # stop (grace 0: at once)
        await h.service.drain()
        clock.advance(timedelta(hours=1))  # long past every retry the schedule had left
        await h.service.drain()
    finally:
        await h.service.aclose()
    assert len(hits(receiver, "/start")) == 1
    assert len(hits(receiver, "/end")) == 1
    assert h.service.view().state == "armed"
    entries = PromotionStore(home).load().entries
    assert [(e.step, e.status) for e in entries if e.kind == "webhook"] == [
        ("do", "cancelled"),
        ("undo", "delivered"),
    ]


def test_impact_counts_paid_sales_since_the_start_against_the_same_window_yesterday() -> None:
    zone = load_zone("Asia/Jakarta")
    start = EVENING
    end = start + timedelta(hours=2)
    orders = [
        Order("shopee", "now", start + timedelta(minutes=10), 100_000),
        Order("shopee", "gone", start + timedelta(minutes=20), 70_000, OrderStatus.CANCELLED),
        Order("shopee", "back", start + timedelta(minutes=30), 60_000, OrderStatus.RETURNED),
        Order("shopee", "unpaid", start + timedelta(minutes=40), 50_000, OrderStatus.UNPAID),
        Order("shopee", "before", start - timedelta(minutes=5), 5_000),
        Order("shopee", "yday", start - timedelta(days=1) + timedelta(minutes=10), 40_000),
        Order("shopee", "week", start - timedelta(days=7) + timedelta(minutes=10), 999_000),
    ]

    def day_index(day: date) -> DayOrders:
        return DayOrders.of([o for o in orders if local_day(o.created, zone) == day], zone)

    rows = orders_impact(day_index, zone, ["tiktok", "shopee"])(start, end)
    assert rows == [ImpactRow("tiktok", 0, 0), ImpactRow("shopee", 100_000, 40_000)]


async def test_cancel_during_grace_sends_nothing(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    h = Harness(plan_config(receiver.url(""), grace="5s"), home, clock)
    try:
        h.service.press(reason="test")
        clock.advance(timedelta(seconds=4))
        assert h.service.view().countdown_s == 1
        h.service.cancel()
        clock.advance(timedelta(seconds=10))
        await h.service.drain()
    finally:
        await h.service.aclose()
    assert receiver.requests == []
    assert h.service.view().state == "armed"
    tos = [e["detail"]["to"] for e in AuditLog(home).entries() if e["kind"] == "planb.transition"]
    assert tos == ["pending", "armed"]


async def test_restart_resends_an_interrupted_attempt_with_the_same_key_only(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    config = plan_config(receiver.url(""))
    h = Harness(config, home, clock)
    sw = h.service.press()
    # a process that claimed the webhook and died before writing the result
    store = PromotionStore(home)
    store.update(
        lambda s: s.with_entry(
            s.entries[0].__class__(**{**s.entries[0].__dict__, "status": "sending", "attempts": 1})
        )
    )
    again = Harness(config, home, clock)
    try:
        await again.service.drain()
        assert again.service.switch().phase == "active"
        third = Harness(config, home, clock)  # a later restart sends nothing more
        await third.service.drain()
        await third.service.aclose()
    finally:
        await again.service.aclose()
        await h.service.aclose()
    [req] = hits(receiver, "/start")
    assert req["key"] == f"lg-{sw.activation_id}-0-do"
    hook = [(a["attempt"], a["result"]) for a in attempts(home) if a["kind"] == "webhook"]
    assert hook == [(1, "interrupted"), (2, "delivered")]


async def test_missing_secret_fails_without_sending(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    h = Harness(plan_config(receiver.url("")), home, clock, env={"HOOK_TOKEN": "tok"})
    try:
        await h.run()
    finally:
        await h.service.aclose()
    assert receiver.requests == []
    hook = h.service.view().actions[0]
    assert hook.status == "failed" and "HOOK_SECRET" in hook.error


async def test_checklist_ticks_survive_a_restart(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    config = plan_config(receiver.url(""))
    h = Harness(config, home, clock)
    try:
        await h.run()
        assert h.service.toggle_tick(1) is True
    finally:
        await h.service.aclose()
    later = Harness(config, home, clock)
    assert later.service.view().checklist == (
        ("Start a Shopee Live session", False),
        ("Post an Instagram story", True),
    )
    assert later.service.toggle_tick(1) is False


async def test_arming_another_promotion_only_when_idle(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    config = plan_config(receiver.url(""))
    h = Harness(config, home, clock)
    h.service.arm("wa-only")
    assert [(p["id"], p["armed"], p["state"]) for p in h.service.listing()] == [
        ("plan-b", False, "inactive"),
        ("wa-only", True, "armed"),
    ]
    assert Harness(config, home, clock).service.view().promotion_id == "wa-only"  # persisted
    with pytest.raises(TransitionError):
        h.service.arm("nope")
    h.service.arm("plan-b")
    h.service.press()
    with pytest.raises(TransitionError):
        h.service.arm("wa-only")
    await h.service.aclose()


async def test_auto_activation_after_a_long_outage_fires_once(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    config = plan_config(receiver.url(""), extra='[alerts]\nauto_activate_after = "5m"\n')
    h = Harness(config, home, clock)
    since = clock.now() - timedelta(minutes=4)
    assert h.service.consider_outage([("tiktok", "TikTok Shop", since)]) is None
    clock.advance(timedelta(minutes=1))
    sw = h.service.consider_outage([("tiktok", "TikTok Shop", since)])
    assert sw is not None and sw.phase == "activating"
    assert sw.reason == "auto: TikTok Shop down since 20.56 WIB" and sw.channel == "tiktok"
    await h.service.drain()
    h.service.press(skip_grace=True)
    await h.service.drain()
    assert h.service.consider_outage([("tiktok", "TikTok Shop", since)]) is None  # same outage
    await h.service.aclose()
    # After a restart the same outage is still settled: the switch's time is on disk.
    clock.advance(timedelta(minutes=10))
    again = Harness(config, home, clock)
    assert again.service.consider_outage([("tiktok", "TikTok Shop", since)]) is None
    # A new outage, after the seller stopped Plan B, fires again.
    later = clock.now() - timedelta(minutes=6)
    assert again.service.consider_outage([("tiktok", "TikTok Shop", later)]) is not None
    await again.service.drain()
    await again.service.aclose()
    assert len(hits(receiver, "/start")) == 2


async def test_a_second_process_leaves_sending_to_the_lease_holder(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock, paths: object
) -> None:
    config = plan_config(receiver.url(""))
    room = Harness(config, home, clock)
    assert room.service.lease.try_acquire()
    other_home = StateHome(home.paths, clock).open()
    cli = Harness(config, other_home, clock)
    try:
        cli.service.press()
        await cli.service.drain()
        assert receiver.requests == []  # the room holds the lease
        await room.service.drain()
        assert len(hits(receiver, "/start")) == 1
    finally:
        await cli.service.aclose()
        await room.service.aclose()
        other_home.close()
    await asyncio.sleep(0)
