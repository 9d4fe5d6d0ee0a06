"""Plan B view refresh on a busy day: what the region pays every 0.5 s while Plan B is engaged.

A room (no network) with Plan B activated three hours ago, 5,000 orders today and 5,000
yesterday (over four channels, two of them configured). Each refresh is ``room.planb.view()``
(state, actions, the impact on sales since the activation against the same window yesterday)
with the clock 0.5 s on, as the region's timer calls it. Prints the median and the 95th
percentile of ``--refreshes`` refreshes per run, and the median and spread of the runs'
medians (goal: <= 2 ms).

    .venv/bin/python benchmarks/planb_view.py [--runs 3] [--refreshes 200] [--orders 5000]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tests.conftest import make_room
from tests.fixtures_sales import PLAN_B_SHOP

from _results import result, spread_result
from liveguard.adapters.config_file import parse_config
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.timekeeping import FixedClock
from store_growth import TODAY, day_orders

GOAL_MS = 2.0
NOW = datetime(2026, 11, 28, 14, tzinfo=UTC)  # 21.00 WIB


def one_run(folder: Path, orders: int, refreshes: int) -> tuple[float, float]:
    """(median, p95) of one run's refreshes, in ms."""
    clock = FixedClock(NOW - timedelta(hours=3))
    home = StateHome(Paths.resolve(home=str(folder)), clock).open()
    try:
        room = make_room(home, clock, "en", parse_config(PLAN_B_SHOP, "liveguard.toml", environ={}))
        for day in (TODAY - timedelta(days=1), TODAY):
            room.sales.orders.upsert_many(day_orders(day, orders))
        room.planb.press(reason="bench")
        room.planb.advance()
        clock.advance(timedelta(hours=3))
        view = room.planb.view()  # the first frame's build is not a refresh
        assert view.impact is not None and view.activated_at is not None, view.state
        assert any(row.since_activation for row in view.impact), view.impact
        times = []
        for _ in range(refreshes):
            clock.advance(timedelta(seconds=0.5))
            started = time.perf_counter()
            room.planb.view()
            times.append((time.perf_counter() - started) * 1000)
    finally:
        home.close()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--refreshes", type=int, default=200)
    parser.add_argument("--orders", type=int, default=5000)
    args = parser.parse_args()
    medians, p95s = [], []
    for n in range(args.runs):
        gc.collect()
        with tempfile.TemporaryDirectory(prefix="lg-planb-view-") as tmp:
            median, p95 = one_run(Path(tmp), args.orders, args.refreshes)
        medians.append(median)
        p95s.append(p95)
        print(f"run {n + 1}: median {median:.3f} ms, p95 {p95:.3f} ms", flush=True)
    figure = f"Plan B view refresh, {args.orders:,} orders today and yesterday"
    spread_result("planb_view", figure, medians, "ms", f"<= {GOAL_MS:g} ms", GOAL_MS)
    result("planb_view", f"{figure}, p95 (worst run)", max(p95s), "ms", "", None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
