"""Shopee orders, live: one sync per ``[[sources]] kind = "shopee"``.

Each poll asks ``get_order_list`` for orders *updated* since the last good poll (with a
small overlap, so an order updated while the last poll ran is not missed), pages through
the cursor, reads the details 50 at a time and stores them keyed by (channel, order_sn) —
the same key an import of a Shopee export uses — so an order is counted once however it
arrives, and a status change rewrites it in the day it was created.

Never silently stale: every failure (refresh, rate limit, clock skew, platform errors) and an
authorization about to end is a reason the room, ``doctor`` and ``status --json`` show; the
known numbers stay. Requests per poll are bounded; errors back off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial
from typing import Any, Literal

from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.order_store import OrderStore, UpsertResult
from liveguard.adapters.shopee_api import ShopeeClient, ShopeeError
from liveguard.adapters.shopee_store import ShopeeStore, when
from liveguard.adapters.state_home import StateError, StateHome
from liveguard.core.config import MissingEnvError, ShopeeSource, resolve_env
from liveguard.core.orders import Order
from liveguard.core.shopee import DETAIL_BATCH, Tokens, classify, windows
from liveguard.core.text import NAME_MAX, clean_line
from liveguard.core.timekeeping import Clock, day_bounds_utc, format_clock, local_day

from .events import Notice, Publisher, SalesChanged, SourceChanged, supervise

__all__ = [
    "ShopeeSync",
    "SourceView",
    "authorization_end",
    "connect_hint",
    "source_view_from_disk",
]

OVERLAP = timedelta(minutes=2)
MAX_REQUESTS_PER_POLL = 40  # list pages + detail batches; the rest waits for the next poll
BACKOFF_S = (30.0, 60.0, 120.0, 300.0, 600.0)  # after errors and rate limits, growing
CONNECT = "run `liveguard connect shopee`"

State = Literal["waiting", "fresh", "stale"]


def connect_hint(channel: str) -> str:
    return CONNECT if channel == "shopee" else f"{CONNECT} --channel {channel}"


@dataclass(frozen=True)
class SourceView:
    id: str
    channel: str
    state: State
    reason: str = ""
    as_of: datetime | None = None  # the last good poll
    access_expires: datetime | None = None
    auth_ends: datetime | None = None  # the shop's authorization (at most 365 days)
    shop_name: str = ""
    orders: int = 0  # orders stored by the last good poll
    # Syncing stops then unless the seller connects again: the authorization's end, or the
    # refresh token's when liveguard has not refreshed it for weeks.
    connect_by: datetime | None = None

    def as_json(self, zone: tzinfo) -> dict[str, Any]:
        def iso(at: datetime | None) -> str | None:
            return at.astimezone(zone).isoformat(timespec="seconds") if at else None

        return {
            "id": self.id,
            "channel": self.channel,
            "kind": "shopee",
            "state": "fresh" if self.state == "fresh" else "stale",
            "reason": self.reason,
            "as_of": iso(self.as_of),
            "access_expires": iso(self.access_expires),
            "authorization_ends": iso(self.auth_ends),
            "connect_again_by": iso(self.connect_by),
        }


def authorization_end(tokens: Tokens) -> datetime:
    """When the shop's authorization ends (the refresh token's end when Shopee did not say)."""
    return tokens.auth_expires or tokens.refresh_expires


class _PollFailed(Exception):
    """The poll cannot go on; the text is the reason shown (already safe)."""


class ShopeeSync:
    def __init__(
        self,
        source: ShopeeSource,
        home: StateHome,
        clock: Clock,
        zone: tzinfo,
        orders: OrderStore,
        environ: Mapping[str, str],
        *,
        pool: HttpPool | None = None,
        events: Publisher | None = None,
        save: Callable[[list[Order]], list[UpsertResult]] | None = None,
    ) -> None:
        self.source = source
        self.home = home
        self.clock = clock
        self.zone = zone
        self.orders = orders
        self.environ = environ
        self.pool = pool
        self.store = ShopeeStore(home, source.channel)
        self.events = events or Publisher()
        # How orders are stored: the sales service's one path, which merges an order of a
        # day already compacted into that day's history (a status change counts, once).
        self.save = save or orders.upsert_many
        self.view = SourceView(source.id, source.channel, "waiting")
        self.failures = 0
        self.requests = 0  # made by the last poll
        self._warning = ""  # a reason to show although the poll succeeded
        self._current: Tokens | None = None  # the pair this poll uses
        self._resume: tuple[list[tuple[int, int]], str] | None = None

    # -- one poll ---------------------------------------------------------------------------
    async def poll(self) -> SourceView:
        before = self.view
        now = self.clock.now()
        self.requests = 0
        self._warning = ""
        tokens: Tokens | None = None
        try:
            client = self._client()
            tokens = self._current = await self._tokens(client)
            stored = await self._sync(client, now)
            tokens = self._current  # refreshed during the poll, perhaps
        except Exception as exc:  # whatever happens, it is a reason: never silently stale
            self.failures += 1
            known = isinstance(exc, _PollFailed | ShopeeError | StateError)
            reason = str(exc) if known else f"unexpected {type(exc).__name__}: {exc}"
            view = SourceView(
                self.source.id,
                self.source.channel,
                "stale",
                clean_line(reason),
                before.as_of,
                tokens.access_expires if tokens else before.access_expires,
                authorization_end(tokens) if tokens else before.auth_ends,
                before.shop_name,
                before.orders,
                tokens.ends() if tokens else before.connect_by,
            )
        else:
            self.failures = 0
            warning = self._warning
            if tokens.auth_ending(now) and not warning:
                warning = (
                    f"Shopee access ends {tokens.ends().astimezone(self.zone):%Y-%m-%d}: "
                    f"{connect_hint(self.source.channel)} again"
                )
            if self._resume is not None:
                warning = warning or "catching up with Shopee (more orders next poll)"
            view = SourceView(
                self.source.id,
                self.source.channel,
                "fresh",
                warning,
                now,
                tokens.access_expires,
                authorization_end(tokens),
                tokens.shop_name,
                stored,
                tokens.ends(),
            )
        self.view = view
        await asyncio.to_thread(self._save_view, view)
        if view != before:  # the sales area shows the source's state
            self.events.publish(SalesChanged(self.source.channel))
        changed = (view.state, view.reason) != (before.state, before.reason)
        if changed and view.state != "waiting":
            self.events.publish(SourceChanged(view.id, view.channel, view.state, view.reason))
        return view

    def next_delay(self) -> float:
        """Seconds until the next poll: ``every``, or a growing pause after failures."""
        every = self.source.every.total_seconds()
        if not self.failures:
            return every
        return max(every, BACKOFF_S[min(self.failures, len(BACKOFF_S)) - 1])

    async def run(self) -> None:
        """Poll until cancelled, under supervise(); a poll's own failures are reasons."""

        async def body() -> None:
            await self.poll()
            extra = self.next_delay() - self.source.every.total_seconds()
            if extra > 0:
                await asyncio.sleep(extra)

        await supervise(
            f"shopee:{self.source.channel}",
            body,
            self.events,
            every=self.source.every.total_seconds(),
        )

    # -- pieces -----------------------------------------------------------------------------
    def _client(self) -> ShopeeClient:
        if self.pool is None:
            raise _PollFailed("liveguard has no network pool for Shopee")
        try:
            partner_id = resolve_env(self.source.partner_id, self.environ)
            key = resolve_env(self.source.partner_key, self.environ)
        except MissingEnvError as exc:
            raise _PollFailed(str(exc)) from None
        return ShopeeClient(
            self.pool,
            self.source.api,
            partner_id,
            key,
            self.clock,
            timeout=self.source.timeout.total_seconds(),
        )

    def shop_id(self) -> str:
        try:
            return resolve_env(self.source.shop_id, self.environ).strip()
        except MissingEnvError as exc:
            raise _PollFailed(str(exc)) from None

    async def _tokens(self, client: ShopeeClient) -> Tokens:
        tokens = await asyncio.to_thread(self.store.load_tokens)
        hint = connect_hint(self.source.channel)
        if tokens is None:
            raise _PollFailed(f"not connected to Shopee: {hint}")
        if tokens.shop_id != self.shop_id():
            raise _PollFailed(f"connected to another shop than shop_id: {hint}")
        now = self.clock.now()
        if now >= tokens.ends():
            raise _PollFailed(f"Shopee access ended: {hint}")
        if tokens.needs_refresh(now):
            try:
                tokens = await self.refresh(client, tokens)
            except _PollFailed as exc:
                if now >= tokens.access_expires:
                    raise
                # the access token still works a while: sync, and say the refresh failed
                until = format_clock(tokens.access_expires, self.zone)
                self._warning = f"{exc} (access still works until {until})"
        return tokens

    async def refresh(self, client: ShopeeClient, tokens: Tokens) -> Tokens:
        """A new pair, durable on disk before it is used (Shopee retires the old refresh
        token once the new one is issued). Another process's fresher pair wins."""
        lock = self.store.refresh_lock()
        await asyncio.to_thread(self.store.acquire, lock)
        try:
            current = await asyncio.to_thread(self.store.load_tokens) or tokens
            if current.refresh_token != tokens.refresh_token and not current.needs_refresh(
                self.clock.now()
            ):
                return current
            self.requests += 1
            try:
                new = await client.refresh(current)
            except ShopeeError as exc:
                if exc.kind in ("auth", "token"):
                    raise _PollFailed(
                        f"Shopee token refresh refused ({exc}): "
                        f"{connect_hint(self.source.channel)} again"
                    ) from None
                raise _PollFailed(f"Shopee token refresh failed: {exc}") from None
            await asyncio.to_thread(self.store.save_tokens, new)
            return new
        finally:
            lock.release()

    async def _call(self, client: ShopeeClient, call: Any) -> Any:
        """One shop call within the poll's budget; an expired access token is refreshed
        once (the rest of the poll uses the new one) and the call repeated."""
        if self.requests >= MAX_REQUESTS_PER_POLL:
            raise _Budget
        assert self._current is not None
        self.requests += 1
        try:
            return await call(self._current)
        except ShopeeError as exc:
            if exc.kind != "token":
                raise
        self._current = await self.refresh(client, self._current)
        self.requests += 1
        return await call(self._current)

    async def _sync(self, client: ShopeeClient, now: datetime) -> int:
        sync = await asyncio.to_thread(self.store.load_sync)
        if self._resume is not None:
            pending, cursor = self._resume
        else:
            start = self._start(sync, now)
            pending, cursor = windows(start, now), ""
        stored = 0
        try:
            while pending:
                lo, hi = pending[0]
                while True:
                    ask = partial(client.order_list, lo=lo, hi=hi, cursor=cursor)
                    page = await self._call(client, ask)
                    stored += await self._store_details(client, page.order_sns)
                    if not page.more:
                        break
                    if page.next_cursor == cursor:  # a cursor that never moves: stop, say so
                        raise ShopeeError("reply", "Shopee get_order_list: the cursor did not move")
                    cursor = page.next_cursor
                pending.pop(0)
                cursor = ""
                await asyncio.to_thread(self._advance, hi)
        except _Budget:
            self._resume = (pending, cursor)
            return stored
        self._resume = None
        return stored

    def _start(self, sync: dict[str, Any], now: datetime) -> datetime:
        synced_to = sync.get("synced_to")
        if isinstance(synced_to, int) and not isinstance(synced_to, bool):
            return datetime.fromtimestamp(synced_to, UTC) - OVERLAP
        since = when(sync.get("since"))
        if since is not None:
            return since
        return day_bounds_utc(local_day(now, self.zone), self.zone)[0]  # today only

    def _advance(self, hi: int) -> None:
        sync = self.store.load_sync()
        sync["synced_to"] = hi
        self.store.save_sync(sync)

    async def _store_details(self, client: ShopeeClient, sns: list[str]) -> int:
        stored = 0
        for i in range(0, len(sns), DETAIL_BATCH):
            batch = sns[i : i + DETAIL_BATCH]
            ask = partial(client.order_details, sns=batch)
            details = await self._call(client, ask)
            orders = [self._order(d) for d in details]
            results = await asyncio.to_thread(self.save, orders)
            stored += len(orders)
            if any(r != "unchanged" for r in results):
                self.events.publish(SalesChanged(self.source.channel))
        return stored

    def _order(self, detail: dict[str, Any]) -> Order:
        sn = detail.get("order_sn")
        if not isinstance(sn, str) or not sn:
            raise _PollFailed("Shopee sent an order without order_sn")
        sn = clean_line(sn, NAME_MAX)
        raw_status = clean_line(detail.get("order_status") or "", NAME_MAX)
        status = classify(raw_status)
        if status is None:
            raise _PollFailed(f"Shopee order {sn}: unknown status {raw_status!r}")
        created = detail.get("create_time")
        amount = detail.get("total_amount")
        if not isinstance(created, int) or isinstance(created, bool) or created <= 0:
            raise _PollFailed(f"Shopee order {sn}: no create_time")
        if not isinstance(amount, int | float) or isinstance(amount, bool) or amount < 0:
            raise _PollFailed(f"Shopee order {sn}: no total_amount")
        return Order(
            self.source.channel,
            sn,
            datetime.fromtimestamp(created, UTC),
            round(amount),
            status,
            raw_status,
            "shopee",
        )

    def _save_view(self, view: SourceView) -> None:
        sync = self.store.load_sync()
        sync.update(
            {
                "state": view.state,
                "reason": view.reason,
                "checked_at": self.clock.now().isoformat(),
                "as_of": view.as_of.isoformat() if view.as_of else None,
                "access_expires": view.access_expires.isoformat() if view.access_expires else None,
                "auth_ends": view.auth_ends.isoformat() if view.auth_ends else None,
                "connect_by": view.connect_by.isoformat() if view.connect_by else None,
                "shop_name": view.shop_name,
                "every_s": self.source.every.total_seconds(),
            }
        )
        try:
            self.store.save_sync(sync)
        except StateError as exc:
            self.events.publish(Notice(str(exc), "error", key=f"shopee:{self.source.channel}"))


class _Budget(Exception):
    """This poll has made its share of requests; the rest waits for the next one."""


def source_view_from_disk(
    source: ShopeeSource, home: StateHome, now: datetime, zone: tzinfo
) -> SourceView:
    """The source as the last poll left it (for ``status`` and ``doctor`` in another process);
    stale when no poll ran lately (the control room is not running)."""
    store = ShopeeStore(home, source.channel)
    sync = store.load_sync()
    as_of = when(sync.get("as_of"))
    checked = when(sync.get("checked_at"))
    state: State = "fresh" if sync.get("state") == "fresh" else "stale"
    reason = clean_line(sync.get("reason") or "")
    try:
        tokens = store.load_tokens()
    except StateError as exc:
        tokens, state, reason = None, "stale", str(exc)
    if tokens is None and not reason:
        state, reason = "stale", f"not connected to Shopee: {connect_hint(source.channel)}"
    elif checked is None:
        state, reason = "stale", reason or "not synced yet (the control room syncs Shopee)"
    elif now - checked > 2 * source.every + timedelta(minutes=1):
        state = "stale"
        reason = f"not synced since {format_clock(checked, zone)} (is the control room running?)"
    return SourceView(
        source.id,
        source.channel,
        state,
        reason,
        as_of,
        tokens.access_expires if tokens else None,
        authorization_end(tokens) if tokens else None,
        tokens.shop_name if tokens else "",
        0,
        tokens.ends() if tokens else None,
    )
