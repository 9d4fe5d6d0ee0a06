"""The one line format every benchmark prints, so `make bench` can build one table.

A benchmark prints whatever it likes for people, plus one ``RESULT {json}`` line per figure:
``{"bench": ..., "figure": ..., "value": ..., "unit": ..., "goal": ..., "met": ...}``.
"""

from __future__ import annotations

import json

PREFIX = "RESULT "


def result(bench: str, figure: str, value: float, unit: str, goal: str, met: bool | None) -> None:
    """Print one machine-readable figure. ``met`` is None for figures without a goal."""
    line = {
        "bench": bench,
        "figure": figure,
        "value": round(value, 3),
        "unit": unit,
        "goal": goal,
        "met": met,
    }
    print(PREFIX + json.dumps(line), flush=True)
