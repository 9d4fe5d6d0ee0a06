"""The demo's outside world, running: four loopback servers (status, order feeds, the webhook
receiver and Shopee's Open Platform) and the story on one thread.

The servers and the story share a background thread with its own event loop, so the
control room's loop (in the main thread) talks to them over real sockets exactly as it
would to a marketplace, and nothing the demo does can stall the screen::

    with DemoWorld(speed=2.0) as world:
        world.write_config(folder / "liveguard.toml")
        ...  # run the control room on that folder
    world.shop.received()  # what the webhook receiver got
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from liveguard.core.timekeeping import Clock, SystemClock

from .config import (
    DEMO_PARTNER_ID,
    DEMO_PARTNER_KEY,
    DEMO_SHOP_ID,
    PHONE_CHAT,
    PHONE_TOKEN,
    DemoUrls,
    demo_config_text,
)
from .http import HttpServer
from .phone import BotApi
from .shop import Shop
from .shopee import ShopeePlatform
from .story import DEFAULT_SEED, Story

__all__ = ["DemoWorld"]

STEP_S = 0.2  # how often (wall seconds) the running story catches up with the clock
SELLER_READS_S = 2.0  # the demo seller's pause between reading the alert and answering


class DemoWorld:
    def __init__(
        self,
        *,
        speed: float = 1.0,
        seed: int = DEFAULT_SEED,
        play: bool = True,
        clock: Clock | None = None,
    ) -> None:
        """``play=False`` starts only the servers; then drive ``story.advance_to`` yourself."""
        self.clock: Clock = clock or SystemClock()
        self.shop = Shop(clock=self.clock)
        self.shopee = ShopeePlatform(
            DEMO_PARTNER_ID, DEMO_PARTNER_KEY, DEMO_SHOP_ID, "Toko Demo", clock=self.clock
        )
        self.shop.platform = self.shopee
        self.story = Story(self.shop, started_at=self.clock.now(), speed=speed, seed=seed)
        self.speed = speed
        self.play = play
        self.status_server = HttpServer("status", self.shop.status_reply)
        self.feed_server = HttpServer("feed", self.shop.feed_reply)
        self.receiver = HttpServer("receiver", self.shop.receiver_reply)
        self.shopee_server = HttpServer("shopee", self.shopee.reply)
        self.phone = BotApi(token=PHONE_TOKEN, username="tokodemo_bot")
        self._seller_task: asyncio.Task[None] | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="demo", daemon=True)
        self._story_task: asyncio.Task[None] | None = None

    @property
    def servers(self) -> tuple[HttpServer, ...]:
        return (self.status_server, self.feed_server, self.receiver, self.shopee_server)

    @property
    def urls(self) -> DemoUrls:
        return DemoUrls(
            status=self.status_server.url("").rstrip("/"),
            feed=self.feed_server.url("").rstrip("/"),
            receiver=self.receiver.url("").rstrip("/"),
            shopee=self.shopee_server.url("").rstrip("/"),
            phone=self.phone.url(),
        )

    def start(self) -> DemoWorld:
        self._thread.start()
        self._call(self._start())
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            if self._thread.ident is None and not self._loop.is_closed():
                self._loop.close()  # never started
            return
        with contextlib.suppress(Exception):
            self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> DemoWorld:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def config_text(self) -> str:
        return demo_config_text(self.urls, self.speed)

    def write_config(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.config_text(), encoding="utf-8")
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)
        return path

    # -- on the demo's own loop ------------------------------------------------------------
    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _start(self) -> None:
        for server in self.servers:
            await server.start()
        await self.phone.start()
        self._seller_task = asyncio.create_task(self._seller())
        if self.play:
            self._story_task = asyncio.create_task(self._play())
        else:
            self.story.begin()

    async def _stop(self) -> None:
        if self._story_task is not None:
            self._story_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._story_task
        if self._seller_task is not None:
            self._seller_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._seller_task
        for server in self.servers:
            await server.close()
        await self.phone.close()

    async def _seller(self) -> None:
        """The seller holding the phone: reads a DOWN alert and asks for Plan B (without
        confirming it, so the story's own Plan B goes on as scripted)."""
        asked = False
        while not asked:
            await asyncio.sleep(STEP_S)
            if any("/planb" in text for text in self.phone.texts(PHONE_CHAT)):
                await asyncio.sleep(SELLER_READS_S)
                self.phone.say(PHONE_CHAT, "/planb", user="Sari")
                asked = True

    async def _play(self) -> None:
        loop = asyncio.get_running_loop()
        began = loop.time()
        while True:
            self.story.advance_to((loop.time() - began) * self.speed)
            await asyncio.sleep(STEP_S)
