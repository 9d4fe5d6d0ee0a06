"""ControlRoom: everything the UI may ask of liveguard, in one place.

The UI gets plain view objects and calls plain methods; it never touches files or the
network. Areas (status, sales, Plan B) hang off the room as sub-services.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.state_home import StateHome
from liveguard.core.config import Channel, Config, Promotion
from liveguard.core.timekeeping import Clock, format_clock, format_day, load_zone, local_day
from liveguard.service.planb import ImpactRow, PlanBService, orders_impact
from liveguard.service.sales import SalesService
from liveguard.service.status import StatusService, pool_size

__all__ = ["ControlRoom", "HeaderView"]

Listener = Callable[[str], None]


@dataclass(frozen=True)
class HeaderView:
    shop: str
    day: str
    clock: str


class ControlRoom:
    def __init__(self, config: Config, home: StateHome, clock: Clock, lang: str) -> None:
        self.config = config
        self.home = home
        self.clock = clock
        self.lang = lang
        self.zone: ZoneInfo = load_zone(config.timezone)
        self._listeners: list[Listener] = []
        self.sales = SalesService(config, home, clock, notify=self.notify)
        self.planb = PlanBService(config, home, clock=clock)
        self.planb.on_change = lambda: self.notify("planb")
        self.planb.impact_source = self._planb_impact
        self._planb_stop = asyncio.Event()
        self._planb_task: asyncio.Task[None] | None = None
        self.status = StatusService(config, home, clock)
        self.status.subscribe(lambda change: self.notify("status"))
        self.sales.on_drops = self.status.apply_drops  # inferred "possibly down", never DOWN
        self._status_task: asyncio.Task[None] | None = None
        self.pool: HttpPool | None = None

    def _live_down(self) -> list[tuple[str, str, datetime]]:
        """Live channels DOWN now, from the status service when it is wired in."""
        status = getattr(self, "status", None)
        return list(status.down_live()) if status is not None else []

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
        self.pool = self.pool or HttpPool(pool_size(self.config))  # one client: probes, feeds
        self.planb.use_pool(self.pool)  # … and Plan B webhooks
        if self.sales.pool is None:
            self.sales.pool = self.pool
        self._status_task = asyncio.create_task(self.status.run(self.pool), name="status")
        self.sales.start()
        self._planb_stop.clear()
        self._planb_task = asyncio.create_task(self.planb.run(self._planb_stop, self._live_down))

    async def stop(self) -> None:
        """Stop background work; every acknowledged change is already on disk."""
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

    @property
    def promotions(self) -> tuple[Promotion, ...]:
        return self.config.promotions

    @property
    def armed_promotion(self) -> Promotion | None:
        return self.config.armed_promotion

    def notices(self) -> list[str]:
        """One-line notices for the seller (e.g. a state file moved aside); each shown once."""
        out, self.home.notices[:] = list(self.home.notices), []
        return out
