"""The whole control room in the states a seller meets on a bad night, both languages,
80×24 and 120×40: all up; TikTok pending; TikTok down with the banner; the Plan B
countdown; Plan B active with actions in flight; a busy sales day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.probes import CheckJob
from liveguard.adapters.state_home import StateHome
from liveguard.core.config import Check, Config
from liveguard.core.orders import Order, OrderStatus
from liveguard.core.status import ProbeResult, State
from liveguard.core.timekeeping import FixedClock
from tests.conftest import make_app
from tests.servers import LoopbackServer, hang
from tests.test_planb_ui import prepare

SIZES = [(80, 24), (120, 40)]
STATES = ["all_up", "tiktok_pending", "tiktok_down", "planb_countdown", "planb_active", "busy_day"]


@pytest.fixture(scope="module")
def quiet_server() -> Iterator[LoopbackServer]:
    """Every probe hangs far past the test, so nothing moves under a snapshot."""
    with LoopbackServer() as srv:
        srv.route("/live", hang())
        yield srv


def shop_config(probe_url: str) -> Config:
    check = (
        f'[[channels.checks]]\nkind = "http"\nurl = "{probe_url}"\nevery = "5m"\ntimeout = "30s"\n'
    )
    return parse_config(
        f"""
shop = "Toko Kue Bu Sari"

[alerts]
failures_before_down = 3

[[channels]]
id = "tiktok"
name = "TikTok Shop"
live = true
{check}
[[channels]]
id = "shopee"
name = "Shopee"
live = true
{check}
[[channels]]
id = "tokopedia"
name = "Tokopedia"

[[channels]]
id = "instagram"
name = "Instagram"
live = true
{check}
[[promotions]]
id = "plan-b"
name = "Shopee flash sale + WA"
armed = true
channel = "tiktok"
grace = "5s"

  [[promotions.actions]]
  kind = "webhook"
  name = "Start flash sale"
  url = "http://127.0.0.1:9/start"
  undo = {{ url = "http://127.0.0.1:9/end", name = "End flash sale" }}

  [[promotions.actions]]
  kind = "webhook"
  name = "Voucher LIVEDOWN20"
  url = "http://127.0.0.1:9/voucher"

  [[promotions.actions]]
  kind = "message"
  text = "Halo kak! Live TikTok off, pakai LIVEDOWN20 di Shopee ya."

  [[promotions.actions]]
  kind = "checklist"
  steps = ["Start a Shopee Live session", "Post an Instagram story"]
""",
        "liveguard.toml",
        environ={},
    )


def probe(app, channel: str, ok: bool, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    job = CheckJob(channel, 0, Check("http", url="http://127.0.0.1/live"))
    result = (
        ProbeResult(State.UP, "status 200, 120 ms", clock.now(), 120)
        if ok
        else ProbeResult(State.DOWN, "status 503 (expected 200)", clock.now(), 95)
    )
    app.room.status.record(job, result)


def busy_day(app, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    """Today up to 21.00 WIB, yesterday and last week: TikTok strongest, then Shopee."""
    weights = {"tiktok": 9, "shopee": 5, "tokopedia": 2, "instagram": 3}
    orders = []
    for days_back, scale in ((0, 1.0), (1, 0.8), (7, 1.1)):
        start = datetime(2026, 11, 27 - days_back, 17, 0, tzinfo=UTC)  # 00.00 WIB
        for channel, weight in weights.items():
            for hour in range(24 if days_back else 21):
                busy = 3 if 18 <= hour <= 22 else 1
                for n in range(int(weight * busy * scale)):
                    created = start + timedelta(hours=hour, minutes=(n * 7) % 60)
                    status = OrderStatus.CANCELLED if n % 17 == 16 else OrderStatus.PAID
                    amount = 45_000 + (n * 13_331 + hour * 977) % 250_000
                    order_id = f"{channel}-{days_back}-{hour}-{n}"
                    orders.append(Order(channel, order_id, created, amount, status))
    app.room.sales.orders.upsert_many(orders)


def put_in_state(app, state: str, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    app.room.status.load()
    for _ in range(6):
        for channel in ("tiktok", "shopee", "instagram"):
            probe(app, channel, True, clock)
        clock.advance(timedelta(minutes=1))
    failures = {"tiktok_pending": 1}.get(state, 0 if state in ("all_up", "busy_day") else 3)
    for _ in range(failures):
        clock.advance(timedelta(seconds=30))
        probe(app, "tiktok", False, clock)
    if state == "busy_day":
        busy_day(app, clock)
    if state == "planb_active":
        prepare("activating", app.room.home, clock, app.room.config)


def room_app(home: StateHome, clock: FixedClock, url: str, lang: str, state: str):  # type: ignore[no-untyped-def]
    app = make_app(home, clock, lang, shop_config(url))
    put_in_state(app, state, clock)
    return app


async def press_plan_b(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("b")
    await pilot.pause()


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_control_room_snapshot(  # type: ignore[no-untyped-def]
    snap_compare,
    home: StateHome,
    clock: FixedClock,
    quiet_server: LoopbackServer,
    state: str,
    lang: str,
    size: tuple[int, int],
) -> None:
    app = room_app(home, clock, quiet_server.url("/live"), lang, state)
    run_before = press_plan_b if state == "planb_countdown" else None
    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_the_states_read_as_a_seller_expects(
    home: StateHome, clock: FixedClock, quiet_server: LoopbackServer
) -> None:
    """The same states, asserted in words (the snapshots could hide a wrong picture)."""
    app = room_app(home, clock, quiet_server.url("/live"), "en", "tiktok_down")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        tiktok = next(v.status for v in app.room.status.snapshot() if v.status.channel == "tiktok")
        assert tiktok.state is State.DOWN
        banner = str(app.query_one("#down-banner").render())
        assert "TikTok Shop" in banner and "b" in banner
        await pilot.press("b")
        assert app.room.planb.view().state == "pending"
        await pilot.press("escape")
        assert app.room.planb.view().state == "armed"


def test_no_color_snapshot(  # type: ignore[no-untyped-def]
    snap_compare,
    home: StateHome,
    clock: FixedClock,
    quiet_server: LoopbackServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """NO_COLOR: monochrome, and every state still reads in words."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = room_app(home, clock, quiet_server.url("/live"), "en", "tiktok_down")
    assert app.no_color
    assert snap_compare(app, terminal_size=(80, 24))
