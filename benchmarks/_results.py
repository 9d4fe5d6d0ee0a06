"""The one line format every benchmark prints, so `make bench` can build one table.

A benchmark prints whatever it likes for people, plus one ``RESULT {json}`` line per figure:
``{"bench": ..., "figure": ..., "value": ..., "unit": ..., "goal": ..., "met": ...}``, and for
a figure measured several times ``"min"``, ``"max"`` and ``"runs"`` (``value`` is then the
median of the runs).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence

PREFIX = "RESULT "


def result(
    bench: str,
    figure: str,
    value: float,
    unit: str,
    goal: str,
    met: bool | None,
    *,
    runs: Sequence[float] = (),
) -> None:
    """Print one machine-readable figure. ``met`` is None for figures without a goal."""
    line: dict[str, object] = {
        "bench": bench,
        "figure": figure,
        "value": round(value, 3),
        "unit": unit,
        "goal": goal,
        "met": met,
    }
    if runs:
        line.update(min=round(min(runs), 3), max=round(max(runs), 3), runs=len(runs))
    print(PREFIX + json.dumps(line), flush=True)


def spread_result(
    bench: str,
    figure: str,
    runs: Sequence[float],
    unit: str,
    goal: str = "",
    limit: float | None = None,
    *,
    at_least: bool = False,
) -> float:
    """One figure measured ``len(runs)`` times: its median, with min and max. The goal is met
    when the median is within ``limit`` (at most, or ``at_least``). Returns the median."""
    median = statistics.median(runs)
    met = None if limit is None else (median >= limit if at_least else median <= limit)
    result(bench, figure, median, unit, goal, met, runs=runs)
    return median
