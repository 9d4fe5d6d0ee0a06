"""The http-json order feed against a real loopback server: good, slow, 500, garbage, partial."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.state_home import StateHome
from liveguard.core.timekeeping import FixedClock
from liveguard.service.events import Event, Publisher, SalesChanged, SourceChanged
from liveguard.service.sales import SalesService
from tests.servers import LoopbackServer, Request, close_at_once, drip, garbage, reply

GOOD = [
    {"id": "F1", "created": "2026-11-28T20:00:00+07:00", "amount": 150000, "status": "paid"},
    {"id": "F2", "created": "2026-11-28 20:30", "amount": "Rp75.000", "status": "Completed"},
    {"id": 3, "created": 1795870800, "amount": "1,2jt", "status": "cancelled"},
]


def feed_config(url: str, extra: str = "") -> str:
    return f"""
[[channels]]
id = "shopee"
name = "Shopee"
[[sources]]
kind = "http-json"
channel = "shopee"
url = "{url}"
every = "60s"
timeout = "1s"
headers = {{ Authorization = "Bearer ${{ORDERS_TOKEN}}" }}
{extra}
"""


@pytest.fixture
async def pool() -> AsyncIterator[HttpPool]:
    p = HttpPool(4)
    yield p
    await p.aclose()


@pytest.fixture
def server() -> AsyncIterator[LoopbackServer]:  # type: ignore[misc]
    with LoopbackServer() as srv:
        yield srv


def service(
    home: StateHome, clock: FixedClock, pool: HttpPool, url: str, extra: str = ""
) -> SalesService:
    env = {"ORDERS_TOKEN": "s3cret"}
    config = parse_config(feed_config(url, extra), "liveguard.toml", environ=env)
    events = Publisher()
    seen: list[Event] = []
    events.subscribe(seen.append)
    sales = SalesService(config, home, clock, pool=pool, environ=env, events=events)
    sales.notified = seen  # type: ignore[attr-defined]
    return sales


async def test_good_feed_records_orders_with_the_secret_header(
    home: StateHome, clock: FixedClock, pool: HttpPool, server: LoopbackServer
) -> None:
    server.route("/orders", reply(200, json=GOOD))
    sales = service(home, clock, pool, server.url("/orders"))
    view = await sales.poll_source(0)
    assert view.state == "ok" and view.orders == 3 and view.last_ok == clock.now()
    assert server.requests[-1].headers.get("authorization") == "Bearer s3cret"
    assert "s3cret" not in repr(view)
    row = sales.today().channel("shopee")
    assert row is not None and (row.orders, row.revenue, row.cancelled) == (2, 225_000, 1)
    assert sales.notified == [SalesChanged("shopee")]  # type: ignore[attr-defined]
    again = await sales.poll_source(0)  # nothing new: nothing to redraw
    assert again.state == "ok" and sales.notified == [SalesChanged("shopee")]  # type: ignore[attr-defined]


async def test_mapped_fields_and_items_path(
    home: StateHome, clock: FixedClock, pool: HttpPool, server: LoopbackServer
) -> None:
    body = {
        "data": {
            "orders": [
                {"no": "M1", "waktu": "28/11/2026 19.30", "total": "125.000", "st": "Selesai"}
            ]
        }
    }
    server.route("/o", reply(200, json=body))
    extra = 'items = "data.orders"\nfields = { id = "no", created = "waktu", amount = "total", status = "st" }'
    sales = service(home, clock, pool, server.url("/o"), extra)
    assert (await sales.poll_source(0)).state == "ok"
    (order,) = sales.orders.day_orders(datetime(2026, 11, 28).date())
    assert (order.order_id, order.amount, order.status.value) == ("M1", 125_000, "paid")


async def _partial_page(req: Request, writer: asyncio.StreamWriter, stop: asyncio.Event) -> None:
    body = b'[{"id": "P1", "created": "2026-11-28T20:00:00+07:00", "amount": 1'
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n" + body
    )
    await writer.drain()


@pytest.mark.parametrize(
    ("responder", "reason"),
    [
        (reply(500, "boom"), "status 500"),
        (reply(200, "<html>maintenance</html>"), "not JSON"),
        (reply(200, '[{"id": "P1", "created": "2026-11-28T20:00:00+07:00", "am'), "not JSON"),
        (_partial_page, "cannot fetch"),
        (garbage(), "cannot fetch"),
        (close_at_once(), "cannot fetch"),
        (drip(every=0.2), "timed out after 1 s"),
        (reply(200, json={"orders": []}), "no list of orders"),
        (
            reply(200, json=[{"id": "X", "created": "soon", "amount": 1}]),
            "order 1: created: not a date",
        ),
        (
            reply(200, json=[{"id": "X", "created": "2026-11-28 10:00", "amount": "lots"}]),
            "order 1: amount: not a number",
        ),
        (reply(200, json=[{"created": "2026-11-28 10:00", "amount": 5}]), "order 1: missing 'id'"),
    ],
)
async def test_a_failing_feed_is_stale_with_its_reason_and_keeps_the_numbers(
    home: StateHome,
    clock: FixedClock,
    pool: HttpPool,
    server: LoopbackServer,
    responder,
    reason: str,  # type: ignore[no-untyped-def]
) -> None:
    server.route("/orders", reply(200, json=GOOD))
    sales = service(home, clock, pool, server.url("/orders"))
    first = await sales.poll_source(0)
    server.route("/orders", responder)
    view = await sales.poll_source(0)
    assert view.state == "stale"
    assert reason in view.reason
    assert view.last_ok == first.last_ok and view.orders == 3
    row = sales.today().channel("shopee")
    assert row is not None and row.revenue == 225_000
    stale = [e for e in sales.notified if isinstance(e, SourceChanged)]  # type: ignore[attr-defined]
    assert stale == [SourceChanged(view.where, "shopee", "stale", view.reason)]
    assert "s3cret" not in repr(stale)
    server.route("/orders", reply(200, json=GOOD))
    await sales.poll_source(0)
    assert [e.state for e in sales.notified if isinstance(e, SourceChanged)] == ["stale", "fresh"]  # type: ignore[attr-defined]


async def test_missing_token_is_a_reason_not_a_crash(
    home: StateHome, clock: FixedClock, pool: HttpPool, server: LoopbackServer
) -> None:
    server.route("/orders", reply(200, json=GOOD))
    sales = service(home, clock, pool, server.url("/orders"))
    sales.environ = {}
    view = await sales.poll_source(0)
    assert view.state == "stale" and "ORDERS_TOKEN" in view.reason
    assert server.hits("/orders") == 0


async def test_background_loop_polls_and_stops(
    home: StateHome, clock: FixedClock, pool: HttpPool, server: LoopbackServer
) -> None:
    server.route("/orders", reply(200, json=GOOD))
    sales = service(home, clock, pool, server.url("/orders"))
    got = asyncio.Event()
    sales.events.subscribe(lambda event: got.set())
    sales.start()
    await asyncio.wait_for(got.wait(), 10)
    await sales.stop()
    assert sales.feeds()[0].state == "ok"


async def test_a_feed_order_for_a_compacted_day_counts_once_in_its_history(
    home: StateHome, clock: FixedClock, pool: HttpPool, server: LoopbackServer
) -> None:
    from datetime import timedelta

    from liveguard.core.orders import Order
    from liveguard.core.timekeeping import local_day

    sales = service(home, clock, pool, server.url("/orders"))
    old = clock.now() - timedelta(days=40)
    old_day = local_day(old, sales.zone)
    sales.orders.upsert_many([Order("shopee", "OLD1", old, 50_000)])
    assert old_day in sales.maintain()  # folded into the month's history
    late = [{"id": "OLD2", "created": old.isoformat(), "amount": 70_000, "status": "paid"}]
    server.route("/orders", reply(json=late))
    for _ in range(2):  # the same reply twice: counted once
        view = await sales.poll_source(0)
        assert view.state == "ok"
    assert old_day not in sales.orders.days()  # no second copy of a compacted day
    row = sales.today(old_day).channel("shopee")
    assert row is not None and (row.orders, row.revenue) == (2, 120_000)
