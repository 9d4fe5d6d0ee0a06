"""The room's phone screen (`n`): each target's last delivery, the newest messages, `t` sends
a test message through the outbox without blocking the screen."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.widgets import DataTable

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.notify_store import NotifyStore
from liveguard.adapters.state_home import StateHome
from liveguard.core.notify import Delivery
from liveguard.core.timekeeping import FixedClock
from liveguard.ui.screens.phone import PhoneScreen
from tests.conftest import make_app

from .phone_servers import running_bot

TOKEN = "1111:UI-secret-token"


def cells(table: DataTable[Any]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_phone_screen_shows_targets_deliveries_and_sends_a_test(
    home: StateHome, clock: FixedClock, monkeypatch: Any
) -> None:
    monkeypatch.setenv("TG", TOKEN)
    with running_bot(token=TOKEN) as bot:
        text = (
            '[[channels]]\nid = "tiktok"\nname = "TikTok Shop"\nlive = true\n'
            f'[[notify]]\nid = "owner"\nkind = "telegram"\ntoken = "${{TG}}"\nchats = ["111"]\napi = "{bot.url()}"\n'
        )
        config = parse_config(text, "liveguard.toml", {"TG": TOKEN})
        delivered = Delivery(
            "owner",
            "down:tiktok:x",
            "down",
            "LIVE TikTok Shop MATI",
            "LIVE TikTok Shop MATI sejak 21.00 WIB",
            clock.now(),
            status="delivered",
            attempts=1,
            http_status=200,
            sent_at=clock.now(),
            to="111",
        )
        NotifyStore(home).update(lambda s: s.with_delivery(delivered))
        app = make_app(home, clock, "en", config)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("n")
            assert isinstance(app.screen, PhoneScreen)
            targets = cells(app.screen.query_one("#phone-targets", DataTable))
            assert targets == [["owner", "telegram", "telegram 111", "delivered 21.00 WIB"]]
            log = cells(app.screen.query_one("#phone-log", DataTable))
            assert log[0] == [
                "21.00 WIB",
                "owner #111",
                "delivered",
                "LIVE TikTok Shop MATI sejak 21.00 WIB",
            ]
            await pilot.press("t")
            loop = asyncio.get_running_loop()
            give_up = loop.time() + 20
            while not bot.texts("111"):
                assert loop.time() < give_up, "the test message never arrived"
                await pilot.pause(0.05)
            assert bot.texts("111")[0].startswith("Test message from liveguard")
            while len(cells(app.screen.query_one("#phone-log", DataTable))) < 2:
                assert loop.time() < give_up
                await pilot.pause(0.1)
            await pilot.press("escape")
            assert not isinstance(app.screen, PhoneScreen)
