"""The Live status region in the control room: snapshots of every state, declare flow, banner,
bell once per incident, outage history, and real probes arriving while the UI runs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from textual.app import App, ComposeResult

import liveguard.service.sales as sales_service
import liveguard.ui.app as ui_app
from liveguard.adapters.probes import CheckJob
from liveguard.adapters.state_home import StateHome
from liveguard.adapters.status_store import StatusStore
from liveguard.core.config import Alerts, Channel, Check, Config
from liveguard.core.orders import Order
from liveguard.core.status import ProbeResult, Source, State
from liveguard.core.timekeeping import FixedClock
from liveguard.i18n import Catalog
from liveguard.ui.regions.status import DownBanner, StatusRegion
from liveguard.ui.screens.outages import OutagesScreen
from liveguard.ui.screens.status_declare import DeclareScreen
from tests.conftest import make_app, starter_config
from tests.servers import LoopbackServer, hang, reply
from tests.ui_helpers import screen_text, until

SIZES = [(80, 24), (120, 40)]
UI = Path(ui_app.__file__).parent


class StatusOnlyApp(App[None]):
    """Just the banner and the Live status region, so snapshots move only when they do."""

    CSS_PATH = [UI / "app.tcss", UI / "status.tcss"]

    def __init__(self, room) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.room = room
        self.t = Catalog(room.lang)
        self.theme = ui_app.THEME
        self.animation_level = "none"

    def compose(self) -> ComposeResult:
        yield DownBanner(self.room, self.t)
        yield StatusRegion(self.room, self.t, id="status")


def region_app(app) -> StatusOnlyApp:  # type: ignore[no-untyped-def]
    return StatusOnlyApp(app.room)


async def open_declare(pilot) -> None:  # type: ignore[no-untyped-def]
    pilot.app.query_one(StatusRegion).open_declare()
    await pilot.pause()


async def open_outages(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.app.push_screen(OutagesScreen(pilot.app.room, pilot.app.t))
    await pilot.pause()


@pytest.fixture(scope="module")
def quiet_server() -> Iterator[LoopbackServer]:
    """Checks point here: every probe hangs past the test, so nothing moves under a snapshot."""
    with LoopbackServer() as srv:
        srv.route("/live", hang())
        yield srv


def config_with_checks(url: str, fails: int = 2) -> Config:
    check = Check("http", url=url, timeout=timedelta(seconds=30), every=timedelta(minutes=5))
    base = starter_config()
    channels = (
        Channel("tiktok", "TikTok Shop", True, (check,)),
        Channel("shopee", "Shopee", True, (check,)),
        Channel("lazada", "Lazada", True, (check,)),
        Channel("instagram", "Instagram", True, (check,)),
        Channel("tokopedia", "Tokopedia", False),
    )
    return replace(base, channels=channels, alerts=Alerts(fails, 2))


def job(channel: str) -> CheckJob:
    return CheckJob(channel, 0, Check("http", url="http://127.0.0.1/live"))


def feed(
    app, channel: str, state: State, reason: str, clock: FixedClock, latency: int | None = 90
) -> None:  # type: ignore[no-untyped-def]
    app.room.status.record(job(channel), ProbeResult(state, reason, clock.now(), latency))


def every_state(app, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    """TikTok down (probe), Shopee degraded, Lazada pending, Instagram declared up, Tokopedia unknown."""
    for minute in range(10):
        tiktok = State.UP if minute < 4 else State.DOWN
        feed(
            app,
            "tiktok",
            tiktok,
            "status 503 (expected 200)" if minute >= 4 else "status 200, 90 ms",
            clock,
        )
        feed(
            app,
            "shopee",
            State.UP if minute < 8 else State.DEGRADED,
            "response time 3400 ms (expected < 3000)",
            clock,
        )
        feed(
            app,
            "lazada",
            State.UP if minute < 9 else State.DOWN,
            "timed out after 10 s" if minute == 9 else "ok",
            clock,
        )
        clock.advance(timedelta(minutes=1))
    app.room.status.declare("instagram", "up", "tested the LIVE button at 20.55", who="ani")


def status_app(home: StateHome, clock: FixedClock, url: str, lang: str = "en"):  # type: ignore[no-untyped-def]
    app = make_app(home, clock, lang, config_with_checks(url))
    app.room.status.load()
    return app


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_status_region_every_state_snapshot(  # type: ignore[no-untyped-def]
    snap_compare,
    home: StateHome,
    clock: FixedClock,
    quiet_server: LoopbackServer,
    lang: str,
    size: tuple[int, int],
) -> None:
    app = status_app(home, clock, quiet_server.url("/live"), lang)
    every_state(app, clock)
    assert snap_compare(region_app(app), terminal_size=size)


@pytest.mark.parametrize("lang", ["en", "id"])
def test_declare_dialog_snapshot(  # type: ignore[no-untyped-def]
    snap_compare, home: StateHome, clock: FixedClock, quiet_server: LoopbackServer, lang: str
) -> None:
    app = status_app(home, clock, quiet_server.url("/live"), lang)
    every_state(app, clock)
    assert snap_compare(region_app(app), terminal_size=(80, 24), run_before=open_declare)


@pytest.mark.parametrize("lang", ["en", "id"])
def test_outage_history_snapshot(  # type: ignore[no-untyped-def]
    snap_compare, home: StateHome, clock: FixedClock, quiet_server: LoopbackServer, lang: str
) -> None:
    app = status_app(home, clock, quiet_server.url("/live"), lang)
    every_state(app, clock)  # TikTok down since 21.04
    clock.advance(timedelta(minutes=20))
    for _ in range(2):  # back up: the outage closes
        feed(app, "tiktok", State.UP, "status 200, 90 ms", clock)
    clock.advance(timedelta(minutes=5))
    for _ in range(2):
        feed(app, "shopee", State.DOWN, "connection refused", clock)
    clock.advance(timedelta(minutes=12))
    assert snap_compare(region_app(app), terminal_size=(120, 40), run_before=open_outages)


async def test_declare_flow_with_digits_reason_and_clear(
    home: StateHome, clock: FixedClock, quiet_server: LoopbackServer
) -> None:
    app = status_app(home, clock, quiet_server.url("/live"))
    async with app.run_test(size=(120, 40)) as pilot:
        region = app.query_one(StatusRegion)
        await pilot.press("2")
        assert region.selected_channel == "shopee"
        await pilot.press("d")
        assert isinstance(app.screen, DeclareScreen)
        await pilot.press(*"Shopee Live will not start")
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, DeclareScreen)
        status = app.room.status.book.status("shopee")
        assert (status.state, status.source, status.reason) == (
            State.DOWN,
            Source.DECLARED,
            "Shopee Live will not start",
        )
        assert StatusStore(home).declarations()["shopee"].reason == "Shopee Live will not start"
        banner = app.query_one(DownBanner)
        assert banner.display and "Shopee" in str(banner.render())
        # the same key again offers "clear" first
        await pilot.press("d")
        await pilot.press("enter")
        await pilot.pause()
        assert app.room.status.book.status("shopee").source is Source.NONE
        assert not app.query_one(DownBanner).display
        # up arrow in the dialog picks "up" from "down"; Esc cancels without a change
        await pilot.press("d", "down", "escape")
        assert app.room.status.book.status("shopee").source is Source.NONE
        await pilot.press("d", "down", "enter")
        await pilot.pause()
        assert app.room.status.book.status("shopee").state is State.UP


async def test_arrow_keys_move_the_selection_in_the_focused_region(
    home: StateHome, clock: FixedClock, quiet_server: LoopbackServer
) -> None:
    app = status_app(home, clock, quiet_server.url("/live"))
    async with app.run_test(size=(80, 24)) as pilot:
        region = app.query_one(StatusRegion)
        region.focus()
        await pilot.press("down", "down")
        assert region.selected_channel == "lazada"
        await pilot.press("up")
        assert region.selected_channel == "shopee"
        await pilot.press("9")  # no ninth channel: the selection stays
        assert region.selected_channel == "shopee"


async def test_banner_bell_and_notification_once_per_incident(
    home: StateHome, clock: FixedClock, quiet_server: LoopbackServer
) -> None:
    app = status_app(home, clock, quiet_server.url("/live"))
    bells: list[int] = []
    async with app.run_test(size=(120, 40)) as pilot:
        app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
        banner = app.query_one(DownBanner)
        assert not banner.display
        for _ in range(4):  # fails_before_down = 2: pending, down, still down, still down
            feed(app, "tiktok", State.DOWN, "status 503 (expected 200)", clock)
            clock.advance(timedelta(seconds=30))
            await pilot.pause()
        assert len(bells) == 1
        assert banner.display
        text = str(banner.render())
        assert "TikTok Shop" in text and "status 503 (expected 200)" in text and "b" in text
        notes = [n.message for n in app._notifications]
        assert any("TikTok Shop" in m and "Plan B" in m for m in notes)
        for _ in range(2):
            feed(app, "tiktok", State.UP, "ok", clock)
        await pilot.pause()
        assert not banner.display
        for _ in range(2):  # a new incident rings again
            feed(app, "tiktok", State.DOWN, "connection refused", clock)
        await pilot.pause()
        assert len(bells) == 2
        # a non-live channel going down rings nothing
        app.room.status.declare("tokopedia", "down", "", who="ani")
        await pilot.pause()
        assert len(bells) == 2


async def test_outage_history_screen_lists_todays_outages(
    home: StateHome, clock: FixedClock, quiet_server: LoopbackServer
) -> None:
    app = status_app(home, clock, quiet_server.url("/live"))
    for state in (State.DOWN, State.DOWN, State.UP, State.UP):
        feed(app, "shopee", state, "timed out after 10 s", clock)
        clock.advance(timedelta(minutes=5))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        assert isinstance(app.screen, OutagesScreen)
        table = app.screen.query_one("#outages-table")
        row = [str(cell) for cell in table.get_row_at(0)]  # type: ignore[attr-defined]
        assert row[1] == "Shopee" and row[2] == "10 min" and row[5] == "timed out after 10 s"
        await pilot.press("escape")
        assert not isinstance(app.screen, OutagesScreen)


async def test_real_probes_reach_the_screen_while_it_keeps_running(
    home: StateHome, clock: FixedClock
) -> None:
    with LoopbackServer() as srv:
        srv.route("/live", reply(503))
        config = config_with_checks(srv.url("/live"), fails=1)
        config = replace(config, channels=config.channels[:1])
        app = make_app(home, clock, "en", config)
        async with app.run_test(size=(80, 24)) as pilot:
            banner = app.query_one(DownBanner)
            for _ in range(2000):  # bounded wait for the first probe round; not a timing test
                if banner.display:
                    break
                await pilot.pause(0.01)
            assert banner.display
            assert "status 503 (expected < 400)" in str(banner.render())


async def test_a_sales_collapse_reaches_the_live_status_region(
    home: StateHome,
    clock: FixedClock,
    quiet_server: LoopbackServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Shopee usually sells 10 orders in this hour and sold 1: the region says so."""
    monkeypatch.setattr(sales_service, "INFER_FIRST_AFTER_S", 0.0, raising=False)
    app = status_app(home, clock, quiet_server.url("/live"))
    now = clock.now()
    orders = [Order("shopee", "last-hour", now - timedelta(minutes=10), 10_000)]
    for days_ago in range(1, 8):
        at = now - timedelta(days=days_ago, minutes=10)
        orders += [Order("shopee", f"d{days_ago}-{n}", at, 10_000) for n in range(10)]
    app.room.sales.orders.upsert_many(orders)
    async with app.run_test(size=(200, 40)) as pilot:
        await until(
            pilot,
            "the collapse suggestion in Live status",
            lambda: "sales look low: 1 orders in the last hour" in screen_text(app),
        )
