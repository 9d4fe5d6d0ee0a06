"""ControlRoom: everything the UI may ask of liveguard, in one place.

The UI gets plain view objects and calls plain methods; it never touches files or the
network. Areas (status, sales, Plan B) hang off the room as sub-services.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.state_home import StateHome
from liveguard.core.config import Channel, Config
from liveguard.core.ending import Verdict
from liveguard.core.readiness import Readiness
from liveguard.core.status import Change, State
from liveguard.core.timekeeping import Clock, format_clock, format_day, load_zone, local_day
from liveguard.i18n import Catalog
from liveguard.service.events import PlanBChanged, Publisher, StatusChanged, supervise
from liveguard.service.heartbeat import HeartbeatService
from liveguard.service.notify import NotifyService
from liveguard.service.planb import ImpactRow, PlanBService, orders_impact
from liveguard.service.readiness import CHECK_EVERY_S, ReadinessService, describe
from liveguard.service.sales import SalesService
from liveguard.service.status import StatusService, make_pool
from liveguard.service.telegram import TelegramApi
from liveguard.service.telegram_commands import CommandPoller

__all__ = ["ControlRoom", "HeaderView"]

Listener = Callable[[str], None]


@dataclass(frozen=True)
class HeaderView:
    shop: str
    day: str
    clock: str


class ControlRoom:
    def __init__(
        self,
        config: Config,
        home: StateHome,
        clock: Clock,
        lang: str,
        *,
        readiness_every: float | None = CHECK_EVERY_S,
    ) -> None:
        self.config = config
        self.home = home
        self.clock = clock
        self.lang = lang
        self.zone: ZoneInfo = load_zone(config.timezone)
        self._listeners: list[Listener] = []
        self.events = Publisher()
        self.sales = SalesService(config, home, clock, notify=self.notify)
        self.planb = PlanBService(config, home, clock=clock)
        self.planb.on_change = lambda: self.notify("planb")
        self.planb.impact_source = self._planb_impact
        self._planb_stop = asyncio.Event()
        self._planb_task: asyncio.Task[None] | None = None
        self.readiness = ReadinessService(config, clock, os.environ)
        self._readiness_task: asyncio.Task[None] | None = None
        self.readiness_every = readiness_every  # None: only when asked (tests, snapshots)
        self.status = StatusService(config, home, clock)
        self.status.subscribe(lambda change: self.notify("status"))
        self.sales.on_drops = self.status.apply_drops  # inferred "possibly down", never DOWN
        self._status_task: asyncio.Task[None] | None = None
        self.pool: HttpPool | None = None
        self._init_phone()

    def _init_phone(self) -> None:
        """Phone alerts and commands (issue 13): the notifier listens to the room's events."""
        if not hasattr(self, "events"):
            self.events = Publisher()
        self.notifier = NotifyService(
            self.config,
            self.home,
            self.clock,
            self.events,
            lang=self.lang,
            statuses=self.status.statuses,
            outages=lambda: self.status.outages(2),
            planb_running=self._planb_running,
        )
        self.notifier.attach()
        self._phone_tasks: list[asyncio.Task[None]] = []
        hb = self.config.heartbeat
        self.heartbeat = HeartbeatService(hb, self.events, os.environ, self.lang) if hb else None
        self.pollers: list[CommandPoller] = []
        self._status_bridged = False

    def _planb_running(self) -> bool:
        return self.planb.switch().phase in ("pending", "activating", "active")

    def _publish_status(self, change: Change) -> None:
        self.events.publish(StatusChanged(change))

    async def _start_phone(self, pool: HttpPool) -> None:
        self.notifier.use_pool(pool)
        if self.heartbeat is not None:
            self._phone_tasks.append(
                asyncio.create_task(self.heartbeat.run(pool), name="heartbeat")
            )
        if not self.config.notify:
            return
        publishes = getattr(self.status, "events", None) is self.events
        if not publishes and not self._status_bridged:  # until the status service publishes
            self._status_bridged = True
            self.status.subscribe(self._publish_status)
        self._phone_tasks.append(asyncio.create_task(self.notifier.run(), name="notify"))
        for target in self.config.notify:
            if target.kind == "telegram" and target.commands:
                poller = CommandPoller(self, target, TelegramApi(pool, target, os.environ))
                self.pollers.append(poller)
                self._phone_tasks.append(
                    asyncio.create_task(poller.run(), name=f"telegram {target.id}")
                )

    async def _stop_phone(self) -> None:
        for task in self._phone_tasks:
            task.cancel()
        for task in self._phone_tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._phone_tasks.clear()
        await self.notifier.aclose()

    def _live_down(self) -> list[tuple[str, str, datetime]]:
        """Live channels DOWN now, from the status service when it is wired in."""
        status = getattr(self, "status", None)
        return list(status.down_live()) if status is not None else []

    def planb_ending(self) -> Verdict:
        """Whether the room should ask "live is back: stop Plan B?" or remind of its end."""
        return self.planb.ending_verdict(self._live_up_since)

    def live_up_since(self, channel_id: str) -> datetime | None:
        return self._live_up_since(channel_id)

    def _live_up_since(self, channel_id: str) -> datetime | None:
        """Since when a channel has been UP (None while it is not), for Plan B's ending."""
        found = next((s for s in self.status.statuses() if s.channel == channel_id), None)
        if found is None or found.state is not State.UP:
            return None
        return found.since

    def _planb_impact(self, start: datetime, end: datetime) -> list[ImpactRow] | None:
        """Plan B's impact from the sales ledger when the sales service is wired in."""
        sales = getattr(self, "sales", None)
        if sales is None:
            return None
        ids = [c.id for c in self.config.channels]
        return orders_impact(sales.orders.day_index, self.zone, ids)(start, end)

    # -- change notification: sub-services call notify(area); the UI refreshes that area --
    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def notify(self, area: str) -> None:
        for listener in list(self._listeners):
            listener(area)

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        """Start background work (probes, feeds, the outbox) on the running event loop."""
        self.pool = self.pool or make_pool(self.config)  # one client: probes, feeds
        self.planb.use_pool(self.pool)  # … and Plan B webhooks
        if self.sales.pool is None:
            self.sales.pool = self.pool
        self._status_task = asyncio.create_task(self.status.run(self.pool), name="status")
        self.events.bind()
        self.sales.start(self.events)
        self._planb_stop.clear()
        self._planb_task = asyncio.create_task(
            self.planb.run(self._planb_stop, self._live_down, self._live_up_since)
        )
        if self.readiness_every is not None:
            self._readiness_task = asyncio.create_task(
                supervise(
                    "readiness", self.check_readiness, self.events, every=self.readiness_every
                ),
                name="readiness",
            )
        await self._start_phone(self.pool)

    async def check_readiness(self) -> None:
        """Is Plan B ready? (every 30 minutes, and when the seller asks)."""
        result = await self.readiness.check()
        self.notify("planb")
        self._tell_readiness(result)

    def _tell_readiness(self, result: Readiness) -> None:
        """Readiness turning bad reaches the phone (the notifier listens for this event)."""
        was, self._was_ready = getattr(self, "_was_ready", True), result.ready
        if result.ready or not was:
            return
        t = Catalog(self.lang)
        problems = [describe(p, t) for p in result.problems]
        detail = {"promotion": result.promotion, "ready": False, "problems": problems}
        self.events.publish(PlanBChanged("planb.readiness", detail))

    async def stop(self) -> None:
        """Stop background work; every acknowledged change is already on disk."""
        if self._readiness_task is not None:
            self._readiness_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._readiness_task
            self._readiness_task = None
        if self._status_task is not None:
            self._status_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._status_task
            self._status_task = None
        await self.sales.stop()
        self._planb_stop.set()
        if self._planb_task is not None:
            self.planb.wake.set()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._planb_task, 5)
            self._planb_task = None
        await self.planb.aclose()
        await self._stop_phone()
        if self.pool is not None:
            await self.pool.aclose()
            self.pool = None

    def close(self) -> None:
        self.home.close()

    # -- views -------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    def header(self) -> HeaderView:
        now = self.clock.now()
        return HeaderView(
            shop=self.config.shop,
            day=format_day(local_day(now, self.zone), self.lang),
            clock=format_clock(now, self.zone),
        )

    @property
    def channels(self) -> tuple[Channel, ...]:
        return self.config.channels

    def notices(self) -> list[str]:
        """One-line notices for the seller (e.g. a state file moved aside); each shown once."""
        out, self.home.notices[:] = list(self.home.notices), []
        return out
