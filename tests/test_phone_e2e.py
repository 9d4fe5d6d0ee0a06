"""The phone end to end, on the real control room service: TikTok goes down → the Telegram
chat gets DOWN; /planb + /ya from the allowed chat fires Plan B exactly once; the same from
another chat does nothing; a restart replays no command; a stale command is refused."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from liveguard.adapters.audit_log import AuditLog
from liveguard.adapters.config_file import parse_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.status import State
from liveguard.core.timekeeping import SystemClock
from liveguard.demo.phone import BotApi
from liveguard.service.room import ControlRoom

from .phone_servers import running_bot
from .servers import LoopbackServer, reply

TOKEN = "424242:E2E-secret-token"
DEADLINE_S = 30.0


def config_text(status_url: str, hook_url: str, bot: BotApi) -> str:
    return f"""
shop = "Toko Kue Bu Sari"
language = "id"
[alerts]
failures_before_down = 1
[[channels]]
id = "tiktok"
name = "TikTok Shop"
live = true
  [[channels.checks]]
  kind = "http"
  url = "{status_url}"
  every = "1s"
[[promotions]]
id = "plan-b"
name = "Flash sale Shopee"
armed = true
grace = "0s"
  [[promotions.actions]]
  kind = "webhook"
  name = "Voucher LIVEDOWN20"
  url = "{hook_url}"
  body = {{ voucher = "LIVEDOWN20" }}
[[notify]]
id = "owner"
kind = "telegram"
token = "${{TG}}"
chats = ["111"]
commands = true
api = "{bot.url()}"
"""


async def until(what: str, condition: Callable[[], Any]) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + DEADLINE_S
    while not condition():
        if loop.time() > give_up:
            raise AssertionError(f"never saw: {what}")
        await asyncio.sleep(0.05)


def open_room(home_dir: Path, text: str) -> ControlRoom:
    config = parse_config(text, str(home_dir / "liveguard.toml"), {"TG": TOKEN})
    clock = SystemClock()
    home = StateHome(Paths.resolve(home=str(home_dir)), clock).open()
    room = ControlRoom(config, home, clock, "id")
    room.planb.opener = None
    return room


async def test_down_alert_planb_from_the_phone_once_and_no_replay(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("TG", TOKEN)
    with running_bot(token=TOKEN) as bot, LoopbackServer() as world:
        world.route("/live", reply(200, json={"live": True}))
        world.route("/hook", reply(200, json={"ok": True}))
        text = config_text(world.url("/live"), world.url("/hook"), bot)
        home_dir = tmp_path / "home"
        room = open_room(home_dir, text)
        await room.start()
        try:
            await until("first check", lambda: room.status.statuses()[0].state is State.UP)
            world.route("/live", reply(503, "maintenance"))
            await until("DOWN on the phone", lambda: any("MATI" in m for m in bot.texts("111")))
            down = next(m for m in bot.texts("111") if "MATI" in m)
            assert down.startswith("LIVE TikTok Shop MATI sejak ") and down.endswith(
                "Balas /planb untuk menjalankan Plan B."
            )

            # another chat: no answer, nothing fired, recorded once
            bot.say(999, "/planb", user="Orang")
            bot.say(999, "/ya", user="Orang")
            # the seller's chat: ask, then confirm
            bot.say(111, "/planb")
            await until(
                "the confirmation question", lambda: any("Balas /ya" in m for m in bot.texts("111"))
            )
            ask = next(m for m in bot.sent if "Balas /ya" in m.text)
            assert ask.reply_markup["inline_keyboard"][0][0]["callback_data"].startswith(
                "planb:yes:"
            )
            assert "Voucher LIVEDOWN20" in ask.text
            bot.say(111, "/ya")
            await until("the webhook fired", lambda: world.hits("/hook") == 1)
            await until("the reply", lambda: any("dijalankan" in m for m in bot.texts("111")))
            bot.say(111, "/ya")  # a second confirmation has nothing to confirm
            await until(
                "the refusal", lambda: any("Tidak ada yang menunggu" in m for m in bot.texts("111"))
            )
            await until("Plan B active", lambda: room.planb.switch().phase == "active")
            assert world.hits("/hook") == 1
            assert bot.texts("999") == []
            handled = sum(p.handled for p in room.pollers)
        finally:
            await room.stop()
            room.close()

        entries = AuditLog(
            StateHome(Paths.resolve(home=str(home_dir)), SystemClock()).open()
        ).entries()
        commands = [e for e in entries if e["kind"] == "notify.command"]
        unknown = [e for e in commands if e["detail"]["result"] == "unknown chat"]
        assert len(unknown) == 1 and unknown[0]["detail"]["chat"] == "999"
        press = next(
            e for e in entries if e["kind"] == "planb.transition" and e["detail"]["to"] != "armed"
        )
        assert press["actor"] == "telegram:111 Sari (@sari)"

        # restart: the offset was stored, so nothing is run again
        calls_before = len(bot.calls)
        room = open_room(home_dir, text)
        await room.start()
        try:
            await until(
                "a poll after restart",
                lambda: len([c for c in bot.calls[calls_before:] if c[0] == "getUpdates"]) >= 1,
            )
            bot.say(111, "/status", age_s=600)  # ten minutes old: refused
            await until(
                "the stale refusal",
                lambda: any("sudah lewat 10 menit" in m for m in bot.texts("111")),
            )
            assert sum(p.handled for p in room.pollers) == 1, "only the stale command was answered"
            assert world.hits("/hook") == 1
            # /stop ends Plan B; then /planb and the button (not /ya) start it again
            bot.say(111, "/stop")
            await until("Plan B stopped", lambda: room.planb.switch().phase == "idle")
            asked = len([m for m in bot.sent if m.reply_markup])
            bot.say(111, "/planb")
            await until(
                "a new question", lambda: len([m for m in bot.sent if m.reply_markup]) > asked
            )
            # the newest question (Plan B's own news may have been sent after it)
            question = [m for m in bot.sent if m.reply_markup][-1]
            button = question.reply_markup["inline_keyboard"][0][0]["callback_data"]
            bot.press(111, "planb:yes:00000000")  # a stale button of an older question
            await until(
                "its refusal", lambda: bot.texts("111")[-1].startswith("Tidak ada yang menunggu")
            )
            bot.say(111, "/planb")
            await until(
                "another question",
                lambda: (
                    bot.sent[-1].reply_markup is not None
                    and bot.sent[-1].reply_markup["inline_keyboard"][0][0]["callback_data"]
                    != button
                ),
            )
            bot.press(111, bot.sent[-1].reply_markup["inline_keyboard"][0][0]["callback_data"])
            await until("the second activation", lambda: world.hits("/hook") == 2)
            assert any(m == "answerCallbackQuery" for m, _ in bot.calls)
        finally:
            await room.stop()
            room.close()
        assert handled == 3  # /planb, /ya, /ya again; the other chat's never
        blob = (home_dir / "state" / "notify.json").read_text() + json.dumps(entries)
        assert TOKEN not in blob


async def test_a_second_poller_on_the_same_token_gets_409(tmp_path: Path) -> None:
    with running_bot(token=TOKEN) as bot:
        from liveguard.adapters.http_pool import HttpPool
        from liveguard.core.config import NotifyTarget
        from liveguard.service.telegram import Conflict, TelegramApi

        target = NotifyTarget("t", "telegram", token="${TG}", chats=("1",), api=bot.url())
        pool = HttpPool(4)
        try:
            first = TelegramApi(pool, target, {"TG": TOKEN})
            second = TelegramApi(pool, target, {"TG": TOKEN})
            waiting = asyncio.create_task(first.updates(0, 10))
            await until("the first poll", lambda: bot.calls and bot.calls[-1][0] == "getUpdates")
            later = asyncio.create_task(second.updates(0, 1))
            try:
                await waiting
                raise AssertionError("the first poller should have been ended")
            except Conflict as exc:
                assert "Conflict" in str(exc) and TOKEN not in str(exc)
            assert await later == []
        finally:
            await pool.aclose()
