"""Does a durable write stay fast as history grows?

Prints the median time to durably record one new order
  (a) in an empty home,
  (b) in a home holding a busy seller's year (365 days x 5,000 orders over 4 channels),
their ratio (goal <= 2), and the same one-order write into one plain TinyDB JSON file
holding the same year (goal: ours at least 50x faster).

    python benchmarks/store_growth.py            # the full year (takes a few minutes)
    python benchmarks/store_growth.py --days 30  # a quick look
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tinydb import TinyDB

from _results import result
from liveguard.adapters.order_store import OrderStore
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.orders import Order, OrderStatus
from liveguard.core.timekeeping import FixedClock, day_bounds_utc, load_zone

ZONE = load_zone("Asia/Jakarta")
CHANNELS = ("tiktok", "shopee", "tokopedia", "instagram")
TODAY = date(2026, 11, 28)


def day_orders(day: date, count: int) -> list[Order]:
    start, _ = day_bounds_utc(day, ZONE)
    step = 86_400 / count
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


def median_ms(action: Callable[[int], object], repeats: int) -> float:
    times = []
    for n in range(repeats):
        started = time.perf_counter()
        action(n)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def new_order(n: int) -> Order:
    return Order("tiktok", f"new-{n}", datetime(2026, 11, 28, 14, 0, n % 60, tzinfo=UTC), 125_000)


def ours(folder: Path, days: int, per_day: int, repeats: int) -> float:
    home = StateHome(
        Paths.resolve(home=str(folder)), FixedClock(datetime(2026, 11, 28, 14, tzinfo=UTC))
    ).open()
    store = OrderStore(home, ZONE)
    for back in range(days, 0, -1):
        store.upsert_many(day_orders(TODAY - timedelta(days=back), per_day))
    result = median_ms(lambda n: store.upsert(new_order(n)), repeats)
    home.close()
    return result


def plain_tinydb(folder: Path, days: int, per_day: int, repeats: int) -> float:
    path = folder / "plain.json"
    docs: dict[str, dict[str, object]] = {}
    n = 0
    for back in range(days, 0, -1):
        for order in day_orders(TODAY - timedelta(days=back), per_day):
            n += 1
            docs[str(n)] = order.to_doc()
    path.write_text(json.dumps({"_default": docs}))
    del docs
    db = TinyDB(path)
    result = median_ms(lambda i: db.insert(new_order(i).to_doc()), repeats)
    db.close()
    return result


def verdict(met: bool) -> str:
    return "MET" if met else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--orders-per-day", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=25)
    parser.add_argument("--plain-repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lg-bench-") as tmp:
        root = Path(tmp)
        empty = ours(root / "empty", 0, 0, args.repeats)
        year = ours(root / "year", args.days, args.orders_per_day, args.repeats)
        plain = plain_tinydb(root, args.days, args.orders_per_day, args.plain_repeats)
    history = f"{args.days} days x {args.orders_per_day:,} orders"
    ratio, speedup = year / empty, plain / year
    print(f"store_growth: one new order, durable (temp file + fsync + rename), history = {history}")
    print(f"  empty home               {empty:9.2f} ms (median of {args.repeats})")
    print(f"  with history             {year:9.2f} ms (median of {args.repeats})")
    print(f"  plain TinyDB, one file   {plain:9.2f} ms (median of {args.plain_repeats}, no fsync)")
    print(f"  ratio history/empty      {ratio:9.2f}   goal <= 2     {verdict(ratio <= 2)}")
    print(f"  plain/ours               {speedup:9.1f}x  goal >= 50x   {verdict(speedup >= 50)}")
    bench = "store_growth"
    result(bench, "durable write of one order, empty home", empty, "ms", "", None)
    result(bench, f"the same with {history} of history", year, "ms", "", None)
    result(bench, "history / empty", ratio, "x", "<= 2", ratio <= 2)
    result(bench, "plain one-file TinyDB / ours", speedup, "x", ">= 50", speedup >= 50)
    return 0


if __name__ == "__main__":
    sys.exit(main())
