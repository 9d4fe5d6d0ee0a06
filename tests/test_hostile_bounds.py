"""Bounds against a hostile loopback world: compression bombs stop at the cap while they
stream, runaway order feeds turn stale with nothing stored, state files stay small whatever
a server sends, and remote times outside a sane window are a reason, never a crash."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterator

import pytest

from liveguard.adapters.http_pool import MAX_BODY_BYTES, HttpPool
from liveguard.adapters.probes import run_check
from liveguard.core.config import Check
from liveguard.core.status import State
from liveguard.core.timekeeping import FixedClock
from tests.servers import LoopbackServer, reply

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
