"""Each Telegram command on a control room with a fixed clock, answered through a loopback
Bot API server: what it replies, what it changes, who the audit log says did it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from liveguard.adapters.audit_log import AuditLog
from liveguard.adapters.config_file import parse_config
from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.state_home import StateHome
from liveguard.core.status import State
from liveguard.core.timekeeping import FixedClock
from liveguard.demo.phone import BotApi
from liveguard.service.room import ControlRoom
from liveguard.service.telegram import TelegramApi, Update
from liveguard.service.telegram_commands import CommandPoller

from .phone_servers import running_bot

TOKEN = "31337:commands-secret"


@pytest.fixture
def bot() -> Iterator[BotApi]:
    with running_bot(token=TOKEN) as api:
        yield api


def room_for(home: StateHome, clock: FixedClock, bot: BotApi) -> ControlRoom:
    text = f"""
language = "id"
[[channels]]
id = "tiktok"
name = "TikTok Shop"
live = true
[[channels]]
id = "wa"
name = "WhatsApp"
aliases = ["whatsapp"]
[[promotions]]
id = "plan-b"
name = "Flash sale Shopee"
armed = true
grace = "0s"
  [[promotions.actions]]
  kind = "message"
  name = "Pesan WA"
  text = "Halo kak"
[[notify]]
id = "owner"
kind = "telegram"
token = "${{TG}}"
chats = ["111"]
commands = true
api = "{bot.url()}"
"""
    return ControlRoom(parse_config(text, "liveguard.toml", {"TG": TOKEN}), home, clock, "id")


def said(text: str, clock: FixedClock, chat: str = "111", **kwargs: Any) -> Update:
    date = int(clock.now().timestamp()) - kwargs.pop("age_s", 0)
    return Update(int(time.monotonic() * 1000), chat, "Sari (@sari)", chat, text, date, **kwargs)


async def test_each_command(home: StateHome, clock: FixedClock, bot: BotApi) -> None:
    room = room_for(home, clock, bot)
    pool = HttpPool(4)
    try:
        poller = CommandPoller(
            room, room.config.notify[0], TelegramApi(pool, room.config.notify[0], {"TG": TOKEN})
        )
        room.sales.add_sale("wa", "125rb", order_id="A1", at=clock.now() - timedelta(hours=1))

        await poller.handle(said("/mark WhatsApp mati tidak bisa kirim", clock))
        assert bot.texts("111")[-1] == "WhatsApp sekarang ditandai MATI."
        assert next(s for s in room.status.statuses() if s.channel == "wa").state is State.DOWN

        await poller.handle(said("/status", clock))
        assert "WhatsApp: MATI (21.00 WIB)" in bot.texts("111")[-1]

        await poller.handle(said("/today", clock))
        today = bot.texts("111")[-1]
        assert (
            "WhatsApp: 1 pesanan, omzet Rp125.000" in today
            and "Total: 1 pesanan, omzet Rp125.000" in today
        )

        await poller.handle(said("/planb", clock))
        assert bot.texts("111")[-1].startswith(
            'Plan B "Flash sale Shopee" akan menjalankan: Pesan WA.'
        )
        clock.advance(timedelta(seconds=61))
        await poller.handle(said("/ya", clock))
        assert bot.texts("111")[-1].startswith("Tidak ada yang menunggu konfirmasi")
        assert room.planb.switch().phase == "idle", "too late: nothing fired"

        await poller.handle(said("/planb", clock))
        await poller.handle(said("/ya", clock))
        assert (
            bot.texts("111")[-1] == 'Plan B "Flash sale Shopee" dijalankan. Saya kabari hasilnya.'
        )
        assert room.planb.switch().phase in ("activating", "active")

        await poller.handle(said("/stop", clock))
        assert bot.texts("111")[-1] == 'Plan B "Flash sale Shopee" dihentikan.'

        await poller.handle(said("/mark tiktok rusak", clock))
        assert bot.texts("111")[-1].startswith("Tulis: /mark <kanal> mati|normal|hapus")

        await poller.handle(said("/log", clock))
        assert bot.texts("111")[-1].startswith("Catatan kejadian terakhir:")

        await poller.handle(said("halo", clock))
        assert bot.texts("111")[-1].startswith("Perintah: /status")

        await poller.handle(said("/status", clock, age_s=400))
        assert bot.texts("111")[-1].startswith("Perintah ini sudah lewat 6 menit")

        before = len(bot.sent)
        await poller.handle(said("/planb", clock, chat="999"))
        await poller.handle(said("/ya", clock, chat="999"))
        assert len(bot.sent) == before, "another chat gets no answer"
    finally:
        await pool.aclose()

    entries = AuditLog(home).entries()
    actors = {e["actor"] for e in entries if e["kind"] in ("status.mark", "planb.transition")}
    assert actors == {"telegram:111 Sari (@sari)"}
    unknown = [
        e
        for e in entries
        if e["kind"] == "notify.command" and e["detail"]["result"] == "unknown chat"
    ]
    assert len(unknown) == 1, "an unknown chat is recorded once"
