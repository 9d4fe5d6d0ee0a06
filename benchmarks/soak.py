"""Soak: the control room through the demo story at high speed for 72 hours of its clock.

The demo world's loopback servers (status pages, order feeds, the webhook receiver) run on
their thread; the room runs headless (``App.run_test``) on a clock the benchmark moves
``--hours`` hours on over ``--wall`` seconds (default 72 h in 6 minutes: 12 minutes of the
clock per second). The story plays its evening (TikTok down, Plan B, live back), then its
orders go on at the demo's rates (~69,000 a day over four channels, far busier than the
seller's 5,000); from hour 2 TikTok Live stays down to the end, as the real outage did for
~3.5 days, so Plan B engages and stays on. The day's turn is looked at every second of wall
time (``ROLLOVER_CHECK_S``; a day passes in two minutes here).

Measured after warm-up (hour 24) and at the end (hour 72), the same time of day: resident
memory (goal: growth <= 10 %), Python's allocated blocks, the state folder's size and its
largest file, and the event-loop stall (p95 and largest) over ``--presses`` rounds of the
help screen opened and closed while the clock runs.

    .venv/bin/python benchmarks/soak.py [--hours 72] [--wall 360] [--presses 20]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tests.faulty_network import StallWatch

from _results import result
from liveguard.adapters.config_file import parse_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.timekeeping import FixedClock
from liveguard.demo import DemoWorld
from liveguard.service import sales
from liveguard.service.room import ControlRoom
from liveguard.ui.app import LiveguardApp

GROWTH_GOAL = 10.0  # %
STEP_S = 0.1  # wall seconds between clock moves
WARM_UP_SHARE = 1 / 3  # warm-up ends a third of the way in (hour 24 of 72)
OUTAGE_FROM_H = 2
START = datetime(2026, 11, 28, 11, tzinfo=UTC)  # 18.00 WIB: the evening


def resident_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def folder_size(folder: Path) -> tuple[int, int, str]:
    """(bytes in all files, bytes of the largest, its name)."""
    files = [(p.stat().st_size, p.name) for p in folder.rglob("*") if p.is_file()]
    largest = max(files, default=(0, ""))
    return sum(size for size, _ in files), largest[0], largest[1]


class Soak:
    def __init__(self, hours: float, wall: float, presses: int, folder: Path) -> None:
        self.hours, self.presses = hours, presses
        self.step = timedelta(hours=hours) * (STEP_S / wall)
        self.clock = FixedClock(START)
        self.folder = folder
        self.samples: dict[str, dict[str, float]] = {}
        self.lines: list[str] = []

    def elapsed_h(self) -> float:
        return (self.clock.now() - START).total_seconds() / 3600

    async def run(self) -> None:
        with DemoWorld(clock=self.clock, play=False) as world:
            config = parse_config(world.config_text(), "liveguard.toml", environ={})
            home = StateHome(Paths.resolve(home=str(self.folder)), self.clock).open()
            try:
                room = ControlRoom(config, home, self.clock, "en")
                app = LiveguardApp(room, animations=False)
                async with app.run_test(size=(120, 40)) as pilot:
                    mover = asyncio.create_task(self._move(world))
                    await self._until(self.hours * WARM_UP_SHARE)
                    await self._sample("warm-up", pilot)
                    await self._until(self.hours)
                    await self._sample("end", pilot)
                    mover.cancel()
                    self.lines.append(f"Plan B at the end: {room.planb.view().state}")
            finally:
                home.close()
            self.lines.append(f"webhooks received by the demo shop: {len(world.shop.received())}")

    async def _move(self, world: DemoWorld) -> None:
        loop = world._loop  # the story plays on the demo's own thread, as in `liveguard demo`
        down = False
        while True:
            await asyncio.sleep(STEP_S)
            self.clock.advance(self.step)
            story_s = (self.clock.now() - START).total_seconds()
            loop.call_soon_threadsafe(world.story.advance_to, story_s)
            if not down and self.elapsed_h() >= OUTAGE_FROM_H:
                loop.call_soon_threadsafe(world.shop.set_live, "tiktok", False)
                down = True

    async def _until(self, hour: float) -> None:
        while self.elapsed_h() < hour:
            await asyncio.sleep(STEP_S)

    async def _sample(self, name: str, pilot) -> None:  # type: ignore[no-untyped-def]
        watch = StallWatch().start()
        for _ in range(self.presses):
            await pilot.press("question_mark")
            await pilot.press("escape")
        await watch.stop()
        gc.collect()
        total, largest, largest_name = folder_size(self.folder)
        lates = sorted(late * 1000 for late in watch.lates)
        self.samples[name] = {
            "hour": self.elapsed_h(),
            "rss": resident_kib() / 1024,
            "blocks": sys.getallocatedblocks(),
            "files": total / 2**20,
            "largest": largest / 2**20,
            "p50": statistics.median(lates),
            "p95": lates[min(len(lates) - 1, int(len(lates) * 0.95))],
            "max": lates[-1],
        }
        s = self.samples[name]
        self.lines.append(
            f"{name:<8} hour {s['hour']:5.1f}: memory {s['rss']:6.1f} MiB resident, "
            f"{s['blocks']:,} Python blocks; state {s['files']:6.1f} MiB (largest "
            f"{largest_name} {s['largest']:.1f} MiB); stall p50 {s['p50']:.1f} ms, "
            f"p95 {s['p95']:.1f} ms, max {s['max']:.1f} ms"
        )
        print(self.lines[-1], flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=72.0)
    parser.add_argument("--wall", type=float, default=360.0, help="seconds of real time")
    parser.add_argument("--presses", type=int, default=20)
    args = parser.parse_args()
    sales.ROLLOVER_CHECK_S = 1.0
    with tempfile.TemporaryDirectory(prefix="lg-soak-") as tmp:
        soak = Soak(args.hours, args.wall, args.presses, Path(tmp))
        asyncio.run(soak.run())
    for line in soak.lines[2:]:
        print(line)
    warm, end = soak.samples["warm-up"], soak.samples["end"]
    growth = (end["rss"] / warm["rss"] - 1) * 100
    bench, span = "soak", f"hour {warm['hour']:.0f} -> {end['hour']:.0f}"
    result(bench, f"resident memory growth, {span}", growth, "%", f"<= {GROWTH_GOAL:g} %",
           growth <= GROWTH_GOAL)  # fmt: skip
    result(bench, f"resident memory at hour {args.hours:g}", end["rss"], "MiB", "", None)
    blocks = (end["blocks"] / warm["blocks"] - 1) * 100
    result(bench, f"Python allocated blocks growth, {span}", blocks, "%", "", None)
    result(bench, f"state folder at hour {warm['hour']:.0f}", warm["files"], "MiB", "", None)
    result(bench, f"state folder at hour {args.hours:g}", end["files"], "MiB", "", None)
    result(bench, f"largest state file at hour {args.hours:g}", end["largest"], "MiB", "", None)
    for key in ("p95", "max"):
        for name, sample in (("warm-up", warm), ("end", end)):
            figure = f"stall {key} with keys, {name} (hour {sample['hour']:.0f})"
            result(bench, figure, sample[key], "ms", "", None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
