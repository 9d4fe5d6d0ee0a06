"""Network faults against loopback: each has its own reason, and the control room keeps
answering keys while all of them happen at once.

Refused, reset mid-body, hang, drip, TLS failure, DNS failure (a name under ``.invalid``),
and a 429 storm with Retry-After on the Plan B webhook. The largest event-loop stall is
printed, not asserted (its goal lives in benchmarks/ui_stall.py).
"""

from __future__ import annotations

import collections
import gc
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from textual.widget import Widget

from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.order_feed import FeedError, fetch_orders
from liveguard.adapters.probes import run_check
from liveguard.adapters.state_home import StateHome
from liveguard.core.config import Check, OrderSource
from liveguard.core.status import State
from liveguard.core.timekeeping import FixedClock, load_zone
from liveguard.service.planb import PlanBService
from liveguard.ui.screens.help import HelpScreen
from tests.conftest import make_app
from tests.faulty_network import FaultyNetwork, StallWatch, faulty_config, faulty_network

SHORT = timedelta(milliseconds=500)


def dead_widgets() -> list[str]:
    """Widgets still in memory though no longer on any screen."""
    gc.collect()
    return [type(o).__name__ for o in gc.get_objects() if isinstance(o, Widget) and o._closed]


# what each fault must be called (a DNS failure on a machine without any DNS is "unknown")
REASONS = {
    "refused": (State.DOWN, "connection refused"),
    "reset": (State.DOWN, "connection"),
    "hang": (State.DOWN, "timed out after 0.5 s"),
    "drip": (State.DOWN, "timed out after 0.5 s"),
    "tls": (State.DOWN, "TLS: certificate verify failed"),
}


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultyNetwork]:
    with faulty_network(tmp_path_factory.mktemp("net")) as network:
        yield network


@pytest.fixture
async def pool() -> AsyncIterator[HttpPool]:
    p = HttpPool(8)
    yield p
    await p.aclose()


@pytest.mark.parametrize("fault", [*REASONS, "dns"])
async def test_each_fault_has_its_own_reason(
    net: FaultyNetwork, pool: HttpPool, clock: FixedClock, fault: str
) -> None:
    urls = net.urls()
    if fault not in urls:
        pytest.skip("openssl is not installed: no TLS server")
    result = await run_check(pool, Check("http", url=urls[fault], timeout=SHORT), "c", clock, {})
    if fault == "dns":
        assert (result.outcome, result.reason) in {
            (State.DOWN, "host not found (DNS)"),
            (State.UNKNOWN, "DNS is not working on this machine"),
        }
        return
    state, reason = REASONS[fault]
    assert result.outcome is state and reason in result.reason, result


@pytest.mark.parametrize("fault", [*REASONS, "dns"])
async def test_the_order_feed_goes_stale_saying_the_same(
    net: FaultyNetwork, pool: HttpPool, clock: FixedClock, fault: str
) -> None:
    urls = net.urls()
    if fault not in urls:
        pytest.skip("openssl is not installed: no TLS server")
    source = OrderSource("http-json", "wa", urls[fault], timeout=SHORT)
    with pytest.raises(FeedError) as caught:
        await fetch_orders(source, pool, load_zone("Asia/Jakarta"), {})
    words = {"dns": "DNS", **{k: reason for k, (_, reason) in REASONS.items()}}[fault]
    assert words in str(caught.value) and "Error" not in str(caught.value), caught.value


async def test_a_429_storm_is_retried_after_the_asked_delay_with_one_key(
    net: FaultyNetwork, home: StateHome, clock: FixedClock
) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(timedelta(seconds=seconds))

    hook = "/hook"
    before = net.plain.hits(hook)
    service = PlanBService(faulty_config(net), home, clock=clock, environ={}, sleep=sleep)
    try:
        service.press(reason="storm")
        switch = await service.drain()
    finally:
        await service.aclose()
    storm = [r for r in net.plain.requests if r.path == hook][before:]
    view = service.view()
    [action] = [a for a in view.actions if a.kind == "webhook"]
    assert action.status == "failed" and "429" in action.error and "gave up" in action.error
    assert len(storm) == action.attempts > 3
    assert len({r.headers["idempotency-key"] for r in storm}) == 1
    assert all(s >= 1.0 for s in slept)  # never sooner than Retry-After
    assert switch.phase == "active"


async def test_control_room_answers_keys_through_every_fault_at_once(
    tmp_path: Path, home: StateHome, clock: FixedClock, big: bool
) -> None:
    rounds = 200 if big else 10
    with faulty_network(tmp_path / "net") as network:
        app = make_app(home, clock, "en", faulty_config(network, every_s=0.5, timeout_s=0.3))
        app.room.planb.press(reason="storm")  # the 429 storm runs while keys are pressed
        watch = StallWatch()
        async with app.run_test(size=(120, 40)) as pilot:
            watch.start()
            for _ in range(2000):  # bounded wait until every fault was met once; not timed
                states = [v.state for v in app.room.status.statuses()]
                if network.plain.hits("/hook") >= 2 and State.DOWN in states:
                    break
                clock.advance(timedelta(seconds=1))  # lets the webhook's retry fall due
                await pilot.pause(0.02)
            for _ in range(rounds):
                await pilot.press("question_mark")
                assert isinstance(app.screen, HelpScreen)
                await pilot.press("escape")
                assert not isinstance(app.screen, HelpScreen)
                clock.advance(timedelta(seconds=1))
            worst = await watch.stop()
            views = {v.channel: v for v in app.room.status.statuses()}
            dead = dead_widgets()
        print(
            f"\nlargest event-loop stall: {worst * 1000:.1f} ms over {watch.ticks} ticks, "
            f"{rounds} help open/close rounds, {network.plain.hits('/hook')} webhook attempts"
        )
    assert network.plain.hits("/hook") >= 2
    # every screen change used to leave ~15 dead footer keys alive (see ui/footer.py)
    assert len(dead) < 20, collections.Counter(dead).most_common(3)
    for fault in ("refused", "reset", "hang", "drip"):
        assert views[fault].state in (State.DOWN, State.UNKNOWN), views[fault]
        assert views[fault].reason
