"""The phone: how fast a DOWN reaches Telegram, and what hanging targets cost the screen.

- DOWN → Bot API: the running control room (service, real loopback Bot API server) marks
  TikTok DOWN (a declaration, as the `d` key does); the time until the Bot API server has
  stored the sendMessage. Repeated with a new outage each round; median and max
  (goal: median <= 1 s on loopback).
- UI stall with 5 hanging targets: the headless app, five webhook targets whose server
  accepts and never answers (each attempt times out after 2 s) and a Telegram target, while
  the status service publishes a new TikTok DOWN every 0.5 s (so every target gets a new
  message each time). The baseline: the same events with no notify target. A task sleeps
  5 ms over and over; how late it wakes is how long the screen could not answer a key
  (goal <= 50 ms).

    .venv/bin/python benchmarks/phone.py [--rounds 20] [--seconds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._results import result
from tests.conftest import make_app
from tests.faulty_network import StallWatch
from tests.phone_servers import running_bot
from tests.servers import LoopbackServer, hang

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.status import Change, ChannelStatus, Outage, Source, State
from liveguard.core.timekeeping import FixedClock, SystemClock
from liveguard.demo.phone import BotApi
from liveguard.service.events import StatusChanged
from liveguard.service.room import ControlRoom

TOKEN = "777:bench-token"
LATENCY_GOAL_S = 1.0
STALL_GOAL_MS = 50.0


def down_event(at: datetime, i: int) -> StatusChanged:
    """What the status service publishes when TikTok goes DOWN (a new outage each time)."""

    def status(state: State) -> ChannelStatus:
        return ChannelStatus("tiktok", "TikTok Shop", True, state, Source.PROBE, at, f"r{i}", 1)

    outage = Outage("tiktok", at, None, Source.PROBE, f"r{i}")
    return StatusChanged(Change(status(State.UP), status(State.DOWN), opened=outage))


def config_text(bot: BotApi, hanging: str = "", targets: int = 0, phone: bool = True) -> str:
    text = '[[channels]]\nid = "tiktok"\nname = "TikTok Shop"\nlive = true\n'
    if phone:
        text += (
            f'[[notify]]\nid = "owner"\nkind = "telegram"\ntoken = "${{TG}}"\nchats = ["111"]\n'
            f'api = "{bot.url()}"\n'
        )
    for i in range(targets):
        text += (
            f'[[notify]]\nid = "hang-{i}"\nkind = "webhook"\nurl = "{hanging}"\n'
            'body = { text = "{text}" }\ntimeout = "2s"\n'
        )
    return text


async def latency(rounds: int, folder: Path) -> list[float]:
    os.environ["TG"] = TOKEN
    with running_bot(token=TOKEN) as bot:
        config = parse_config(config_text(bot), "liveguard.toml", os.environ)
        clock = SystemClock()
        home = StateHome(Paths.resolve(home=str(folder / "latency")), clock).open()
        room = ControlRoom(config, home, clock, "id")
        await room.start()
        took: list[float] = []
        try:
            await asyncio.sleep(0.5)
            for _ in range(rounds):
                seen = len(bot.received_at)
                started = time.perf_counter()
                room.status.declare("tiktok", "down", "bench")
                while len(bot.received_at) == seen:
                    await asyncio.sleep(0.001)
                took.append(bot.received_at[seen] - started)
                room.status.declare("tiktok", "clear")
                await asyncio.sleep(1.1)  # the UP message goes too; and a new outage start
        finally:
            await room.stop()
            home.close()
        return took


async def stall(seconds: float, folder: Path, targets: int = 5, phone: bool = True) -> float:
    os.environ["TG"] = TOKEN
    with running_bot(token=TOKEN) as bot, LoopbackServer() as slow:
        slow.route("/hook", hang())
        config = parse_config(
            config_text(bot, slow.url("/hook"), targets=targets, phone=phone),
            "liveguard.toml",
            os.environ,
        )
        clock = FixedClock(datetime.now(UTC))
        home = StateHome(Paths.resolve(home=str(folder / f"stall-{targets}")), clock).open()
        try:
            app = make_app(home, clock, "en", config)
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.pause(1.5)
                watch = StallWatch().start()
                room = app.room
                for i in range(int(seconds / 0.5)):
                    clock.advance(timedelta(minutes=1))  # a new outage each round: new keys
                    room.events.publish(down_event(clock.now(), i))
                    await asyncio.sleep(0.5)
                worst = await watch.stop()
                hits, got = slow.hits("/hook"), len(bot.sent)
                print(f"   hanging targets: {hits} requests; telegram got {got}")
        finally:
            home.close()
    return worst * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        took = asyncio.run(latency(args.rounds, Path(tmp)))
        median, worst = statistics.median(took), max(took)
        print(f"   DOWN -> Bot API: median {median * 1000:.0f} ms, max {worst * 1000:.0f} ms")
        result(
            "phone",
            "DOWN -> Bot API, median",
            median * 1000,
            "ms",
            "<= 1000",
            median <= LATENCY_GOAL_S,
        )
        result("phone", "DOWN -> Bot API, max", worst * 1000, "ms", "", None)
        baseline = asyncio.run(stall(args.seconds, Path(tmp), targets=0, phone=False))
        print(f"   UI stall, the same events with no notify target: {baseline:.0f} ms")
        result("phone", "UI stall, no notify target (baseline)", baseline, "ms", "", None)
        worst_ms = asyncio.run(stall(args.seconds, Path(tmp)))
        print(f"   UI stall with 5 hanging targets: {worst_ms:.0f} ms")
        result(
            "phone",
            "UI stall, 5 hanging targets",
            worst_ms,
            "ms",
            "<= 50",
            worst_ms <= STALL_GOAL_MS,
        )


if __name__ == "__main__":
    main()
