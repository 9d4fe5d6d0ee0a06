"""The control-room shell: snapshots at 80×24 and 120×40 in both languages, key flows."""

from __future__ import annotations

import threading

import pytest

from liveguard.adapters.state_home import StateHome
from liveguard.core.actions import ACTIONS
from liveguard.core.status import Change
from liveguard.core.timekeeping import FixedClock
from liveguard.service.events import (
    Notice,
    PlanBChanged,
    SalesChanged,
    SourceChanged,
    StatusChanged,
)
from liveguard.ui.regions.base import Region
from liveguard.ui.screens.help import HelpScreen
from tests.conftest import make_app
from tests.test_planb_ui import until

SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_shell_snapshot(
    snap_compare, home: StateHome, clock: FixedClock, lang: str, size: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(home, clock, lang), terminal_size=size)


@pytest.mark.parametrize("lang", ["en", "id"])
def test_help_snapshot(snap_compare, home: StateHome, clock: FixedClock, lang: str) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        make_app(home, clock, lang), terminal_size=(80, 24), press=["question_mark"]
    )


async def test_help_opens_with_question_mark_and_f1_and_esc_closes(
    home: StateHome, clock: FixedClock
) -> None:
    app = make_app(home, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            assert isinstance(app.screen, HelpScreen)
            table = app.screen._table()
            descriptions = [str(cell) for cell in table.columns[1]._cells]
            for spec in ACTIONS:
                assert app.t(spec.help) in descriptions
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)


@pytest.mark.parametrize("key", ["q", "ctrl+q"])
async def test_quit(home: StateHome, clock: FixedClock, key: str) -> None:
    app = make_app(home, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(key)
        await pilot.pause()
    assert app.return_code == 0
    assert not app.is_running


async def test_the_footer_and_palette_come_from_the_action_table(
    home: StateHome, clock: FixedClock
) -> None:
    app = make_app(home, clock, "id")
    async with app.run_test(size=(120, 40)):
        shown = {b.action: b.description for _, b, _, _ in app.active_bindings.values() if b.show}
        footer_actions = {spec.name for spec in ACTIONS if spec.footer}
        assert footer_actions <= set(shown)
        assert shown["quit"] == "Keluar"
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert titles == [app.t(s.label) for s in ACTIONS if s.name != "command_palette"]


async def test_keys_can_be_remapped_in_the_config(home: StateHome, clock: FixedClock) -> None:
    from dataclasses import replace

    from tests.conftest import starter_config

    config = replace(starter_config(), keys={"help": "h"})
    app = make_app(home, clock, config=config)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("h")
        assert isinstance(app.screen, HelpScreen)


async def test_tab_moves_between_the_regions(home: StateHome, clock: FixedClock) -> None:
    app = make_app(home, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        seen = []
        for _ in range(3):
            await pilot.press("tab")
            seen.append(app.focused.id if app.focused else None)
        assert set(seen) == {"status", "sales", "planb"}
        await pilot.press("shift+tab")
        assert app.focused is not None and app.focused.id == seen[1]


async def test_narrow_terminals_stack_the_regions(home: StateHome, clock: FixedClock) -> None:
    app = make_app(home, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()  # the breakpoint classes are set on the screen's first Resize
        assert app.screen.has_class("-narrow")
        status, planb, sales = (app.query_one(f"#{n}").region for n in ("status", "planb", "sales"))
        assert status.y < planb.y < sales.y
        assert planb.height <= 5  # idle Plan B keeps to its headline; sales stay in view
        assert sales.bottom <= 23
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        assert not app.screen.has_class("-narrow")
        status, planb, sales = (app.query_one(f"#{n}").region for n in ("status", "planb", "sales"))
        assert status.y == planb.y and status.x < planb.x
        assert sales.x == status.x and sales.y > status.y and planb.height > status.height


@pytest.mark.parametrize("key", ["question_mark", "s", "o"])
async def test_resizing_with_a_dialog_open_lays_out_the_main_screen_too(
    home: StateHome, clock: FixedClock, key: str
) -> None:
    app = make_app(home, clock)
    async with app.run_test(size=(160, 48)) as pilot:
        main = app.screen
        await pilot.press(key)
        await pilot.pause()
        assert app.screen is not main
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert main.has_class("-narrow") and not main.has_class("-wide")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is main
        status, planb, sales = (app.query_one(f"#{n}").region for n in ("status", "planb", "sales"))
        assert status.y < planb.y < sales.y  # stacked, as if it had been this narrow all along
        await pilot.press(key)
        await pilot.pause()
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert main.has_class("-wide") and not main.has_class("-narrow")
        status, planb, sales = (app.query_one(f"#{n}").region for n in ("status", "planb", "sales"))
        assert status.y == planb.y and status.x < planb.x


async def test_a_state_notice_is_shown_once(home: StateHome, clock: FixedClock) -> None:
    home.notices.append("state/status.json: could not be read (empty file); moved aside")
    app = make_app(home, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("moved aside" in m for m in messages)
    assert home.notices == []


async def test_background_news_after_quitting_redraws_nothing(
    home: StateHome, clock: FixedClock
) -> None:
    """A feed poll that lands while the app closes must not reach removed widgets."""
    app = make_app(home, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
    app.room.events.publish(SalesChanged("shopee"))  # nobody left to redraw anything
    app.room.events.publish(PlanBChanged())
    assert app.room.events._subscribers == []


async def test_notices_raised_while_the_room_runs_appear_when_they_happen(
    home: StateHome, clock: FixedClock
) -> None:
    """A file moved aside (told from a worker thread, as state writes are) and a notice
    published by a background loop both reach the screen at once, each shown once."""
    app = make_app(home, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        aside = "state/orders/2026-11-28.json: could not be read (empty file); moved aside"
        worker = threading.Thread(target=home.tell, args=(aside,))
        worker.start()
        worker.join()
        for _ in range(2):  # the same notice twice: shown once
            app.room.events.publish(Notice("state/status.json: could not save", key="disk"))
        await until(pilot, lambda: len(app._notifications) >= 2)
        messages = [n.message for n in app._notifications]
        assert messages.count(aside) == 1
        assert messages.count("state/status.json: could not save") == 1
    assert home.notices == []  # handed to the room, not kept for a later mount


async def test_a_burst_of_changes_redraws_each_region_once(
    home: StateHome, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(home, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        drawn: list[str] = []
        for region in app.query(Region):
            monkeypatch.setattr(region, "refresh_view", lambda area=region.AREA: drawn.append(area))
        for _ in range(5):
            app.room.events.publish(SalesChanged("shopee"))
            app.room.events.publish(PlanBChanged("planb.tick"))
        await until(pilot, lambda: len(drawn) >= 2)
        await pilot.pause()
        assert sorted(drawn) == ["planb", "sales"]


async def test_changes_redraw_the_room_behind_an_open_dialog(
    home: StateHome, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(home, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        drawn: list[str] = []
        sales = app.screen_stack[0].query_one("#sales", Region)
        monkeypatch.setattr(sales, "refresh_view", lambda: drawn.append("sales"))
        app.room.events.publish(SalesChanged("shopee"))
        await until(pilot, lambda: drawn == ["sales"])


async def test_a_redraw_that_raises_never_reaches_the_publisher(
    home: StateHome, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(home, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()

        def broken() -> None:
            raise RuntimeError("a redraw bug")

        monkeypatch.setattr(app.query_one("#sales", Region), "refresh_view", broken)
        monkeypatch.setattr(app.query_one("#status", Region), "incident", lambda change: broken())
        app.room.events.publish(SalesChanged("shopee"))  # returns: the redraw runs later
        status = app.room.status.statuses()[0]
        app.room.events.publish(StatusChanged(Change(status, status)))
        await until(pilot, lambda: bool(app._notifications))
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert said == [app.t("events.redraw_failed")]  # told once, not once per failure
        assert app.is_running


async def test_a_failed_plan_b_step_and_a_stale_feed_are_said_when_they_happen(
    home: StateHome, clock: FixedClock
) -> None:
    app = make_app(home, clock, "id")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        failed = {"action": 1, "label": "Flash sale", "result": "failed", "error": "status 500"}
        app.room.events.publish(PlanBChanged("planb.attempt", failed))
        app.room.events.publish(PlanBChanged("planb.attempt", {**failed, "result": "retrying"}))
        app.room.events.publish(
            SourceChanged("http://127.0.0.1/orders", "shopee", "stale", "status [b]503[/b]")
        )
        await until(pilot, lambda: len(app._notifications) >= 2)
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert messages == [
            "Langkah 1 Plan B (Flash sale) gagal: status 500",
            "Shopee: feed pesanan tidak menjawab (status [b]503[/b]); angka yang tampil mungkin tertinggal.",
        ]


@pytest.mark.parametrize("key", ["question_mark", "o", "d", "s", "i", "a", "k", "l"])
async def test_escape_always_goes_back(home: StateHome, clock: FixedClock, key: str) -> None:
    app = make_app(home, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.screen
        await pilot.press(key)
        await pilot.pause()
        opened = app.screen is not main
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is main, f"{key}: Esc did not go back"
        assert opened, f"{key} opened no screen"
