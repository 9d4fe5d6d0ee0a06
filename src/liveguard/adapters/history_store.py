"""Past days as compact hourly tallies, one small file per month (``state/history/YYYY-MM.json``).

Per-day order files are kept for ``KEEP_DAYS`` (35) days: enough for yesterday, the same
weekday last week, the 7-day baseline of the inferred live warning, and a month of re-imports.
Older days are compacted: each (day, channel) becomes one document of three 24-hour arrays
(paid orders, paid revenue, cancelled+returned), then the day's order file is deleted. A month
file holds at most ~31 x channels documents, so it stays a few tens of kB.

Compaction writes the history first and deletes the order file second: a crash in between
leaves both, and the next compaction recomputes the same tallies and overwrites them, so it
is idempotent. Orders for a day already compacted are not written back to an order file
(the importer reports them as unchanged) so a re-imported old export cannot double-count.
"""

from __future__ import annotations

from datetime import date, timedelta, tzinfo
from typing import Any

from tinydb import Query, TinyDB

from liveguard.core.ledger import HOURS, ChannelTally, tally_orders

from .order_store import OrderStore
from .state_home import StateHome

__all__ = ["KEEP_DAYS", "HistoryStore", "compact_old_days"]

KEEP_DAYS = 35


class HistoryStore:
    def __init__(self, home: StateHome) -> None:
        self.home = home

    def _month_db(self, day: date) -> TinyDB:
        return self.home.db(f"history/{day:%Y-%m}.json", "history-month")

    def _exists(self, day: date) -> bool:
        return (self.home.dir / "history" / f"{day:%Y-%m}.json").exists()

    def has_day(self, day: date) -> bool:
        if not self._exists(day):
            return False
        return bool(self._month_db(day).table("days").search(_day_is(day)))

    def day(self, day: date) -> dict[str, ChannelTally] | None:
        """The day's tallies per channel, or None when the day was never compacted."""
        if not self._exists(day):
            return None
        docs = self._month_db(day).table("days").search(_day_is(day))
        if not docs:
            return None
        return {d["channel"]: _tally(d) for d in docs if d.get("channel")}

    def put_day(self, day: date, tallies: dict[str, ChannelTally]) -> None:
        """Replace the day's tallies (a marker when it sold nothing). Hold the write lock."""
        table = self._month_db(day).table("days")
        table.remove(_day_is(day))
        docs: list[dict[str, Any]] = [
            {
                "day": day.isoformat(),
                "channel": channel,
                "orders": list(t.orders),
                "revenue": list(t.revenue),
                "cancelled": list(t.cancelled),
            }
            for channel, t in sorted(tallies.items())
        ]
        table.insert_multiple(docs or [{"day": day.isoformat(), "channel": ""}])


def _day_is(day: date) -> Any:
    return Query().day == day.isoformat()


def _tally(doc: dict[str, Any]) -> ChannelTally:
    def hours(key: str) -> tuple[int, ...]:
        values = doc.get(key)
        if not isinstance(values, list) or len(values) != HOURS:
            return (0,) * HOURS
        return tuple(int(v) for v in values)

    return ChannelTally(hours("orders"), hours("revenue"), hours("cancelled"))


def compact_old_days(
    orders: OrderStore, history: HistoryStore, zone: tzinfo, today: date, keep_days: int = KEEP_DAYS
) -> list[date]:
    """Move every order day older than ``keep_days`` into the monthly history; returns them."""
    cutoff = today - timedelta(days=keep_days)
    moved = []
    for day in orders.days():
        if day >= cutoff:
            break
        with orders.home.writing():
            tallies = tally_orders(orders.day_orders(day), zone)
            history.put_day(day, tallies)
            orders.drop_day(day)
        moved.append(day)
    return moved
