"""Does a durable write stay fast as the day and the history grow?

Within a day: the median time to durably record one new order, and one feed batch of 50,
with 0, 5,000 and 15,000 orders already in today, and the ratio to the empty day (goal at
15,000: <= 2). Baseline, measured in the same run: the layout before segments (the whole day
file rewritten atomically on every write). Each run makes ``MAX_SEGMENTS`` writes per store,
the stores taking turns write by write (the machine is shared: a busy moment then falls on
all of them alike); one of those writes folds the segments into the day file, so the mean of
the run is the cost with its share of that fold.

Across days: the same one-order write in an empty home and in a home holding a busy
seller's year (365 days x 5,000 orders over 4 channels), goal <= 2.

Every ratio is measured ``--runs`` times (default 3): median, min and max.

    python benchmarks/store_growth.py            # the full year (takes a few minutes)
    python benchmarks/store_growth.py --days 30  # a quick look
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from _results import spread_result
from liveguard.adapters.atomic_storage import AtomicJSONStorage, fsync_folder
from liveguard.adapters.order_store import MAX_SEGMENTS, OrderStore
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.orders import Order, OrderStatus
from liveguard.core.timekeeping import FixedClock, day_bounds_utc, load_zone

ZONE = load_zone("Asia/Jakarta")
CHANNELS = ("tiktok", "shopee", "tokopedia", "instagram")
TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 14, tzinfo=UTC)
BATCH = 50
DAY_SIZES = (0, 5000, 15000)
GOAL = 2.0

Write = Callable[[list[Order]], object]


def day_orders(day: date, count: int) -> list[Order]:
    start, _ = day_bounds_utc(day, ZONE)
    step = 86_400 / count if count else 0
    return [
        Order(
            CHANNELS[i % 4],
            f"{day:%Y%m%d}-{i:05d}",
            start + timedelta(seconds=int(i * step)),
            25_000 + (i * 7919) % 400_000,
            OrderStatus.CANCELLED if i % 23 == 0 else OrderStatus.PAID,
            source="bench",
        )
        for i in range(count)
    ]


_serial = count()


def new_orders(n: int) -> list[Order]:
    base = next(_serial) * 1000
    return [
        Order("tiktok", f"new-{base + i}", NOW - timedelta(seconds=(base + i) % 3600), 125_000)
        for i in range(n)
    ]


def interleaved(writers: dict[str, Write], size: int, rounds: int) -> dict[str, list[float]]:
    """Each writer's write times in ms, taking turns write by write, so a busy moment of the
    shared machine falls on all of them alike; the orders are built before the clock starts."""
    times: dict[str, list[float]] = {name: [] for name in writers}
    for _ in range(rounds):
        for name, write in writers.items():
            batch = new_orders(size)
            started = time.perf_counter()
            write(batch)
            times[name].append((time.perf_counter() - started) * 1000)
    return times


class WholeDayFile:
    """The layout before segments: one TinyDB file per day, rewritten whole (temp file +
    fsync + rename + folder fsync) on every write, its content cached in memory."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        self.storage = AtomicJSONStorage(folder / f"{TODAY.isoformat()}.json")
        self.raw: dict[str, Any] = {"_meta": {"1": {"kind": "orders-day", "schema": 1}}}
        self.raw["orders"] = {}

    def write(self, orders: list[Order]) -> None:
        table = dict(self.raw["orders"])
        ids = {(d["channel"], d["id"]): i for i, d in table.items()}
        next_id = len(table) + 1
        for order in orders:
            key = (order.channel, order.order_id)
            if key not in ids:
                ids[key] = str(next_id)
                next_id += 1
            table[ids[key]] = order.to_doc()
        self.raw = {**self.raw, "orders": table}
        self.storage.write(self.raw, sync_folder=False)
        fsync_folder(self.storage.path.parent)


def open_store(folder: Path) -> tuple[StateHome, OrderStore]:
    home = StateHome(Paths.resolve(home=str(folder)), FixedClock(NOW)).open()
    return home, OrderStore(home, ZONE)


def within_day(root: Path, runs: int) -> dict[tuple[str, str, int], list[float]]:
    """{(layout, write, orders in today): [per-run median ms]} ("segments mean": the mean)."""
    out: dict[tuple[str, str, int], list[float]] = {}
    for run in range(runs):
        gc.collect()
        homes, writers = [], {}
        for size in DAY_SIZES:
            folder = root / f"day-{run}-{size}"
            home, store = open_store(folder / "segments")
            whole = WholeDayFile(folder / "whole")
            today = day_orders(TODAY, size)
            if today:
                store.upsert_many(today)
                whole.write(today)
            homes.append(home)
            writers[f"segments {size}"] = store.upsert_many
            writers[f"whole day {size}"] = whole.write
        for name, n in (("one order", 1), (f"batch of {BATCH}", BATCH)):
            times = interleaved(writers, n, MAX_SEGMENTS)
            for size in DAY_SIZES:
                seg, whole_day = times[f"segments {size}"], times[f"whole day {size}"]
                out.setdefault(("segments", name, size), []).append(statistics.median(seg))
                out.setdefault(("segments mean", name, size), []).append(statistics.mean(seg))
                out.setdefault(("whole day", name, size), []).append(statistics.median(whole_day))
        for home in homes:
            home.close()
    return out


def across_year(root: Path, days: int, per_day: int, runs: int) -> tuple[list[float], list[float]]:
    """Per-run median of one order's write: (empty home, home with ``days`` of history)."""
    homes, writers = [], {}
    for name, history in (("empty", 0), ("year", days)):
        home, store = open_store(root / name)
        for back in range(history, 0, -1):
            store.upsert_many(day_orders(TODAY - timedelta(days=back), per_day))
        homes.append(home)
        writers[name] = store.upsert_many
    empty, year = [], []
    for _ in range(runs):
        times = interleaved(writers, 1, MAX_SEGMENTS)
        empty.append(statistics.median(times["empty"]))
        year.append(statistics.median(times["year"]))
    for home in homes:
        home.close()
    return empty, year


def ratios(over: list[float], under: list[float]) -> list[float]:
    return [a / b for a, b in zip(over, under, strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--orders-per-day", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bench = "store_growth"
    with tempfile.TemporaryDirectory(prefix="lg-bench-") as tmp:
        day = within_day(Path(tmp), args.runs)
        empty, year = across_year(Path(tmp), args.days, args.orders_per_day, args.runs)
    print(f"store_growth: durable writes (temp file + fsync + rename), {args.runs} runs each")
    for name in ("one order", f"batch of {BATCH}"):
        for size in DAY_SIZES:
            seg, mean = day[("segments", name, size)], day[("segments mean", name, size)]
            whole = day[("whole day", name, size)]
            print(
                f"  {name:<12} today {size:>6,} orders: segments {statistics.median(seg):6.2f} ms"
                f" (mean with folds {statistics.median(mean):6.2f}), whole day file"
                f" {statistics.median(whole):7.2f} ms"
            )
        for size in DAY_SIZES[1:]:
            label = f"{name}, {size:,} orders in today / empty day"
            ours = ratios(day[("segments", name, size)], day[("segments", name, 0)])
            spread_result(bench, label, ours, "x", f"<= {GOAL:g}", GOAL if size > 5000 else None)
            amortised = ratios(day[("segments mean", name, size)], day[("segments", name, 0)])
            spread_result(bench, f"{label}, mean with folds", amortised, "x")
            before = ratios(day[("whole day", name, size)], day[("whole day", name, 0)])
            spread_result(bench, f"{label}, layout before (whole day file)", before, "x")
        spread_result(
            bench, f"{name}, 15,000 orders in today", day[("segments", name, 15000)], "ms"
        )
    history = f"{args.days} days x {args.orders_per_day:,} orders"
    spread_result(bench, "one order, empty home", empty, "ms")
    spread_result(bench, f"one order, {history} of history", year, "ms")
    spread_result(bench, "history / empty home", ratios(year, empty), "x", f"<= {GOAL:g}", GOAL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
