"""The demo evening end to end: the real control room, headless, on the demo's loopback world.

The story is stepped by the test (beat by beat); the control room runs as it would for a
seller: real probes, feeds and webhooks over loopback sockets, pacing from the demo config
(speed 20: checks every 1 s, auto-activation after 3 s). Each wait has a generous deadline
that only guards against hanging; no assertion is about how long anything took.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot

from liveguard.adapters.config_file import load_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.cli.shopee_commands import connect_with
from liveguard.core.status import State
from liveguard.core.timekeeping import SystemClock, local_day
from liveguard.demo import DemoWorld, Shop
from liveguard.demo.story import beat_at
from liveguard.service.room import ControlRoom
from liveguard.ui.app import LiveguardApp
from tests.ui_helpers import OutageLooks, screen_text, until

SPEED = 20.0


@pytest.fixture
def world() -> Iterator[DemoWorld]:
    with DemoWorld(play=False, speed=SPEED) as w:
        yield w


def state_of(room: ControlRoom, channel: str) -> State:
    return next(s.state for s in room.status.statuses() if s.channel == channel)


def paid_today(shop: Shop, room: ControlRoom, channel: str) -> int:
    today = local_day(room.now(), room.zone)
    return sum(
        1
        for o in shop.orders(channel)
        if o.order_status != "CANCELLED"
        and local_day(datetime.fromtimestamp(o.create_time, UTC), room.zone) == today
    )


def sold(room: ControlRoom, channel: str) -> int:
    day = room.sales.today().channel(channel)
    return day.orders if day else 0


def webhooks(shop: Shop, path: str) -> int:
    return sum(1 for r in shop.received() if r.path == path)


@pytest.fixture
def lang() -> str:
    return "en"


@pytest.fixture
def room(world: DemoWorld, tmp_path: Path, lang: str) -> Iterator[ControlRoom]:
    """The control room's service on a fresh home holding the demo's config."""
    home_dir = tmp_path / "home"
    config = load_config(world.write_config(home_dir / "liveguard.toml"), environ={})
    clock = SystemClock()
    home = StateHome(Paths.resolve(home=str(home_dir)), clock).open()
    connect_with(config, home, clock, world.shopee.authorize)  # as `liveguard demo` does
    room = ControlRoom(config, home, clock, lang)
    room.planb.opener = None  # the link action must not open a browser on a developer's desk
    yield room
    home.close()


async def tiktok_goes_down(pilot: Pilot[None], world: DemoWorld, room: ControlRoom) -> None:
    """The 503 beat, then wait until the room says DOWN and the banner shows."""
    app = pilot.app
    assert isinstance(app, LiveguardApp)
    world.story.advance_to(beat_at("tiktok_503"))
    await until(pilot, "TikTok down", lambda: state_of(room, "tiktok") is State.DOWN)
    hint = app.t("status.banner_hint", plan_key="b")
    await until(pilot, "the DOWN banner", lambda: hint in screen_text(app))


def headless(room: ControlRoom, bells: list[str]) -> LiveguardApp:
    app = LiveguardApp(room, animations=False)
    app.bell = lambda: bells.append("ding")  # type: ignore[method-assign]
    return app


async def test_the_demo_evening_as_the_seller_sees_it(world: DemoWorld, room: ControlRoom) -> None:
    bells: list[str] = []
    app = headless(room, bells)
    t, config = app.t, room.config
    shop, story = world.shop, world.story
    async with app.run_test(size=(120, 40)) as pilot:
        # 1. An ordinary evening: every live channel up, orders on every channel.
        story.advance_to(beat_at("tiktok_503") - 1)
        await until(
            pilot,
            "every live channel up and every feed read",
            lambda: (
                all(state_of(room, c) is State.UP for c in ("tiktok", "shopee", "instagram"))
                and all(sold(room, c.id) == paid_today(shop, room, c.id) for c in config.channels)
            ),
        )
        text = screen_text(app)
        assert "Toko Demo" in text and "TikTok Shop" in text
        assert t("planb.state_armed") in text
        assert t("status.banner_hint", plan_key="b") not in text
        assert sold(room, "tiktok") > max(sold(room, "shopee"), sold(room, "instagram"))
        assert not bells and not shop.received()

        # 2. TikTok Live answers 503: pending, then DOWN; the banner and the bell.
        await tiktok_goes_down(pilot, world, room)
        assert "503" in screen_text(app)
        assert bells == ["ding"]
        assert state_of(room, "shopee") is State.UP

        # 3. The status page follows; nobody presses the key: auto-activation fires.
        story.advance_to(beat_at("statuspage_outage"))
        await until(
            pilot,
            "Plan B active and the flash sale delivered",
            lambda: (
                room.planb.view().state == "active" and webhooks(shop, "/flash-sale/start") == 1
            ),
        )
        # the screen follows the service by an event (redrawn right after, not inside the write)
        await until(pilot, "ACTIVE on screen", lambda: t("planb.state_active") in screen_text(app))
        shopee_before = shop.orders_total("shopee")
        story.advance_to(beat_at("live_back") - 1)
        climb = shop.orders_total("shopee") - shopee_before
        assert climb > 25  # about 36 a minute over a minute of story
        await until(
            pilot,
            "the Shopee climb in today's sales",
            lambda: sold(room, "shopee") == paid_today(shop, room, "shopee"),
        )
        assert state_of(room, "tiktok") is State.DOWN

        # 4. TikTok Live comes back; the banner goes; Plan B keeps running until told.
        story.advance_to(beat_at("live_back"))
        await until(pilot, "TikTok up again", lambda: state_of(room, "tiktok") is State.UP)
        await until(
            pilot,
            "the banner gone",
            lambda: t("status.banner_hint", plan_key="b") not in screen_text(app),
        )
        assert room.planb.view().state == "active"
        assert bells == ["ding"]

        # 5. The seller presses b: the countdown, then the undo ends the flash sale.
        await pilot.press("b")
        await until(
            pilot,
            "Plan B stopped and the flash sale ended",
            lambda: room.planb.view().state == "armed" and webhooks(shop, "/flash-sale/end") == 1,
        )
        await until(pilot, "ARMED on screen", lambda: t("planb.state_armed") in screen_text(app))
        story.advance_to(beat_at("epilogue"))
        assert not shop.flash_sale_on()
        # Background work stops while the regions are still there: a feed poll that lands
        # during unmount would redraw a half-removed region (NoMatches; reported to the UI).
        await room.stop()

    # The receiver got each Plan B action exactly once, keyed by one activation.
    got = {r.path: r for r in shop.received()}
    assert sorted(r.path for r in shop.received()) == [
        "/flash-sale/end",
        "/flash-sale/start",
        "/whatsapp/broadcast",
    ]
    start, broadcast, end = (
        got["/flash-sale/start"],
        got["/whatsapp/broadcast"],
        got["/flash-sale/end"],
    )
    activation = start.idempotency_key.removesuffix("-0-do")
    assert start.idempotency_key == f"{activation}-0-do"
    assert broadcast.idempotency_key == f"{activation}-1-do"
    assert end.idempotency_key == f"{activation}-0-undo"
    assert start.body["voucher"] == "LIVEDOWN20" and start.body["reason"].startswith("auto")
    assert start.body["activation"] == end.body["activation"] != ""
    assert "LIVEDOWN20" in broadcast.body["text"]


@pytest.mark.parametrize("lang", ["id"])  # the first test reads the screen in English
async def test_the_plan_b_key_during_the_outage_fires_once(
    world: DemoWorld, room: ControlRoom
) -> None:
    bells: list[str] = []
    app = headless(room, bells)
    shop = world.shop
    auto_after = room.config.alerts.auto_activate_after
    assert auto_after is not None
    # The seller is faster than the 3 s auto-activation timer here: the loop's looks at the
    # outage are held until the key is pressed (on a loaded machine the banner alone may
    # take longer than 3 s to appear), then judged as usual.
    looks = OutageLooks(room.planb, held=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await tiktok_goes_down(pilot, world, room)
        down_since = next(s.since for s in room.status.statuses() if s.channel == "tiktok")
        assert down_since is not None

        await pilot.press("b")
        looks.held = False
        await until(
            pilot,
            "Plan B active and the flash sale delivered",
            lambda: (
                room.planb.view().state == "active" and webhooks(shop, "/flash-sale/start") == 1
            ),
        )
        # 80x24: the regions stack; the banner still says what is down
        assert "TikTok Shop" in screen_text(app).splitlines()[1]
        # past the auto-activation time of this outage: nothing fires a second time
        await until(
            pilot,
            "the auto-activation time passed",
            lambda: room.now() > down_since + auto_after * 2,
        )
        await looks.more(pilot)  # the loop judged the outage after its auto time
        assert webhooks(shop, "/flash-sale/start") == webhooks(shop, "/whatsapp/broadcast") == 1
        assert room.planb.view().reason == ""  # pressed by the seller, not "auto: …"
        assert bells == ["ding"]
        # Background work stops while the regions are still there: a feed poll that lands
        # during unmount would redraw a half-removed region (NoMatches; reported to the UI).
        await room.stop()
    got = {r.path: r for r in shop.received()}
    assert sorted(r.path for r in shop.received()) == ["/flash-sale/start", "/whatsapp/broadcast"]
    assert not got["/flash-sale/start"].body["reason"].startswith("auto")
