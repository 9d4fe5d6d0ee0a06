"""The demo shop's outside world: what the channels' status endpoints, the status page, the
order feeds and the webhook receiver answer. The story changes it; the servers read it.

Every method takes the lock: the story and the servers may run on different threads.
"""

from __future__ import annotations

import html
import json
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from liveguard.core.timekeeping import Clock, SystemClock

from .http import Request, Response
from .shopee import ShopeePlatform

__all__ = [
    "CHANNELS",
    "FLASH_SALE_END",
    "FLASH_SALE_START",
    "WHATSAPP_BROADCAST",
    "DemoChannel",
    "FeedOrder",
    "Received",
    "Shop",
]

FLASH_SALE_START = "/flash-sale/start"
FLASH_SALE_END = "/flash-sale/end"
WHATSAPP_BROADCAST = "/whatsapp/broadcast"  # a WhatsApp gateway's broadcast endpoint
FEED_KEEP = 500  # the newest orders each feed still lists; the app has stored older ones


@dataclass(frozen=True)
class DemoChannel:
    id: str
    name: str
    live: bool
    component: str  # its component on the status page ("" when it has none)
    prefix: str  # of its order numbers


CHANNELS: tuple[DemoChannel, ...] = (
    DemoChannel("tiktok", "TikTok Shop", True, "TikTok Live", "TT"),
    DemoChannel("shopee", "Shopee", True, "Shopee Live", "SP"),
    DemoChannel("tokopedia", "Tokopedia", False, "", "TP"),
    DemoChannel("instagram", "Instagram", True, "Instagram Live", "IG"),
)


@dataclass(frozen=True)
class FeedOrder:
    """One order as the demo feed lists it (the feed's own field names, see demo.config)."""

    order_sn: str
    create_time: int  # Unix seconds
    total_amount: str  # text with Indonesian separators, as marketplaces send it
    order_status: str

    def as_json(self) -> dict[str, Any]:
        return {
            "order_sn": self.order_sn,
            "create_time": self.create_time,
            "total_amount": self.total_amount,
            "order_status": self.order_status,
        }


@dataclass(frozen=True)
class Received:
    """One request the webhook receiver got."""

    at: datetime
    method: str
    path: str
    idempotency_key: str
    body: Any  # the JSON body, or the text when it is not JSON

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(timespec="seconds"),
            "method": self.method,
            "path": self.path,
            "idempotency_key": self.idempotency_key,
            "body": self.body,
        }


@dataclass
class _ChannelState:
    live_up: bool = True
    component: str = "operational"
    orders: deque[FeedOrder] = field(default_factory=lambda: deque(maxlen=FEED_KEEP))
    orders_total: int = 0


class Shop:
    def __init__(
        self, channels: Sequence[DemoChannel] = CHANNELS, clock: Clock | None = None
    ) -> None:
        self.channels = tuple(channels)
        self.clock: Clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._state = {c.id: _ChannelState() for c in self.channels}
        self._received: list[Received] = []
        self.platform: ShopeePlatform | None = None  # Shopee's own API, when the world runs it

    # -- the story changes the world -------------------------------------------------------
    def set_live(self, channel: str, up: bool) -> None:
        with self._lock:
            self._state[channel].live_up = up

    def set_component(self, channel: str, status: str) -> None:
        with self._lock:
            self._state[channel].component = status

    def add_order(self, channel: str, order: FeedOrder) -> None:
        with self._lock:
            state = self._state[channel]
            state.orders.append(order)
            state.orders_total += 1
        if channel == "shopee" and self.platform is not None:
            amount = int(order.total_amount.replace(".", ""))
            self.platform.add_order(order.order_sn, order.create_time, amount, order.order_status)

    # -- anyone may look -------------------------------------------------------------------
    def live_up(self, channel: str) -> bool:
        with self._lock:
            return self._state[channel].live_up

    def component(self, channel: str) -> str:
        with self._lock:
            return self._state[channel].component

    def orders(self, channel: str) -> list[FeedOrder]:
        with self._lock:
            return list(self._state[channel].orders)

    def orders_total(self, channel: str) -> int:
        with self._lock:
            return self._state[channel].orders_total

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def flash_sale_on(self) -> bool:
        """True when the last flash-sale webhook the receiver got was a start."""
        with self._lock:
            for got in reversed(self._received):
                if got.path == FLASH_SALE_START:
                    return True
                if got.path == FLASH_SALE_END:
                    return False
        return False

    # -- the servers' answers --------------------------------------------------------------
    def status_reply(self, request: Request) -> Response:
        """``/live/<channel>``: the channel's live-feature endpoint; ``/api/v2/...``: the page."""
        if request.path == "/api/v2/components.json":
            return Response.json(self._components())
        if request.path == "/api/v2/status.json":
            return Response.json(self._page_status())
        channel = request.path.removeprefix("/live/")
        if request.path.startswith("/live/") and channel in self._state:
            if not self.live_up(channel):
                return Response.json({"error": "live streaming unavailable"}, status=503)
            return Response.json({"live": {"enabled": True, "region": "ID"}})
        return Response(404, b"not found")

    def feed_reply(self, request: Request) -> Response:
        """``/orders/<channel>``: ``{"data": {"orders": [...]}}``, oldest first."""
        channel = request.path.removeprefix("/orders/")
        if not request.path.startswith("/orders/") or channel not in self._state:
            return Response(404, b"not found")
        orders = [o.as_json() for o in self.orders(channel)]
        return Response.json({"data": {"orders": orders, "count": len(orders)}})

    def receiver_reply(self, request: Request) -> Response:
        """Records every POST (any path) and answers 200; ``GET /`` shows what arrived."""
        if request.method == "GET" and request.path == "/":
            return Response.html(self._receiver_page())
        if request.method == "GET" and request.path == "/received.json":
            return Response.json([r.as_json() for r in self.received()])
        if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
            return Response(405, b"use POST")
        try:
            body: Any = request.json() if request.body else None
        except ValueError:
            body = request.body.decode("utf-8", "replace")
        got = Received(
            self.clock.now(),
            request.method,
            request.path,
            request.headers.get("idempotency-key", ""),
            body,
        )
        with self._lock:
            self._received.append(got)
        return Response.json({"ok": True, "received": got.idempotency_key})

    def _components(self) -> dict[str, Any]:
        with self._lock:
            comps = [
                {"id": f"demo-{c.id}", "name": c.component, "status": self._state[c.id].component}
                for c in self.channels
                if c.component
            ]
        return {"page": {"id": "demo", "name": "Seller community status"}, "components": comps}

    def _page_status(self) -> dict[str, Any]:
        worst = {c["status"] for c in self._components()["components"]}
        indicator = "major" if worst & {"major_outage", "partial_outage"} else "none"
        text = "All Systems Operational" if indicator == "none" else "Major outage"
        return {"page": {"id": "demo"}, "status": {"indicator": indicator, "description": text}}

    def _receiver_page(self) -> str:
        state = "ON" if self.flash_sale_on() else "off"
        broadcasts = sum(1 for r in self.received() if r.path == WHATSAPP_BROADCAST)
        rows = "".join(
            f"<tr><td>{html.escape(r.at.isoformat(timespec='seconds'))}</td>"
            f"<td>{html.escape(r.method)} {html.escape(r.path)}</td>"
            f"<td><code>{html.escape(r.idempotency_key)}</code></td>"
            f"<td><code>{html.escape(json.dumps(r.body, ensure_ascii=False))}</code></td></tr>"
            for r in self.received()
        )
        return (
            "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=2>"
            "<title>Demo flash sale</title><h1>Shopee flash sale: "
            f"{state}</h1><p>WhatsApp broadcasts sent: {broadcasts}</p>"
            "<table border=1 cellpadding=4><tr><th>at</th><th>request</th>"
            f"<th>Idempotency-Key</th><th>body</th></tr>{rows}</table>"
        )
