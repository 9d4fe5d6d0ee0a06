"""Shopee: how soon an order created on the platform shows in `today --json`.

A Shopee-shaped platform on 127.0.0.1 (the tests' one: it checks every signature), a shop
connected the way `connect shopee` does, and the sales service's own Shopee loop polling
every EVERY seconds. Twenty orders are created at random moments of the poll cycle; for each,
the time until a separate reader of the state folder (what `today --json` runs) counts it.
Goal: every order within one poll interval + 1 s. The last count is checked with the real
`liveguard today --json`.

    .venv/bin/python benchmarks/shopee_latency.py [--orders 20] [--every 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._results import result
from tests.shopee_platform import ENV, RunningPlatform, shopee_config

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.timekeeping import SystemClock
from liveguard.service.sales import SalesService
from liveguard.service.shopee_connect import authorization_link, connect

BENCH = "shopee_latency"


def paid_today(sales: SalesService) -> int:
    row = sales.today().channel("shopee")
    return row.orders if row else 0


async def measure(
    home_dir: Path, api: str, shopee: RunningPlatform, orders: int, every: float
) -> list[float]:
    clock = SystemClock()
    config = parse_config(shopee_config(api, every=f"{int(every * 1000)}ms"), environ=ENV)
    home = StateHome(Paths.resolve(home=str(home_dir)), clock).open()
    reader_home = StateHome(Paths.resolve(home=str(home_dir)), clock).open()
    pool = HttpPool(4)
    sales = SalesService(config, home, clock, pool=pool, environ=ENV)
    reader = SalesService(config, reader_home, clock, environ=ENV)  # as `today --json` reads
    source = config.shopee[0]
    link = authorization_link(source, ENV, clock, "https://localhost/liveguard")
    await connect(source, home, clock, ENV, pool, shopee.platform.authorize(link))
    sales.start()
    rng = random.Random(17)
    latencies = []
    try:
        for n in range(orders):
            await asyncio.sleep(rng.uniform(0, every))  # a random moment of the poll cycle
            before = await asyncio.to_thread(paid_today, reader)
            created = time.perf_counter()
            shopee.platform.add_order(f"BENCH{n:04d}", int(time.time()), 99_000, "READY_TO_SHIP")
            while await asyncio.to_thread(paid_today, reader) == before:
                if time.perf_counter() - created > every * 5 + 10:
                    raise SystemExit(f"order {n} never appeared")
                await asyncio.sleep(0.02)
            latencies.append(time.perf_counter() - created)
    finally:
        await sales.stop()
        await pool.aclose()
        home.close()
        reader_home.close()
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--every", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, RunningPlatform() as shopee:
        home_dir = Path(tmp) / "home"
        home_dir.mkdir()
        (home_dir / "liveguard.toml").write_text(shopee_config(shopee.url))
        latencies = asyncio.run(measure(home_dir, shopee.url, shopee, args.orders, args.every))
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEGUARD")}
        out = subprocess.run(
            [sys.executable, "-m", "liveguard", "--home", str(home_dir), "today", "--json"],
            capture_output=True, text=True, env={**env, **ENV}, check=True,
        )  # fmt: skip
        (row,) = json.loads(out.stdout)["channels"]
        assert row["orders"] == args.orders, row
    goal = args.every + 1.0
    median, worst = statistics.median(latencies), max(latencies)
    print(
        f"{args.orders} orders, polling every {args.every:g} s: "
        f"median {median:.2f} s, max {worst:.2f} s (goal <= {goal:g} s); "
        f"`today --json` shows all {row['orders']}"
    )
    result(BENCH, "order to today --json, median", median, "s", f"<= {goal:g} s", median <= goal)
    result(BENCH, "order to today --json, max", worst, "s", f"<= {goal:g} s", worst <= goal)
    return 0 if worst <= goal else 1


if __name__ == "__main__":
    sys.exit(main())
