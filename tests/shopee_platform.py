"""The Shopee-shaped platform (liveguard.demo.shopee) served on 127.0.0.1 from its own thread,
and the config that points a shopee source at it."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from liveguard.demo.http import HttpServer
from liveguard.demo.shopee import ShopeePlatform

__all__ = ["ENV", "PARTNER_ID", "PARTNER_KEY", "SHOP_ID", "RunningPlatform", "shopee_config"]

PARTNER_ID = 2001887
PARTNER_KEY = "shpk-liveguard-test-key"
SHOP_ID = 54321
ENV = {
    "SHOPEE_PARTNER_ID": str(PARTNER_ID),
    "SHOPEE_PARTNER_KEY": PARTNER_KEY,
    "SHOPEE_SHOP_ID": str(SHOP_ID),
}


def shopee_config(api: str, every: str = "1s") -> str:
    return f"""
timezone = "Asia/Jakarta"
[[channels]]
id = "shopee"
name = "Shopee"
[[sources]]
kind = "shopee"
channel = "shopee"
partner_id = "${{SHOPEE_PARTNER_ID}}"
partner_key = "${{SHOPEE_PARTNER_KEY}}"
shop_id = "${{SHOPEE_SHOP_ID}}"
every = "{every}"
timeout = "3s"
api = "{api}"
"""


class RunningPlatform:
    """``with RunningPlatform(**kw) as p: p.url, p.platform`` — served until the block ends."""

    def __init__(self, **kw: Any) -> None:
        kw.setdefault("partner_id", PARTNER_ID)
        kw.setdefault("partner_key", PARTNER_KEY)
        kw.setdefault("shop_id", SHOP_ID)
        self.platform = ShopeePlatform(**kw)
        self.server = HttpServer("shopee", self.platform.reply)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return self.server.url("").rstrip("/")

    def __enter__(self) -> RunningPlatform:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
