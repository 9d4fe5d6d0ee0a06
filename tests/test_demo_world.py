"""The demo's outside world: loopback servers answering as the story says, at every beat.

The story is driven by hand (``story.advance_to``): no timers, no sleeps.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from liveguard.adapters.config_file import load_config
from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.order_feed import parse_feed
from liveguard.adapters.probes import run_check
from liveguard.core.config import Config
from liveguard.core.orders import OrderStatus
from liveguard.core.status import State
from liveguard.core.timekeeping import FixedClock
from liveguard.demo import DemoWorld, Shop, Story
from liveguard.demo.http import Request
from liveguard.demo.story import beat_at

EVENING = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)  # 21.00 WIB
ZONE = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def world() -> Iterator[DemoWorld]:
    with DemoWorld(play=False, clock=FixedClock(EVENING)) as w:
        yield w


@pytest.fixture
def config(world: DemoWorld, tmp_path: Path) -> Config:
    return load_config(world.write_config(tmp_path / "liveguard.toml"), environ={})


def feed(world: DemoWorld, channel: str) -> list[dict[str, object]]:
    reply = httpx.get(f"{world.urls.feed}/orders/{channel}")
    assert reply.status_code == 200
    orders: list[dict[str, object]] = reply.json()["data"]["orders"]
    return orders


def components(world: DemoWorld) -> dict[str, str]:
    reply = httpx.get(world.urls.status + "/api/v2/components.json")
    assert reply.status_code == 200
    return {c["name"]: c["status"] for c in reply.json()["components"]}


def live(world: DemoWorld, channel: str) -> httpx.Response:
    return httpx.get(f"{world.urls.status}/live/{channel}")


def flash_sale(world: DemoWorld, step: str = "start", key: str = "lg-abc-0-do") -> httpx.Response:
    """What liveguard's Plan B webhook does: POST to the receiver with an Idempotency-Key."""
    return httpx.post(
        f"{world.urls.receiver}/flash-sale/{step}",
        json={"voucher": "LIVEDOWN20"},
        headers={"Idempotency-Key": key},
    )


# -- servers at each beat --------------------------------------------------------------------
def test_status_endpoints_follow_the_story(world: DemoWorld) -> None:
    story = world.story
    assert story.advance_to(0) == ["evening"]
    for channel in ("tiktok", "shopee", "instagram"):
        reply = live(world, channel)
        assert reply.status_code == 200 and reply.json()["live"]["enabled"] is True
    assert set(components(world).values()) == {"operational"}

    assert story.advance_to(beat_at("tiktok_503")) == ["tiktok_503"]
    assert live(world, "tiktok").status_code == 503
    assert live(world, "shopee").status_code == 200
    assert components(world)["TikTok Live"] == "operational"  # the page lags behind

    assert story.advance_to(beat_at("statuspage_outage")) == ["statuspage_outage"]
    assert components(world) == {
        "TikTok Live": "major_outage",
        "Shopee Live": "operational",
        "Instagram Live": "operational",
    }
    page = httpx.get(world.urls.status + "/api/v2/status.json").json()
    assert page["status"]["indicator"] == "major"

    flash_sale(world)
    assert story.advance_to(beat_at("live_back")) == ["live_back"]
    assert live(world, "tiktok").status_code == 200
    assert set(components(world).values()) == {"operational"}
    assert story.advance_to(200) == ["epilogue"] and story.done
    assert httpx.get(world.urls.status + "/live/lazada").status_code == 404


def test_feeds_list_orders_on_every_channel_tiktok_strongest(
    world: DemoWorld, config: Config
) -> None:
    before = {c.id: len(feed(world, c.id)) for c in config.channels}
    world.story.advance_to(beat_at("tiktok_503"))
    new = {c.id: len(feed(world, c.id)) - before[c.id] for c in config.channels}
    assert new["tiktok"] > max(new["shopee"], new["tokopedia"], new["instagram"]), new
    world.story.advance_to(beat_at("epilogue"))
    new = {c.id: len(feed(world, c.id)) - before[c.id] for c in config.channels}
    assert all(n > 0 for n in new.values()), new
    # the app's own feed reader takes every reply whole, through the config's fields/items
    for source in config.sources:
        body = httpx.get(source.url).content
        orders = parse_feed(body, source, ZONE)
        assert orders and all(o.channel == source.channel for o in orders)
        assert all(o.created <= EVENING + timedelta(seconds=120) for o in orders)
        assert {o.status for o in orders} <= {OrderStatus.PAID, OrderStatus.CANCELLED}
        assert all(o.amount >= 39_000 for o in orders if o.status is OrderStatus.PAID)


def test_the_feeds_start_with_yesterday_evening_and_earlier_today(world: DemoWorld) -> None:
    created = [
        datetime.fromtimestamp(int(str(o["create_time"])), UTC) for o in feed(world, "tiktok")
    ]
    yesterday = [c for c in created if c < EVENING - timedelta(hours=12)]
    today = [c for c in created if c >= EVENING - timedelta(hours=12)]
    assert yesterday and today
    day_before = EVENING - timedelta(days=1)
    assert day_before - timedelta(hours=2) <= min(yesterday)
    assert max(yesterday) <= day_before + timedelta(minutes=5)
    assert EVENING - timedelta(hours=2) <= min(today) and max(today) < EVENING
    # the same hours of the evening: yesterday had no outage, so TikTok sold on after 20 s
    window = [c for c in yesterday if day_before + timedelta(seconds=30) <= c]
    assert len(window) > 50


def test_earlier_orders_after_midnight_stay_in_today() -> None:
    just_after_midnight = datetime(2026, 11, 27, 17, 30, tzinfo=UTC)  # 00.30 WIB
    shop = Shop()
    Story(shop, started_at=just_after_midnight).begin()
    today = just_after_midnight.astimezone(ZONE).date()
    for channel in ("tiktok", "shopee"):
        created = [
            datetime.fromtimestamp(o.create_time, UTC).astimezone(ZONE)
            for o in shop.orders(channel)
        ]
        late = [c for c in created if c.date() == today]
        assert late and min(late).time() >= datetime.min.time()
        assert all(c < just_after_midnight for c in late)
        # yesterday's evening is all on the days before
        assert all(
            c.date() < today for c in created if c < just_after_midnight - timedelta(hours=12)
        )


def test_tiktok_orders_collapse_while_live_is_down(world: DemoWorld) -> None:
    story, shop = world.story, world.shop
    story.advance_to(0)
    start = shop.orders_total("tiktok")
    story.advance_to(beat_at("tiktok_503"))
    up_rate = (shop.orders_total("tiktok") - start) / beat_at("tiktok_503")
    mark = shop.orders_total("tiktok")
    story.advance_to(beat_at("live_back"))
    down_rate = (shop.orders_total("tiktok") - mark) / (
        beat_at("live_back") - beat_at("tiktok_503")
    )
    assert down_rate < up_rate / 4


def test_a_flash_sale_makes_shopee_orders_climb_and_the_receiver_shows_it(
    world: DemoWorld,
) -> None:
    story, shop = world.story, world.shop
    story.advance_to(30)
    mark = shop.orders_total("shopee")
    story.advance_to(60)
    quiet = shop.orders_total("shopee") - mark
    assert "flash sale: off" in httpx.get(world.urls.receiver + "/").text

    start = flash_sale(world)
    assert start.status_code == 200 and start.json()["received"] == "lg-abc-0-do"
    assert shop.flash_sale_on()
    httpx.post(world.urls.receiver + "/whatsapp/broadcast", json={"text": "Halo kak!"})
    page = httpx.get(world.urls.receiver + "/").text
    assert "flash sale: ON" in page and "WhatsApp broadcasts sent: 1" in page
    mark = shop.orders_total("shopee")
    story.advance_to(90)
    busy = shop.orders_total("shopee") - mark
    assert busy > 2 * quiet

    httpx.post(world.urls.receiver + "/flash-sale/end", headers={"Idempotency-Key": "k2"})
    assert not shop.flash_sale_on()
    got = httpx.get(world.urls.receiver + "/received.json").json()
    assert [(g["path"], g["idempotency_key"]) for g in got] == [
        ("/flash-sale/start", "lg-abc-0-do"),
        ("/whatsapp/broadcast", ""),
        ("/flash-sale/end", "k2"),
    ]
    assert got[0]["body"] == {"voucher": "LIVEDOWN20"} and got[2]["body"] is None
    assert got[0]["at"] == EVENING.isoformat()


def test_live_comes_back_only_after_the_flash_sale_has_run_a_while(world: DemoWorld) -> None:
    story = world.story
    assert "live_back" not in story.advance_to(140)  # no Plan B yet: live stays down
    assert story.advance_to(150) == ["live_back", "epilogue"]  # ... but not for ever
    assert live(world, "tiktok").status_code == 200

    shop = Shop()
    late = Story(shop, started_at=EVENING)
    late.advance_to(100)
    shop.receiver_reply(_request("/flash-sale/start"))
    assert late.advance_to(114) == []
    assert late.advance_to(116) == ["live_back"] and late.phase == "live_back"
    assert late.advance_to(121) == ["epilogue"] and late.done


def _request(path: str) -> Request:
    return Request("POST", path, "", {"idempotency-key": "k"}, b"{}")


def test_the_receiver_records_every_request_and_refuses_what_it_does_not_serve(
    world: DemoWorld,
) -> None:
    for _ in range(2):  # a retry with the same key is a second request; it is recorded
        reply = httpx.post(
            world.urls.receiver + "/anything", content=b"not json", headers={"Idempotency-Key": "x"}
        )
        assert reply.status_code == 200
    assert [(r.path, r.body) for r in world.shop.received()] == [("/anything", "not json")] * 2
    assert httpx.get(world.urls.receiver + "/flash-sale/start").status_code == 405
    assert httpx.get(world.urls.feed + "/orders/nowhere").status_code == 404
    with socket.create_connection(("127.0.0.1", world.receiver.port), timeout=5) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 413 ")
    assert len(world.shop.received()) == 2


# -- the story itself ----------------------------------------------------------------------
def orders_of(shop: Shop) -> list[tuple[str, int, str, str]]:
    return [
        (o.order_sn, o.create_time, o.total_amount, o.order_status)
        for c in shop.channels
        for o in shop.orders(c.id)
    ]


def test_a_seed_gives_the_same_evening_however_the_story_is_stepped() -> None:
    one, two, other = Shop(), Shop(), Shop()
    Story(one, started_at=EVENING, seed=7).advance_to(120)
    stepped = Story(two, started_at=EVENING, seed=7)
    for i in range(1, 601):
        stepped.advance_to(i * 0.2)
    Story(other, started_at=EVENING, seed=8).advance_to(120)
    assert orders_of(one) == orders_of(two)
    assert orders_of(one) != orders_of(other)


def test_speed_compresses_the_evening_against_the_wall_clock() -> None:
    shop = Shop()
    story = Story(shop, started_at=EVENING, speed=4.0)
    story.advance_to(120)
    last = max(o.create_time for c in shop.channels for o in shop.orders(c.id))
    assert EVENING.timestamp() + 25 <= last <= EVENING.timestamp() + 30
    with pytest.raises(ValueError):
        Story(shop, started_at=EVENING, speed=0)


# -- the generated config --------------------------------------------------------------------
def urls_in(config: Config) -> list[str]:
    urls = [chk.url for c in config.channels for chk in c.checks]
    urls += [s.url for s in config.sources] + [s.api for s in config.shopee]
    for promo in config.promotions:
        for action in promo.actions:
            urls += [a.url for a in (action, action.undo) if a is not None and a.url]
    return urls


def test_the_config_loads_and_names_only_the_loopback_servers(
    world: DemoWorld, config: Config, tmp_path: Path
) -> None:
    ports = {s.port for s in world.servers}
    urls = urls_in(config)
    assert len(urls) == 6 + 4 + 4  # checks, feeds, Plan B (two webhooks, an undo, a link)
    for url in urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.hostname) == ("http", "127.0.0.1") and parts.port in ports
    text = (tmp_path / "liveguard.toml").read_text()
    assert {urlsplit(u).hostname for u in re.findall(r"https?://[^\"\s,}]+", text)} == {"127.0.0.1"}
    assert config.shop == "Toko Demo"
    assert [(c.id, c.live) for c in config.channels] == [
        ("tiktok", True),
        ("shopee", True),
        ("tokopedia", False),
        ("instagram", True),
    ]
    assert {chk.kind for c in config.channels for chk in c.checks} == {"http", "statuspage"}
    armed = config.armed_promotion
    assert armed is not None and armed.id == "plan-b" and armed.channel == "tiktok"
    assert [a.kind for a in armed.actions] == ["webhook", "webhook", "message", "link", "checklist"]
    assert armed.actions[0].undo is not None
    assert config.alerts.auto_activate_after == timedelta(minutes=1)
    assert {s.channel for s in config.sources} == {"tiktok", "tokopedia", "instagram"}
    assert [s.channel for s in config.shopee] == ["shopee"]  # Shopee through its own API


@pytest.mark.parametrize(
    ("speed", "auto", "every", "grace"),
    [(2.0, 30, 1, 2.5), (10.0, 6, 1, 0.5), (0.5, 120, 4, 10)],
)
def test_pacing_durations_follow_the_speed(
    tmp_path: Path, speed: float, auto: float, every: float, grace: float
) -> None:
    with DemoWorld(play=False, speed=speed) as world:
        config = load_config(world.write_config(tmp_path / "c.toml"), environ={})
    assert config.alerts.auto_activate_after == timedelta(seconds=auto)
    assert {chk.every for c in config.channels for chk in c.checks} == {timedelta(seconds=every)}
    assert config.promotions[0].grace == timedelta(seconds=grace)


async def test_the_apps_own_probes_see_each_beat(world: DemoWorld, config: Config) -> None:
    tiktok = config.channel("tiktok")
    assert tiktok is not None
    clock = FixedClock(EVENING)
    pool = HttpPool()
    try:

        async def states() -> list[State]:
            return [(await run_check(pool, c, "tiktok", clock, {})).outcome for c in tiktok.checks]

        assert await states() == [State.UP, State.UP]
        world.story.advance_to(beat_at("tiktok_503"))
        assert await states() == [State.DOWN, State.UP]
        world.story.advance_to(beat_at("statuspage_outage"))
        assert await states() == [State.DOWN, State.DOWN]
        flash_sale(world)
        world.story.advance_to(beat_at("live_back"))
        assert await states() == [State.UP, State.UP]
    finally:
        await pool.aclose()


def test_stopping_closes_every_port() -> None:
    world = DemoWorld(play=False).start()
    urls = [s.url("/") for s in world.servers]
    world.stop()
    for url in urls:
        with pytest.raises(httpx.ConnectError):
            httpx.get(url)
