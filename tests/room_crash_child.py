"""Child process for tests/test_room_crash.py: the real control room, headless, busy.

Usage: python tests/room_crash_child.py HOME ROUND IMPORT_FILE [--drain SECONDS]

It records sales by hand, imports an export (printing ``IMPORTING`` before and
``IMPORT <added>`` after), presses the Plan B key now and then, while the
room probes and polls the demo world's loopback servers. Every sale is printed as
``ORDER <id>`` only after its write returned (what the screen would acknowledge). With
``--drain`` it presses nothing and quits cleanly after SECONDS, letting the outbox finish.
"""

from __future__ import annotations

import sys
from pathlib import Path

from textual.pilot import Pilot

from liveguard.adapters.config_file import load_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.timekeeping import SystemClock
from liveguard.service.room import ControlRoom
from liveguard.ui.app import LiveguardApp


def main() -> None:
    home_dir, round_no, import_file = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    drain = float(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--drain" else None
    clock = SystemClock()
    config = load_config(Path(home_dir) / "liveguard.toml", environ={})
    home = StateHome(Paths.resolve(home=home_dir), clock).open()
    home.hold_room()
    room = ControlRoom(config, home, clock, "en")
    app = LiveguardApp(room, animations=False)

    async def busy(pilot: Pilot[None]) -> None:
        print("UP", flush=True)
        if drain is not None:
            await pilot.pause(drain)
            app.exit()  # the app stops the room on its way out
            return
        n = 0
        while True:
            n += 1
            order_id = f"r{round_no}-{n}"
            room.sales.add_sale("instagram", 25_000 + n, order_id=order_id)
            print(f"ORDER {order_id}", flush=True)
            if n % 7 == 3:
                print(f"IMPORTING {import_file.name}", flush=True)
                outcome = room.sales.import_file(import_file)
                print(f"IMPORT {outcome.results['added']}", flush=True)
            if n % 5 == 1:
                await app.run_action("planb")  # the key's action, without the pilot's idle wait
                print("PRESS", flush=True)
            await pilot.pause(0.05)

    app.run(headless=True, size=(120, 40), auto_pilot=busy)
    home.close()


if __name__ == "__main__":
    main()
