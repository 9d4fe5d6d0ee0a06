"""Inferred live trouble: a live channel's orders in the last hour collapse against its usual.

This is a *suggestion* shown as "inferred: possibly down", never DOWN on its own.

The rule (thresholds chosen so a quiet shop does not cry wolf):
- recent = orders created (any status) in the last ``window`` (60 min);
- baseline = the median of the same window on each of the previous ``lookback_days`` (7)
  days, a day with no orders counting as 0;
- warn only when baseline >= ``min_baseline`` (4 orders in that hour: below that, an empty
  hour is ordinary) and recent <= ``max_fraction`` (25 %) of the baseline.
Indonesian zones have no daylight saving, so "the same hour" is simply 24 h earlier.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import median

from .ledger import DayOrders
from .orders import Order

__all__ = ["DropRule", "LiveDrop", "infer_drop", "window_counts", "window_counts_of"]


@dataclass(frozen=True)
class DropRule:
    window: timedelta = timedelta(minutes=60)
    lookback_days: int = 7
    min_baseline: float = 4.0
    max_fraction: float = 0.25


@dataclass(frozen=True)
class LiveDrop:
    channel: str
    recent: int  # orders in the last window
    baseline: float  # median of the same window over the previous days
    at: datetime


def window_counts(
    orders: Iterable[Order], channel: str, now: datetime, rule: DropRule
) -> tuple[int, list[int]]:
    """(orders in the last window, [orders in the same window 1..N days ago])."""
    return window_counts_of([DayOrders.of(orders, UTC)], channel, now, rule)


def window_counts_of(
    days: Sequence[DayOrders], channel: str, now: datetime, rule: DropRule
) -> tuple[int, list[int]]:
    """``window_counts`` over the days' orders: the last window is (now - window, now), the
    same window k days ago (now - k days - window, now - k days]."""
    recent = sum(d.count(channel, now - rule.window, now, upto_included=False) for d in days)
    earlier = []
    for days_ago in range(1, rule.lookback_days + 1):
        end = now - timedelta(days=days_ago)
        earlier.append(
            sum(d.count(channel, end - rule.window, end, upto_included=True) for d in days)
        )
    return recent, earlier


def infer_drop(
    channel: str, recent: int, earlier: list[int], now: datetime, rule: DropRule | None = None
) -> LiveDrop | None:
    rule = rule or DropRule()
    if not earlier:
        return None
    baseline = float(median(earlier))
    if baseline < rule.min_baseline or recent > baseline * rule.max_fraction:
        return None
    return LiveDrop(channel, recent, baseline, now)
