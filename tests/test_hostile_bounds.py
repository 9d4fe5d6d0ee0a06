"""Bounds against a hostile loopback world: compression bombs stop at the cap while they
stream, runaway order feeds turn stale with nothing stored, state files stay small whatever
a server sends, and remote times outside a sane window are a reason, never a crash."""

from __future__ import annotations

import asyncio
import gzip
import json
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from liveguard.adapters.audit_log import RING_SIZE, AuditLog
from liveguard.adapters.config_file import parse_config
from liveguard.adapters.http_pool import MAX_BODY_BYTES, HttpPool
from liveguard.adapters.order_feed import (
    MAX_FEED_DAYS,
    MAX_FEED_ORDERS,
    FeedError,
    parse_feed,
)
from liveguard.adapters.probes import CheckJob, jobs_for, run_check
from liveguard.adapters.state_home import StateHome
from liveguard.adapters.status_store import OUTAGES_KEPT
from liveguard.adapters.webhook_sender import WebhookSender
from liveguard.core.config import Check, Config, OrderSource
from liveguard.core.promotion import RenderedRequest
from liveguard.core.status import ProbeResult, State
from liveguard.core.text import REASON_MAX
from liveguard.core.timekeeping import FixedClock, load_zone
from liveguard.service.sales import SalesService
from liveguard.service.status import StatusService
from tests.cli_runner import run_liveguard
from tests.conftest import EVENING, make_app
from tests.servers import LoopbackServer, reply
from tests.test_feed import feed_config

BOMB_BYTES = 200_000_000  # what the reply inflates to


def gzip_bomb(size: int = BOMB_BYTES) -> bytes:
    out = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    chunk = b"\0" * 1_000_000
    parts = [out.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join([*parts, out.flush()])


def deflate_bomb(size: int = BOMB_BYTES) -> bytes:
    return zlib.compress(b"{" * size, 9)


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    return {"gzip": gzip_bomb(), "deflate": deflate_bomb()}


@pytest.fixture
def world(bombs: dict[str, bytes]) -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        for coding, payload in bombs.items():
            headers = {"Content-Encoding": coding, "Content-Type": "application/json"}
            srv.route(f"/{coding}", reply(200, payload, headers=headers))
        yield srv


@pytest.fixture
async def pool() -> AsyncIterator[HttpPool]:
    p = HttpPool(4)
    yield p
    await p.aclose()


def test_the_bombs_are_small_on_the_wire(bombs: dict[str, bytes]) -> None:
    assert all(len(b) < 300_000 for b in bombs.values())
    assert len(gzip.decompress(bombs["gzip"])) == BOMB_BYTES


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
async def test_a_compression_bomb_stops_at_the_cap_while_it_streams(
    world: LoopbackServer, pool: HttpPool, coding: str
) -> None:
    tracemalloc.start()
    try:
        got = await pool.request("GET", world.url(f"/{coding}"), deadline=10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got.truncated and len(got.body) == MAX_BODY_BYTES
    assert peak < 4 * MAX_BODY_BYTES  # the body, its copy, and zlib's window: not 200 MB


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
async def test_a_probe_against_a_bomb_says_so_and_stays_small(
    world: LoopbackServer, pool: HttpPool, clock: FixedClock, coding: str
) -> None:
    check = Check("http", url=world.url(f"/{coding}"), expect=("body.live == true",))
    result = await run_check(pool, check, "tiktok", clock, {})
    assert result.outcome is State.DOWN
    assert len(result.reason) < 300


# -- runaway order feeds -------------------------------------------------------------------
def feed_service(home: StateHome, clock: FixedClock, pool: HttpPool, url: str) -> SalesService:
    env = {"ORDERS_TOKEN": "s3cret"}
    config = parse_config(feed_config(url), environ=env)
    return SalesService(config, home, clock, pool=pool, environ=env)


def orders(count: int, days: int = 1) -> list[dict[str, object]]:
    start = EVENING - timedelta(days=days - 1)
    return [
        {"id": f"R{i}", "created": (start + timedelta(days=i % days)).isoformat(), "amount": 1}
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("reply_orders", "reason"),
    [
        (orders(MAX_FEED_ORDERS + 1), f"reply has {MAX_FEED_ORDERS + 1} orders"),
        (orders(400, days=30), "reply touches 30 days"),
        ([{"id": "X" * 5000, "created": EVENING.isoformat(), "amount": 1}], "longer than 128"),
    ],
)
async def test_a_runaway_feed_turns_stale_with_nothing_stored(
    home: StateHome,
    clock: FixedClock,
    pool: HttpPool,
    reply_orders: list[dict[str, object]],
    reason: str,
) -> None:
    with LoopbackServer() as srv:
        srv.route("/orders", reply(200, json=reply_orders))
        sales = feed_service(home, clock, pool, srv.url("/orders"))
        view = await sales.poll_source(0)
    assert view.state == "stale" and reason in view.reason
    assert list((home.dir / "orders").glob("*.json")) == []


async def test_a_feed_within_the_bounds_is_stored(
    home: StateHome, clock: FixedClock, pool: HttpPool
) -> None:
    with LoopbackServer() as srv:
        srv.route("/orders", reply(200, json=orders(300, days=MAX_FEED_DAYS)))
        sales = feed_service(home, clock, pool, srv.url("/orders"))
        view = await sales.poll_source(0)
    assert (view.state, view.orders) == ("ok", 300)
    assert len(list((home.dir / "orders").glob("*.json"))) == MAX_FEED_DAYS


def feed_channel_config() -> Config:
    """A live channel watched by a status feed, with a 30-minute auto-activation."""
    return parse_config(
        '[alerts]\nauto_activate_after = "30m"\n[[channels]]\nid = "tiktok"\nlive = true\n'
        '[[channels.checks]]\nkind = "feed"\nurl = "http://127.0.0.1:1/feed"\n',
        environ={},
    )


def feed_status(home: StateHome, clock: FixedClock) -> tuple[StatusService, CheckJob]:
    status = StatusService(feed_channel_config(), home, clock, environ={})
    return status, jobs_for(status.config.channels)[0]


# -- absurd remote times -------------------------------------------------------------------
ABSURD = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "1850-01-01T00:00:00+07:00",
    "2999-01-01T00:00:00+00:00",
    "not a time",
    12345,
]


@pytest.mark.parametrize("since", ABSURD)
async def test_an_absurd_feed_since_is_a_reason_and_never_a_crash(
    home: StateHome, clock: FixedClock, pool: HttpPool, since: object
) -> None:
    feed = {"channels": {"tiktok": {"state": "down", "since": since, "reason": "maintenance"}}}
    config = feed_channel_config()
    with LoopbackServer() as srv:
        srv.route("/feed", reply(200, json=feed))
        check = Check("feed", url=srv.url("/feed"))
        result = await run_check(pool, check, "tiktok", clock, {})
    assert result.outcome is State.DOWN and result.since is None
    assert result.reason == "maintenance (unreadable time in 'since')"
    status = StatusService(config, home, clock, environ={})
    status.record(jobs_for(config.channels)[0], result)
    await status.sync()
    again = StatusService(config, home, clock, environ={})  # the next start reads it back
    assert [s.state for s in again.statuses()] == [State.DOWN]
    assert again.down_live() == [("tiktok", "tiktok", EVENING)]


@pytest.mark.parametrize("created", ABSURD[:4])
def test_an_absurd_order_time_is_an_unreadable_time(created: str) -> None:
    source = OrderSource("http-json", "shopee", "http://127.0.0.1:1/")
    body = json.dumps([{"id": "A", "created": created, "amount": 1}]).encode()
    with pytest.raises(FeedError, match="unreadable time"):
        parse_feed(body, source, load_zone("Asia/Jakarta"))


def test_status_with_a_year_one_since_exits_with_the_state_not_70(tmp_path: Path) -> None:
    feed = {"channels": {"tiktok": {"state": "down", "since": ABSURD[0], "reason": "x"}}}
    with LoopbackServer() as srv:
        srv.route("/feed", reply(200, json=feed))
        (tmp_path / "liveguard.toml").write_text(
            f'[[channels]]\nid = "tiktok"\nlive = true\n'
            f'[[channels.checks]]\nkind = "feed"\nurl = "{srv.url("/feed")}"\n'
        )
        done = run_liveguard("--home", str(tmp_path), "status", "--json")
    assert done.returncode == 2, done.stderr
    (channel,) = json.loads(done.stdout)["channels"]
    assert channel["state"] == "down" and "unreadable time" in channel["reason"]


async def test_auto_activation_waits_from_when_liveguard_first_saw_the_outage(
    home: StateHome, clock: FixedClock
) -> None:
    status, job = feed_status(home, clock)
    long_ago = EVENING - timedelta(hours=5)  # what the feed claims
    down = ProbeResult(State.DOWN, "down", EVENING, since=long_ago, settled=True)
    status.record(job, down)
    assert status.statuses()[0].since == long_ago  # shown as the feed says…
    assert status.down_live() == [("tiktok", "tiktok", EVENING)]  # …but waited from now
    clock.advance(timedelta(minutes=10))
    status.record(job, replace(down, at=clock.now()))
    await status.sync()
    restarted = StatusService(status.config, home, clock, environ={})
    assert restarted.down_live() == [("tiktok", "tiktok", EVENING)]


# -- state files stay small ----------------------------------------------------------------
async def test_a_flip_flopping_megabyte_reason_keeps_status_json_small(
    home: StateHome, clock: FixedClock
) -> None:
    status, job = feed_status(home, clock)
    huge = "[/]\x1b]52;c;AAAA\x07" + "x" * 1_900_000
    for n in range(1200):
        clock.advance(timedelta(seconds=5))
        state = State.DOWN if n % 2 == 0 else State.UP
        status.record(job, ProbeResult(state, huge, clock.now(), settled=True))
        if n % 100 == 0:
            await status.sync()
    await status.sync()
    size = (home.dir / "status.json").stat().st_size
    assert size < 400_000, size
    assert len(status.outages(days=365)) <= OUTAGES_KEPT + 1
    assert all(len(o.reason) <= REASON_MAX for o in status.outages(days=365))


def test_the_audit_ring_stays_small_whatever_a_detail_holds(home: StateHome) -> None:
    log = AuditLog(home, actor="ani")
    for _ in range(RING_SIZE):
        log.record("planb.attempt", {"error": "y" * 2_000_000, "list": list(range(10_000))})
    assert (home.dir / "audit.json").stat().st_size < 1_500_000


# -- no stuck sender -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "path", "reason"),
    [
        ({"X-Note": "héllo ✓"}, "/hook", "a header holds characters HTTP cannot send"),
        ({"X-Ok": "1"}, "/ho ok\x00", "the URL is not valid"),
        ({"X Bad Name": "1"}, "/hook", "the request could not be built"),
    ],
)
async def test_a_webhook_that_cannot_be_sent_fails_with_a_reason(
    pool: HttpPool, headers: dict[str, str], path: str, reason: str
) -> None:
    with LoopbackServer() as srv:
        srv.route("/hook", reply(200))
        result = await WebhookSender(pool).send(
            RenderedRequest("POST", srv.url("") + path, headers, b"{}"), 2
        )
        assert srv.requests == []
    assert result.http_status is None and result.permanent
    assert reason in result.error


async def test_a_non_ascii_token_fails_the_action_in_the_view_and_the_log(
    home: StateHome, clock: FixedClock
) -> None:
    from tests.test_promo_outbox import ENV, Harness, attempts, plan_config

    with LoopbackServer() as receiver:
        receiver.route("/start", reply(200))
        receiver.route("/end", reply(200))
        env = {**ENV, "HOOK_TOKEN": "tök-ü\u2028"}
        h = Harness(plan_config(receiver.url("")), home, clock, env=env)
        try:
            await asyncio.wait_for(h.run(), 30)
        finally:
            await h.service.aclose()
        assert receiver.hits("/start") == 0
    # refused while rendering, naming the header and its variable, never the value
    said = "header Authorization: the value (from ${HOOK_TOKEN}) has a character outside ASCII"
    hook = h.service.view().actions[0]
    assert hook.status == "failed" and said in hook.error
    [logged] = [a for a in attempts(home) if a["kind"] == "webhook"]
    assert logged["result"] == "failed" and said in str(logged["error"])
    assert "tök" not in json.dumps(h.service.log())


async def test_the_room_starts_and_keeps_running_against_a_hostile_feed_and_bombs(
    home: StateHome, clock: FixedClock, world: LoopbackServer
) -> None:
    feed = {"channels": {"tiktok": {"state": "down", "since": ABSURD[0], "reason": "maintenance"}}}
    world.route("/feed", reply(200, json=feed))
    text = (
        '[[channels]]\nid = "tiktok"\nname = "TikTok Shop"\nlive = true\n'
        f'[[channels.checks]]\nkind = "feed"\nurl = "{world.url("/feed")}"\nevery = "1s"\n'
        f'[[channels.checks]]\nkind = "http"\nurl = "{world.url("/gzip")}"\nevery = "1s"\n'
        'expect = ["body.live == true"]\n'
        f'[[channels.checks]]\nkind = "statuspage"\nurl = "{world.url("/deflate")}"\n'
    )
    config = parse_config(text, environ={})
    for _start in range(2):  # the second start reads back what the first one stored
        app = make_app(home, clock, "en", config)
        async with app.run_test(size=(120, 40)) as pilot:
            status = app.room.status
            for _ in range(3000):  # bounded wait for the first probe round; not a timing test
                if status.statuses()[0].state is State.DOWN:
                    break
                await pilot.pause(0.01)
            shown = status.statuses()[0]
            assert shown.state is State.DOWN and "unreadable time" in shown.reason
            assert app.is_running


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
async def test_an_order_feed_bomb_is_too_large_and_stores_nothing(
    world: LoopbackServer, pool: HttpPool, home: StateHome, clock: FixedClock, coding: str
) -> None:
    sales = feed_service(home, clock, pool, world.url(f"/{coding}"))
    view = await sales.poll_source(0)
    assert (view.state, view.reason) == ("stale", "reply too large")
    assert list((home.dir / "orders").glob("*.json")) == []
