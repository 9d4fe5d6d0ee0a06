"""Probes against a real loopback server: every failure has its own reason, nothing hangs."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.probes import CheckJob, ProbeScheduler, run_check
from liveguard.core.config import Alerts, Channel, Check
from liveguard.core.status import ProbeResult, State, StatusBook
from liveguard.core.timekeeping import FixedClock
from tests.servers import (
    LoopbackServer,
    close_at_once,
    closed_port,
    drip,
    garbage,
    hang,
    reply,
    self_signed_tls,
    sequence,
    statuspage_components,
    statuspage_indicator,
)

SHORT = timedelta(milliseconds=400)
LIVE_ON = {"live": {"enabled": True}}
EXPECT = ("status == 200", "body.live.enabled == true")


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        srv.route("/ok", reply(json=LIVE_ON))
        srv.route("/503", reply(503, "busy"))
        srv.route("/hang", hang())
        srv.route("/drip", drip(every=0.1))
        srv.route("/garbage", garbage())
        srv.route("/close", close_at_once())
        srv.route("/off", reply(json={"live": {"enabled": False}}))
        srv.route("/shape", reply(json={"status": "ok"}))
        srv.route("/html", reply(200, "<html>maintenance</html>"))
        srv.route("/flap", sequence(reply(json=LIVE_ON), reply(503)))
        yield srv


@pytest.fixture
async def pool() -> AsyncIterator[HttpPool]:
    p = HttpPool(8)
    yield p
    await p.aclose()


def http(url: str, *expect: str, timeout: timedelta = SHORT) -> Check:
    return Check("http", url=url, expect=expect or EXPECT, timeout=timeout)


async def probe(
    pool: HttpPool, check: Check, clock: FixedClock, channel: str = "tiktok"
) -> ProbeResult:
    return await run_check(pool, check, channel, clock, environ={"TOKEN": "s3cret"})


@pytest.mark.parametrize(
    ("path", "state", "reason"),
    [
        ("/ok", State.UP, None),
        ("/503", State.DOWN, "status 503 (expected 200)"),
        ("/hang", State.DOWN, "timed out after 0.4 s"),
        ("/drip", State.DOWN, "timed out after 0.4 s"),
        ("/garbage", State.DOWN, "not an HTTP reply (protocol error)"),
        ("/close", State.DOWN, "the server closed the connection without replying"),
        ("/off", State.DOWN, "body.live.enabled is false (expected true)"),
        ("/shape", State.DOWN, "body.live.enabled is missing (expected true)"),
        ("/html", State.DOWN, "not JSON"),
    ],
)
async def test_http_check_state_and_reason(
    server: LoopbackServer,
    pool: HttpPool,
    clock: FixedClock,
    path: str,
    state: State,
    reason: str | None,
) -> None:
    got = await probe(pool, http(server.url(path)), clock)
    assert got.outcome is state
    if reason is not None:
        assert got.reason == reason
    assert got.at == clock.now()


async def test_empty_expect_means_status_below_400(
    server: LoopbackServer, pool: HttpPool, clock: FixedClock
) -> None:
    ok = await probe(pool, Check("http", url=server.url("/html"), timeout=SHORT), clock)
    bad = await probe(pool, Check("http", url=server.url("/503"), timeout=SHORT), clock)
    assert (ok.outcome, bad.outcome, bad.reason) == (
        State.UP,
        State.DOWN,
        "status 503 (expected < 400)",
    )


async def test_slow_but_passing_is_degraded(
    server: LoopbackServer, pool: HttpPool, clock: FixedClock
) -> None:
    got = await probe(pool, http(server.url("/ok"), "status == 200", "response_time < 0"), clock)
    assert got.outcome is State.DEGRADED
    assert got.reason.startswith("response time ") and got.reason.endswith("(expected < 0)")
    assert got.latency_ms is not None


async def test_connection_refused(pool: HttpPool, clock: FixedClock) -> None:
    got = await probe(pool, http(f"http://127.0.0.1:{closed_port()}/live"), clock)
    assert (got.outcome, got.reason) == (State.DOWN, "connection refused")


async def test_headers_carry_env_secrets_and_a_missing_one_is_unknown(
    server: LoopbackServer, pool: HttpPool, clock: FixedClock
) -> None:
    check = Check(
        "http", url=server.url("/ok"), headers={"Authorization": "Bearer ${TOKEN}"}, timeout=SHORT
    )
    assert (await probe(pool, check, clock)).outcome is State.UP
    assert server.requests[-1].headers["authorization"] == "Bearer s3cret"
    missing = Check("http", url=server.url("/ok"), headers={"X": "${NOPE}"}, timeout=SHORT)
    got = await probe(pool, missing, clock)
    assert (got.outcome, got.reason) == (State.UNKNOWN, "environment variable NOPE is not set")


async def test_a_url_broken_by_its_variable_is_unknown_not_a_crash(
    pool: HttpPool, clock: FixedClock
) -> None:
    check = Check("http", url="http://127.0.0.1:${TOKEN}/x", timeout=SHORT)  # port "s3cret"
    got = await probe(pool, check, clock)
    assert got.outcome is State.UNKNOWN
    assert got.reason == "the URL is not valid once its ${...} are filled in"
    assert "s3cret" not in got.reason


async def test_a_busy_pool_is_unknown_not_down(server: LoopbackServer, clock: FixedClock) -> None:
    tiny = HttpPool(1)
    try:
        slow = http(server.url("/hang"), timeout=timedelta(seconds=1))
        quick = http(server.url("/ok"), timeout=timedelta(milliseconds=200))
        hanging = asyncio.create_task(probe(tiny, slow, clock))
        while tiny.in_flight == 0:
            await asyncio.sleep(0)
        got = await probe(tiny, quick, clock)
        assert got.outcome is State.UNKNOWN and "busy" in got.reason
        assert (await hanging).outcome is State.DOWN
    finally:
        await tiny.aclose()


async def test_tls_self_signed_and_expired(tmp_path: Path, clock: FixedClock) -> None:
    self_signed = self_signed_tls(tmp_path / "a")
    expired = self_signed_tls(tmp_path / "b", expired=True)
    if self_signed is None or expired is None:
        pytest.skip("openssl is not installed")
    with LoopbackServer(tls=self_signed.context) as a, LoopbackServer(tls=expired.context) as b:
        a.route("/ok", reply(200))
        b.route("/ok", reply(200))
        default = HttpPool(2)
        trusting = HttpPool(2, verify=ssl.create_default_context(cafile=expired.cert))  # type: ignore[arg-type]
        try:
            got = await probe(default, Check("http", url=a.url("/ok"), timeout=SHORT * 5), clock)
            assert (got.outcome, got.reason) == (
                State.DOWN, "TLS: certificate verify failed (self-signed certificate)",
            )  # fmt: skip
            got = await probe(trusting, Check("http", url=b.url("/ok"), timeout=SHORT * 5), clock)
            assert (got.outcome, got.reason) == (State.DOWN, "TLS: certificate expired")
        finally:
            await default.aclose()
            await trusting.aclose()


# -- statuspage --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("component_status", "state"),
    [
        ("operational", State.UP),
        ("degraded_performance", State.DEGRADED),
        ("partial_outage", State.DOWN),
        ("major_outage", State.DOWN),
        ("under_maintenance", State.DEGRADED),
    ],
)
async def test_statuspage_component(
    server: LoopbackServer, pool: HttpPool, clock: FixedClock, component_status: str, state: State
) -> None:
    base = f"/sp-{component_status}"
    server.route(
        f"{base}/api/v2/components.json",
        statuspage_components({"Chat": "operational", "Live streaming": component_status}),
    )
    got = await probe(
        pool,
        Check("statuspage", url=server.url(base), component="live streaming", timeout=SHORT),
        clock,
    )
    assert got.outcome is state
    assert got.reason == f"Live streaming: {component_status.replace('_', ' ')}"


@pytest.mark.parametrize(
    ("indicator", "state"),
    [
        ("none", State.UP),
        ("minor", State.DEGRADED),
        ("major", State.DOWN),
        ("critical", State.DOWN),
    ],
)
async def test_statuspage_indicator(
    server: LoopbackServer, pool: HttpPool, clock: FixedClock, indicator: str, state: State
) -> None:
    server.route(f"/ind-{indicator}/api/v2/status.json", statuspage_indicator(indicator))
    got = await probe(
        pool, Check("statuspage", url=server.url(f"/ind-{indicator}"), timeout=SHORT), clock
    )
    assert got.outcome is state


async def test_statuspage_trouble_is_unknown(
    server: LoopbackServer, pool: HttpPool, clock: FixedClock
) -> None:
    server.route("/spx/api/v2/components.json", statuspage_components({"Chat": "operational"}))
    server.route("/spg/api/v2/components.json", reply(200, "<html>"))
    missing = await probe(
        pool, Check("statuspage", url=server.url("/spx"), component="Live", timeout=SHORT), clock
    )
    garbled = await probe(
        pool, Check("statuspage", url=server.url("/spg"), component="Live", timeout=SHORT), clock
    )
    assert (missing.outcome, missing.reason) == (
        State.UNKNOWN,
        "status page has no component 'Live'",
    )
    assert (garbled.outcome, garbled.reason) == (State.UNKNOWN, "status page: not JSON")


# -- tcp and feed ------------------------------------------------------------------------
async def test_tcp_connect(server: LoopbackServer, pool: HttpPool, clock: FixedClock) -> None:
    up = await probe(pool, Check("tcp", host="127.0.0.1", port=server.port, timeout=SHORT), clock)
    down = await probe(
        pool, Check("tcp", host="127.0.0.1", port=closed_port(), timeout=SHORT), clock
    )
    assert up.outcome is State.UP and up.latency_ms is not None
    assert (down.outcome, down.reason) == (State.DOWN, "connection refused")


async def test_feed_gives_state_reason_and_since(
    server: LoopbackServer, pool: HttpPool, clock: FixedClock
) -> None:
    server.route("/feed", reply(json={"channels": {
        "tiktok": {"state": "down", "reason": "LIVE suspended in Indonesia", "since": "2026-11-28T20:30:00+07:00"},
        "shopee": {"state": "up"},
    }}))  # fmt: skip
    server.route("/feed-bad", reply(json={"tiktok": "down"}))
    feed = Check("feed", url=server.url("/feed"), timeout=SHORT)
    got = await probe(pool, feed, clock)
    assert (got.outcome, got.reason, got.settled) == (
        State.DOWN,
        "LIVE suspended in Indonesia",
        True,
    )
    assert got.since is not None and got.since.isoformat() == "2026-11-28T20:30:00+07:00"
    assert (await probe(pool, feed, clock, "shopee")).outcome is State.UP
    other = await probe(
        pool, Check("feed", url=server.url("/feed"), feed_channel="lazada", timeout=SHORT), clock
    )
    assert (other.outcome, other.reason) == (State.UNKNOWN, "status feed has no entry for 'lazada'")
    bad = await probe(pool, Check("feed", url=server.url("/feed-bad"), timeout=SHORT), clock)
    assert bad.outcome is State.UNKNOWN and "wrong shape" in bad.reason


# -- hysteresis over the network ---------------------------------------------------------
async def test_pending_down_up_sequence_against_a_real_server(
    pool: HttpPool, clock: FixedClock
) -> None:
    with LoopbackServer() as srv:
        srv.route("/live", reply(json=LIVE_ON))
        check = http(srv.url("/live"))
        b = StatusBook([Channel("tiktok", "TikTok Shop", True, (check,))], Alerts(3, 2))
        seen = []

        async def step() -> None:
            b.record("tiktok", 0, await probe(pool, check, clock))
            seen.append(b.status("tiktok").state)
            clock.advance(timedelta(seconds=30))

        await step()
        srv.route("/live", reply(503))
        for _ in range(3):
            await step()
        srv.route("/live", reply(json=LIVE_ON))
        for _ in range(2):
            await step()
    assert seen == [State.UP, State.PENDING, State.PENDING, State.DOWN, State.DOWN, State.UP]
    assert b.status("tiktok").reason.startswith("status 200, ")


async def test_flapping_server_stays_pending_never_down(
    server: LoopbackServer, pool: HttpPool, clock: FixedClock
) -> None:
    check = http(server.url("/flap"))
    b = StatusBook([Channel("tiktok", "TikTok Shop", True, (check,))], Alerts(2, 1))
    states = set()
    for _ in range(6):
        b.record("tiktok", 0, await probe(pool, check, clock))
        states.add(b.status("tiktok").state)
    assert states == {State.UP, State.PENDING}


# -- scheduling --------------------------------------------------------------------------
async def test_scheduler_keeps_each_checks_own_rhythm(
    server: LoopbackServer, pool: HttpPool, clock: FixedClock
) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    fast = Check("http", url=server.url("/ok"), every=timedelta(seconds=5), timeout=SHORT)
    slow = Check(
        "tcp", host="127.0.0.1", port=server.port, every=timedelta(seconds=60), timeout=SHORT
    )
    got: list[tuple[str, State]] = []
    jobs = [CheckJob("a", 0, fast), CheckJob("b", 0, slow)]
    scheduler = ProbeScheduler(
        pool, jobs, clock, lambda j, r: got.append((j.channel, r.outcome)), sleep=fake_sleep
    )
    await scheduler.run(rounds=3)
    assert sorted(got) == [("a", State.UP)] * 3 + [("b", State.UP)] * 3
    first_runs, rhythm = waits[:1], waits[1:]  # job b starts half the spread later
    assert first_runs == [0.5]
    assert sorted(round(w) for w in rhythm) == [5, 5, 60, 60]
    assert all(w <= 60 for w in rhythm)


async def test_a_hanging_check_does_not_hold_up_the_others(
    server: LoopbackServer, pool: HttpPool, clock: FixedClock
) -> None:
    order: list[str] = []
    jobs = [
        CheckJob("hang", 0, http(server.url("/hang"))),
        CheckJob("ok", 0, http(server.url("/ok"))),
    ]
    scheduler = ProbeScheduler(pool, jobs, clock, lambda j, r: order.append(j.channel))
    results = await scheduler.run_once()
    assert order == ["ok", "hang"]
    assert [r.outcome for _, r in results] == [State.DOWN, State.UP]


# -- our own failures ----------------------------------------------------------------------
def test_dns_down_on_this_machine_is_unknown_but_a_missing_host_is_down() -> None:
    # A resolver that is itself unavailable cannot be had on loopback: build the error chain
    # httpx raises (ConnectError caused by socket.gaierror) and classify it.
    import socket

    from liveguard.adapters import probes

    def failing(errno: int) -> httpx.ConnectError:
        error = httpx.ConnectError(f"[Errno {errno}] name resolution")
        error.__cause__ = socket.gaierror(errno, "name resolution")
        return error

    with pytest.raises(probes._Unknown, match="DNS is not working on this machine"):
        probes._http_failure(failing(socket.EAI_AGAIN))
    assert probes._http_failure(failing(socket.EAI_NONAME)) == "host not found (DNS)"
