"""Orders on disk: per local day, one TinyDB file and a few small segment files.

``state/orders/YYYY-MM-DD.json`` holds the day as of its last fold; each later write adds one
small segment ``YYYY-MM-DD.NNNNNN.json`` (the same kind of file, holding only the orders that
write added or changed). A write therefore costs the same with 15,000 orders in the day as
with none, and the same with a year of history as with none. The segments are folded into the
day file when there are ``MAX_SEGMENTS`` of them, when a big batch (an import) rewrites the
day anyway, and at rollover for closed days. Past days are summarised into monthly hourly
aggregates (see docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any, Literal

import orjson

from liveguard.core.ledger import DayOrders, OrderRow
from liveguard.core.orders import Order, OrderStatus
from liveguard.core.timekeeping import local_day

from .atomic_storage import (
    AtomicJSONStorage,
    CorruptFileError,
    atomic_write_bytes,
    file_signature,
    fsync_folder,
)
from .importers import no_cyclic_gc
from .state_home import SCHEMAS, StateError, StateHome

__all__ = ["MAX_SEGMENTS", "OrderStore", "UpsertResult"]

KIND = "orders-day"
_WRITERS = 2  # day files written (and fsynced) at once during a big import
# Day rows kept in memory: today, yesterday, last week and the drop rule's week, and spare.
_INDEXED_DAYS = 16
MAX_SEGMENTS = 64  # a day's segment files before a write folds them into the day file
FOLD_BATCH = 256  # a batch changing this many orders of a day rewrites the day file at once
_SEGMENT = re.compile(r"(\d{4}-\d{2}-\d{2})\.(\d{6})\.json")
_READ_TRIES = 5  # a fold by another process can delete a segment between listing and reading

UpsertResult = Literal["added", "updated", "unchanged"]
Key = tuple[str, str]

_STATUSES = {s.value: s for s in OrderStatus}


@dataclass
class _Day:
    """What was read of one day: the day file's signature, the segments laid over it, and
    either every order (the open day) or only its rows (closed days)."""

    base: tuple[int, int, int] | None
    segments: tuple[str, ...]
    docs: dict[Key, dict[str, Any]] | None
    rows: dict[Key, OrderRow] = field(default_factory=dict)
    index: DayOrders | None = None


class OrderStore:
    def __init__(self, home: StateHome, zone: tzinfo) -> None:
        self.home = home
        self.zone = zone
        self._indexes: dict[date, _Day] = {}
        self._lock = threading.RLock()  # the cache, for a fold in a worker thread

    # -- writing ----------------------------------------------------------------------------
    def upsert(self, order: Order) -> UpsertResult:
        """Record one order durably; the same (channel, id) again updates, never doubles."""
        return self.upsert_many([order])[0]

    def upsert_many(self, orders: Iterable[Order], *, dry_run: bool = False) -> list[UpsertResult]:
        """Record many orders with one durable write per day touched.

        Each write (a segment, or the day file with the segments folded in) is atomic (temp
        + fsync + rename); the orders folder is fsynced once, after the last rename and
        before returning, so every order is durable when this returns. ``dry_run`` says
        what would change and writes nothing (no file is even created).
        """
        by_day: dict[date, list[tuple[int, Order]]] = {}
        total = 0
        zone = self.zone
        for total, order in enumerate(orders, start=1):
            by_day.setdefault(local_day(order.created, zone), []).append((total - 1, order))
        results: list[UpsertResult] = ["unchanged"] * total
        if dry_run:
            for day, items in by_day.items():
                _changes(self._day(day, keep_docs=True).docs or {}, items, results)
            return results
        with self.home.writing():
            self._folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._commit(self._planned(by_day, results))
        return results

    def _planned(
        self, by_day: dict[date, list[tuple[int, Order]]], results: list[UpsertResult]
    ) -> Iterator[_Write]:
        """Each day's write, planned when the writers are ready for it (an import's days are
        planned while the previous ones are written, and let go once written)."""
        for day, items in by_day.items():
            with self._lock:
                state = self._day(day, keep_docs=True)
                changes = _changes(state.docs or {}, items, results)
                write = self._plan(day, state, changes) if changes else None
            if write is not None:
                yield write

    def fold(self, day: date) -> bool:
        """Fold the day's segments into its day file (one atomic rewrite); False: none."""
        with self.home.writing():
            with self._lock:
                state = self._day(day, keep_docs=True)
                if not state.segments:
                    return False
                write = self._plan(day, state, {}, fold=True)
            self._commit([write])
        return True

    def fold_closed_days(self, today: date) -> list[date]:
        """Fold every day before ``today`` that still has segments (done at rollover)."""
        return [day for day in self._segment_days() if day < today and self.fold(day)]

    @property
    def _folder(self) -> Path:
        return self.home.dir / "orders"

    def _plan(
        self, day: date, state: _Day, changes: dict[Key, dict[str, Any]], *, fold: bool = False
    ) -> _Write:
        whole = (
            fold
            or state.base is None
            or len(changes) >= FOLD_BATCH
            or len(state.segments) + 1 >= MAX_SEGMENTS
        )
        closed = day < local_day(self.home.now(), self.zone)
        if whole:
            docs = {**(state.docs or {}), **changes}
            return _Write(day, self._base_path(day), state.segments, changes, closed, docs)
        seq = max((int(_SEGMENT.fullmatch(s)[2]) for s in state.segments), default=0) + 1  # type: ignore[index]
        name = f"{day.isoformat()}.{seq:06d}.json"
        return _Write(day, self._folder / name, (*state.segments, name), changes, closed)

    def _commit(self, planned: Iterable[_Write]) -> None:
        """Write (the write lock held, ``_lock`` not: readers on the event loop go on),
        then remember what was written."""
        pending = iter(planned)
        writes = [w for w in (next(pending, None), next(pending, None)) if w is not None]
        if not writes:
            return
        try:
            if len(writes) == 1:
                self._write(writes[0])
            else:
                # Writer threads wait for each file's fsync while this thread plans the next
                # (a month-long import spent ~20 % of its time waiting for fsyncs).
                with ThreadPoolExecutor(_WRITERS, thread_name_prefix="order-days") as writers:
                    jobs = [writers.submit(self._write, w) for w in writes]
                    for w in pending:
                        writes.append(w)
                        jobs.append(writers.submit(self._write, w))
                    for job in jobs:
                        job.result()  # raises the first failure
            fsync_folder(self._folder)  # once, after the batch's last rename
        except BaseException:
            with self._lock:
                for w in writes:  # memory must never claim what disk does not hold
                    self._indexes.pop(w.day, None)
            raise
        with self._lock:
            for w in writes:
                if w.docs is not None:  # the day file holds them now; a leftover only repeats
                    for name in w.segments:
                        with contextlib.suppress(OSError):
                            (self._folder / name).unlink()
                self._remember(w)

    def _write(self, w: _Write) -> None:
        table = w.changes if w.docs is None else w.docs
        raw = {
            "_meta": {"1": {"kind": KIND, "schema": SCHEMAS[KIND]}},
            "orders": {str(n): doc for n, doc in enumerate(table.values(), start=1)},
        }
        if w.docs is None:
            atomic_write_bytes(w.path, _dumps(raw), sync_folder=False)
            if w.closed:
                w.changes = {}
            return
        storage = self._open_base(w.day)
        if storage is None:  # a new day: written whole, the schema mark included, in one go
            storage = AtomicJSONStorage(w.path)
        storage.write(raw, sync_folder=False, payload=_dumps(raw))
        if w.closed:  # nothing of a closed day stays in memory: let an import's days go
            w.changes, w.docs = {}, {}
            storage.close()

    def _remember(self, w: _Write) -> None:
        """Bring the day in memory up to what was just written. Hold ``_lock``."""
        state = self._indexes.get(w.day)
        if w.day < local_day(self.home.now(), self.zone) or (
            w.docs is None and (state is None or state.docs is None)
        ):
            # A closed day (an import), or a day not in memory: read again when shown.
            self._indexes.pop(w.day, None)
            self.home.forget(f"orders/{w.day.isoformat()}.json")
            return
        if state is not None and state.docs is not None:
            state.docs.update(w.changes)
            state.rows.update((key, _row(doc)) for key, doc in w.changes.items())
            if w.changes:
                state.index = None
        if w.docs is not None:  # a whole day file: its segments are gone
            rows = state.rows if state is not None and state.docs is not None else None
            if rows is None:
                rows = {key: _row(doc) for key, doc in w.docs.items()}
            index = state.index if state is not None else None
            state = _Day(file_signature(w.path), (), w.docs, rows, index)
            self._indexes[w.day] = state
            self._trim()
        elif state is not None and len(w.segments) > len(state.segments):
            state.segments = w.segments  # a reader may already have laid it over

    # -- reading ----------------------------------------------------------------------------
    def days(self) -> list[date]:
        """The local days that have an order file, oldest first."""
        out = set(self._segment_days())
        for path in self._folder.glob("????-??-??.json"):
            try:
                out.add(date.fromisoformat(path.stem))
            except ValueError:
                continue
        return sorted(out)

    def drop_day(self, day: date) -> None:
        """Delete a day's order files (after it was compacted into history). Hold the write
        lock. The segments are folded in first and the day file goes last, so a crash part
        way leaves the whole day to compact again, never a part of it."""
        with self._lock:
            if self._segments(day):
                state = self._day(day, keep_docs=True)
                self._commit([self._plan(day, state, {}, fold=True)])
            self.home.forget(f"orders/{day.isoformat()}.json")
            self._indexes.pop(day, None)
            self._base_path(day).unlink(missing_ok=True)

    def day_index(self, day: date) -> DayOrders:
        """The day's orders as compact sorted rows, rebuilt only when the day's files changed
        (written here or by another liveguard). Only today stays parsed in memory: closed
        days are kept as their rows alone (a busy day's documents take ~6 MB)."""
        open_day = day >= local_day(self.home.now(), self.zone)
        with self._lock:
            state = self._day(day, keep_docs=open_day)
            if state.index is None:
                state.index = DayOrders(state.rows.values(), self.zone)
            return state.index

    def day_orders(self, day: date) -> list[Order]:
        with self._lock:
            docs = self._day(day, keep_docs=True).docs or {}
            return [Order.from_doc(d) for d in docs.values()]

    def _day(self, day: date, *, keep_docs: bool) -> _Day:
        """The day as on disk now: from memory when its files did not change, reading only
        the new segments when only segments were added. Hold ``_lock``."""
        for _ in range(_READ_TRIES):
            base = file_signature(self._base_path(day))
            segments = self._segments(day)
            cached = self._indexes.get(day)
            try:
                if (
                    cached is not None
                    and cached.base == base
                    and cached.segments == segments[: len(cached.segments)]
                    and (cached.docs is not None or not keep_docs)
                ):
                    state = self._extend(day, cached, segments)
                else:
                    state = self._load(day, base, segments, keep_docs)
            except FileNotFoundError:
                continue  # folded away by another process meanwhile: read again
            if file_signature(self._base_path(day)) != base:
                continue
            if not keep_docs:
                state.docs = None
                self.home.forget(f"orders/{day.isoformat()}.json")
            self._indexes[day] = state
            self._trim()
            return state
        raise StateError(f"{self._base_path(day)}: kept changing while being read; try again")

    def _extend(self, day: date, cached: _Day, segments: tuple[str, ...]) -> _Day:
        new = segments[len(cached.segments) :]
        if not new:
            return cached
        docs, rows = cached.docs, cached.rows  # in place: the index is rebuilt from them
        for name in new:
            for key, doc in self._read_segment(name).items():
                if docs is not None:
                    docs[key] = doc
                rows[key] = _row(doc)
        cached.segments, cached.index = segments, None
        return cached

    def _load(
        self, day: date, base: tuple[int, int, int] | None, segments: tuple[str, ...], keep: bool
    ) -> _Day:
        with no_cyclic_gc():  # thousands of small acyclic objects: nothing for it to find
            docs: dict[Key, dict[str, Any]] = {}
            if base is not None:
                storage = self._open_base(day)
                stored = (storage.read() or {}).get("orders", {}) if storage else {}
                docs = {(d["channel"], d["id"]): d for d in stored.values()}
            for name in segments:
                docs.update(self._read_segment(name))
            rows = {key: _row(doc) for key, doc in docs.items()}
        return _Day(base, segments, docs if keep else None, rows)

    def _open_base(self, day: date) -> AtomicJSONStorage | None:
        """The day file's storage (checked, moved aside when unreadable); None: no file."""
        if not self._base_path(day).exists():
            return None
        storage = self.home.db(f"orders/{day.isoformat()}.json", KIND).storage
        assert isinstance(storage, AtomicJSONStorage)
        return storage

    def _read_segment(self, name: str) -> dict[Key, dict[str, Any]]:
        path = self._folder / name
        try:
            raw = AtomicJSONStorage(path).read()
            meta = next(iter((raw or {}).get("_meta", {}).values()), None)
            if not isinstance(meta, dict) or meta.get("kind") != KIND:
                raise CorruptFileError(path, f"not a {KIND} file")
            if meta.get("schema") != SCHEMAS[KIND]:
                raise CorruptFileError(path, f"schema {meta.get('schema')} is not known here")
        except CorruptFileError as exc:
            if not path.exists():
                raise FileNotFoundError(path) from None
            self.home.move_aside(path, exc.why)
            return {}
        if raw is None:
            raise FileNotFoundError(path)
        return {(d["channel"], d["id"]): d for d in raw.get("orders", {}).values()}

    def _segments(self, day: date) -> tuple[str, ...]:
        prefix = f"{day.isoformat()}."
        try:
            names = [e.name for e in os.scandir(self._folder) if e.name.startswith(prefix)]
        except FileNotFoundError:
            return ()
        return tuple(sorted(n for n in names if _SEGMENT.fullmatch(n)))

    def _segment_days(self) -> list[date]:
        out = set()
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self._folder):
                match = _SEGMENT.fullmatch(entry.name)
                if match:
                    with contextlib.suppress(ValueError):
                        out.add(date.fromisoformat(match[1]))
        return sorted(out)

    def _base_path(self, day: date) -> Path:
        return self._folder / f"{day.isoformat()}.json"

    def _trim(self) -> None:
        while len(self._indexes) > _INDEXED_DAYS:  # a room left running for weeks
            del self._indexes[min(self._indexes)]


@dataclass
class _Write:
    """One planned write: a segment of ``changes``, or the whole day file (``docs``)."""

    day: date
    path: Path
    segments: tuple[str, ...]  # after a segment write: all of them; whole: those folded in
    changes: dict[Key, dict[str, Any]]
    closed: bool  # a day before today
    docs: dict[Key, dict[str, Any]] | None = None  # a whole day file: the day after it


def _changes(
    stored: dict[Key, dict[str, Any]], items: list[tuple[int, Order]], results: list[UpsertResult]
) -> dict[Key, dict[str, Any]]:
    """The new documents by key, with each order's result filled in."""
    changes: dict[Key, dict[str, Any]] = {}
    for i, order in items:
        doc = order.to_doc()
        key = (order.channel, order.order_id)
        before = changes.get(key) or stored.get(key)
        if before is None:
            results[i] = "added"
        elif before != doc:
            results[i] = "updated"
        else:
            continue
        changes[key] = doc
    return changes


def _dumps(raw: dict[str, Any]) -> bytes:
    """orjson: a 60,000-order import spent a fifth of its time in json.dumps."""
    try:
        return orjson.dumps(raw)
    except TypeError:  # an integer past 64 bits: the standard library writes it
        return json.dumps(raw, ensure_ascii=False, separators=(",", ":")).encode()


def _row(doc: dict[str, Any]) -> OrderRow:
    """What Order.from_doc reads for tallies, without building the Order."""
    return (
        datetime.fromisoformat(doc["created"]),
        doc["channel"],
        _STATUSES[doc["status"]],
        int(doc["amount"]),
    )
