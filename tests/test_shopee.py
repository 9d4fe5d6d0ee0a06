"""The shopee source against a Shopee-shaped platform on 127.0.0.1 that checks every
signature, timestamp and token the way the documented platform does."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from liveguard.adapters.config_file import ConfigError, parse_config
from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.shopee_api import ShopeeClient, ShopeeError, code_from_paste
from liveguard.adapters.state_home import StateHome
from liveguard.core.orders import OrderStatus
from liveguard.core.shopee import STATUSES, Tokens, base_string, classify, sign, windows
from liveguard.core.timekeeping import FixedClock
from liveguard.service.events import Publisher, SourceChanged
from liveguard.service.sales import SalesService
from liveguard.service.shopee import MAX_REQUESTS_PER_POLL, source_view_from_disk
from liveguard.service.shopee_connect import ConnectError, authorization_link, connect
from tests import test_feed
from tests.shopee_platform import ENV, PARTNER_ID, PARTNER_KEY, SHOP_ID, RunningPlatform
from tests.shopee_platform import shopee_config as config_text

TODAY = date(2026, 11, 28)
pool = test_feed.pool  # the shared HttpPool fixture


# -- signing: a vector worked out by hand --------------------------------------------------
def test_signature_matches_a_vector_computed_by_hand() -> None:
    # printf '%s' '2001887/api/v2/order/get_order_list1795870800a1b2c3d4e5f6071829
    #   3a4b5c6d7e8f9054321' | openssl dgst -sha256 -hmac 'shpk-liveguard-test-key'
    token = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    base = base_string(2001887, "/api/v2/order/get_order_list", 1795870800, token, "54321")
    assert base == "2001887/api/v2/order/get_order_list1795870800" + token + "54321"
    assert (
        sign(PARTNER_KEY, 2001887, "/api/v2/order/get_order_list", 1795870800, token, 54321)
        == "1380c5dfab5f2cecd04c23fc486ab8d1da0336c0c000d7f4025dc53c1d20b9f6"
    )
    # a public call signs the first three parts only
    assert (
        sign(PARTNER_KEY, 2001887, "/api/v2/shop/auth_partner", 1795870800)
        == "2b38cadc75ce1b14b726d35d6a261a7054a832b035653098af78b2b2dff12ded"
    )


def test_every_documented_status_is_mapped() -> None:
    documented = [
        "UNPAID",
        "READY_TO_SHIP",
        "PROCESSED",
        "RETRY_SHIP",
        "SHIPPED",
        "TO_CONFIRM_RECEIVE",
        "IN_CANCEL",
        "CANCELLED",
        "TO_RETURN",
        "COMPLETED",
    ]
    assert sorted(STATUSES) == sorted(documented)
    assert classify("UNPAID") is OrderStatus.UNPAID
    assert classify("CANCELLED") is OrderStatus.CANCELLED
    assert classify("TO_RETURN") is OrderStatus.RETURNED
    paid = [s for s in documented if s not in ("UNPAID", "CANCELLED", "TO_RETURN")]
    assert {classify(s) for s in paid} == {OrderStatus.PAID}
    assert classify("SOMETHING_NEW") is None


def test_windows_are_at_most_15_days() -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    got = windows(start, start + timedelta(days=40))
    assert len(got) == 3 and all(hi - lo <= 15 * 86400 for lo, hi in got)
    assert got[0][0] == int(start.timestamp()) and got[-1][1] == int(start.timestamp()) + 40 * 86400


def test_pasted_address_or_code() -> None:
    assert code_from_paste("https://localhost/x?code=abc123&shop_id=54321") == ("abc123", "54321")
    assert code_from_paste("  abc123 \n") == ("abc123", "")
    for bad in ("", "https://localhost/x?shop_id=1", "not a code!"):
        with pytest.raises(ValueError):
            code_from_paste(bad)


def test_config_reads_a_shopee_source_and_checks_it() -> None:
    config = parse_config(config_text("http://127.0.0.1:9"), environ=ENV)
    (source,) = config.shopee
    assert config.sources == ()
    assert (source.channel, source.every) == ("shopee", timedelta(seconds=1))
    assert source.api == "http://127.0.0.1:9" and source.id == "shopee:shopee"
    missing = {k: v for k, v in ENV.items() if k != "SHOPEE_PARTNER_KEY"}
    with pytest.raises(ConfigError, match="SHOPEE_PARTNER_KEY is not set"):
        parse_config(config_text("http://127.0.0.1:9"), environ=missing)
    with pytest.raises(ConfigError, match=r"sources\[0\]\.partner_key: must not be empty"):
        parse_config(config_text("http://127.0.0.1:9"), environ={**ENV, "SHOPEE_PARTNER_KEY": ""})
    bad = {**ENV, "SHOPEE_SHOP_ID": "toko"}
    with pytest.raises(ConfigError, match=r"sources\[0\]\.shop_id: must be a number") as err:
        parse_config(config_text("http://127.0.0.1:9"), environ=bad)
    assert "toko" not in str(err.value)
    with pytest.raises(ConfigError, match="plain http is allowed only for loopback"):
        parse_config(config_text("http://shopee.example.com"), environ=ENV)
    with pytest.raises(ConfigError, match=r"sources\[0\]\.every: must be at least 30s"):
        parse_config(config_text("https://partner.shopeemobile.com", every="10s"), environ=ENV)
    real = parse_config(config_text("https://partner.shopeemobile.com", every="30s"), environ=ENV)
    assert real.shopee[0].every == timedelta(seconds=30)


# -- against the platform ------------------------------------------------------------------
@pytest.fixture
def shopee(clock: FixedClock) -> Iterator[RunningPlatform]:
    with RunningPlatform(clock=clock) as running:
        yield running


def make_sales(
    home: StateHome, clock: FixedClock, pool: HttpPool, api: str
) -> tuple[SalesService, list[SourceChanged]]:
    config = parse_config(config_text(api), environ=ENV)
    sales = SalesService(config, home, clock, pool=pool, environ=ENV)
    events: list[SourceChanged] = []
    publisher = Publisher()
    publisher.subscribe(lambda e: events.append(e) if isinstance(e, SourceChanged) else None)
    sales.shopee[0].events = publisher
    sales.shopee[0].pool = pool
    return sales, events


async def connect_shop(
    sales: SalesService, pool: HttpPool, shopee: RunningPlatform, since: datetime | None = None
) -> Tokens:
    """What the seller does: open the link, log in, paste the address the browser ends on."""
    source = sales.config.shopee[0]
    link = authorization_link(source, ENV, sales.clock, "https://localhost/liveguard")
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(link)
    assert answer.status_code == 302, answer.text
    pasted = answer.headers["location"]
    assert pasted.startswith("https://localhost/liveguard?code=")
    return await connect(source, sales.home, sales.clock, ENV, pool, pasted, since=since)


@pytest.fixture
async def connected(
    home: StateHome, clock: FixedClock, pool: HttpPool, shopee: RunningPlatform
) -> tuple[SalesService, list[SourceChanged]]:
    """The sales service with the shop connected, and the SourceChanged events it published."""
    sales, events = make_sales(home, clock, pool, shopee.url)
    await connect_shop(sales, pool, shopee)
    return sales, events


def today_row(sales: SalesService) -> tuple[int, int, int]:
    row = sales.today().channel("shopee")
    assert row is not None
    return row.orders, row.revenue, row.cancelled


async def test_connect_poll_and_an_order_moving_through_its_statuses(
    home: StateHome, clock: FixedClock, pool: HttpPool, shopee: RunningPlatform
) -> None:
    sales, events = make_sales(home, clock, pool, shopee.url)
    tokens = await connect_shop(sales, pool, shopee)
    assert tokens.shop_name == "Toko Demo" and tokens.auth_expires is not None
    created = int((clock.now() - timedelta(minutes=5)).timestamp())
    shopee.platform.add_order("2611280001", created, 150_000, "UNPAID")
    view = await sales.shopee[0].poll()
    assert view.state == "fresh" and view.reason == ""
    assert today_row(sales) == (0, 0, 0)  # unpaid: not a sale yet
    (order,) = sales.orders.day_orders(TODAY)
    assert (order.order_id, order.status, order.source) == (
        "2611280001",
        OrderStatus.UNPAID,
        "shopee",
    )

    clock.advance(timedelta(minutes=1))
    shopee.platform.set_status("2611280001", "READY_TO_SHIP")
    await sales.shopee[0].poll()
    assert today_row(sales) == (1, 150_000, 0)

    clock.advance(timedelta(minutes=1))
    shopee.platform.set_status("2611280001", "CANCELLED")
    await sales.shopee[0].poll()
    assert today_row(sales) == (0, 0, 1)
    assert len(sales.orders.day_orders(TODAY)) == 1  # one order, rewritten in its day
    assert [e.state for e in events] == ["fresh"]
    assert shopee.platform.refused == []


async def test_a_status_change_updates_the_day_the_order_was_created(
    clock: FixedClock,
    shopee: RunningPlatform,
    connected: tuple[SalesService, list[SourceChanged]],
) -> None:
    sales, _ = connected
    yesterday_evening = int((clock.now() - timedelta(days=1)).timestamp())
    shopee.platform.add_order("Y1", yesterday_evening, 80_000, "READY_TO_SHIP")
    await sales.shopee[0].poll()  # updated today: found by the today-only first sync
    (order,) = sales.orders.day_orders(TODAY - timedelta(days=1))
    assert order.status is OrderStatus.PAID and sales.orders.day_orders(TODAY) == []
    clock.advance(timedelta(minutes=3))
    shopee.platform.set_status("Y1", "TO_RETURN")
    await sales.shopee[0].poll()
    (order,) = sales.orders.day_orders(TODAY - timedelta(days=1))
    assert order.status is OrderStatus.RETURNED and sales.orders.day_orders(TODAY) == []


async def test_pages_through_the_cursor_and_reads_details_50_at_a_time(
    clock: FixedClock,
    shopee: RunningPlatform,
    connected: tuple[SalesService, list[SourceChanged]],
) -> None:
    sales, _ = connected
    start = int((clock.now() - timedelta(hours=2)).timestamp())
    for i in range(230):
        shopee.platform.add_order(f"P{i:04d}", start + i, 10_000, "COMPLETED")
    view = await sales.shopee[0].poll()
    calls = shopee.platform.calls
    assert view.state == "fresh" and view.orders == 230
    assert calls["/api/v2/order/get_order_list"] == 3  # 100 + 100 + 30
    assert calls["/api/v2/order/get_order_detail"] == 5  # 50 + 50, 50 + 50, then 30
    assert today_row(sales) == (230, 2_300_000, 0)
    # the next poll overlaps the last one a little: nothing is counted twice
    clock.advance(timedelta(seconds=30))
    await sales.shopee[0].poll()
    assert today_row(sales) == (230, 2_300_000, 0)


async def test_requests_per_poll_are_bounded_and_the_rest_comes_next_poll(
    clock: FixedClock,
    shopee: RunningPlatform,
    connected: tuple[SalesService, list[SourceChanged]],
) -> None:
    sales, _ = connected
    start = int((clock.now() - timedelta(hours=3)).timestamp())
    for i in range(2000):
        shopee.platform.add_order(f"B{i:05d}", start + i, 1_000, "SHIPPED")
    sync = sales.shopee[0]
    view = await sync.poll()
    assert sync.requests <= MAX_REQUESTS_PER_POLL
    assert view.state == "fresh" and "catching up" in view.reason
    polls = 1
    while today_row(sales)[0] < 2000:
        view = await sync.poll()
        assert sync.requests <= MAX_REQUESTS_PER_POLL
        polls += 1
        assert polls < 10
    assert view.reason == "" and today_row(sales)[0] == 2000


async def test_same_order_from_an_import_or_by_hand_and_from_shopee_counts_once(
    clock: FixedClock,
    shopee: RunningPlatform,
    connected: tuple[SalesService, list[SourceChanged]],
    tmp_path: Path,
) -> None:
    from tests.fixtures_sales import Sample, write_shopee_xlsx

    sales, _ = connected
    export = write_shopee_xlsx(
        tmp_path / "Order.all.xlsx", [Sample("2611280555", "2026-11-28 20:30", "75.000", "Selesai")]
    )
    assert sales.import_file(export, channel="shopee").results["added"] == 1
    shopee.platform.add_order(
        "2611280555",
        int(datetime(2026, 11, 28, 13, 30, tzinfo=UTC).timestamp()),
        75_000,
        "COMPLETED",
    )
    await sales.shopee[0].poll()
    assert today_row(sales) == (1, 75_000, 0)
    sales.add_sale("shopee", 99_000, order_id="2611280777", at=clock.now() - timedelta(minutes=9))
    shopee.platform.add_order(
        "2611280777", int((clock.now() - timedelta(minutes=9)).timestamp()), 99_000, "SHIPPED"
    )
    clock.advance(timedelta(seconds=10))
    await sales.shopee[0].poll()
    assert today_row(sales) == (2, 174_000, 0)


async def test_an_expired_access_token_is_refreshed_and_saved_first(
    home: StateHome, clock: FixedClock, pool: HttpPool, shopee: RunningPlatform
) -> None:
    sales, _ = make_sales(home, clock, pool, shopee.url)
    first = await connect_shop(sales, pool, shopee)
    shopee.platform.expire_access_tokens()
    shopee.platform.add_order("R1", int(clock.now().timestamp()) - 60, 50_000, "PROCESSED")
    view = await sales.shopee[0].poll()
    assert view.state == "fresh" and today_row(sales) == (1, 50_000, 0)
    saved = sales.shopee[0].store.load_tokens()
    assert saved is not None and saved.refresh_token != first.refresh_token
    # refused once; the rest of the poll (the details) used the new pair at once
    assert shopee.platform.refused == [("/api/v2/order/get_order_list", "invalid_access_token")]
    # and refreshing ahead of expiry: 3 h 40 min later the access token is near its end
    clock.advance(timedelta(hours=3, minutes=40))
    await sales.shopee[0].poll()
    again = sales.shopee[0].store.load_tokens()
    assert again is not None and again.refresh_token != saved.refresh_token
    assert shopee.platform.calls["/api/v2/auth/access_token/get"] == 2


async def test_failures_are_reasons_the_numbers_stay_and_polls_back_off(
    clock: FixedClock,
    shopee: RunningPlatform,
    connected: tuple[SalesService, list[SourceChanged]],
) -> None:
    sales, events = connected
    shopee.platform.add_order("K1", int(clock.now().timestamp()) - 60, 120_000, "COMPLETED")
    sync = sales.shopee[0]
    await sync.poll()
    assert today_row(sales) == (1, 120_000, 0)
    every = sync.next_delay()

    shopee.platform.rate_limit(5)
    view = await sync.poll()
    assert view.state == "stale" and "too many requests" in view.reason
    assert today_row(sales) == (1, 120_000, 0)  # known numbers kept, never zero
    first_pause = sync.next_delay()
    assert first_pause > every
    await sync.poll()
    assert sync.next_delay() > first_pause  # and growing

    shopee.platform.rate_limit(0)
    shopee.platform.fail(1, "error_server", "Internal error, please try later")
    view = await sync.poll()
    assert view.state == "stale" and "error_server: Internal error" in view.reason

    shopee.platform.skew_s = 600  # the platform's clock runs 10 minutes ahead of ours
    view = await sync.poll()
    assert view.state == "stale" and "clock" in view.reason
    shopee.platform.skew_s = 0

    view = await sync.poll()
    assert view.state == "fresh" and sync.next_delay() == every
    assert [e.state for e in events] == ["fresh", "stale", "stale", "stale", "fresh"]
    assert today_row(sales) == (1, 120_000, 0)


async def test_a_refused_refresh_and_an_ending_authorization_are_reasons(
    clock: FixedClock,
    pool: HttpPool,
    shopee: RunningPlatform,
    connected: tuple[SalesService, list[SourceChanged]],
) -> None:
    sales, _ = connected
    sync = sales.shopee[0]
    shopee.platform.auth_expire_time = int((clock.now() + timedelta(days=10)).timestamp())
    await connect_shop(sales, pool, shopee)  # shop info now says: ends in 10 days
    view = await sync.poll()
    assert view.state == "fresh" and "access ends 2026-12-08" in view.reason
    # 3 h 40 min on, the access token nears its end and the refresh is refused: the access
    # token still works a while, so the poll syncs and says so
    clock.advance(timedelta(hours=3, minutes=40))
    shopee.platform.revoke_refresh_tokens()
    view = await sync.poll()
    assert view.state == "fresh" and "refresh refused" in view.reason
    assert "(access still works until 01.00 WIB)" in view.reason
    shopee.platform.expire_access_tokens()
    view = await sync.poll()
    assert view.state == "stale" and "refresh refused" in view.reason
    assert "liveguard connect shopee" in view.reason


async def test_an_order_liveguard_cannot_read_is_a_reason_not_a_crash(
    clock: FixedClock, shopee: RunningPlatform, connected: tuple[SalesService, list[SourceChanged]]
) -> None:
    sales, _ = connected
    shopee.platform.add_order("Z1", 10**20, 1_000, "COMPLETED")  # a create_time out of range
    view = await sales.shopee[0].poll()
    assert view.state == "stale" and view.reason.startswith("unexpected ")
    shopee.platform.add_order("Z1", int(clock.now().timestamp()), 1_000, "SOMETHING_NEW")
    view = await sales.shopee[0].poll()
    assert view.state == "stale" and "Z1: unknown status 'SOMETHING_NEW'" in view.reason


async def test_the_platform_refuses_a_wrong_key_base_string_or_clock(
    clock: FixedClock, pool: HttpPool, shopee: RunningPlatform
) -> None:
    shopee.platform.add_order("S1", int(clock.now().timestamp()), 1, "UNPAID")
    good = ShopeeClient(pool, shopee.url, str(PARTNER_ID), PARTNER_KEY, clock)
    link = good.auth_url("https://localhost/x")
    async with httpx.AsyncClient() as browser:
        pasted = (await browser.get(link)).headers["location"]
    tokens = await good.get_tokens(code_from_paste(pasted)[0], str(SHOP_ID))
    assert (await good.order_list(tokens, 0, 100, "")).order_sns == []

    wrong_key = ShopeeClient(pool, shopee.url, str(PARTNER_ID), PARTNER_KEY + "x", clock)
    with pytest.raises(ShopeeError, match="error_sign") as err:
        await wrong_key.order_list(tokens, 0, 100, "")
    assert err.value.kind == "auth"
    behind = FixedClock(clock.now() - timedelta(minutes=6))
    late = ShopeeClient(pool, shopee.url, str(PARTNER_ID), PARTNER_KEY, behind)
    with pytest.raises(ShopeeError) as err:
        await late.order_list(tokens, 0, 100, "")
    assert err.value.kind == "clock"
    # a shop call signed with the public base string (without access_token and shop_id)
    ts = int(clock.now().timestamp())
    path = "/api/v2/order/get_order_list"
    query = {
        "partner_id": PARTNER_ID,
        "timestamp": ts,
        "access_token": tokens.access_token,
        "shop_id": SHOP_ID,
        "sign": sign(PARTNER_KEY, PARTNER_ID, path, ts),
        "time_range_field": "update_time",
        "time_from": 0,
        "time_to": 100,
        "page_size": 100,
    }
    async with httpx.AsyncClient() as raw:
        answer = await raw.get(shopee.url + path, params=query)
    assert answer.status_code == 403 and answer.json()["error"] == "error_sign"
    assert [e for _, e in shopee.platform.refused] == ["error_sign", "error_param", "error_sign"]


async def test_tokens_are_0600_and_never_anywhere_else(
    home: StateHome, clock: FixedClock, pool: HttpPool, shopee: RunningPlatform
) -> None:
    sales, _ = make_sales(home, clock, pool, shopee.url)
    tokens = await connect_shop(sales, pool, shopee)
    await sales.shopee[0].poll()
    store = sales.shopee[0].store
    assert stat.S_IMODE(store.tokens_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.sync_path.stat().st_mode) == 0o600
    secrets = (tokens.access_token, tokens.refresh_token, PARTNER_KEY)
    assert tokens.access_token in store.tokens_path.read_text()
    for path in Path(home.dir).rglob("*"):
        if path.is_file() and path != store.tokens_path:
            text = path.read_bytes().decode("utf-8", "replace")
            assert not any(s in text for s in secrets), path
    view = source_view_from_disk(sales.config.shopee[0], home, clock.now(), sales.zone)
    shown = json.dumps(view.as_json(sales.zone)) + repr(view) + repr(tokens)
    assert view.state == "fresh" and not any(s in shown for s in secrets)


async def test_connect_refuses_another_shop_and_a_used_code(
    home: StateHome, clock: FixedClock, pool: HttpPool, shopee: RunningPlatform
) -> None:
    sales, _ = make_sales(home, clock, pool, shopee.url)
    source = sales.config.shopee[0]
    with pytest.raises(ConnectError, match="not the config's shop_id"):
        await connect(source, home, clock, ENV, pool, "https://l/?code=abc&shop_id=999")
    with pytest.raises(ConnectError, match="Invalid code"):
        await connect(source, home, clock, ENV, pool, "deadbeef")
    assert sales.shopee[0].store.load_tokens() is None
    view = await sales.shopee[0].poll()
    assert view.state == "stale" and "liveguard connect shopee" in view.reason


def test_kill_9_during_token_refreshes_loses_neither_token(tmp_path: Path, big: bool) -> None:
    """Killed at any instant of a refresh, the file holds a whole pair that still works: the
    new refresh token is durable before the old one is forgotten (the platform retires the
    old one once it has issued a new one, bar a repeat of the same refresh)."""
    import asyncio
    import random
    import subprocess
    import sys
    import time

    from liveguard.adapters.paths import Paths
    from liveguard.core.timekeeping import SystemClock
    from tests.cli_runner import ROOT

    rng = random.Random(17)
    home_dir = tmp_path / "home"
    with RunningPlatform() as shopee:
        home = StateHome(Paths.resolve(home=str(home_dir)), SystemClock()).open()
        sales_config = parse_config(config_text(shopee.url), environ=ENV)

        async def connect_and(poll: bool) -> str:
            pool = HttpPool(2)
            try:
                sales = SalesService(sales_config, home, SystemClock(), pool=pool, environ=ENV)
                sales.shopee[0].pool = pool
                if not poll:
                    await connect_shop(sales, pool, shopee)
                    return "connected"
                sales.shopee[0].store.load_tokens()  # must parse
                shopee.platform.expire_access_tokens()  # the next poll must refresh
                view = await sales.shopee[0].poll()
                return f"{view.state} {view.reason}".strip()
            finally:
                await pool.aclose()

        assert asyncio.run(connect_and(poll=False)) == "connected"
        rounds = 40 if big else 8
        for _ in range(rounds):
            child = subprocess.Popen(
                [sys.executable, "-m", "tests.shopee_refresh_child", str(home_dir), shopee.url],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
            )  # fmt: skip
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "1", child.stderr.read()  # type: ignore[union-attr]
            time.sleep(rng.uniform(0, 0.05))  # somewhere inside a later refresh
            child.kill()
            child.wait(10)
            assert asyncio.run(connect_and(poll=True)) == "fresh"
        assert shopee.platform.calls["/api/v2/auth/access_token/get"] > rounds * 2
        home.close()


async def test_the_room_shows_expiry_and_a_stale_reason_with_the_numbers_kept(
    home: StateHome, clock: FixedClock, pool: HttpPool, shopee: RunningPlatform
) -> None:
    import asyncio

    from tests.conftest import make_app
    from tests.test_sales_ui import region_text

    config = parse_config(config_text(shopee.url, every="10m"), environ=ENV)
    app = make_app(home, clock, config=config)
    sales = app.room.sales
    sales.environ = sales.shopee[0].environ = ENV
    await connect_shop(sales, pool, shopee)
    shopee.platform.add_order("U1", int(clock.now().timestamp()) - 60, 80_000, "SHIPPED")
    events: list[SourceChanged] = []
    app.room.events.subscribe(lambda e: events.append(e) if isinstance(e, SourceChanged) else None)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(200):
            await pilot.pause(0.05)
            if "authorization ends" in " ".join(region_text(app).split()):
                break
        text = " ".join(region_text(app).split())
        assert "Shopee (shopee): synced 21.00" in text and "authorization ends 2027-11-28" in text
        assert "Rp80K" in text
        shopee.platform.fail(1, "error_server", "Maintenance")
        await sales.shopee[0].poll()
        await pilot.pause()
        text = " ".join(region_text(app).split())
        assert "Shopee order feed stale:" in text and "error_server: Maintenance" in text
        assert "Shopee ⚠ 1 Rp80K" in text  # the row says so and keeps its numbers
        await asyncio.sleep(0)
    assert [e.state for e in events] == ["fresh", "stale"]


async def test_a_network_failure_is_a_reason_without_the_address_or_token(
    home: StateHome, clock: FixedClock, pool: HttpPool, shopee: RunningPlatform
) -> None:
    from dataclasses import replace

    from tests.servers import closed_port

    sales, _ = make_sales(home, clock, pool, shopee.url)
    tokens = await connect_shop(sales, pool, shopee)
    sync = sales.shopee[0]
    sync.source = replace(sync.source, api=f"http://127.0.0.1:{closed_port()}")
    view = await sync.poll()
    assert view.state == "stale" and view.reason == "Shopee: connection refused"
    assert tokens.access_token not in repr(view) and sync.next_delay() == 30.0


def test_the_starter_configs_shopee_example_reads_once_uncommented() -> None:
    from liveguard.cli.home_commands import starter_config_text

    text = starter_config_text()
    start = text.index('# kind = "shopee"') - len("# [[sources]]\n")
    block = text[start:].split("\n\n")[0]
    uncommented = "\n".join(line.removeprefix("# ") for line in block.splitlines())
    config = parse_config(text.replace(block, uncommented), environ=ENV)
    assert [s.channel for s in config.shopee] == ["shopee"]
    assert config.shopee[0].api == "https://partner.shopeemobile.com"


async def test_a_new_pair_that_cannot_be_saved_is_never_used_and_the_old_one_stays(
    clock: FixedClock, shopee: RunningPlatform, connected: tuple[SalesService, list[SourceChanged]]
) -> None:
    from liveguard.adapters.state_home import StateWriteError

    sales, _ = connected
    sync = sales.shopee[0]
    before = sync.store.tokens_path.read_bytes()
    save = sync.store.save_tokens

    def disk_full(tokens: Tokens) -> None:
        raise StateWriteError("shopee.tokens.json: could not save (No space left on device)")

    sync.store.save_tokens = disk_full  # type: ignore[method-assign]
    shopee.platform.expire_access_tokens()
    view = await sync.poll()
    assert view.state == "stale" and "No space left on device" in view.reason
    assert sync.store.tokens_path.read_bytes() == before  # the old pair, whole
    lists = shopee.platform.calls["/api/v2/order/get_order_list"]
    assert ("/api/v2/order/get_order_list", "invalid_access_token") in shopee.platform.refused
    assert lists == 1  # refused once; the refreshed pair, not on disk, was never used
    sync.store.save_tokens = save  # type: ignore[method-assign]
    clock.advance(timedelta(seconds=30))
    view = await sync.poll()
    assert view.state == "fresh"  # the old refresh token, repeated, gives the same new pair


async def test_since_reads_back_in_windows_of_at_most_15_days(
    home: StateHome, clock: FixedClock, pool: HttpPool, shopee: RunningPlatform
) -> None:
    sales, _ = make_sales(home, clock, pool, shopee.url)
    await connect_shop(sales, pool, shopee, since=clock.now() - timedelta(days=20))
    for sn, days in (("OLD18", 18), ("OLD2", 2)):
        at = int((clock.now() - timedelta(days=days)).timestamp())
        shopee.platform.add_order(sn, at, 10_000, "COMPLETED")
        shopee.platform.orders()[-1].update_time = at  # last changed then, not now
    view = await sales.shopee[0].poll()
    assert view.state == "fresh"
    assert shopee.platform.calls["/api/v2/order/get_order_list"] == 2  # 15 days, then 5
    assert [o.order_id for o in sales.orders.day_orders(TODAY - timedelta(days=18))] == ["OLD18"]
    assert [o.order_id for o in sales.orders.day_orders(TODAY - timedelta(days=2))] == ["OLD2"]
    assert sales.shopee[0].store.load_sync()["synced_to"] == int(clock.now().timestamp())


async def test_an_old_order_updated_today_changes_its_compacted_day_once(
    clock: FixedClock, shopee: RunningPlatform, connected: tuple[SalesService, list[SourceChanged]]
) -> None:
    from liveguard.core.orders import Order

    sales, _ = connected
    created = clock.now() - timedelta(days=40)
    sales.orders.upsert_many([Order("shopee", "ANCIENT", created, 50_000, source="import")])
    old_day = TODAY - timedelta(days=40)
    assert old_day in sales.maintain()  # folded into the month's history
    shopee.platform.add_order("ANCIENT", int(created.timestamp()), 50_000, "TO_RETURN")
    view = await sales.shopee[0].poll()
    assert view.state == "fresh"
    assert old_day not in sales.orders.days()  # no second copy of a compacted day
    row = sales.today(old_day).channel("shopee")
    assert row is not None and (row.orders, row.cancelled) == (0, 1)  # the return counts
    again = await sales.shopee[0].poll()
    assert again.state == "fresh"
    row = sales.today(old_day).channel("shopee")
    assert row is not None and (row.orders, row.cancelled) == (0, 1)  # and only once


async def test_a_cursor_that_never_moves_is_a_reason_not_a_loop(
    clock: FixedClock, shopee: RunningPlatform, connected: tuple[SalesService, list[SourceChanged]]
) -> None:
    sales, _ = connected
    for i in range(250):
        shopee.platform.add_order(f"C{i:03d}", int(clock.now().timestamp()) - 600, 1_000, "SHIPPED")
    shopee.platform.stuck_cursor = True  # every page says: next, "100"
    view = await sales.shopee[0].poll()
    assert view.state == "stale" and "the cursor did not move" in view.reason
    assert shopee.platform.calls["/api/v2/order/get_order_list"] == 2
