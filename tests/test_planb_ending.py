"""Plan B ends well: a planned end (ends_after / ends_at, with a reminder before it) and the
live channel coming back (when_live_returns = ask | stop | keep, after live_back_for)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from liveguard.adapters.config_file import ConfigError, parse_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.config import Promotion
from liveguard.core.ending import planned_end, verdict
from liveguard.core.promotion import Switch
from liveguard.core.timekeeping import FixedClock, load_zone, parse_duration
from liveguard.service.planb import PlanBService
from liveguard.ui.screens.live_back import LiveBackPrompt
from tests.conftest import make_app
from tests.servers import LoopbackServer, reply

WIB = load_zone("Asia/Jakarta")
START = datetime.fromisoformat("2026-11-28T20:45:00+07:00")
ACTIVE = Switch("plan-b", "active", "a1", "TikTok off", "tiktok", activated_at=START)
PROMO = Promotion("plan-b", "Plan B", channel="tiktok")


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-{text}+07:00")


@pytest.mark.parametrize(
    ("promo", "now", "up_since", "expected"),
    [
        (PROMO, at("28T23:00"), None, None),
        (replace(PROMO, ends_after=timedelta(hours=6)), at("29T02:45"), None, "ends_after"),
        (replace(PROMO, ends_after=timedelta(hours=6)), at("29T02:40"), None, "remind"),
        (replace(PROMO, ends_after=timedelta(hours=6)), at("29T02:30"), None, None),
        (replace(PROMO, ends_at=time(23, 59)), at("28T23:59"), None, "ends_at"),
        (replace(PROMO, ends_at=time(20, 0)), at("28T23:00"), None, None),  # tomorrow 20.00
        (replace(PROMO, ends_at=time(20, 0)), at("29T20:00"), None, "ends_at"),
        (PROMO, at("28T22:00"), at("28T21:31"), None),  # back 29 min: not yet
        (PROMO, at("28T22:00"), at("28T21:30"), "ask"),
        (replace(PROMO, when_live_returns="stop"), at("28T22:00"), at("28T21:30"), "live_returned"),
        (replace(PROMO, when_live_returns="keep"), at("28T22:00"), at("28T21:30"), None),
        (PROMO, at("28T22:00"), at("28T20:00"), None),  # up since before Plan B started
    ],
)
def test_verdict(promo: Promotion, now: datetime, up_since: datetime | None, expected: str) -> None:
    assert verdict(ACTIVE, promo, now, WIB, up_since) == expected


def test_the_earliest_planned_end_wins() -> None:
    promo = replace(PROMO, ends_after=timedelta(hours=6), ends_at=time(23, 0))
    assert planned_end(ACTIVE, promo, WIB) == at("28T23:00")
    assert verdict(ACTIVE, promo, at("28T23:00"), WIB, None) == "ends_at"


def test_config_reads_ending_keys_and_durations_in_indonesian() -> None:
    config = parse_config(
        '[[promotions]]\nid = "p"\nname = "P"\ngrace = "5 detik"\nends_after = "2 jam"\n'
        'ends_at = "23.59"\nwhen_live_returns = "stop"\nlive_back_for = "10 menit"\n',
        "liveguard.toml",
    )
    [p] = config.promotions
    assert (p.grace, p.ends_after, p.ends_at) == (
        timedelta(seconds=5),
        timedelta(hours=2),
        time(23, 59),
    )
    assert (p.when_live_returns, p.live_back_for) == ("stop", timedelta(minutes=10))
    assert parse_duration("1,5 jam") == timedelta(minutes=90)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('ends_at = "25.00"', "promotions[0].ends_at: '25.00' is not a time of day (write 23.59)"),
        ('when_live_returns = "later"', "must be one of ask, stop, keep, not 'later'"),
        ('ends_after = "5 detk"', "bad duration '5 detk'"),
    ],
)
def test_bad_ending_keys_are_named(line: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(f'[[promotions]]\nid = "p"\nname = "P"\n{line}\n', "liveguard.toml")
    assert message in str(err.value)


def ending_config(base: str, extra: str):  # type: ignore[no-untyped-def]
    return parse_config(
        f"""
[[channels]]
id = "tiktok"
name = "TikTok Shop"
live = true

[[promotions]]
id = "plan-b"
name = "Flash sale"
armed = true
channel = "tiktok"
grace = "0s"
{extra}
  [[promotions.actions]]
  kind = "webhook"
  url = "{base}/start"
  undo = {{ url = "{base}/end" }}
""",
        "liveguard.toml",
    )


async def test_ends_after_stops_by_itself_with_its_undo_and_says_why(tmp_path: Path) -> None:
    home = StateHome(Paths.resolve(home=str(tmp_path))).open()
    clock = FixedClock(START)
    with LoopbackServer() as srv:
        srv.route("/start", reply(200))
        srv.route("/end", reply(200))
        planb = PlanBService(
            ending_config(srv.url(""), 'ends_after = "6h"'),
            home,
            clock=clock,
            environ={},
            opener=None,
        )
        planb.press(reason="TikTok off", channel="tiktok")
        await planb.drain()
        assert planb.consider_ending(lambda c: None) is None
        clock.advance(timedelta(hours=6))
        assert planb.consider_ending(lambda c: None) == "ends_after"
        await planb.drain()
        await planb.aclose()
        paths = [r.path for r in srv.requests]
    assert paths == ["/start", "/end"]
    moves = [e["detail"]["by"] for e in planb.log() if e["kind"] == "planb.transition"]
    assert "ends_after" in moves
    assert planb.switch().phase == "idle"
    home.close()


async def prompt_app(home: StateHome, clock: FixedClock, base: str):  # type: ignore[no-untyped-def]
    app = make_app(home, clock, "en", ending_config(base, 'live_back_for = "30m"'))
    app.room.planb.press(reason="TikTok off", channel="tiktok")
    return app


@pytest.mark.parametrize("answer", ["b", "escape", None])
async def test_live_back_asks_once_and_does_what_the_seller_answers(
    home: StateHome, clock: FixedClock, answer: str | None
) -> None:
    with LoopbackServer() as srv:
        srv.route("/start", reply(200))
        srv.route("/end", reply(200))
        app = await prompt_app(home, clock, srv.url(""))
        async with app.run_test(size=(120, 40)) as pilot:
            room = app.room
            for _ in range(200):
                if room.planb.switch().phase == "active":
                    break
                await pilot.pause(0.02)
            room.status.declare("tiktok", "up", "LIVE works again", who="ani")
            assert not isinstance(app.screen, LiveBackPrompt)
            clock.advance(timedelta(minutes=31))
            app.query_one("#planb").refresh_view()  # type: ignore[attr-defined]
            await pilot.pause()
            assert isinstance(app.screen, LiveBackPrompt)
            assert "TikTok Shop has been live again since" in str(
                app.screen.query_one("Static").render()
            )
            if answer is not None:
                await pilot.press(answer)
                await pilot.pause()
                assert not isinstance(app.screen, LiveBackPrompt)
                app.query_one("#planb").refresh_view()  # type: ignore[attr-defined]
                await pilot.pause()
                assert not isinstance(app.screen, LiveBackPrompt), "asked twice"
            phase = room.planb.switch().phase
    expected = {"b": ("deactivating", "idle"), "escape": ("active",), None: ("active",)}
    assert phase in expected[answer]
    kept = [e for e in room.planb.log() if e["kind"] == "planb.kept"]
    assert len(kept) == (answer == "escape")


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_live_back_prompt_snapshot(snap_compare, lang: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    from textual.app import App

    from liveguard.i18n import Catalog

    ui = Path(__file__).resolve().parents[1] / "src" / "liveguard" / "ui"

    class PromptApp(App[None]):
        CSS_PATH = [ui / "app.tcss", ui / "planb.tcss"]

        def on_mount(self) -> None:
            self.theme = "textual-dark"
            t = Catalog(lang)
            question = t(
                "planb.live_back.question",
                channel="TikTok Shop",
                clock="21.30 WIB",
                name="Flash sale",
            )
            self.push_screen(LiveBackPrompt(t, question))

    assert snap_compare(PromptApp(), terminal_size=size)
