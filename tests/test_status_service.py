"""StatusService with a real state home and a real loopback server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest

from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.state_home import StateHome
from liveguard.adapters.status_store import OUTAGES_KEPT, StatusStore
from liveguard.core.config import Alerts, Channel, Check, Config
from liveguard.core.status import Change, Outage, ProbeResult, Source, State
from liveguard.core.timekeeping import FixedClock
from liveguard.service.events import StatusChanged
from liveguard.service.status import StatusService, exit_code
from tests.servers import LoopbackServer, reply

LIVE_ON = {"live": {"enabled": True}}


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        srv.route("/tiktok", reply(json=LIVE_ON))
        srv.route("/shopee", reply(json=LIVE_ON))
        yield srv


def config_for(srv: LoopbackServer, fails: int = 2, ups: int = 1) -> Config:
    def check(path: str) -> Check:
        return Check("http", url=srv.url(path), expect=("status == 200", "body.live.enabled == true"),
                     timeout=timedelta(milliseconds=500), every=timedelta(seconds=30))  # fmt: skip

    return Config(
        alerts=Alerts(fails, ups),
        channels=(
            Channel("tiktok", "TikTok Shop", True, (check("/tiktok"),)),
            Channel("shopee", "Shopee", True, (check("/shopee"),)),
            Channel("wa", "WhatsApp", False),
        ),
    )


async def one_round(service: StatusService, pool: HttpPool, clock: FixedClock) -> None:
    for job, result in await service_round(service, pool):
        service.record(job, result)
    clock.advance(timedelta(seconds=30))


async def service_round(service: StatusService, pool: HttpPool):  # type: ignore[no-untyped-def]
    from liveguard.adapters.probes import ProbeScheduler, jobs_for

    return await ProbeScheduler(
        pool, jobs_for(service.config.channels), service.clock, lambda j, r: None
    ).run_once()


def changes_of(service: StatusService) -> list[Change]:
    """Every status change the service publishes, as it publishes it."""
    changes: list[Change] = []
    service.events.subscribe(
        lambda e: changes.append(e.change) if isinstance(e, StatusChanged) else None
    )
    return changes


async def test_outage_is_recorded_and_survives_a_restart(
    server: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    service = StatusService(config_for(server), home, clock)
    service.load()
    changes = changes_of(service)
    pool = HttpPool(4)
    try:
        await one_round(service, pool, clock)
        server.route("/tiktok", reply(503))
        await one_round(service, pool, clock)
        await one_round(service, pool, clock)
        await service.sync()
        assert service.book.status("tiktok").state is State.DOWN
        opened = [c.opened for c in changes if c.opened]
        assert len(opened) == 1 and opened[0].reason == "status 503 (expected 200)"

        again = StatusService(config_for(server), home, clock)
        again.load()
        assert again.book.status("tiktok").state is State.DOWN
        assert len(again.book.beats("tiktok")) == 3
        server.route("/tiktok", reply(json=LIVE_ON))
        await one_round(again, pool, clock)
        await again.sync()
    finally:
        await pool.aclose()
    outages = StatusService(config_for(server), home, clock)
    outages.load()
    history = outages.outages()
    assert [(o.channel, o.reason, o.end is not None) for o in history] == [
        ("tiktok", "status 503 (expected 200)", True)
    ]
    assert history[0].duration(clock.now()) == timedelta(seconds=60)
    views = {v.status.channel: v for v in outages.snapshot()}
    assert views["tiktok"].uptime_today is not None and views["tiktok"].uptime_today < 1.0
    assert views["shopee"].uptime_today == 1.0


async def test_declare_is_stored_with_who_and_reason(
    server: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    service = StatusService(config_for(server), home, clock)
    status = service.declare("tiktok", "down", " LIVE button fails ", who="ani")
    assert (status.state, status.source, status.reason) == (
        State.DOWN,
        Source.DECLARED,
        "LIVE button fails",
    )
    stored = StatusStore(home).declarations()["tiktok"]
    assert (stored.who, stored.reason, stored.at) == ("ani", "LIVE button fails", clock.now())
    clock.advance(timedelta(minutes=12))
    status = service.declare("tiktok", "clear")
    assert status.source is Source.NONE
    assert "tiktok" not in StatusStore(home).declarations()
    [outage] = service.outages()
    assert (outage.source, outage.duration(clock.now())) == (Source.DECLARED, timedelta(minutes=12))
    with pytest.raises(KeyError, match="no channel 'nope'"):
        service.declare("nope", "down")


async def test_a_running_service_picks_up_a_mark_from_another_process(
    server: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    room = StatusService(config_for(server), home, clock)
    room.load()
    cli = StatusService(config_for(server), home, clock)
    cli.declare("shopee", "down", "Shopee Live will not start", who="budi")
    assert room.book.status("shopee").source is Source.NONE
    changes = changes_of(room)
    await room.sync()
    assert room.book.status("shopee").state is State.DOWN
    assert changes and changes[0].opened is not None
    cli.declare("shopee", "clear")
    await room.sync()
    assert room.book.status("shopee").source is Source.NONE
    # both processes closed the same outage: it is kept once
    room.store.add_outages([o for o in room.outages() if o.end])
    assert len(StatusStore(home).outages()) == 1


async def test_check_once_needs_no_failures_in_a_row_and_keeps_declarations(
    server: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    server.route("/tiktok", reply(503))
    service = StatusService(config_for(server, fails=5), home, clock)
    service.declare("shopee", "down", "tried, fails", who="ani")
    statuses = {s.channel: s for s in await service.check_once()}
    assert (statuses["tiktok"].state, statuses["tiktok"].reason) == (
        State.DOWN,
        "status 503 (expected 200)",
    )
    assert statuses["shopee"].source is Source.DECLARED
    assert statuses["wa"].source is Source.NONE
    assert exit_code(list(statuses.values())) == 2


def test_only_live_channels_that_are_down_count_for_plan_b(
    server: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    """Auto-activation takes its outages from here: a channel that is not live never fires it."""
    service = StatusService(config_for(server), home, clock)
    service.declare("wa", "down", "no signal", who="ani")
    assert service.down_live() == []
    service.declare("tiktok", "down", "LIVE button fails", who="ani")
    assert service.down_live() == [("tiktok", "TikTok Shop", clock.now())]


def test_exit_codes(server: LoopbackServer, home: StateHome, clock: FixedClock) -> None:
    service = StatusService(config_for(server, fails=1), home, clock)
    book = service.book

    def result(state: State) -> ProbeResult:
        return ProbeResult(state, state.value, clock.now())

    book.record("tiktok", 0, result(State.UP))
    book.record("shopee", 0, result(State.UP))
    assert exit_code(book.snapshot()) == 0  # the unwatched WhatsApp channel does not count
    book.record("shopee", 0, result(State.DEGRADED))
    assert exit_code(book.snapshot()) == 1
    book.record("shopee", 0, result(State.UNKNOWN))
    assert exit_code(book.snapshot()) == 3
    book.record("tiktok", 0, result(State.DOWN))
    assert exit_code(book.snapshot()) == 2


async def test_run_probes_on_schedule_and_flushes(
    server: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    service = StatusService(config_for(server), home, clock)
    seen = asyncio.Event()
    service.events.subscribe(
        lambda e: (
            seen.set()
            if isinstance(e, StatusChanged) and e.change.after.channel == "shopee"
            else None
        )
    )
    pool = HttpPool(4)
    task = asyncio.create_task(service.run(pool, flush_every=0.01))
    try:
        await asyncio.wait_for(seen.wait(), 5)
        while "shopee" not in StatusStore(home).channels():
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await pool.aclose()
    assert StatusStore(home).channels()["shopee"].beats[0].state is State.UP


def test_the_outage_ring_is_bounded(home: StateHome, clock: FixedClock) -> None:
    store = StatusStore(home)
    start = clock.now()
    many = [Outage("tiktok", start + timedelta(minutes=i), start + timedelta(minutes=i, seconds=30), Source.PROBE, "x")
            for i in range(OUTAGES_KEPT + 20)]  # fmt: skip
    store.add_outages(many[:300])
    store.add_outages(many[300:])
    kept = store.outages()
    assert len(kept) == OUTAGES_KEPT
    assert kept[-1].start == many[-1].start
