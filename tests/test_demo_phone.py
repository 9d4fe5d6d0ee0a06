"""The demo's phone: the demo world runs a Bot API server; TikTok going down reaches it, the
demo seller asks /planb and gets the confirmation question back."""

from __future__ import annotations

import asyncio
from pathlib import Path

from liveguard.adapters.config_file import load_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.timekeeping import SystemClock
from liveguard.demo import DemoWorld
from liveguard.demo.config import PHONE_CHAT
from liveguard.demo.story import beat_at
from liveguard.service.room import ControlRoom


async def test_the_demo_phone_gets_the_alert_and_answers_planb(tmp_path: Path) -> None:
    with DemoWorld(play=False, speed=20.0) as world:
        home_dir = tmp_path / "home"
        config = load_config(world.write_config(home_dir / "liveguard.toml"), environ={})
        assert [t.id for t in config.notify] == ["seller-phone"]
        home = StateHome(Paths.resolve(home=str(home_dir)), SystemClock()).open()
        room = ControlRoom(config, home, SystemClock(), "id")
        room.planb.opener = None
        await room.start()
        try:
            world.story.advance_to(beat_at("tiktok_503"))
            loop = asyncio.get_running_loop()
            give_up = loop.time() + 45
            phone = world.phone
            while not [r for p in room.pollers for r in p.replies if not r.incoming]:
                assert loop.time() < give_up, f"the phone got: {phone.texts(PHONE_CHAT)}"
                await asyncio.sleep(0.1)
            texts = phone.texts(PHONE_CHAT)
            down = next(m for m in texts if "MATI" in m)
            assert down.startswith("LIVE TikTok Shop MATI sejak") and "Balas /planb" in down
            exchanges = [r.text for p in room.pollers for r in p.replies]
            assert "/planb" in exchanges
        finally:
            await room.stop()
            home.close()
