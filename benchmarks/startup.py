"""How long until the control room paints its first frame, and how much memory it takes,
with a busy seller's year of history against an empty home (same config, same run).

Goals: time ratio year/empty <= 1.25; history adds <= 50% peak memory.

    python benchmarks/startup.py                 # 365 days x 5,000 orders (a few minutes)
    python benchmarks/startup.py --days 60       # quicker
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from _results import result, spread_result
from liveguard.adapters.history_store import HistoryStore, compact_old_days
from liveguard.adapters.order_store import OrderStore
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.cli.home_commands import starter_config_text
from liveguard.core.timekeeping import FixedClock, load_zone
from store_growth import day_orders

HERE = Path(__file__).resolve().parent
ZONE = load_zone("Asia/Jakarta")
TODAY = date(2026, 11, 28)


def make_home(folder: Path, days: int, per_day: int) -> Path:
    folder.mkdir(parents=True)
    (folder / "liveguard.toml").write_text(starter_config_text())
    clock = FixedClock(datetime(2026, 11, 28, 14, tzinfo=UTC))
    home = StateHome(Paths.resolve(home=str(folder)), clock).open()
    orders = OrderStore(home, ZONE)
    for back in range(days, -1, -1):  # the past year and today so far
        count = per_day if back else per_day * 21 // 24
        orders.upsert_many(day_orders(TODAY - timedelta(days=back), count))
    with home.writing():
        compact_old_days(orders, HistoryStore(home), ZONE, TODAY)
    home.close()
    return folder


def measure(home: Path, runs: int) -> tuple[float, float]:
    frames, peaks = [], []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, str(HERE / "_startup_child.py"), str(home)],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        line = json.loads(proc.stdout.strip().splitlines()[-1])
        frames.append(line["first_frame_s"])
        peaks.append(line["peak_rss_mb"])
    return statistics.median(frames), statistics.median(peaks)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--orders-per-day", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lg-startup-") as tmp:
        empty = make_home(Path(tmp) / "empty", -1, 0)
        year = make_home(Path(tmp) / "year", args.days, args.orders_per_day)
        files = sum(1 for _ in (year / "state").rglob("*.json"))
        measure(empty, 1)  # warm the file cache and bytecode once
        measure(year, 1)
        pairs = [(measure(empty, 1), measure(year, 1)) for _ in range(args.runs)]  # in turns
    ratios = [y[0] / e[0] for e, y in pairs]
    growths = [(y[1] / e[1] - 1) * 100 for e, y in pairs]
    empty_s, empty_mb = (statistics.median(e[i] for e, _ in pairs) for i in (0, 1))
    year_s, year_mb = (statistics.median(y[i] for _, y in pairs) for i in (0, 1))
    ratio, memory = statistics.median(ratios), statistics.median(growths) / 100
    bench = "startup"
    print(
        f"startup: first painted frame, median of {args.runs} runs in turns ({files} state files)"
    )
    print(f"  empty home      {empty_s * 1000:8.0f} ms   peak {empty_mb:6.1f} MB")
    print(f"  year of orders  {year_s * 1000:8.0f} ms   peak {year_mb:6.1f} MB")
    print(f"  time ratio      {ratio:8.2f}      goal <= 1.25")
    print(f"  memory added    {memory * 100:7.0f} %      goal <= 50 %")
    result(bench, "first frame, empty home", empty_s * 1000, "ms", "", None)
    result(bench, "first frame with a year of history", year_s * 1000, "ms", "", None)
    spread_result(bench, "time year / empty", ratios, "x", "<= 1.25", 1.25)
    result(bench, "peak memory, empty home", empty_mb, "MB", "", None)
    spread_result(bench, "memory added by history", growths, "%", "<= 50", 50)
    return 0


if __name__ == "__main__":
    sys.exit(main())
