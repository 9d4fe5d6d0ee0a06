"""Orders on disk: one small TinyDB file per local day (``state/orders/YYYY-MM-DD.json``).

A write touches only the day of the order, so it costs the same with a year of history as
with none. Past days are summarised into monthly hourly aggregates (see docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any, Literal

from tinydb import TinyDB

from liveguard.core.ledger import DayOrders, OrderRow
from liveguard.core.orders import Order, OrderStatus
from liveguard.core.timekeeping import local_day

from .atomic_storage import AtomicJSONStorage, file_signature, fsync_folder
from .importers import no_cyclic_gc
from .state_home import SCHEMAS, StateHome

__all__ = ["OrderStore", "UpsertResult"]

KIND = "orders-day"
_WRITERS = 2  # day files written (and fsynced) at once during a big import
# Day rows kept in memory: today, yesterday, last week and the drop rule's week, and spare.
_INDEXED_DAYS = 16

UpsertResult = Literal["added", "updated", "unchanged"]

_STATUSES = {s.value: s for s in OrderStatus}


class OrderStore:
    def __init__(self, home: StateHome, zone: tzinfo) -> None:
        self.home = home
        self.zone = zone
        self._indexes: dict[date, tuple[tuple[int, int, int] | None, DayOrders]] = {}

    def _day_db(self, day: date) -> TinyDB:
        return self.home.db(f"orders/{day.isoformat()}.json", KIND)

    def upsert(self, order: Order) -> UpsertResult:
        """Record one order durably; the same (channel, id) again updates, never doubles."""
        return self.upsert_many([order])[0]

    def upsert_many(self, orders: Iterable[Order], *, dry_run: bool = False) -> list[UpsertResult]:
        """Record many orders with one durable write per day touched.

        Each day file is replaced atomically (temp + fsync + rename); the orders folder is
        fsynced once, after the last rename and before returning, so every order is durable
        when this returns. ``dry_run`` says what would change and writes nothing (no file
        is even created).
        """
        by_day: dict[date, list[tuple[int, Order]]] = {}
        total = 0
        zone = self.zone
        for total, order in enumerate(orders, start=1):
            by_day.setdefault(local_day(order.created, zone), []).append((total - 1, order))
        results: list[UpsertResult] = ["unchanged"] * total
        if dry_run:
            for day, items in by_day.items():
                stored = self._stored(day)[1]
                self._changes(stored, _doc_ids(stored), items, results)
            return results
        with self.home.writing():
            (self.home.dir / "orders").mkdir(parents=True, exist_ok=True, mode=0o700)
            # Writer threads wait for each day file's fsync while this thread prepares the
            # next day (a month-long import spent ~20 % of its time waiting for fsyncs).
            with ThreadPoolExecutor(_WRITERS, thread_name_prefix="order-days") as writers:
                jobs = []
                for day, items in by_day.items():
                    write = self._day_write(day, items, results)
                    if write is not None:
                        jobs.append(writers.submit(write))
                for job in jobs:
                    job.result()  # raises the first failure
            if jobs:
                fsync_folder(self.home.dir / "orders")  # once, after the batch's last rename
        return results

    def _stored(self, day: date) -> tuple[TinyDB | None, dict[str, Any]]:
        """The day's open TinyDB and its orders as stored ({doc id: doc}); (None, {}) when
        the day has no file (nothing is created)."""
        if not self._path(day).exists():
            return None, {}
        db = self._day_db(day)
        raw = db.storage.read()
        return db, (raw or {}).get("orders", {})

    @staticmethod
    def _changes(
        stored: dict[str, Any],
        ids: dict[tuple[str, str], str],
        items: list[tuple[int, Order]],
        results: list[UpsertResult],
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """The new documents by key, with each order's result filled in."""
        changes: dict[tuple[str, str], dict[str, Any]] = {}
        for i, order in items:
            doc = order.to_doc()
            key = (order.channel, order.order_id)
            before = changes.get(key)
            if before is None and ids:
                doc_id = ids.get(key)
                before = None if doc_id is None else stored[doc_id]
            if before is None:
                results[i] = "added"
            elif before != doc:
                results[i] = "updated"
            else:
                continue
            changes[key] = doc
        return changes

    def _day_write(
        self, day: date, items: list[tuple[int, Order]], results: list[UpsertResult]
    ) -> Callable[[], None] | None:
        """The one atomic replace of the day file for the whole batch (the caller fsyncs the
        folder after it), or None when nothing changes."""
        db, stored = self._stored(day)
        ids = _doc_ids(stored)
        changes = self._changes(stored, ids, items, results)
        if not changes:
            return None
        table = dict(stored)  # a new dict: readers holding the old one see a consistent day
        added = []
        for key, doc in changes.items():
            doc_id = ids.get(key)
            if doc_id is None:
                added.append(doc)
            else:
                table[doc_id] = doc
        next_id = max(map(int, stored), default=0) + 1
        new_ids = map(str, range(next_id, next_id + len(added)))
        table.update(zip(new_ids, added, strict=True))
        if db is None:  # a new day: written whole, the schema mark included, in one go
            storage = AtomicJSONStorage(self._path(day))
            raw: dict[str, Any] = {"_meta": {"1": {"kind": KIND, "schema": SCHEMAS[KIND]}}}
        else:
            assert isinstance(db.storage, AtomicJSONStorage)
            storage = db.storage
            raw = dict(storage.read() or {})
        raw["orders"] = table

        def write() -> None:
            storage.write(raw, sync_folder=False)
            if db is not None:
                db.table("orders").clear_cache()

        return write

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
        self._indexes.pop(day, None)
        self._path(day).unlink(missing_ok=True)

    def day_index(self, day: date) -> DayOrders:
        """The day's orders as compact sorted rows, rebuilt only when the day file changed
        (written here or by another liveguard). Only today's file stays parsed in memory:
        closed days are kept as their rows alone (a busy day's documents take ~6 MB)."""
        path = self._path(day)
        signature = file_signature(path)
        cached = self._indexes.get(day)
        if cached is not None and cached[0] == signature:
            return cached[1]
        with no_cyclic_gc():  # thousands of small acyclic objects: nothing for it to find
            stored = self._stored(day)[1] if signature is not None else {}
            index = DayOrders(map(_row, stored.values()), self.zone)
        if day < local_day(self.home.now(), self.zone):
            self.home.forget(f"orders/{day.isoformat()}.json")
        # The signature from before the read: a change during it is picked up next time.
        self._indexes[day] = (signature, index)
        if len(self._indexes) > _INDEXED_DAYS:  # a room left running for weeks
            self._indexes.pop(min(self._indexes), None)  # (a feed's thread may race the loop)
        return index

    def day_orders(self, day: date) -> list[Order]:
        path = self._path(day)
        if not path.exists():
            return []
        return [Order.from_doc(d) for d in self._day_db(day).table("orders").all()]


def _doc_ids(stored: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(d["channel"], d["id"]): doc_id for doc_id, d in stored.items()}


def _row(doc: dict[str, Any]) -> OrderRow:
    """What Order.from_doc reads for tallies, without building the Order."""
    return (
        datetime.fromisoformat(doc["created"]),
        doc["channel"],
        _STATUSES[doc["status"]],
        int(doc["amount"]),
    )
