"""Import speed: a 100,000-row TikTok-style CSV and a 20,000-row Shopee-style xlsx.

For each file, measured like for like in the same run:
- baseline: a plain pass over the file (``csv.DictReader`` / openpyxl read-only iteration);
- parse: ``parse_export`` (detect, read, check every row, group lines into orders);
- import: ``SalesService.import_file`` into a fresh state home (parse + durable writes).
Every pass runs under the same interpreter settings: the cyclic GC paused (as the import
pauses it), after one untimed warm-up of each (imports loaded, the file in the page cache),
the three taking turns run by run so a busy moment of the shared machine falls on all alike.
Prints import / baseline per run (goals: CSV <= 2.5, xlsx <= 1.2) as the median of
``--repeat`` runs (default 5) with min and max, the same in CPU time, parse / baseline, and
the peak Python memory of one import (tracemalloc, a separate, untimed run).

    .venv/bin/python benchmarks/import_speed.py [--csv-rows 100000] [--xlsx-rows 20000]
"""

from __future__ import annotations

import argparse
import csv
import gc
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._results import result, spread_result
from tests.fixtures_sales import big_shopee_xlsx, big_tiktok_csv

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.importers import no_cyclic_gc, parse_export
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


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU time of this process) of one run with the cyclic GC paused, as the import
    pauses it. On a shared, busy machine the CPU time is the steadier figure; the wall time
    includes waiting for fsync."""
    gc.collect()
    with no_cyclic_gc():
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        return time.perf_counter() - wall, time.process_time() - cpu


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
    passes: dict[str, Callable[[], object]] = {
        "plain": lambda: plain(path),
        "parse": lambda: parse_export(path, ZONE),
        "import": lambda: import_into_fresh_home(path, work / f"{name}-{next(counter)}"),
    }
    for run in passes.values():  # warm-up: modules, caches, the file in the page cache
        timed(run)
    walls: dict[str, list[float]] = {key: [] for key in passes}
    cpus: dict[str, list[float]] = {key: [] for key in passes}
    for _ in range(repeat):
        for key, run in passes.items():
            wall, cpu = timed(run)
            walls[key].append(wall)
            cpus[key].append(cpu)
    rows = plain(path)
    orders = import_into_fresh_home(path, work / f"{name}-count")
    tracemalloc.start()
    import_into_fresh_home(path, work / f"{name}-mem")
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    def per_run(key: str, times: dict[str, list[float]]) -> list[float]:
        return [a / b for a, b in zip(times[key], times["plain"], strict=True)]

    ratio = statistics.median(per_run("import", walls))
    print(
        f"{name}: {rows:,} rows, {orders:,} orders, {path.stat().st_size / 2**20:.1f} MiB | "
        f"plain pass {statistics.median(walls['plain']):.2f} s, "
        f"parse {statistics.median(walls['parse']):.2f} s, "
        f"import {statistics.median(walls['import']):.2f} s ({ratio:.2f}x, goal <= {goal:g}x; "
        f"CPU time {statistics.median(per_run('import', cpus)):.2f}x), peak {peak:.0f} MiB"
    )
    bench = "import_speed"
    spread_result(bench, f"{name} import / plain pass", per_run("import", walls), "x",
                  f"<= {goal:g}", goal)  # fmt: skip
    spread_result(bench, f"{name} import / plain pass, CPU time", per_run("import", cpus), "x")
    spread_result(bench, f"{name} parse only / plain pass", per_run("parse", walls), "x")
    spread_result(bench, f"{name} parse only / plain pass, CPU time", per_run("parse", cpus), "x")
    spread_result(bench, f"{name} import time", walls["import"], "s")
    result(bench, f"{name} peak memory (tracemalloc)", peak, "MiB", "", None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv-rows", type=int, default=100_000)
    parser.add_argument("--xlsx-rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lg-import-bench-") as tmp:
        work = Path(tmp)
        csv_path = big_tiktok_csv(work / "tiktok.csv", args.csv_rows)
        xlsx_path = big_shopee_xlsx(work / "shopee.xlsx", args.xlsx_rows)
        measure("TikTok CSV", csv_path, plain_csv, 2.5, args.repeat, work)
        measure("Shopee xlsx", xlsx_path, plain_xlsx, 1.2, args.repeat, work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
