"""StatusService: the live status the control room and the CLI read and change.

The book (core.status) lives on the event loop thread; probe results and declarations
change it there. Disk writes of probe bookkeeping are batched and done off the loop
(``asyncio.to_thread``) so fsync never stalls the screen; a declaration is written at once
because the seller is waiting for it to stick.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from liveguard.adapters.audit_log import AuditLog
from liveguard.adapters.http_pool import DEFAULT_MAX_CONNECTIONS, HttpPool
from liveguard.adapters.probes import CheckJob, ProbeScheduler, jobs_for, warm_up
from liveguard.adapters.state_home import StateError, StateHome, current_actor
from liveguard.adapters.status_store import OUTAGES_KEPT, StatusStore, channel_docs
from liveguard.core.config import Alerts, Config
from liveguard.core.inference import LiveDrop
from liveguard.core.status import (
    Beat,
    Change,
    ChannelStatus,
    Declaration,
    Outage,
    ProbeResult,
    Source,
    State,
    StatusBook,
    uptime_on,
)
from liveguard.core.text import NAME_MAX, clean_line
from liveguard.core.timekeeping import Clock, load_zone, local_day

from .events import Notice, Publisher, StatusChanged, supervise

__all__ = ["ChannelView", "Mark", "StatusService", "exit_code", "make_pool", "pool_size"]

Mark = Literal["up", "down", "clear"]

FLUSH_EVERY_S = 1.0
MAX_CONNECTIONS = 128
HISTORY_DAYS = 8


@dataclass(frozen=True)
class ChannelView:
    status: ChannelStatus
    beats: list[Beat]
    uptime_today: float | None
    checks: int


def pool_size(config: Config) -> int:
    """Connections for the shared HttpPool: one per check and feed, so that hanging endpoints
    (each holding a connection until its timeout) never starve the others into "unknown"."""
    wanted = sum(1 for c in config.channels for k in c.checks if k.kind != "tcp")
    wanted += len(config.sources) + len(config.shopee) + 4  # Plan B webhooks and a little room
    # the phone: one attempt in flight per target, one long poll per command bot, the ping
    wanted += len(config.notify) + sum(1 for t in config.notify if t.commands)
    wanted += 1 if config.heartbeat else 0
    return max(DEFAULT_MAX_CONNECTIONS, min(MAX_CONNECTIONS, wanted))


def make_pool(config: Config) -> HttpPool:
    """The shared pool as the config asks for it (size, ``[network] use_env_proxy``)."""
    return HttpPool(pool_size(config), use_env_proxy=config.network.use_env_proxy)


def exit_code(statuses: list[ChannelStatus]) -> int:
    """Monitoring-plugin convention: 0 up, 1 degraded, 2 a live channel down, 3 unknown.

    A channel nobody watches (not live, no checks, no declaration) does not count.
    """
    watched = [s for s in statuses if s.live or s.source is not Source.NONE]
    states = [(s.live, s.state.public) for s in watched]
    if any(live and st is State.DOWN for live, st in states):
        return 2
    if any(st is State.UNKNOWN for _, st in states):
        return 3
    if any(st in (State.DEGRADED, State.DOWN) for _, st in states):
        return 1
    return 0


def drop_reason(drop: LiveDrop) -> str:
    """The suggestion shown for a collapsed hour."""
    return f"{drop.recent} orders in the last hour (usually {drop.baseline:g})"


def _ignore(job: CheckJob, result: ProbeResult) -> None:
    return None


class StatusService:
    def __init__(
        self,
        config: Config,
        home: StateHome,
        clock: Clock,
        *,
        environ: Mapping[str, str] | None = None,
        events: Publisher | None = None,
    ) -> None:
        self.config = config
        self.home = home
        self.clock = clock
        self.zone: ZoneInfo = load_zone(config.timezone)
        self.environ = os.environ if environ is None else environ
        self.events = events or Publisher()
        self.store = StatusStore(home)
        self.book = StatusBook(config.channels, config.alerts)
        self._dirty: set[str] = set()
        self._closed: list[Outage] = []
        self._history: list[Outage] = []
        self._loaded = False
        self._io = threading.Lock()  # one store user at a time: the loop or the flush thread
        self._declarations_made = 0
        self._write_failed = False
        self._audit_failed = False
        self.audit = AuditLog(home)

    # -- lifecycle ----------------------------------------------------------------------
    def load(self) -> None:
        """Read what is stored (declarations, hysteresis, heartbeats, recent outages)."""
        self.store.restore_into(self.book)
        now = self.clock.now()
        self._history = self.store.outages(since=now - timedelta(days=HISTORY_DAYS))
        for channel in self.config.channels:
            self._apply(self.book.settle(channel.id, now))
        self._loaded = True

    # -- reading ------------------------------------------------------------------------
    def snapshot(self) -> list[ChannelView]:
        if not self._loaded:
            self.load()
        now = self.clock.now()
        today = local_day(now, self.zone)
        views = []
        for channel in self.config.channels:
            outages = [o for o in self._history if o.channel == channel.id]
            current = self.book.open_outage(channel.id)
            if current is not None:
                outages.append(current)
            views.append(
                ChannelView(
                    self.book.status(channel.id),
                    self.book.beats(channel.id),
                    uptime_on(outages, today, self.zone, now),
                    len(channel.checks),
                )
            )
        return views

    def statuses(self) -> list[ChannelStatus]:
        if not self._loaded:
            self.load()
        return self.book.snapshot()

    def down_live(self) -> list[tuple[str, str, datetime]]:
        """Live channels that are DOWN now: (id, name, since), as Plan B's auto-activation takes."""
        # The wait counts from liveguard's own first sight of the outage: a feed's claimed
        # "since" (hours ago, or year 1) must not shorten it.
        if not self._loaded:
            self.load()
        now = self.clock.now()
        return [
            (s.channel, s.name, self.book.down_seen(s.channel) or now)
            for s in self.book.snapshot()
            if s.live and s.state is State.DOWN
        ]

    def apply_drops(self, drops: Iterable[LiveDrop]) -> None:
        """Sales inference: a collapsed hour on a live channel becomes a suggestion, never DOWN."""
        now = self.clock.now()
        by_channel = {d.channel: d for d in drops}
        for channel in self.config.channels:
            if not channel.live:
                continue
            drop = by_channel.get(channel.id)
            if drop is None:
                self._apply(self.book.infer(channel.id, None, "", now))
                continue
            self._apply(self.book.infer(channel.id, State.DOWN, drop_reason(drop), drop.at))

    def outages(self, days: int = HISTORY_DAYS) -> list[Outage]:
        """Outages of the last ``days`` local days, newest first, open ones included."""
        now = self.clock.now()
        first_day = local_day(now, self.zone) - timedelta(days=days - 1)
        cutoff = datetime.combine(first_day, datetime.min.time(), tzinfo=self.zone)
        found = [o for o in self._history if (o.end or now) >= cutoff]
        found += [o for c in self.config.channels if (o := self.book.open_outage(c.id))]
        return sorted(found, key=lambda o: o.start, reverse=True)

    # -- declaring ----------------------------------------------------------------------
    def declare(
        self, channel_id: str, mark: Mark, reason: str = "", who: str | None = None
    ) -> ChannelStatus:
        """Declare a channel up or down (or clear back to probes); stored before returning."""
        who = clean_line(who or current_actor(), NAME_MAX)  # outside text: one clean line
        reason = clean_line(reason)
        channel_id, decl, now = self._declaration(channel_id, mark, reason, who)
        self._declarations_made += 1
        self._save_declaration(channel_id, mark, reason, who, decl, now)
        status = self._take_declaration(channel_id, decl, now)
        self._write_dirty()
        return status

    async def declare_soon(
        self, channel_id: str, mark: Mark, reason: str = "", who: str | None = None
    ) -> ChannelStatus:
        """``declare`` for the control room: the write runs in a worker thread, the book is
        changed on the loop; the channel's bookkeeping follows with the next batch."""
        who = clean_line(who or current_actor(), NAME_MAX)  # outside text: one clean line
        reason = clean_line(reason)
        channel_id, decl, now = self._declaration(channel_id, mark, reason, who)
        self._declarations_made += 1  # a batch read under way must not undo this one
        await asyncio.to_thread(self._save_declaration, channel_id, mark, reason, who, decl, now)
        return self._take_declaration(channel_id, decl, now)

    def _declaration(
        self, channel_id: str, mark: Mark, reason: str, who: str
    ) -> tuple[str, Declaration | None, datetime]:
        """The channel's own id (found by id, name or alias), the declaration and its time."""
        found = self.config.find_channel(channel_id)
        if found is None:
            known = ", ".join(c.id for c in self.config.channels) or "none configured"
            raise KeyError(f"no channel {channel_id!r} (channels: {known})")
        if not self._loaded:
            self.load()
        now = self.clock.now()
        if mark == "clear":
            return found.id, None, now
        return found.id, Declaration(State(mark), who, now, reason.strip()), now

    def _save_declaration(
        self,
        channel_id: str,
        mark: Mark,
        reason: str,
        who: str,
        decl: Declaration | None,
        now: datetime,
    ) -> None:
        """The declaration and its audit record in one write, then the audit copy."""
        detail = {"channel": channel_id, "mark": mark, "reason": reason.strip()}
        record = {"kind": "status.mark", "detail": detail, "at": now.isoformat(), "actor": who}
        with self._io:
            self.store.save_declaration(channel_id, decl, record)
            self._copy_audit()

    def _take_declaration(
        self, channel_id: str, decl: Declaration | None, now: datetime
    ) -> ChannelStatus:
        self._dirty.add(channel_id)
        self._apply(self.book.declare(channel_id, decl, now))
        return self.book.status(channel_id)

    # -- probing ------------------------------------------------------------------------
    async def check_once(
        self, pool: HttpPool | None = None, drops: Iterable[LiveDrop] = ()
    ) -> list[ChannelStatus]:
        """Run every check once and answer without waiting for failures in a row (CLI).

        Declarations still win; ``drops`` (sales inference) add their suggestion; nothing is
        written (the control room owns the hysteresis).
        """
        once = StatusBook(self.config.channels, Alerts(1, 1))
        for cid, decl in self.store.declarations().items():
            if self.config.channel(cid) is not None:
                once.declare(cid, decl, decl.at)
        for drop in drops:
            if (channel := self.config.channel(drop.channel)) is not None and channel.live:
                once.infer(drop.channel, State.DOWN, drop_reason(drop), drop.at)
        own_pool = pool is None
        pool = pool or make_pool(self.config)
        try:
            jobs = jobs_for(self.config.channels)
            scheduler = ProbeScheduler(pool, jobs, self.clock, _ignore, environ=self.environ)
            for job, result in await scheduler.run_once():
                once.record(job.channel, job.index, result)
        finally:
            if own_pool:
                await pool.aclose()
        return once.snapshot()

    def record(self, job: CheckJob, result: ProbeResult) -> None:
        """Take one probe result (called on the event loop by the scheduler)."""
        self._dirty.add(job.channel)
        self._apply(self.book.record(job.channel, job.index, result))

    async def run(self, pool: HttpPool, *, flush_every: float = FLUSH_EVERY_S) -> None:
        """Probe on schedule, store in batches and pick up `liveguard mark`; until cancelled."""
        if not self._loaded:
            self.load()  # on the loop, like every other use of the book: one small file
        await asyncio.to_thread(warm_up)
        jobs = jobs_for(self.config.channels)
        scheduler = ProbeScheduler(pool, jobs, self.clock, self.record, environ=self.environ)
        try:
            async with asyncio.TaskGroup() as group:
                if jobs:  # the scheduler runs until cancelled; restarted (paced) if it fails
                    group.create_task(supervise("probes", scheduler.run, self.events, every=1.0))
                group.create_task(
                    supervise("status flush", self.sync, self.events, every=flush_every)
                )
        finally:
            with contextlib.suppress(Exception):  # a full disk: the notice has said so
                await asyncio.to_thread(self._write_dirty)  # last batch on the way out

    async def sync(self) -> None:
        """Write what changed and apply declarations made elsewhere; disk work off the loop."""
        made = self._declarations_made
        docs, closed = self._take_dirty()
        try:
            stored = await asyncio.to_thread(self._write_and_read, docs, closed)
        except StateError as exc:
            # keep it for the next round; tell the seller once, not every second
            self._dirty.update(docs)
            self._closed[:0] = closed
            if not self._write_failed:
                self.events.publish(Notice(str(exc), "error", key="status.write"))
            self._write_failed = True
            return
        self._write_failed = False
        if made != self._declarations_made:
            return  # a declaration made meanwhile is newer than what was just read
        now = self.clock.now()
        for channel in self.config.channels:
            decl = stored.get(channel.id)
            if decl != self.book.declaration(channel.id):
                self._dirty.add(channel.id)
                self._apply(self.book.declare(channel.id, decl, decl.at if decl else now))

    # -- internals ----------------------------------------------------------------------
    def _apply(self, change: Change | None) -> None:
        if change is None:
            return
        if change.closed is not None:
            self._closed.append(change.closed)
            self._history.append(change.closed)
            # a channel flapping all night must not grow memory: as many as the file keeps
            del self._history[:-OUTAGES_KEPT]
            del self._closed[:-OUTAGES_KEPT]
        self.events.publish(StatusChanged(change))

    def _take_dirty(self) -> tuple[dict[str, dict[str, Any]], list[Outage]]:
        docs = channel_docs(self.book, sorted(self._dirty))
        closed, self._closed = self._closed, []
        self._dirty.clear()
        return docs, closed

    def _write_and_read(
        self, docs: dict[str, dict[str, Any]], closed: list[Outage]
    ) -> dict[str, Declaration]:
        with self._io:
            self.store.save_channels(docs)
            self.store.add_outages(closed)
            self._copy_audit()  # catches up after a crash or a failed copy
            return self.store.declarations()

    def _copy_audit(self) -> None:
        """The declaration is stored with its audit record; a failed copy to the audit log
        leaves the record in the journal for the next round (never lost, never twice)."""
        try:
            self.store.copy_journal(self.audit)
        except StateError as exc:
            if not self._audit_failed:
                self.events.publish(Notice(str(exc), "error", key="status.audit"))
            self._audit_failed = True
        else:
            self._audit_failed = False

    def _write_dirty(self) -> None:
        docs, closed = self._take_dirty()
        with self._io:
            self.store.save_channels(docs)
            self.store.add_outages(closed)
