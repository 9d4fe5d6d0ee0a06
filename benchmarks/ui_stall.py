"""The control room's largest event-loop stall while the network misbehaves.

The app runs headless (``App.run_test``) with one live channel per fault (refused, reset
mid-body, hang, drip, TLS failure, DNS failure, each probed every 0.5 s), a dripping order
feed and a Plan B webhook in a 429 storm (see tests/faulty_network.py). A task sleeps 5 ms
over and over; how late it wakes is how long the screen could not answer a key.

Three windows, each after a 1.5 s start-up that is not counted (startup.py measures it):

- faults, keys: the help screen opened and closed with ``?``/Esc, under every fault
  (the figure; goal <= 50 ms);
- faults only: no keys pressed, the same faults;
- keys only: the same key presses on the starter config with no network at all (baseline).

The faults alone cost a few ms; what is left with keys is Textual drawing the whole screen
when the help screen opens or closes, plus full garbage collections of its render caches
(the heap is frozen after the first frame, see ui/app.py; more presses fill the caches
further and the worst stall grows towards ~100 ms before it levels off).

    .venv/bin/python benchmarks/ui_stall.py [--seconds 4] [--presses 20]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._results import result
from tests.conftest import make_app, starter_config
from tests.faulty_network import StallWatch, faulty_config, faulty_network

from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.timekeeping import FixedClock

GOAL_MS = 50.0
WARM_UP_S = 1.5


async def window(faults: bool, presses: int, seconds: float, folder: Path) -> tuple[float, int]:
    """Largest stall (ms) and the ticks watched in one window."""
    clock = FixedClock(datetime.now(UTC))
    home = StateHome(Paths.resolve(home=str(folder / "home")), clock).open()
    try:
        with faulty_network(folder / "net") as net:
            config = faulty_config(net, every_s=0.5, timeout_s=0.3) if faults else starter_config()
            app = make_app(home, clock, "en", config)
            if faults:
                app.room.planb.press(reason="storm")
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.pause(WARM_UP_S)
                watch = StallWatch().start()
                if presses:
                    for _ in range(presses):
                        await pilot.press("question_mark")
                        await pilot.press("escape")
                        clock.advance(timedelta(seconds=1))  # lets webhook retries fall due
                else:
                    for _ in range(int(seconds / 0.1)):
                        await asyncio.sleep(0.1)
                        clock.advance(timedelta(seconds=1))
                worst = await watch.stop()
    finally:
        home.close()
    return worst * 1000, watch.ticks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="the faults-only window")
    parser.add_argument("--presses", type=int, default=20, help="help open/close rounds")
    args = parser.parse_args()
    figures = {}
    for name, faults, presses in (
        ("faults, keys", True, args.presses),
        ("faults only", True, 0),
        ("keys only", False, args.presses),
    ):
        with tempfile.TemporaryDirectory(prefix="lg-ui-stall-") as folder:
            worst, ticks = asyncio.run(window(faults, presses, args.seconds, Path(folder)))
        figures[name] = worst
        print(f"{name:<13} largest stall {worst:6.1f} ms over {ticks} ticks", flush=True)
    main_figure = figures["faults, keys"]
    result(
        "ui_stall",
        "largest event-loop stall, keys pressed under network faults",
        main_figure,
        "ms",
        f"<= {GOAL_MS:g} ms",
        main_figure <= GOAL_MS,
    )
    result(
        "ui_stall", "largest stall, network faults, no keys", figures["faults only"], "ms", "", None
    )
    result(
        "ui_stall",
        "largest stall, keys, no network (baseline)",
        figures["keys only"],
        "ms",
        "",
        None,
    )


if __name__ == "__main__":
    main()
