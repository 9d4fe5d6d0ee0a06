"""Plan B in the control room: key flows (Pilot) and snapshots of the region in each state."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input

import liveguard.ui
from liveguard.adapters.config_file import parse_config
from liveguard.adapters.promotion_store import PlanBState, PromotionStore
from liveguard.adapters.state_home import StateHome
from liveguard.core.actions import ACTIONS
from liveguard.core.config import Config
from liveguard.core.timekeeping import FixedClock
from liveguard.i18n import Catalog
from liveguard.service.planb import PlanBService
from liveguard.service.room import ControlRoom
from liveguard.ui.regions.planb import PlanBRegion
from liveguard.ui.screens.audit_log import SHOWN, AuditLogScreen
from liveguard.ui.screens.planb_checklist import ChecklistScreen
from liveguard.ui.screens.promotion_picker import PromotionPicker
from tests.conftest import make_app, make_room
from tests.servers import LoopbackServer, reply
from tests.ui_helpers import OutageLooks

UI = Path(liveguard.ui.__file__).parent


def ui_config(base: str) -> Config:
    return parse_config(
        f"""
shop = "Toko Ani"

[[channels]]
id = "tiktok"
name = "TikTok Shop"
live = true

[[channels]]
id = "shopee"
name = "Shopee"

[[promotions]]
id = "plan-b"
name = "Shopee flash sale + WA"
armed = true
channel = "tiktok"
grace = "5s"

  [[promotions.actions]]
  kind = "webhook"
  name = "Start flash sale"
  url = "{base}/start"
  body = {{ reason = "{{reason}}" }}
  undo = {{ url = "{base}/end", name = "End flash sale" }}

  [[promotions.actions]]
  kind = "webhook"
  name = "Voucher LIVEDOWN20"
  url = "{base}/voucher"

  [[promotions.actions]]
  kind = "message"
  text = "Halo kak! Live TikTok off, pakai LIVEDOWN20 di Shopee ya."

  [[promotions.actions]]
  kind = "checklist"
  steps = ["Start a Shopee Live session", "Post an Instagram story"]

[[promotions]]
id = "wa-only"
name = "WhatsApp broadcast only"

  [[promotions.actions]]
  kind = "message"
  text = "Halo kak!"
""",
        "liveguard.toml",
        environ={},
    )


@pytest.fixture
def receiver() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        for path in ("/start", "/end", "/voucher"):
            srv.route(path, reply(200))
        yield srv


def region_text(app) -> str:  # type: ignore[no-untyped-def]
    region = app.query_one(PlanBRegion)
    return region.render_text(app.room.planb.view()).plain


async def until(pilot, condition) -> None:  # type: ignore[no-untyped-def]
    """Let the room's loop run until ``condition()``; fails after a bounded number of turns."""
    for _ in range(200):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("the control room never got there")


async def test_key_counts_down_and_the_same_key_or_esc_cancels(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    app = make_app(home, clock, "en", ui_config(receiver.url("")))
    looks = OutageLooks(app.room.planb)
    async with app.run_test(size=(120, 40)) as pilot:
        assert "ARMED · Shopee flash sale + WA" in region_text(app)
        await pilot.press("b")
        assert "Starts in 5 s: press b or Esc to cancel" in region_text(app)
        clock.advance(timedelta(seconds=2))
        assert "Starts in 3 s" in region_text(app)
        await pilot.press("escape")
        assert app.room.planb.view().state == "armed"
        await pilot.press("b")
        await pilot.press("b")
        assert app.room.planb.view().state == "armed"
        clock.advance(timedelta(seconds=30))
        await looks.more(pilot)  # the loop ran past where the countdown would have ended
    assert receiver.requests == []


async def test_every_cancel_is_said_and_audited_with_how(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    app = make_app(home, clock, "en", ui_config(receiver.url("")))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("b", "b")
        await pilot.press("b", "escape")
        said = [str(n.message) for n in app._notifications]
    assert (
        said.count("Plan B cancelled: Shopee flash sale + WA not started, nothing was sent.") == 2
    )
    moves = [
        e["detail"]["by"]
        for e in app.room.planb.log()
        if e["kind"] == "planb.transition" and e["detail"]["to"] == "armed"
    ]
    assert moves == ["cancelled by key", "cancelled by Esc"]


def banner_text(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.query_one("#down-banner").render())


async def test_the_banner_says_what_the_plan_b_key_does_now(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    app = make_app(home, clock, "en", ui_config(receiver.url("")))
    async with app.run_test(size=(120, 40)) as pilot:
        app.room.status.declare("tiktok", "down", "LIVE button fails", who="ani")
        app.query_one("#down-banner").refresh_view()  # type: ignore[attr-defined]
        assert "Press b for Plan B" in banner_text(app)
        await pilot.press("b")
        app.query_one("#down-banner").refresh_view()  # type: ignore[attr-defined]
        assert "Plan B counting down: b or Esc = cancel" in banner_text(app)
        clock.advance(timedelta(seconds=5))
        await until(pilot, lambda: app.room.planb.view().state == "active")
        app.query_one("#down-banner").refresh_view()  # type: ignore[attr-defined]
        assert "Plan B active since 21.00 WIB — b to stop it" in banner_text(app)
        assert "Press b for Plan B" not in banner_text(app)


async def test_key_activates_then_deactivates_with_the_same_grace(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    app = make_app(home, clock, "en", ui_config(receiver.url("")))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("b")
        clock.advance(timedelta(seconds=5))
        await until(pilot, lambda: app.room.planb.view().state == "active")
        text = region_text(app)
        assert "ACTIVE · Shopee flash sale + WA" in text
        assert "1. Start flash sale · delivered" in text
        assert "3. Message · done" in text
        # the message went to the clipboard (OSC 52) and a toast says so, with the saved file
        assert app.clipboard == "Halo kak! Live TikTok off, pakai LIVEDOWN20 di Shopee ya."
        assert any("copied" in str(n.message) for n in app._notifications)
        await pilot.press("b")
        assert "Stopping in 5 s" in region_text(app)
        clock.advance(timedelta(seconds=5))
        await until(pilot, lambda: app.room.planb.view().state == "armed")
    assert [r.path for r in receiver.requests].count("/start") == 1
    assert [r.path for r in receiver.requests].count("/end") == 1


async def test_arm_another_promotion_from_the_picker(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    app = make_app(home, clock, "id", ui_config(receiver.url("")))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("a")
        assert isinstance(app.screen, PromotionPicker)
        await pilot.press("down", "enter")
        assert not isinstance(app.screen, PromotionPicker)
        assert "SIAP · WhatsApp broadcast only" in region_text(app)
    assert (
        PlanBService(ui_config("http://127.0.0.1:9"), home, clock=clock).view().promotion_id
        == "wa-only"
    )


async def test_checklist_ticks_and_the_audit_log_screen(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    app = make_app(home, clock, "en", ui_config(receiver.url("")))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("b")
        clock.advance(timedelta(seconds=5))
        await until(pilot, lambda: app.room.planb.view().state == "active")
        await pilot.press("k")
        assert isinstance(app.screen, ChecklistScreen)
        await pilot.press("down", "space", "escape")
        assert app.room.planb.view().checklist == (
            ("Start a Shopee Live session", False),
            ("Post an Instagram story", True),
        )
        await pilot.press("l")
        assert isinstance(app.screen, AuditLogScreen)
        kinds = [e["kind"] for e in app.screen.entries]
        assert kinds[0] == "planb.transition" and "planb.attempt" in kinds
        assert kinds[-1] == "planb.tick"
        table = app.screen.query_one("#audit-table", DataTable)
        everything = table.row_count
        await pilot.press("slash", *"checklist")
        assert isinstance(app.screen, AuditLogScreen)
        assert 0 < table.row_count < everything
        app.screen.query_one("#audit-filter", Input).value = ""
        await pilot.press(*"attempt quietly")  # no match: no rows, and q is typed, not quit
        assert app.screen.query_one("#audit-filter", Input).value.endswith("quietly")
        assert table.row_count == 0
        await pilot.press("escape")
        assert not isinstance(app.screen, AuditLogScreen)


# -- snapshots ---------------------------------------------------------------------------------
STATES = ["armed", "pending", "activating", "active", "stopping"]


def prepare(state: str, home: StateHome, clock: FixedClock, config: Config) -> None:
    """Put the switch in ``state`` the way a real run would, with nothing left due."""
    if state == "armed":
        return
    service = PlanBService(config, home, clock=clock, opener=None, actor="ani")
    service.press(reason="TikTok Live down")
    if state == "pending":
        clock.advance(timedelta(seconds=2))
        return
    clock.advance(timedelta(seconds=5))
    service.advance()
    now = clock.now()

    def outcome(s: PlanBState) -> PlanBState:
        out = []
        for e in s.entries:
            if e.index == 0:
                e = replace(e, status="delivered", attempts=1, http_status=200)
            elif e.index == 1 and state == "activating":
                e = replace(
                    e,
                    status="retrying",
                    attempts=2,
                    next_at=now + timedelta(seconds=12),
                    http_status=503,
                    error="HTTP 503",
                )
            elif e.index == 1:
                e = replace(
                    e,
                    status="failed",
                    attempts=1,
                    http_status=400,
                    error="HTTP 400: unknown voucher",
                )
            else:
                e = replace(e, status="done", attempts=1)
            out.append(e)
        return replace(
            s, entries=tuple(out), ticks={s.switch.activation_id: (0,)} if s.switch else {}
        )

    PromotionStore(home).update(outcome)
    service.advance()
    service.flush_journal()
    if state == "stopping":
        clock.advance(timedelta(minutes=3))
        service.press()
        clock.advance(timedelta(seconds=1))


class RegionApp(App[None]):
    """The Plan B region alone, so its snapshots change only when Plan B does."""

    CSS_PATH = [UI / "app.tcss", UI / "planb.tcss"]
    CSS = "#planb { width: 1fr; }"

    def __init__(self, room: ControlRoom) -> None:
        super().__init__()
        self.room = room
        self.t = Catalog(room.lang)
        self.keys = {spec.name: spec.keys for spec in ACTIONS}
        self.theme = "textual-dark"

    def compose(self) -> ComposeResult:
        yield PlanBRegion(self.room, self.t, id="planb")


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_planb_region_snapshot(  # type: ignore[no-untyped-def]
    snap_compare, home: StateHome, clock: FixedClock, state: str, lang: str, size: tuple[int, int]
) -> None:
    config = ui_config("http://127.0.0.1:9")
    prepare(state, home, clock, config)
    room = make_room(home, clock, lang, config)
    assert snap_compare(RegionApp(room), terminal_size=size)


async def test_a_long_live_outage_starts_the_armed_promotion_when_opted_in(
    receiver: LoopbackServer, home: StateHome, clock: FixedClock
) -> None:
    config = ui_config(receiver.url(""))
    config = replace(
        config, alerts=replace(config.alerts, auto_activate_after=timedelta(minutes=5))
    )
    app = make_app(home, clock, "en", config)
    looks = OutageLooks(app.room.planb)
    async with app.run_test(size=(120, 40)) as pilot:
        app.room.status.declare("tiktok", "down", "cannot go live", who="ani")
        clock.advance(timedelta(minutes=4))
        await looks.more(pilot)  # the loop saw the outage at 4 minutes: not yet
        assert app.room.planb.view().state == "armed"
        clock.advance(timedelta(minutes=1))
        await until(pilot, lambda: app.room.planb.view().state == "pending")
        view = app.room.planb.view()
        assert view.reason == "auto: TikTok Shop down since 21.00 WIB" and view.channel == "tiktok"
        await pilot.press("escape")  # the countdown still lets the seller say no
        assert app.room.planb.view().state == "armed"
        await looks.more(pilot)
        assert app.room.planb.view().state == "armed"  # and the same outage does not fire again
    assert receiver.requests == []


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("screen", ["picker", "log"])
def test_picker_and_audit_log_snapshots(  # type: ignore[no-untyped-def]
    snap_compare, home: StateHome, clock: FixedClock, screen: str, lang: str
) -> None:
    config = ui_config("http://127.0.0.1:9")
    prepare("active", home, clock, config)
    room = make_room(home, clock, lang, config)

    async def open_it(pilot) -> None:  # type: ignore[no-untyped-def]
        t = pilot.app.t
        if screen == "picker":
            pilot.app.push_screen(PromotionPicker(room, t))
        else:
            pilot.app.push_screen(AuditLogScreen(room, t, room.planb.log(SHOWN)))
        await pilot.pause()

    assert snap_compare(RegionApp(room), terminal_size=(120, 40), run_before=open_it)


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("ready", [True, False], ids=["ready", "not_ready"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_readiness_line_snapshot(  # type: ignore[no-untyped-def]
    snap_compare, home: StateHome, clock: FixedClock, ready: bool, lang: str, size: tuple[int, int]
) -> None:
    from liveguard.core.readiness import Problem, Readiness

    room = make_room(home, clock, lang, ui_config("http://127.0.0.1:9"))
    problems = () if ready else (
        Problem("missing_env", 2, {"name": "HOOK_TOKEN", "key": "headers.Authorization"}),
        Problem("unreachable", 1, {"why": "connection refused"}),
    )  # fmt: skip
    room.readiness.last = Readiness("plan-b", problems, clock.now() - timedelta(minutes=5))
    assert snap_compare(RegionApp(room), terminal_size=size)


async def test_r_checks_plan_b_now_and_the_region_says_what_is_wrong(
    home: StateHome, clock: FixedClock
) -> None:
    from tests.servers import closed_port

    app = make_app(home, clock, "en", ui_config(f"http://127.0.0.1:{closed_port()}"))
    async with app.run_test(size=(120, 40)) as pilot:
        assert "NOT READY" not in region_text(app)
        await pilot.press("r")
        await until(pilot, lambda: app.room.readiness.last is not None)
        app.query_one(PlanBRegion).refresh_view()
        assert "NOT READY: action 1: cannot reach its address: connection refused" in (
            region_text(app)
        )
