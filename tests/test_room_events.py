"""The room's one event path: what each service publishes through ``room.events``."""

from __future__ import annotations

from datetime import timedelta

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.state_home import StateHome
from liveguard.core.orders import Order
from liveguard.core.timekeeping import FixedClock
from liveguard.service.events import Event, Notice, PlanBChanged, SalesChanged, StatusChanged
from liveguard.service.room import ControlRoom
from tests.conftest import make_room
from tests.fixtures_sales import shop_config


def listen(room: ControlRoom) -> list[Event]:
    seen: list[Event] = []
    room.events.subscribe(seen.append)
    return seen


async def test_a_collapsed_hour_reaches_the_status_as_a_suggestion(
    home: StateHome, clock: FixedClock
) -> None:
    config = parse_config(shop_config(), "liveguard.toml", environ={})
    room = ControlRoom(config, home, clock, "en")
    seen = listen(room)
    orders = [
        Order("tiktok", f"t{days}-{n}", clock.now() - timedelta(days=days, minutes=5 + n), 1000)
        for days in range(1, 8)
        for n in range(8)
    ]
    room.sales.orders.upsert_many(orders)
    await room.judge_sales()
    tiktok = next(s for s in room.status.statuses() if s.channel == "tiktok")
    assert "0 orders in the last hour (usually 8)" in tiktok.suggestion
    changed = [e.change.after for e in seen if isinstance(e, StatusChanged)]
    assert [s.channel for s in changed] == ["tiktok"] and changed[0].suggestion


def test_plan_b_publishes_one_event_per_audit_record(home: StateHome, clock: FixedClock) -> None:
    room = make_room(home, clock)
    seen = listen(room)
    room.planb.press(reason="TikTok down")
    room.planb.toggle_tick(0)
    room.planb.cancel()
    kinds = [
        (e.kind, e.detail.get("to", e.detail.get("step")))
        for e in seen
        if isinstance(e, PlanBChanged)
    ]
    assert kinds == [
        ("planb.transition", "pending"),
        ("planb.tick", 0),
        ("planb.transition", "armed"),
    ]
    press = next(e for e in seen if isinstance(e, PlanBChanged))
    assert press.detail["reason"] == "TikTok down" and press.detail["by"] == "press"


def test_a_sale_publishes_its_channel_and_a_moved_aside_file_a_notice(
    home: StateHome, clock: FixedClock
) -> None:
    (home.dir / "status.json").write_text("{ not json")
    room = make_room(home, clock)
    seen = listen(room)
    room.sales.add_sale("tiktok", "125rb")
    room.sales.add_sale("tiktok", "125rb", order_id="A1")
    room.sales.add_sale("tiktok", "125rb", order_id="A1")  # unchanged: nothing to redraw
    room.status.statuses()  # reads status.json: moved aside
    assert [e for e in seen if isinstance(e, SalesChanged)] == [SalesChanged("tiktok")] * 2
    notices = [e.text for e in seen if isinstance(e, Notice)]
    assert len(notices) == 1 and "status.json" in notices[0] and "moved aside" in notices[0]
