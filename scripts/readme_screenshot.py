"""Regenerate docs/control-room.svg from the demo: the real control room on the demo world,
at the moment the README wants to show (TikTok Live down, Plan B active, Shopee climbing).

    .venv/bin/python scripts/readme_screenshot.py [--lang en|id] [--out docs/control-room.svg]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from liveguard.adapters.config_file import load_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.timekeeping import SystemClock
from liveguard.demo import DemoWorld
from liveguard.demo.story import beat_at
from liveguard.service.room import ControlRoom
from liveguard.ui.app import LiveguardApp

SPEED = 20.0


async def shoot(out: Path, lang: str, size: tuple[int, int]) -> None:
    with DemoWorld(play=False, speed=SPEED) as world, tempfile.TemporaryDirectory() as tmp:
        config = load_config(world.write_config(Path(tmp) / "liveguard.toml"), environ={})
        clock = SystemClock()
        home = StateHome(Paths.resolve(home=tmp), clock).open()
        room = ControlRoom(config, home, clock, lang)
        app = LiveguardApp(room, animations=False)
        async with app.run_test(size=size) as pilot:
            # Walk the story to the flash sale, letting the room probe, poll and react.
            target = beat_at("live_back") - 2
            story_time = 0.0
            while story_time < target:
                story_time += 1.0
                world.story.advance_to(story_time)
                await pilot.pause(1.0 / SPEED)
            for _ in range(100):  # until Plan B has delivered (auto-activation)
                if room.planb.view().state == "active":
                    break
                await pilot.pause(0.1)
            await pilot.pause(0.5)
            app.save_screenshot(filename=out.name, path=str(out.parent))
        home.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lang", choices=["en", "id"], default="en")
    parser.add_argument("--out", type=Path, default=Path("docs/control-room.svg"))
    args = parser.parse_args()
    asyncio.run(shoot(args.out, args.lang, (120, 36)))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
