"""A hostile loopback world: every text field a probe, the status feed, the order feed and
the webhook receiver send carries markup, action links, escape sequences, bidi overrides,
line breaks or a megabyte. The CLI must write no control character, and the control room
must show the literal text, keep running, and run nothing when any of it is clicked."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import DataTable, Static
from textual.widgets._toast import Toast

from liveguard.adapters.config_file import load_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.text import REASON_MAX
from liveguard.core.timekeeping import FixedClock, SystemClock
from liveguard.service.room import ControlRoom
from liveguard.ui.app import LiveguardApp
from liveguard.ui.regions.status import DownBanner, StatusRegion
from liveguard.ui.screens.audit_log import SHOWN, AuditLogScreen
from liveguard.ui.screens.outages import OutagesScreen
from tests.cli_runner import run_liveguard
from tests.fixtures_sales import Sample, write_tiktok_csv
from tests.servers import (
    LoopbackServer,
    closed_port,
    reply,
    statuspage_components,
    statuspage_indicator,
)

# What a hostile server sends: live markup and action links first (so they survive the cap),
# then terminal escapes (title, clipboard, clear screen), bidi overrides and a screenful of
# line breaks forging a CLI line.
MARKUP = "[@click=app.quit]quit[/] [@click=app.planb]planb[/] [b]x[/b] [/] [$accent]a[/]"
SHOT = "[@click=app.screenshot('f','dir')]shot[/]"
ESCAPES = "\x1b]0;pwned\x07\x1b]52;c;cGFzdGU=\x07\x1b[2J\x1b[31m\x9b1m\r"
BIDI = "\u202eevil\u2066\u200b"
FORGED = "\n" * 40 + "liveguard: all channels up"
HOSTILE = f"{MARKUP} {SHOT}{ESCAPES}{BIDI}{FORGED}"
MEGA = "M" * 1_000_000
COMPONENT = f"{MARKUP}{ESCAPES}{BIDI} Live"
# The literal text a seller must see (the start of every hostile field).
VISIBLE = "[@click=app.quit]quit[/]"


def _orders() -> list[dict[str, object]]:
    now = datetime.now(UTC).isoformat()
    return [
        {"id": f"A1{HOSTILE}", "created": now, "amount": 125000, "status": f"paid{ESCAPES}"},
        {"id": "A2", "created": now, "amount": 50000, "status": HOSTILE},
    ]


@pytest.fixture(scope="module")
def world() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        srv.route("/live", reply(200, json={"live": HOSTILE}))
        srv.route("/big", reply(503, MEGA))
        srv.route("/page.json", statuspage_indicator("major", HOSTILE))
        srv.route("/components.json", statuspage_components({COMPONENT: "major_outage"}))
        channels = {
            "lazada": {"state": "down", "reason": HOSTILE, "since": datetime.now(UTC).isoformat()},
            "blibli": {"state": f"sideways{HOSTILE}", "reason": MEGA},
        }
        srv.route("/feed", reply(200, json={"channels": channels}))
        srv.route("/orders", reply(200, json=_orders()))
        srv.route("/orders-bad", reply(200, json=[{"id": "B1", "created": HOSTILE, "amount": 1}]))
        srv.route("/hook", reply(400, HOSTILE))
        srv.route("/undo", reply(500, MEGA))
        yield srv


def _toml(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string


def write_home(tmp_path: Path, world: LoopbackServer) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    base = world.url("")
    check = 'every = "1s"\n  timeout = "5s"'
    (home / "liveguard.toml").write_text(
        f"""
shop = {_toml("Toko " + MARKUP + ESCAPES)}

[alerts]
failures_before_down = 1

[[channels]]
id = "tiktok"
name = {_toml(MARKUP + ESCAPES + BIDI + " TikTok")}
live = true
  [[channels.checks]]
  kind = "http"
  url = "{base}/live"
  expect = ["body.live == true"]
  {check}

[[channels]]
id = "shopee"
name = "Shopee"
live = true
  [[channels.checks]]
  kind = "statuspage"
  url = "{base}/page.json"
  {check}
  [[channels.checks]]
  kind = "statuspage"
  url = "{base}/components.json"
  component = {_toml(COMPONENT)}
  {check}
  [[channels.checks]]
  kind = "tcp"
  host = "127.0.0.1"
  port = {closed_port()}
  {check}

[[channels]]
id = "lazada"
name = "Lazada"
live = true
  [[channels.checks]]
  kind = "feed"
  url = "{base}/feed"
  {check}

[[channels]]
id = "blibli"
name = "Blibli"
live = true
  [[channels.checks]]
  kind = "feed"
  url = "{base}/feed"
  {check}
  [[channels.checks]]
  kind = "http"
  url = "{base}/big"
  expect = ["body contains ok"]
  {check}

[[sources]]
kind = "http-json"
channel = "shopee"
url = "{base}/orders"
every = "5s"

[[sources]]
kind = "http-json"
channel = "lazada"
url = "{base}/orders-bad"
every = "5s"

[[promotions]]
id = "plan-b"
name = {_toml("Plan B " + MARKUP)}
armed = true
channel = "tiktok"
grace = "0s"
  [[promotions.actions]]
  kind = "webhook"
  name = {_toml(SHOT + ESCAPES)}
  url = "{base}/hook"
  body = {{ reason = "{{reason}}" }}
  undo = {{ url = "{base}/undo" }}
  [[promotions.actions]]
  kind = "message"
  text = {_toml("Halo kak! " + MARKUP + ESCAPES + BIDI)}
""",
        encoding="utf-8",
    )
    return home


def forbidden(text: str) -> list[str]:
    """Every character a terminal must not receive: controls but the line feed, and format
    characters (bidi overrides, zero-width)."""
    return sorted(
        {
            f"U+{ord(ch):04X}"
            for ch in text
            if ch != "\n" and unicodedata.category(ch) in ("Cc", "Cf", "Cs")
        }
    )


def test_the_cli_writes_no_control_character(tmp_path: Path, world: LoopbackServer) -> None:
    home = write_home(tmp_path, world)
    export = write_tiktok_csv(
        tmp_path / "hostile.csv",
        [
            Sample("T1", "28/11/2026 20:00:00", f"12{HOSTILE}", "Completed"),
            Sample("T2", HOSTILE, "15000", "Completed"),
            Sample(f"T3{MARKUP}{ESCAPES}{BIDI}", "28/11/2026 20:00:00", "15000", "Completed"),
        ],
    )
    # a file name is outside text too
    named = export.rename(tmp_path / "orders\x1b]0;pwned\x07\u202e\r.csv")
    env = {"LIVEGUARD_HOME": str(home)}
    runs = []
    for args in (
        ["status"],
        ["status", "--json"],
        ["doctor"],
        ["promo", "list"],
        ["promo", "test", "plan-b"],
        ["promo", "activate", "--now", "--reason", f"live mati {ESCAPES}{BIDI}"],
        ["log"],
        ["log", "--json"],
        ["import", str(named), "--channel", "tiktok", "--skip-bad-rows"],
        ["import", str(named), "--channel", "tiktok", "--json"],
        ["import", str(named), "--channel", "tiktok", "--dry-run"],
        ["import", str(named) + ".missing", "--channel", "tiktok"],
        ["today"],
        ["today", "--json"],
        ["mark", "tiktok", "down", "--reason", f"{MARKUP}{ESCAPES}"],
        ["status"],
    ):
        result = run_liveguard(*args, env=env, timeout=120)
        runs.append((args, result))
    shown = ""
    for args, result in runs:
        assert "Traceback" not in result.stderr, (args, result.stderr)
        for name, stream in (("stdout", result.stdout), ("stderr", result.stderr)):
            assert not forbidden(stream), (args, name, forbidden(stream))
            # no forged screen: a reason is one line, whatever it carried
            assert "\n" * 3 not in stream, (args, name)
            assert MEGA[:5000] not in stream, (args, name)
        shown += result.stdout + result.stderr
    # the hostile text is shown as the literal data it is
    assert VISIBLE in shown
    assert "Order Amount" in shown  # the bad export cell was quoted back, cleaned
    # every state file stays small whatever the servers sent
    for path in (home / "state").rglob("*.json"):
        assert path.stat().st_size < 200_000, path


# -- the control room ------------------------------------------------------------------------
POINTER_ACTIONS = {"grab", "scroll_up", "scroll_down", "scroll_left", "scroll_right"}


class ActionSpy:
    """Records every action the app is asked to run (a click on a live ``@click`` would)."""

    def __init__(self, app: LiveguardApp) -> None:
        self.calls: list[str] = []
        original = app.run_action

        async def run_action(action: str, *args: object, **kwargs: object) -> bool:
            self.calls.append(str(action))
            return await original(action, *args, **kwargs)  # type: ignore[arg-type]

        app.run_action = run_action  # type: ignore[method-assign,assignment]
        for name in ("action_quit", "action_planb", "action_screenshot"):
            setattr(app, name, self._forbidden(name))

    def _forbidden(self, name: str):  # type: ignore[no-untyped-def]
        def called(*args: object, **kwargs: object) -> None:
            self.calls.append(name)

        return called


async def click_all_over(pilot, widget, rows: int = 2) -> int:  # type: ignore[no-untyped-def]
    """Click every 10th cell of the first ``rows`` lines of ``widget`` (a Pilot click costs
    ~0.3 s here); returns the number of clicks."""
    region = widget.region
    clicks = 0
    for y in range(min(region.height, rows)):
        for x in range(1, region.width, 10):
            await pilot.click(widget, offset=(x, y))
            clicks += 1
    return clicks


def _plain(widget: Static | Toast) -> str:
    rendered = widget.render()
    return str(getattr(rendered, "plain", rendered))


def test_the_control_room_shows_hostile_text_as_text_and_runs_nothing(
    tmp_path: Path, world: LoopbackServer
) -> None:
    home_dir = write_home(tmp_path, world)
    config = load_config(home_dir / "liveguard.toml", environ={})
    clock = SystemClock()
    home = StateHome(Paths.resolve(home=str(home_dir)), clock).open()
    seen: dict[str, object] = {}

    async def until(pilot, condition, what: str, timeout: float = 40.0) -> None:  # type: ignore[no-untyped-def]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            assert loop.time() < deadline, f"waited {timeout:g} s for {what}"
            await asyncio.sleep(0.1)
            await pilot.pause()

    async def drive() -> None:
        room = ControlRoom(config, home, clock, "en")
        app = LiveguardApp(room, animations=False)
        async with app.run_test(size=(160, 60), notifications=True) as pilot:
            spy = ActionSpy(app)
            banner = app.query_one(DownBanner)
            # the room's own background work probes, polls and sends, as for a seller
            await until(pilot, lambda: banner.display, "a live channel DOWN")
            await until(pilot, lambda: len(room.status.outages(8)) >= 2, "outages")
            await until(
                pilot,
                lambda: any(f.state == "stale" for f in room.sales.feeds()),
                "a stale feed",
            )
            room.planb.press(reason=f"live mati {HOSTILE}", skip_grace=True)
            room.planb.wake.set()
            await until(
                pilot,
                lambda: any(a.status == "failed" for a in room.planb.view().actions),
                "the webhook to fail on its hostile reply",
            )
            await pilot.pause()
            toasts = list(app.screen.query(Toast))
            seen["toasts"] = len(toasts)
            seen["toast_text"] = " ".join(_plain(t) for t in toasts)
            seen["banner"] = _plain(banner)
            region = app.query_one(StatusRegion)
            seen["status"] = " ".join(_plain(s) for s in region.query(Static))
            seen["planb"] = " ".join(_plain(s) for s in app.query_one("#planb").query(Static))
            # quiet the background work (a megabyte a second) so each click is quick
            await room.stop()
            clicks = 0
            for toast in toasts:
                if toast.is_mounted:
                    await pilot.click(toast)
                    clicks += 1
            clicks += await click_all_over(pilot, banner)
            for detail in region.query(".status-name, .status-detail"):
                clicks += await click_all_over(pilot, detail, rows=1)
            clicks += await click_all_over(pilot, app.query_one("#planb-body"), rows=10)
            for screen in (
                OutagesScreen(room, app.t),
                AuditLogScreen(room, app.t, room.planb.log(SHOWN)),
            ):
                await app.push_screen(screen)
                await pilot.pause()
                table = screen.query_one(DataTable)
                cells = [table.get_row_at(r) for r in range(table.row_count)]
                seen[type(screen).__name__] = [
                    c.plain if isinstance(c, Text) else str(c) for row in cells for c in row
                ]
                clicks += await click_all_over(pilot, table, rows=table.row_count + 1)
                screen.dismiss(None)
                await pilot.pause()
            seen["clicks"] = clicks
            seen["actions"] = list(spy.calls)
            seen["running"] = app.is_running
            seen["screens"] = len(app.screen_stack)

    asyncio.run(drive())
    home.close()

    assert seen["running"] and seen["screens"] == 1
    # Textual's own pointer and scrollbar actions aside, no click ran an action
    ran = [a for a in seen["actions"] if a not in POINTER_ACTIONS]  # type: ignore[attr-defined]
    assert ran == [], ran
    assert int(seen["clicks"]) > 100  # type: ignore[call-overload]
    assert int(seen["toasts"]) >= 2  # type: ignore[call-overload]
    # the literal text is on screen, as text
    assert VISIBLE in str(seen["toast_text"])
    assert VISIBLE in str(seen["banner"])
    assert VISIBLE in str(seen["status"])
    outages = " ".join(seen["OutagesScreen"])  # type: ignore[arg-type]
    audit = " ".join(seen["AuditLogScreen"])  # type: ignore[arg-type]
    assert VISIBLE in outages
    assert VISIBLE in audit
    assert VISIBLE in str(seen["planb"])
    for text in (seen["toast_text"], seen["banner"], seen["status"], seen["planb"], outages, audit):
        assert not forbidden(str(text).replace("\n", " "))
    # every stored reason is capped, so state files stay small whatever the feed sends
    for path in (home_dir / "state").rglob("*.json"):
        assert path.stat().st_size < 200_000, path
    for path in (home_dir / "state").rglob("*.json"):
        assert "M" * (REASON_MAX + 1) not in path.read_text(), path


async def test_the_import_preview_shows_hostile_cells_as_text(
    home: StateHome, clock: FixedClock, tmp_path: Path
) -> None:
    from textual.widgets import Input

    from liveguard.ui.screens.import_file import ImportScreen
    from tests.conftest import make_app

    path = write_tiktok_csv(
        tmp_path / "hostile.csv",
        [
            Sample("T1", "28/11/2026 20:00:00", f"12{HOSTILE}", "Completed"),
            Sample(f"T2{HOSTILE}", "28/11/2026 20:00:00", "15000", "Completed"),
        ],
    )
    app = make_app(home, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        spy = ActionSpy(app)
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        screen.query_one("#import-path", Input).value = str(path)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        preview = screen.query_one("#import-preview", Static)
        text = _plain(preview)
        spy.calls.clear()  # the keys above ran their actions; the clicks must run none
        await click_all_over(pilot, preview, rows=4)
        assert app.is_running and isinstance(app.screen, ImportScreen)
    assert 'Order Amount: not a number: "12' + VISIBLE in text, text
    assert not forbidden(text.replace("\n", " "))
    assert [a for a in spy.calls if a not in POINTER_ACTIONS] == []
