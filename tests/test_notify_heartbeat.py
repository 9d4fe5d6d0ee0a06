"""[heartbeat]: the running room pings at once and then every `every`; a fatal error pings the
failure URL (Healthchecks /fail, Uptime Kuma status=down); a failing ping is one notice."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.config import Heartbeat
from liveguard.core.notify import heartbeat_fail_url
from liveguard.core.timekeeping import SystemClock
from liveguard.service.events import Notice, Publisher
from liveguard.service.heartbeat import HeartbeatService, ping_fail
from liveguard.service.room import ControlRoom

from .servers import LoopbackServer, reply

UUID = "5e1f0a2b-hc-secret"


def test_failure_urls() -> None:
    assert heartbeat_fail_url("https://hc-ping.com/${HC}") == "https://hc-ping.com/${HC}/fail"
    assert (
        heartbeat_fail_url("https://kuma.example/api/push/${K}?status=up&msg=OK")
        == "https://kuma.example/api/push/${K}?status=down&msg=OK"
    )
    assert heartbeat_fail_url("https://x.example/ping?token=1") is None
    assert heartbeat_fail_url("https://x.example/p", "https://x.example/f") == "https://x.example/f"


async def test_the_room_pings_and_a_fatal_error_pings_fail(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("HC", UUID)
    with LoopbackServer() as hc:
        hc.route(f"/ping/{UUID}", reply(200, "OK"))
        hc.route(f"/ping/{UUID}/fail", reply(200, "OK"))
        text = f'[[channels]]\nid = "tiktok"\n[heartbeat]\nurl = "{hc.url("/ping/${HC}")}"\nevery = "10s"\n'
        config = parse_config(text, "liveguard.toml", {"HC": UUID})
        home = StateHome(Paths.resolve(home=str(tmp_path / "home")), SystemClock()).open()
        room = ControlRoom(config, home, SystemClock(), "en")
        await room.start()
        try:
            loop = asyncio.get_running_loop()
            give_up = loop.time() + 20
            while hc.hits(f"/ping/{UUID}") < 1:
                assert loop.time() < give_up, "no heartbeat"
                await asyncio.sleep(0.05)
        finally:
            await room.stop()
            room.close()
        assert config.heartbeat is not None
        await asyncio.to_thread(ping_fail, config.heartbeat, {"HC": UUID}, "en")
        assert hc.hits(f"/ping/{UUID}/fail") == 1


async def test_a_failing_ping_is_one_notice_without_the_secret() -> None:
    with LoopbackServer() as hc:
        hc.route(f"/ping/{UUID}", reply(404, f"unknown check {UUID}"))
        events = Publisher()
        notices: list[Notice] = []
        events.subscribe(lambda e: notices.append(e) if isinstance(e, Notice) else None)
        beat = Heartbeat(hc.url("/ping/${HC}"), every=timedelta(seconds=0.05))
        service = HeartbeatService(beat, events, {"HC": UUID}, "en")
        pool = HttpPool(2)
        task = asyncio.create_task(service.run(pool))
        try:
            loop = asyncio.get_running_loop()
            give_up = loop.time() + 10
            while hc.hits(f"/ping/{UUID}") < 3:
                assert loop.time() < give_up
                await asyncio.sleep(0.02)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await pool.aclose()
        assert [n.text for n in notices] == [
            "Heartbeat not delivered: HTTP 404. The phone will not hear if liveguard stops."
        ]
