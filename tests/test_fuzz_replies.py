"""Fuzz what servers answer: every probe, the order feed and a webhook end in a readable state.

A seeded generator builds whole raw replies (status 100-599, random and broken headers:
bad Content-Length, Retry-After garbage, huge headers; random bodies and JSON shapes) and
the real loopback server sends them, byte for byte, to:

- the http, statuspage and feed probes: up/degraded/down/unknown with a one-line reason,
  never "liveguard could not run this check" (an exception that escaped);
- the order feed (SalesService.poll_source): ok, or stale with a reason and the numbers
  already known kept;
- a Plan B webhook action: delivered/retrying/failed with a reason.

Default 150 replies per test, 2,000 with ``--big``. A failing case prints its seed.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.probes import run_check
from liveguard.adapters.state_home import StateHome
from liveguard.core.config import Action, Check
from liveguard.core.promotion import MAX_ATTEMPTS, OutboxEntry, TemplateValues
from liveguard.core.status import State
from liveguard.core.timekeeping import FixedClock
from liveguard.service.planb_actions import ActionRunner
from liveguard.service.sales import SalesService
from tests.servers import LoopbackServer, garbage, reply

TIMEOUT = timedelta(seconds=3)
ESCAPED = "liveguard could not run this check"
KEYS = [
    "status", "indicator", "description", "components", "name", "channels", "tiktok", "state",
    "since", "reason", "live", "enabled", "orders", "id", "created", "amount", "page",
]  # fmt: skip
LEAVES: list[Any] = [
    None, True, False, 0, -1, 2**70, 1.5, float("inf"), "", "none", "minor", "major",
    "critical", "operational", "major_outage", "up", "down", "degraded", "unknown", "tiktok",
    "TikTok Live", "2026-11-28T21:00:00+07:00", "2026-13-45", "Rp125.000", "9" * 50, "\x00",
    "é", 1_764_338_400, "paid", "cancelled",
]  # fmt: skip
RETRY_AFTER = [
    "", "0", "5", "-1", "soon", "1e9", "9" * 40, "\xb2", "\u0662", "Wed, 21 Oct 2015 07:28:00 GMT",
    "Sat, 28 Nov 2026 14:00:30 GMT", "Sat, 99 Nov 2026 99:99:99 GMT", "3600, 7200", " 7 ",
]  # fmt: skip
CONTENT_LENGTH = ["abc", "-1", "99999999999999999999", "1.5", "", "0x10", "+3"]


def cases(big: bool) -> int:
    return 2000 if big else 150


def json_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice(LEAVES)
    if roll < 0.7:
        return {rng.choice(KEYS): json_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return [json_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def shaped_body(rng: random.Random) -> Any:
    """Near-valid shapes for each target, so the fuzz gets past the first check too."""
    anything = json_value(rng)
    return rng.choice(
        [
            anything,
            {"status": {"indicator": rng.choice(LEAVES), "description": rng.choice(LEAVES)}},
            {"components": [{"name": rng.choice(["TikTok Live", 5, None]), "status": anything}]},
            {"channels": {"tiktok": {"state": rng.choice(LEAVES), "since": rng.choice(LEAVES)}}},
            {"channels": {"tiktok": anything}},
            {"live": {"enabled": rng.choice(LEAVES)}},
            [
                {k: rng.choice(LEAVES) for k in ("id", "created", "amount", "status")}
                for _ in range(rng.randint(0, 3))
            ],
            [anything],
        ]
    )


def random_body(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.55:
        text = json.dumps(shaped_body(rng), allow_nan=True)
        if rng.random() < 0.15:
            text = text[: rng.randint(0, len(text))]  # cut short
        return text.encode()
    if kind < 0.75:
        return rng.randbytes(rng.randint(0, 400))
    if kind < 0.85:
        return b"[" * rng.randint(1, 100_000)  # deep nesting
    return rng.choice([b"", b"null", b"<html>502 Bad Gateway</html>", "é".encode("latin-1")])


def random_reply(rng: random.Random) -> bytes:
    """A whole raw HTTP reply, often broken on purpose."""
    status = rng.randint(100, 599)
    body = random_body(rng)
    headers: list[tuple[str, str]] = [("Connection", "close")]
    length = rng.random()
    if length < 0.7:
        headers.append(("Content-Length", str(len(body))))
    elif length < 0.8:
        headers.append(("Content-Length", str(len(body) + rng.randint(-5, 50))))
    elif length < 0.9:
        headers.append(("Content-Length", rng.choice(CONTENT_LENGTH)))
    if rng.random() < 0.5:
        headers.append(("Retry-After", rng.choice(RETRY_AFTER)))
    if rng.random() < 0.3:
        headers.append(
            ("Content-Type", rng.choice(["application/json", "text/html", "x/y; charset=zz"]))
        )
    if rng.random() < 0.1:
        headers.append(("X-Big", "a" * rng.choice([8_000, 70_000])))  # huge header
    if rng.random() < 0.1:
        headers.append(("Content-Encoding", rng.choice(["gzip", "br", "deflate", "nonsense"])))
    if rng.random() < 0.05:
        headers.append(("Transfer-Encoding", "chunked"))
    if rng.random() < 0.1:
        headers.append(("X-" + rng.randbytes(4).hex(), rng.randbytes(8).decode("latin-1")))
    rng.shuffle(headers)
    head = f"HTTP/1.1 {status} {rng.choice(['OK', 'Whatever', ''])}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("latin-1", errors="replace") + body


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture
async def pool() -> AsyncIterator[HttpPool]:
    p = HttpPool(8)
    yield p
    await p.aclose()


def serve(server: LoopbackServer, raw: bytes, *paths: str) -> None:
    for path in paths:
        server.route(path, garbage(raw))


def readable(reason: str) -> None:
    assert reason.strip(), "empty reason"
    assert "\n" not in reason and "Traceback" not in reason, reason


async def test_probes_say_a_state_and_a_reason(
    server: LoopbackServer, pool: HttpPool, clock: FixedClock, big: bool
) -> None:
    checks = [
        Check("http", url=server.url("/http"), timeout=TIMEOUT),
        Check(
            "http",
            url=server.url("/http"),
            expect=("status == 200", "body.live.enabled == true", "response_time < 1"),
            timeout=TIMEOUT,
        ),
        Check("statuspage", url=server.url("/sp/status.json"), timeout=TIMEOUT),
        Check(
            "statuspage",
            url=server.url("/sp/components.json"),
            component="TikTok Live",
            timeout=TIMEOUT,
        ),
        Check("feed", url=server.url("/feed"), timeout=TIMEOUT),
    ]
    seen: dict[State, int] = {}
    for seed in range(cases(big)):
        raw = random_reply(random.Random(seed))
        serve(server, raw, "/http", "/sp/status.json", "/sp/components.json", "/feed")
        results = await asyncio.gather(
            *(run_check(pool, c, "tiktok", clock, environ={}) for c in checks)
        )
        for check, result in zip(checks, results, strict=True):
            assert result.outcome in (State.UP, State.DEGRADED, State.DOWN, State.UNKNOWN)
            readable(result.reason)
            assert ESCAPED not in result.reason, (seed, check.kind, result.reason, raw[:300])
            seen[result.outcome] = seen.get(result.outcome, 0) + 1
    print(f"probe outcomes over {cases(big)} replies x {len(checks)} checks: {seen}")
    assert len(seen) >= 3  # the generator reaches more than one kind of answer


FEED = """
timezone = "Asia/Jakarta"
[[channels]]
id = "wa"
name = "WhatsApp"
[[sources]]
kind = "http-json"
channel = "wa"
url = "{url}"
timeout = "3s"
"""
GOOD_ORDERS = [
    {"id": "W1", "created": "2026-11-28T20:00:00+07:00", "amount": "Rp125.000"},
    {"id": "W2", "created": "2026-11-28T20:10:00+07:00", "amount": 50000, "status": "paid"},
]


async def test_order_feed_is_ok_or_stale_keeping_what_it_knew(
    server: LoopbackServer, pool: HttpPool, home: StateHome, clock: FixedClock, big: bool
) -> None:
    config = parse_config(FEED.format(url=server.url("/orders")), "liveguard.toml", {})
    sales = SalesService(config, home, clock, pool=pool, environ={})
    server.route("/orders", reply(json=GOOD_ORDERS))
    known = await sales.poll_source(0)
    assert known.state == "ok" and known.orders == 2
    stale = 0
    for seed in range(cases(big)):
        revenue = sales.today().channel("wa")
        if seed % 10 == 9:  # now and then a good reply with a new order: "known" moves on
            new = {"id": f"N{seed}", "created": "2026-11-28T20:30:00+07:00", "amount": 1000}
            server.route("/orders", reply(json=[*GOOD_ORDERS, new]))
        else:
            serve(server, random_reply(random.Random(seed)), "/orders")
        view = await sales.poll_source(0)
        if view.state == "ok":
            known = view
            continue
        stale += 1
        assert view.state == "stale", view
        readable(view.reason)
        assert not view.reason.startswith("unexpected"), (seed, view.reason)
        assert not view.reason.endswith(": "), (seed, view.reason)  # a reason with no words
        assert (view.last_ok, view.orders) == (known.last_ok, known.orders)
        assert sales.today().channel("wa") == revenue  # nothing known was touched
    print(f"order feed: {stale} of {cases(big)} replies left it stale with a reason")
    assert stale > 0 and known.orders == 3


async def test_webhook_is_delivered_retrying_or_failed(
    server: LoopbackServer, pool: HttpPool, clock: FixedClock, big: bool
) -> None:
    runner = ActionRunner(clock, {}, None, None, jitter=lambda: 0.5)
    runner.use_pool(pool)
    action = Action("webhook", url=server.url("/hook"), body={"a": "b"}, timeout=TIMEOUT)
    values = TemplateValues("plan-b", "test", "tiktok", "2026-11-28T21:00:00+07:00", "a1")
    outcomes: dict[str, int] = {}
    for seed in range(cases(big)):
        rng = random.Random(seed)
        serve(server, random_reply(rng), "/hook")
        entry = OutboxEntry(
            "a1", "plan-b", 0, "do", "webhook", "sending", rng.randint(1, MAX_ATTEMPTS)
        )
        result, final = await runner.run(entry, action, values, server_path_unused())
        assert final.status in ("delivered", "retrying", "failed"), (seed, final)
        if final.status != "delivered":
            readable(final.error)
        if final.status == "retrying":
            assert final.next_at is not None and final.next_at >= clock.now()
        outcomes[final.status] = outcomes.get(final.status, 0) + 1
        assert result.duration_ms >= 0
    print(f"webhook outcomes over {cases(big)} replies: {outcomes}")
    assert len(outcomes) == 3


def server_path_unused() -> Any:
    from pathlib import Path

    return Path("/nonexistent/message.txt")  # only message actions write a file
