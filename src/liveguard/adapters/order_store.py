"""Orders on disk: one small TinyDB file per local day (``state/orders/YYYY-MM-DD.json``).

A write touches only the day of the order, so it costs the same with a year of history as
with none. Past days are summarised into monthly hourly aggregates (see docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, tzinfo
from pathlib import Path
from typing import Any, Literal

from tinydb import Query, TinyDB

from liveguard.core.orders import Order
from liveguard.core.timekeeping import local_day

from .state_home import StateHome

__all__ = ["OrderStore", "UpsertResult"]

UpsertResult = Literal["added", "updated", "unchanged"]


class OrderStore:
    def __init__(self, home: StateHome, zone: tzinfo) -> None:
        self.home = home
        self.zone = zone

    def _day_db(self, day: date) -> TinyDB:
        return self.home.db(f"orders/{day.isoformat()}.json", "orders-day")

    def upsert(self, order: Order) -> UpsertResult:
        """Record one order durably; the same (channel, id) again updates, never doubles."""
        return self.upsert_many([order])[0]

    def upsert_many(self, orders: Iterable[Order], *, dry_run: bool = False) -> list[UpsertResult]:
        """Record many orders with one durable write per day touched.

        ``dry_run`` says what would change and writes nothing (no file is even created).
        """
        by_day: dict[date, list[tuple[int, Order]]] = {}
        results: list[UpsertResult] = []
        for i, order in enumerate(orders):
            by_day.setdefault(local_day(order.created, self.zone), []).append((i, order))
            results.append("unchanged")
        if dry_run:
            for day, items in by_day.items():
                self._write_day(day, items, results, dry_run=True)
            return results
        with self.home.writing():
            for day, items in by_day.items():
                self._write_day(day, items, results)
        return results

    def _write_day(
        self,
        day: date,
        items: list[tuple[int, Order]],
        results: list[UpsertResult],
        *,
        dry_run: bool = False,
    ) -> None:
        if dry_run and not self._path(day).exists():
            for i, _ in items:
                results[i] = "added"
            return
        table = self._day_db(day).table("orders")
        docs = table.all()
        ids = {(d["channel"], d["id"]): d.doc_id for d in docs}
        current = {(d["channel"], d["id"]): dict(d) for d in docs}
        changes: dict[tuple[str, str], dict[str, object]] = {}
        for i, order in items:
            doc = order.to_doc()
            key = order.key
            before = changes.get(key) or current.get(key)
            if before is None:
                results[i] = "added"
            elif before != doc:
                results[i] = "updated"
            else:
                continue
            changes[key] = doc
        if not changes or dry_run:
            return

        def apply(docs: dict[int, Any]) -> None:
            next_id = max(docs, default=0) + 1
            for key, doc in changes.items():
                if key in ids:
                    docs[ids[key]] = doc
                else:
                    docs[next_id] = doc
                    next_id += 1

        # One read-modify-write of the day file for the whole batch (TinyDB's own
        # insert_multiple + update would write twice).
        table._update_table(apply)

    def _path(self, day: date) -> Path:
        return self.home.dir / "orders" / f"{day.isoformat()}.json"

    def days(self) -> list[date]:
        """The local days that have an order file, oldest first."""
        out = []
        for path in (self.home.dir / "orders").glob("????-??-??.json"):
            try:
                out.append(date.fromisoformat(path.stem))
            except ValueError:
                continue
        return sorted(out)

    def drop_day(self, day: date) -> None:
        """Delete a day's order file (after it was compacted into history). Hold the write lock."""
        self.home.forget(f"orders/{day.isoformat()}.json")
        self._path(day).unlink(missing_ok=True)

    def day_orders(self, day: date) -> list[Order]:
        path = self._path(day)
        if not path.exists():
            return []
        return [Order.from_doc(d) for d in self._day_db(day).table("orders").all()]

    def find(self, channel: str, order_id: str, day: date) -> Order | None:
        q = Query()
        doc = self._day_db(day).table("orders").get((q.channel == channel) & (q.id == order_id))
        return Order.from_doc(doc) if isinstance(doc, dict) else None
