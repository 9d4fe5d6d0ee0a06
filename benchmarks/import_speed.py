"""Import speed: a 100,000-row TikTok-style CSV and a 20,000-row Shopee-style xlsx.

For each file, in the same run:
- baseline: a plain pass over the file (``csv.DictReader`` / openpyxl read-only iteration);
- parse: ``parse_export`` (detect, read, check every row, group lines into orders);
- import: ``SalesService.import_file`` into a fresh state home (parse + durable writes);
and prints import ÷ baseline (goals: CSV <= 3, xlsx <= 1.5), parse ÷ baseline, and the peak
Python memory of one import (tracemalloc, measured in a separate, untimed run).
Each timing is the best of ``--repeat`` runs (default 3).

    .venv/bin/python benchmarks/import_speed.py [--csv-rows 100000] [--xlsx-rows 20000]
"""

from __future__ import annotations

import argparse
import csv
import gc
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._results import result
from tests.fixtures_sales import big_shopee_xlsx, big_tiktok_csv

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.importers import parse_export
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.timekeeping import FixedClock
from liveguard.service.sales import SalesService

ZONE = ZoneInfo("Asia/Jakarta")
CONFIG = """
[[channels]]
id = "tiktok"
name = "TikTok Shop"
[[channels]]
id = "shopee"
name = "Shopee"
"""


def plain_csv(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return sum(1 for _ in csv.DictReader(fh))


def plain_xlsx(path: Path) -> int:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, float]:
    """(best wall time, best CPU time of this process): on a shared, busy machine the CPU
    time is the steadier figure; the wall time includes waiting for fsync."""
    walls, cpus = [], []
    for _ in range(repeat):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def import_into_fresh_home(path: Path, folder: Path) -> int:
    folder.mkdir(parents=True)
    # The day after the export's month ends: its 30 days are all recent (per-day files).
    clock = FixedClock(datetime(2026, 11, 1, 2, tzinfo=UTC))
    home = StateHome(Paths.resolve(home=str(folder)), clock).open()
    try:
        sales = SalesService(parse_config(CONFIG, "liveguard.toml", environ={}), home, clock)
        outcome = sales.import_file(path)
        assert not outcome.rejected, outcome.rejected[:3]
        return outcome.results["added"]
    finally:
        home.close()


def measure(
    name: str, path: Path, plain: Callable[[Path], int], goal: float, repeat: int, work: Path
) -> None:
    counter = iter(range(1_000_000))
    rows = plain(path)
    baseline, baseline_cpu = best_of(repeat, lambda: plain(path))
    parse, parse_cpu = best_of(repeat, lambda: parse_export(path, ZONE))
    full, full_cpu = best_of(
        repeat, lambda: import_into_fresh_home(path, work / f"{name}-{next(counter)}")
    )
    orders = import_into_fresh_home(path, work / f"{name}-count")
    tracemalloc.start()
    import_into_fresh_home(path, work / f"{name}-mem")
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    ratio = full / baseline
    print(
        f"{name}: {rows:,} rows, {orders:,} orders, {path.stat().st_size / 2**20:.1f} MiB | "
        f"plain pass {baseline:.2f} s, parse {parse:.2f} s ({parse / baseline:.2f}x), "
        f"import {full:.2f} s ({ratio:.2f}x, goal <= {goal:g}x; CPU time "
        f"{full_cpu / baseline_cpu:.2f}x), peak {peak:.0f} MiB"
    )
    result("import_speed", f"{name} import / plain pass", ratio, "x", f"<= {goal:g}", ratio <= goal)
    result(
        "import_speed",
        f"{name} import / plain pass, CPU time",
        full_cpu / baseline_cpu,
        "x",
        "",
        None,
    )
    result("import_speed", f"{name} parse only / plain pass", parse / baseline, "x", "", None)
    result(
        "import_speed",
        f"{name} parse only / plain pass, CPU time",
        parse_cpu / baseline_cpu,
        "x",
        "",
        None,
    )
    result("import_speed", f"{name} import time", full, "s", "", None)
    result("import_speed", f"{name} peak memory (tracemalloc)", peak, "MiB", "", None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv-rows", type=int, default=100_000)
    parser.add_argument("--xlsx-rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lg-import-bench-") as tmp:
        work = Path(tmp)
        csv_path = big_tiktok_csv(work / "tiktok.csv", args.csv_rows)
        xlsx_path = big_shopee_xlsx(work / "shopee.xlsx", args.xlsx_rows)
        measure("TikTok CSV", csv_path, plain_csv, 3.0, args.repeat, work)
        measure("Shopee xlsx", xlsx_path, plain_xlsx, 1.5, args.repeat, work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
