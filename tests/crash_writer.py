"""Child process for crash tests: records orders one by one, printing each acknowledged id.

Usage: python tests/crash_writer.py HOME START_ID
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from liveguard.adapters.order_store import OrderStore
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.orders import Order
from liveguard.core.timekeeping import load_zone


def main() -> None:
    home_dir, start = sys.argv[1], int(sys.argv[2])
    home = StateHome(Paths.resolve(home=home_dir)).open()
    store = OrderStore(home, load_zone("Asia/Jakarta"))
    base = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)
    n = start
    while True:
        order = Order("tiktok", f"o{n}", base + timedelta(seconds=n), 10_000 + n)
        store.upsert(order)
        print(order.order_id, flush=True)  # acknowledged only after the durable write
        n += 1


if __name__ == "__main__":
    main()
