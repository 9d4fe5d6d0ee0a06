"""Child process for tests/test_notify_crash.py: the notifier sending two facts to a webhook
target, to be killed with SIGKILL mid-delivery and started again.

Usage: python tests/notify_crash_child.py HOME
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from liveguard.adapters.config_file import load_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.notify import Message
from liveguard.core.timekeeping import SystemClock
from liveguard.service.events import Publisher
from liveguard.service.notify import NotifyService


async def main(home_dir: str) -> None:
    clock = SystemClock()
    config = load_config(Path(home_dir) / "liveguard.toml", environ={})
    home = StateHome(Paths.resolve(home=home_dir), clock).open()
    service = NotifyService(config, home, clock, Publisher(), lang="en")
    await service.start()
    target = config.notify[0]
    for key in ("down:tiktok:1", "down:shopee:1"):
        service.enqueue(target, Message("down", key, "DOWN", f"fact {key}", urgent=True))
    print("UP", flush=True)
    await service.drain(timeout_s=60)
    await service.aclose()
    home.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
