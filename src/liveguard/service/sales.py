"""SalesService: today's sales for the UI and CLI, and every way orders come in.

Reads are cheap (a few small day files); writes go through the state home's single-writer
lock. Order feeds run as background tasks on the caller's event loop; a failing feed only
marks itself stale and never touches the numbers already known.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from liveguard.adapters.history_store import KEEP_DAYS, HistoryStore, compact_old_days
from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.importers import (
    Cancelled,
    ExportFileError,
    ImportCancelled,
    ParsedExport,
    Progress,
    RowError,
    no_cyclic_gc,
    parse_export,
)
from liveguard.adapters.order_feed import FeedError, fetch_orders
from liveguard.adapters.order_store import OrderStore, UpsertResult
from liveguard.adapters.state_home import StateError, StateHome
from liveguard.core.config import Config, OrderSource
from liveguard.core.inference import DropRule, LiveDrop, infer_drop, window_counts_of
from liveguard.core.ledger import ChannelInfo, ChannelTally, DaySummary, summarise_day
from liveguard.core.money import AmountError, parse_amount
from liveguard.core.orders import Order, OrderStatus
from liveguard.core.parsing import DateError, parse_datetime, parse_seller_time
from liveguard.core.timekeeping import Clock, day_bounds_utc, load_zone, local_day

from .events import Notice, Publisher, SalesChanged, SourceChanged, supervise
from .shopee import ShopeeSync, SourceView

__all__ = [
    "FeedView",
    "ImportCancelled",
    "ImportOutcome",
    "ImportPreview",
    "SaleInputError",
    "SalesService",
]

ROLLOVER_CHECK_S = 60.0  # the longest the day's turn may go unnoticed


class SaleInputError(Exception):
    """A bad channel, amount, time or status for a hand-recorded sale (one line)."""


@dataclass(frozen=True)
class FeedView:
    channel: str
    where: str  # scheme://host/path: never the query string or headers (may hold secrets)
    state: str  # "waiting" (not fetched yet) | "ok" | "stale"
    last_ok: datetime | None = None
    reason: str = ""
    orders: int = 0  # orders in the last good reply


@dataclass
class ImportOutcome:
    file: str
    format: str
    channel: str
    dry_run: bool
    rows_read: int
    rejected: list[RowError]
    skipped: list[RowError] = field(default_factory=list)  # orders that cannot change revenue
    written: bool = False
    results: dict[UpsertResult, int] = field(
        default_factory=lambda: {"added": 0, "updated": 0, "unchanged": 0}
    )
    orders: int = 0

    @property
    def refused(self) -> bool:
        """Bad rows and no --skip-bad-rows: nothing was (or would be) written."""
        return bool(self.rejected) and not self.written and not self.dry_run and self.orders == 0

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "channel": self.channel,
            "dry_run": self.dry_run,
            "orders_added": self.results["added"],
            "orders_updated": self.results["updated"],
            "orders_unchanged": self.results["unchanged"],
            "rows_read": self.rows_read,
            "rows_rejected": [{"row": e.row, "error": e.text()} for e in self.rejected],
            "rows_skipped": [{"row": e.row, "reason": e.text()} for e in self.skipped],
        }


@dataclass
class ImportPreview:
    """A parsed export held between the preview and the seller's confirmation."""

    service: SalesService
    path: Path
    parsed: ParsedExport

    def dry_run(self, *, skip_bad_rows: bool = False) -> ImportOutcome:
        return self.service.apply_export(
            self.path, self.parsed, dry_run=True, skip_bad_rows=skip_bad_rows
        )

    def apply(self, *, skip_bad_rows: bool = False) -> ImportOutcome:
        return self.service.apply_export(self.path, self.parsed, skip_bad_rows=skip_bad_rows)


class SalesService:
    def __init__(
        self,
        config: Config,
        home: StateHome,
        clock: Clock,
        *,
        pool: HttpPool | None = None,
        environ: Mapping[str, str] | None = None,
        events: Publisher | None = None,
        drop_rule: DropRule | None = None,
    ) -> None:
        self.config = config
        self.home = home
        self.clock = clock
        self.pool = pool
        self.environ = os.environ if environ is None else environ
        self.events = events or Publisher()
        self.zone = load_zone(config.timezone)
        self.orders = OrderStore(home, self.zone)
        self.history = HistoryStore(home)
        self.drop_rule = drop_rule or DropRule()
        self._feeds: dict[int, FeedView] = {
            i: FeedView(s.channel, _where(s.url), "waiting") for i, s in enumerate(config.sources)
        }
        self.shopee = [
            ShopeeSync(
                s,
                home,
                clock,
                self.zone,
                self.orders,
                self.environ,
                events=self.events,
                save=lambda orders: self._store(orders, quiet=True),
            )
            for s in config.shopee
        ]
        self._tasks: list[asyncio.Task[None]] = []
        self._day_seen: date | None = None  # the local day the rollover last saw
        self.last_channel = ""  # where the seller recorded a sale last: the dialog starts there

    # -- reading --------------------------------------------------------------------------
    def channel_infos(self) -> list[ChannelInfo]:
        return [ChannelInfo(c.id, c.name, c.live) for c in self.config.channels]

    def today(self, day: date | None = None) -> DaySummary:
        """The day's summary; today (the default) is compared up to the same clock time."""
        now = self.clock.now()
        current = local_day(now, self.zone)
        day = day or current
        cut: time | None = now.astimezone(self.zone).time() if day == current else None
        return summarise_day(
            day,
            now,
            self.channel_infos(),
            self._tallies(day, None),
            self._tallies(day - timedelta(days=1), cut),
            self._tallies(day - timedelta(days=7), cut),
        )

    def _tallies(self, day: date, before: time | None) -> dict[str, ChannelTally]:
        orders = self.orders.day_index(day)
        if len(orders):
            cut = None if before is None else datetime.combine(day, before, tzinfo=self.zone)
            return orders.tally(cut)
        compacted = self.history.day(day)
        if compacted is None:
            return {}
        if before is None:
            return compacted
        # Compacted days keep hours only: compare with the full hours before the cut.
        return {c: t.before_hour(before.hour) for c, t in compacted.items()}

    def live_drops(self) -> list[LiveDrop]:
        """Live channels whose last hour collapsed against the same hour on recent days."""
        live = [c.id for c in self.config.channels if c.live]
        if not live:
            return []
        now = self.clock.now()
        day = local_day(
            now - timedelta(days=self.drop_rule.lookback_days) - self.drop_rule.window, self.zone
        )
        days = []
        while day <= local_day(now, self.zone):
            days.append(self.orders.day_index(day))
            day += timedelta(days=1)
        drops = []
        for channel in live:
            recent, earlier = window_counts_of(days, channel, now, self.drop_rule)
            drop = infer_drop(channel, recent, earlier, now, self.drop_rule)
            if drop is not None:
                drops.append(drop)
        return drops

    def feeds(self) -> list[FeedView]:
        feeds = [self._feeds[i] for i in sorted(self._feeds)]
        for sync in self.shopee:
            view = sync.view
            state = {"fresh": "ok", "stale": "stale"}.get(view.state, "waiting")
            where = sync.source.api
            feeds.append(FeedView(view.channel, where, state, view.as_of, view.reason, view.orders))
        return feeds

    def shopee_views(self) -> list[SourceView]:
        return [sync.view for sync in self.shopee]

    # -- manual entry ----------------------------------------------------------------------
    def add_sale(
        self,
        channel: str,
        amount: str | int,
        *,
        order_id: str | None = None,
        at: str | datetime | None = None,
        status: str = "paid",
    ) -> tuple[Order, UpsertResult]:
        found = self.config.find_channel(channel)
        if found is None:
            known = ", ".join(c.id for c in self.config.channels) or "none configured"
            raise SaleInputError(f"unknown channel {channel!r} (known: {known})")
        channel = found.id
        try:
            value = parse_amount(amount)
        except AmountError as exc:
            raise SaleInputError(f"amount: {exc}") from None
        now = self.clock.now()
        created = self.parse_time(at) if at not in (None, "") else now
        if created > now + timedelta(minutes=5):
            raise SaleInputError(f"time: {at!s} is in the future")
        try:
            state = OrderStatus(status.strip().lower())
        except ValueError:
            raise SaleInputError(
                f"status: {status!r} (use paid, cancelled, returned or unpaid)"
            ) from None
        if self._legacy_day(local_day(created, self.zone)):
            raise SaleInputError(
                f"time: {local_day(created, self.zone)} is archived (older than {KEEP_DAYS} days)"
            )
        oid = (order_id or "").strip() or f"manual-{now:%Y%m%d%H%M%S}-{secrets.token_hex(2)}"
        order = Order(channel, oid, created, value, state, state.value, "manual")
        try:
            result = self._store([order])[0]
        except StateError as exc:  # e.g. the state lock held too long: say so, keep the dialog
            raise SaleInputError(str(exc)) from None
        self.last_channel = channel
        return order, result

    def parse_time(self, value: str | datetime | None) -> datetime:
        try:
            if isinstance(value, str):
                return parse_seller_time(value, self.clock.now(), self.zone)
            return parse_datetime(value, self.zone)
        except DateError as exc:
            raise SaleInputError(f"time: {exc} (e.g. 20.41, 27/11 20.41)") from None

    def _store(
        self, orders: list[Order], dry_run: bool = False, *, quiet: bool = False
    ) -> list[UpsertResult]:
        """Orders of recent days into their day files; orders of days already compacted
        merged into history (late orders count, a repeat changes nothing). One result per
        order, in order. ``quiet``: the caller tells the room itself (a worker thread)."""
        recent, late = self._split_compacted(orders)
        if not late:  # the common case: no copy, results already in order
            results = self.orders.upsert_many(orders, dry_run=dry_run)
        else:
            results = ["unchanged"] * len(orders)
            stored = self.orders.upsert_many([orders[i] for i in recent], dry_run=dry_run)
            for i, result in zip(recent, stored, strict=True):
                results[i] = result
        if late:
            with self.home.writing():
                for day, indexes in sorted(late.items()):
                    merged = self.history.merge(
                        day, [orders[i] for i in indexes], self.zone, dry_run=dry_run
                    )
                    for i, result in zip(indexes, merged or [], strict=False):
                        results[i] = result
        if not dry_run and not quiet:
            self._changed(orders, results)
        return results

    def _changed(self, orders: list[Order], results: list[UpsertResult]) -> bool:
        """Publish one ``SalesChanged`` per channel whose orders changed; True if any did."""
        channels = sorted(
            {o.channel for o, r in zip(orders, results, strict=True) if r != "unchanged"}
        )
        for channel in channels:
            self.events.publish(SalesChanged(channel))
        return bool(channels)

    def _split_compacted(self, orders: list[Order]) -> tuple[list[int], dict[date, list[int]]]:
        """Indexes of orders for recent days, and per compacted day the indexes of its orders."""
        cutoff_day = local_day(self.clock.now(), self.zone) - timedelta(days=KEEP_DAYS)
        cutoff = day_bounds_utc(cutoff_day, self.zone)[0]
        recent: list[int] = []
        late: dict[date, list[int]] = {}
        compacted: dict[date, bool] = {}
        for i, order in enumerate(orders):
            if order.created >= cutoff:
                recent.append(i)
                continue
            day = local_day(order.created, self.zone)
            if day not in compacted:
                compacted[day] = self.history.has_day(day)
            if compacted[day]:
                late.setdefault(day, []).append(i)
            else:
                recent.append(i)
        return recent, late

    def _legacy_day(self, day: date) -> bool:
        """A day compacted by an older liveguard: its history cannot tell orders apart."""
        return self.history.has_day(day) and not self.history.has_ledger(day)

    # -- imports ---------------------------------------------------------------------------
    def read_export(
        self,
        path: Path,
        *,
        format_name: str = "auto",
        channel: str | None = None,
        mapping: Mapping[str, str] | None = None,
        status_map: Mapping[str, str] | None = None,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> ParsedExport:
        """Parse a whole export and write nothing. Safe to run in a worker thread; raises
        ImportCancelled when ``cancelled()`` turns true while it reads.

        ``status_map`` (the seller's words for this import) adds to the config's
        ``[imports] status_map``."""
        if channel is not None and self.config.channel(channel) is None:
            known = ", ".join(c.id for c in self.config.channels) or "none configured"
            raise ExportFileError(f"unknown channel {channel!r} (known: {known})")
        known_ids = [c.id for c in self.config.channels]
        return parse_export(
            path,
            self.zone,
            format_name=format_name,
            channel=channel,
            known_channels=known_ids,
            mapping=mapping,
            status_map={**self.config.status_map, **(status_map or {})},
            progress=progress,
            cancelled=cancelled,
        )

    def apply_export(
        self,
        path: Path,
        parsed: ParsedExport,
        *,
        dry_run: bool = False,
        skip_bad_rows: bool = False,
    ) -> ImportOutcome:
        """Store a parsed export, all or nothing. Runs on the owner's thread (it writes)."""
        outcome = ImportOutcome(
            file=path.name,
            format=parsed.format,
            channel=parsed.channel,
            dry_run=dry_run,
            rows_read=parsed.rows_read,
            rejected=parsed.rejected,
            skipped=parsed.skipped,
        )
        if parsed.rejected and not skip_bad_rows and not dry_run:
            return outcome
        outcome.orders = len(parsed.orders)
        with no_cyclic_gc():
            results = self._store(parsed.orders, dry_run=dry_run)
        for result, count in Counter(results).items():
            outcome.results[result] += count
        outcome.written = not dry_run
        return outcome

    def import_file(
        self,
        path: Path,
        *,
        format_name: str = "auto",
        channel: str | None = None,
        dry_run: bool = False,
        skip_bad_rows: bool = False,
        mapping: Mapping[str, str] | None = None,
        status_map: Mapping[str, str] | None = None,
        cancelled: Cancelled | None = None,
        on_saving: Callable[[], None] | None = None,
    ) -> ImportOutcome:
        """Read, then store all or nothing. ``cancelled`` is asked while reading (then
        ImportCancelled, nothing written); ``on_saving`` is called once storing begins."""
        # One pause of the cyclic GC for reading and storing: re-enabled in between, its first
        # collection would walk every parsed order.
        with no_cyclic_gc():
            parsed = self.read_export(
                path,
                format_name=format_name,
                channel=channel,
                mapping=mapping,
                status_map=status_map,
                cancelled=cancelled,
            )
            if cancelled is not None and cancelled():
                raise ImportCancelled(f"{path.name}: import cancelled; nothing written")
            if on_saving is not None:
                on_saving()
            outcome = self.apply_export(path, parsed, dry_run=dry_run, skip_bad_rows=skip_bad_rows)
            del parsed  # freed before the collector is back
        return outcome

    def preview_import(
        self,
        path: Path,
        *,
        format_name: str = "auto",
        channel: str | None = None,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> ImportPreview | str:
        """Parse for a preview (thread-safe: writes nothing); a string says why it cannot.
        Raises ImportCancelled when ``cancelled()`` turns true while it reads."""
        try:
            parsed = self.read_export(
                path,
                format_name=format_name,
                channel=channel,
                progress=progress,
                cancelled=cancelled,
            )
        except ExportFileError as exc:
            return str(exc)
        return ImportPreview(self, path, parsed)

    # -- background: feeds and the day rollover ------------------------------------------
    async def poll_source(self, index: int) -> FeedView:
        source = self.config.sources[index]
        before = self._feeds[index]
        if self.pool is None:
            raise RuntimeError("SalesService needs an HttpPool to poll order feeds")
        changed = False
        try:
            orders = await fetch_orders(source, self.pool, self.zone, self.environ)
            # Off the event loop: a durable write waits for fsync (the store is thread-safe).
            # The one store path: an order of a day already compacted is merged into that
            # day's history (counted once), never written to a second copy of the day.
            results = await asyncio.to_thread(self._store, orders, quiet=True)
            changed = self._changed(orders, results)
        except Exception as exc:  # a feed, whatever it sends, never stops the room
            known = isinstance(exc, FeedError | StateError)
            reason = str(exc) if known else f"unexpected {type(exc).__name__}: {exc}"
            view = FeedView(
                source.channel, before.where, "stale", before.last_ok, reason, before.orders
            )
        else:
            view = FeedView(source.channel, before.where, "ok", self.clock.now(), "", len(orders))
        self._feeds[index] = view
        if (view.state == "stale") != (before.state == "stale"):
            stale = view.state == "stale"
            self.events.publish(
                SourceChanged(view.where, view.channel, "stale" if stale else "fresh", view.reason)
            )
        elif view != before and not changed:
            self.events.publish(SalesChanged(view.channel))  # the feed's line on screen moved
        return view

    async def _run_source(self, index: int, source: OrderSource) -> None:
        name = f"order feed {source.channel} ({self._feeds[index].where})"
        every = source.every.total_seconds()
        await supervise(name, lambda: self._poll(index), self.events, every=every)

    async def _poll(self, index: int) -> None:
        await self.poll_source(index)

    async def _turn_the_day(self) -> None:
        """One round of the day rollover: when the local day turned, say so (the numbers
        start again) and compact days past retention; then sleep until midnight, looking at
        the clock once a minute too (a suspended laptop or a corrected clock skips time)."""
        now = self.clock.now()
        today = local_day(now, self.zone)
        if today != self._day_seen:
            if self._day_seen is not None:
                self.events.publish(SalesChanged())
            await asyncio.to_thread(self.maintain)
            self._day_seen = today
        _, end = day_bounds_utc(today, self.zone)
        await asyncio.sleep(min(ROLLOVER_CHECK_S, max(1.0, (end - now).total_seconds() + 1)))

    def maintain(self) -> list[date]:
        """Fold days past retention into the monthly history (blocking: run off the loop)."""
        today = local_day(self.clock.now(), self.zone)
        try:
            self.orders.fold_closed_days(today)  # a closed day's segments join its day file
            return compact_old_days(self.orders, self.history, self.zone, today)
        except StateError as exc:
            self.events.publish(Notice(str(exc), "error", key="sales.compact"))
            return []

    def start(self) -> None:
        """Start the feed pollers, Shopee syncs and the day rollover on the running loop."""
        if self._tasks:
            return
        if self.pool is not None:
            for i, source in enumerate(self.config.sources):
                self._tasks.append(asyncio.create_task(self._run_source(i, source)))
            for sync in self.shopee:
                sync.pool = sync.pool or self.pool
                self._tasks.append(asyncio.create_task(sync.run()))
        rollover = supervise("day rollover", self._turn_the_day, self.events, every=0)
        self._tasks.append(asyncio.create_task(rollover))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()


def _where(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "?"
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"
