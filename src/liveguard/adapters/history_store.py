"""Past days as compact hourly tallies, one small file per month (``state/history/YYYY-MM.json``).

Per-day order files are kept for ``KEEP_DAYS`` (35) days: enough for yesterday, the same
weekday last week, the 7-day baseline of the inferred live warning, and a month of re-imports.
Older days are compacted: each (day, channel) becomes one document of three 24-hour arrays
(paid orders, paid revenue, cancelled+returned), then the day's order file is deleted.

What history keeps so that late orders count and re-imports still change nothing: beside
the tallies, each compacted day keeps a *ledger* per channel, ``{order id: [local hour,
status, amount]}``: exactly what the tallies are made of. An order for a compacted day is
merged into that ledger (added, updated when its status or amount changed, unchanged when
it is already there as it is) and the day's tallies are recomputed from the ledger, both in
one atomic write of the month file. A month file therefore grows with the orders of its
days (about 40 bytes an order); the tallies stay what the screens read.

Compaction is a merge too: the history is written first and the order file deleted second,
so a crash in between only repeats a merge that changes nothing. Days compacted by an older
liveguard have tallies but no ledger; orders for them are left alone (reported unchanged)
because nothing tells which of them are already counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta, tzinfo
from typing import Any

from tinydb import Query, TinyDB

from liveguard.core.ledger import HOURS, ChannelTally, tally_entries
from liveguard.core.orders import Order, OrderStatus

from .atomic_storage import AtomicJSONStorage
from .order_store import OrderStore, UpsertResult
from .state_home import StateHome

__all__ = ["KEEP_DAYS", "HistoryStore", "compact_old_days"]

KEEP_DAYS = 35

_CODES = {
    OrderStatus.PAID: "p",
    OrderStatus.CANCELLED: "c",
    OrderStatus.RETURNED: "r",
    OrderStatus.UNPAID: "u",
}
_STATUS_OF = {code: status for status, code in _CODES.items()}

Ledger = dict[str, dict[str, list[Any]]]  # channel -> order id -> [hour, status code, amount]


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

    def has_ledger(self, day: date) -> bool:
        """True when the day was compacted with its ledger (late orders can be merged)."""
        return self._exists(day) and self._ledger(day) is not None

    def day(self, day: date) -> dict[str, ChannelTally] | None:
        """The day's tallies per channel, or None when the day was never compacted."""
        if not self._exists(day):
            return None
        docs = self._month_db(day).table("days").search(_day_is(day))
        if not docs:
            return None
        return {d["channel"]: _tally(d) for d in docs if d.get("channel")}

    def put_day(self, day: date, tallies: dict[str, ChannelTally]) -> None:
        """Replace the day's tallies (a marker when it sold nothing), without a ledger (as
        an older liveguard compacted). Hold the write lock."""
        self._write_day(day, tallies, None)

    def _ledger(self, day: date) -> Ledger | None:
        raw = self._month_db(day).storage.read() or {}
        iso = day.isoformat()
        docs = [d for d in raw.get("ledger", {}).values() if d.get("day") == iso]
        if not docs:
            return None
        return {d["channel"]: dict(d.get("orders", {})) for d in docs if d.get("channel")}

    def merge(
        self,
        day: date,
        orders: Iterable[Order],
        zone: tzinfo,
        *,
        dry_run: bool = False,
        replace_legacy: bool = False,
    ) -> list[UpsertResult] | None:
        """Fold orders of one compacted (or being compacted) local day into its ledger and
        recompute its tallies; one atomic write when anything changed. Hold the write lock.

        None (nothing written) when the day was compacted without a ledger, unless
        ``replace_legacy`` (compaction): then the orders become the day's whole history.
        """
        items = list(orders)
        ledger = self._ledger(day) if self._exists(day) else None
        if ledger is None:
            if self.has_day(day) and not replace_legacy:
                return None
            ledger, fresh = {}, True
        else:
            fresh = False
        results: list[UpsertResult] = []
        for order in items:
            entry = [order.created.astimezone(zone).hour, _CODES[order.status], order.amount]
            channel = ledger.setdefault(order.channel, {})
            before = channel.get(order.order_id)
            if before == entry:
                results.append("unchanged")
                continue
            results.append("added" if before is None else "updated")
            channel[order.order_id] = entry
        if not dry_run and (fresh or any(r != "unchanged" for r in results)):
            self._write_day(day, _tallies_of(ledger), ledger)
        return results

    def _write_day(
        self, day: date, tallies: dict[str, ChannelTally], ledger: Ledger | None
    ) -> None:
        """The day's tallies (and ledger) replaced in one atomic write of the month file."""
        db = self._month_db(day)
        assert isinstance(db.storage, AtomicJSONStorage)
        raw = dict(db.storage.read() or {})
        iso = day.isoformat()
        days = _without_day(raw.get("days", {}), iso)
        _append(
            days,
            [
                {
                    "day": iso,
                    "channel": channel,
                    "orders": list(t.orders),
                    "revenue": list(t.revenue),
                    "cancelled": list(t.cancelled),
                }
                for channel, t in sorted(tallies.items())
            ]
            or [{"day": iso, "channel": ""}],
        )
        raw["days"] = days
        kept = _without_day(raw.get("ledger", {}), iso)
        if ledger is not None:
            _append(
                kept,
                [
                    {"day": iso, "channel": channel, "orders": entries}
                    for channel, entries in sorted(ledger.items())
                ]
                or [{"day": iso, "channel": "", "orders": {}}],
            )
        raw["ledger"] = kept
        db.storage.write(raw)
        for name in ("days", "ledger"):
            db.table(name).clear_cache()


def _without_day(table: dict[str, Any], iso: str) -> dict[str, Any]:
    return {doc_id: doc for doc_id, doc in table.items() if doc.get("day") != iso}


def _append(table: dict[str, Any], docs: list[dict[str, Any]]) -> None:
    next_id = max(map(int, table), default=0) + 1
    for offset, doc in enumerate(docs):
        table[str(next_id + offset)] = doc


def _tallies_of(ledger: Ledger) -> dict[str, ChannelTally]:
    return tally_entries(
        (hour, channel, _STATUS_OF[code], amount)
        for channel, entries in ledger.items()
        for hour, code, amount in entries.values()
    )


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
    """Move every order day older than ``keep_days`` into the monthly history; returns them.

    A day's orders are merged into what history already holds for it (late orders that
    arrived while the day was being compacted, or a repeat after a crash)."""
    cutoff = today - timedelta(days=keep_days)
    moved = []
    for day in orders.days():
        if day >= cutoff:
            break
        with orders.home.writing():
            history.merge(day, orders.day_orders(day), zone, replace_legacy=True)
            orders.drop_day(day)
        moved.append(day)
    return moved
