"""`make bench`: run every benchmark, print one table of figures and goals, write RESULTS.md."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PREFIX = "RESULT "


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = "?"
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), {memory} RAM, "
        f"Python {platform.python_version()}"
    )


def load() -> str:
    """The 1-, 5- and 15-minute load averages (the machine may be shared)."""
    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main() -> int:
    load_before = load()
    scripts = sorted(
        p for p in HERE.glob("*.py") if not p.name.startswith("_") and p.name != Path(__file__).name
    )
    rows: list[dict[str, object]] = []
    failures: list[str] = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        for line in proc.stdout.splitlines():
            if line.startswith(PREFIX):
                rows.append(json.loads(line[len(PREFIX) :]))
            else:
                print("   " + line)
        if proc.returncode != 0:
            failures.append(
                f"{script.name} exited {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]}"
            )
        print(f"   ({time.perf_counter() - started:.0f} s)", flush=True)
    table = render(rows)
    print()
    print(table)
    for failure in failures:
        print("FAILED:", failure)
    missed = [f"- {r['bench']}: {r['figure']}\n" for r in rows if r["met"] is False]
    footer = f"Goals missed ({len(missed)}):\n\n" + "".join(missed) if missed else ""
    (HERE / "RESULTS.md").write_text(
        "# Benchmark results\n\n"
        f"Machine: {machine()}.\n"
        f"Load average (1, 5, 15 min) at the start: {load_before}; at the end: {load()}.\n\n"
        "Produced by `make bench` (`benchmarks/run_all.py`); each figure is printed by the script\n"
        "named in the first column, ratios against a baseline measured in the same run, under\n"
        "the same interpreter settings. A figure measured several times shows the median with\n"
        "the min-max of the runs in brackets. The machine may be shared: read a figure with its\n"
        "spread and the load above.\n\n" + table + "\n\n" + (footer or "Every goal was met.\n")
    )
    return 1 if failures else 0


def render(rows: list[dict[str, object]]) -> str:
    lines = ["| benchmark | figure | value | goal | met |", "| --- | --- | --- | --- | --- |"]
    for row in rows:
        met = {True: "yes", False: "**no**", None: "-"}[row["met"]]  # type: ignore[index]
        value = f"{row['value']:,} {row['unit']}".strip()
        if row.get("runs"):
            value += f" ({row['min']:,}-{row['max']:,}, {row['runs']} runs)"
        lines.append(
            f"| {row['bench']} | {row['figure']} | {value} | {row['goal'] or '-'} | {met} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
