"""ControlRoom: everything the UI may ask of liveguard, in one place.

The UI gets plain view objects and calls plain methods; it never touches files or the
network. Areas (status, sales, Plan B) hang off the room as sub-services, and everything
that happens in the background reaches the UI (and any other subscriber) as typed events
through ``room.events``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.state_home import StateHome
from liveguard.core.config import Channel, Config
from liveguard.core.ending import Verdict
from liveguard.core.readiness import Readiness
from liveguard.core.status import State
from liveguard.core.timekeeping import Clock, format_clock, format_day, load_zone, local_day
from liveguard.i18n import Catalog
from liveguard.service.events import Notice, PlanBChanged, Publisher, supervise
from liveguard.service.heartbeat import HeartbeatService
from liveguard.service.notify import NotifyService
from liveguard.service.planb import ImpactRow, PlanBService, orders_impact
from liveguard.service.readiness import CHECK_EVERY_S, ReadinessService, describe
from liveguard.service.sales import SalesService
from liveguard.service.status import StatusService, make_pool
from liveguard.service.telegram import TelegramApi
from liveguard.service.telegram_commands import CommandPoller

__all__ = ["ControlRoom", "HeaderView"]

log = logging.getLogger("liveguard")

INFER_EVERY_S = 60.0  # the inferred live warning is re-judged once a minute
INFER_FIRST_AFTER_S = 1.0
PLANB_STOP_S = 5.0  # how long stopping waits for Plan B's round under way to finish


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
        self.events = Publisher()
        home.report_to(self._state_notice)
        self.status = StatusService(config, home, clock, events=self.events)
        self.sales = SalesService(config, home, clock, events=self.events)
        self.planb = PlanBService(
            config, home, clock=clock, events=self.events, impact=self._planb_impact
        )
        self._planb_stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._planb_task: asyncio.Task[None] | None = None
        self.readiness = ReadinessService(config, clock, os.environ)
        self.readiness_every = readiness_every  # None: only when asked (tests, snapshots)
        self.pool: HttpPool | None = None
        self._init_phone()

    def _init_phone(self) -> None:
        """Phone alerts and commands (issue 13): the notifier listens to the room's events."""
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

    def _planb_running(self) -> bool:
        return self.planb.switch().phase in ("pending", "activating", "active")

    async def _start_phone(self, pool: HttpPool) -> None:
        self.notifier.use_pool(pool)
        if self.heartbeat is not None:
            self._phone_tasks.append(
                asyncio.create_task(self.heartbeat.run(pool), name="heartbeat")
            )
        if not self.config.notify:
            return
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
        await self._wait(self._phone_tasks)
        self._phone_tasks.clear()
        await self.notifier.aclose()

    def _state_notice(self, text: str) -> None:
        self.events.publish(Notice(text, "warning", key=text))

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
        """Plan B's impact from the sales ledger."""
        ids = [c.id for c in self.config.channels]
        return orders_impact(self.sales.orders.day_index, self.zone, ids)(start, end)

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        """Start background work (probes, feeds, the outbox) on the running event loop,
        each loop supervised: a failing round is reported once and tried again."""
        self.events.bind()
        self.pool = self.pool or make_pool(self.config)  # one client: probes, feeds
        self.planb.use_pool(self.pool)  # … and Plan B webhooks
        if self.sales.pool is None:
            self.sales.pool = self.pool
        self._spawn(self.status.run(self.pool), "status")
        self.sales.start()
        self._spawn(self._judge_sales(), "inference")
        if self.readiness_every is not None:
            readiness = supervise(
                "readiness", self.check_readiness, self.events, every=self.readiness_every
            )
            self._spawn(readiness, "readiness")
        self._planb_stop.clear()
        self._planb_task = asyncio.create_task(
            self.planb.run(self._planb_stop, self.status.down_live, self._live_up_since),
            name="planb",
        )
        await self._start_phone(self.pool)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(work, name=name))

    async def check_readiness(self) -> None:
        """Is Plan B ready? (every 30 minutes, and when the seller asks)."""
        result = await self.readiness.check()
        self.events.publish(PlanBChanged())
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

    async def _judge_sales(self) -> None:
        """Sales inference: a collapsed hour on a live channel becomes a status suggestion."""
        # The first judgement reads a week of day files (~60 ms with a busy shop): let the
        # room paint its first frame before it.
        await asyncio.sleep(INFER_FIRST_AFTER_S)
        await supervise("sales inference", self.judge_sales, self.events, every=INFER_EVERY_S)

    async def judge_sales(self) -> None:
        """Judge the live channels' last hour now (a week of day files, read off the loop)."""
        drops = await asyncio.to_thread(self.sales.live_drops)
        self.status.apply_drops(drops)  # the status book lives on the loop

    async def stop(self) -> None:
        """Stop background work; every acknowledged change is already on disk. Plan B's
        round under way (a webhook being sent) may finish first, for a few seconds at most."""
        self._planb_stop.set()
        self.planb.wake.set()
        for task in self._tasks:
            task.cancel()
        await self._wait(self._tasks)
        self._tasks.clear()
        await self.sales.stop()
        if self._planb_task is not None:
            done, _ = await asyncio.wait({self._planb_task}, timeout=PLANB_STOP_S)
            if not done:
                self._planb_task.cancel()
            await self._wait([self._planb_task])
            self._planb_task = None
        try:
            await self.planb.aclose()
        except Exception:  # a full disk at the very end: the journal is copied next time
            log.exception("Plan B: closing failed")
        await self._stop_phone()
        if self.pool is not None:
            await self.pool.aclose()
            self.pool = None

    @staticmethod
    async def _wait(tasks: list[asyncio.Task[None]]) -> None:
        """Wait for stopped tasks; none of them may take the shutdown down with it."""
        for outcome in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(outcome, Exception):
                log.error("background work ended with an error", exc_info=outcome)

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
