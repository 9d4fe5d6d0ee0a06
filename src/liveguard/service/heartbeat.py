"""``[heartbeat]``: liveguard pings a URL every minute so the seller's phone hears when the
laptop sleeps or liveguard stops (Healthchecks.io, Uptime Kuma push, or any URL), and pings
the failure URL (Healthchecks ``/fail``, Kuma ``status=down``) on a fatal error."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httpx

from liveguard.adapters.http_pool import DeadlineExceeded, HttpPool, PoolBusy
from liveguard.adapters.notify_senders import scrub
from liveguard.core.config import Heartbeat, MissingEnvError, env_names, resolve_env
from liveguard.core.notify import heartbeat_fail_url
from liveguard.i18n import Catalog

from .events import Notice, Publisher, supervise

__all__ = ["HeartbeatService", "ping_fail"]


class HeartbeatService:
    def __init__(
        self, config: Heartbeat, events: Publisher, environ: Mapping[str, str], lang: str
    ) -> None:
        self.config = config
        self.events = events
        self.environ = environ
        self.t = Catalog(lang)
        self.pings = 0  # answered with 2xx
        self.last_error = ""
        self._secrets = sorted(
            {environ[n] for n in env_names(config.url + config.fail_url) if environ.get(n)},
            key=len,
            reverse=True,
        )

    async def ping(self, pool: HttpPool, url: str) -> str:
        """One ping; returns "" when answered 2xx, else why not (no secret in it)."""
        try:
            reply = await pool.request(
                "GET", resolve_env(url, self.environ), deadline=self.config.timeout.total_seconds()
            )
        except (DeadlineExceeded, PoolBusy, httpx.HTTPError, MissingEnvError) as exc:
            return scrub(f"{type(exc).__name__}: {exc}", self._secrets)
        if 200 <= reply.status < 300:
            return ""
        return scrub(f"HTTP {reply.status}", self._secrets)

    async def run(self, pool: HttpPool) -> None:
        async def body() -> None:
            error = await self.ping(pool, self.config.url)
            if not error:
                self.pings += 1
                self.last_error = ""
                return
            if error != self.last_error:
                text = self.t("notify.heartbeat_failed", error=error)
                self.events.publish(Notice(text, "warning", key="heartbeat"))
            self.last_error = error

        await supervise("heartbeat", body, self.events, every=self.config.every.total_seconds())

    async def fail(self, pool: HttpPool) -> str:
        url = heartbeat_fail_url(self.config.url, self.config.fail_url)
        return await self.ping(pool, url) if url else "no failure URL"


def ping_fail(config: Heartbeat, environ: Mapping[str, str], lang: str) -> None:
    """Best effort from outside any loop (liveguard is going down with an error)."""

    async def go() -> None:
        pool = HttpPool(1)
        try:
            await HeartbeatService(config, Publisher(), environ, lang).fail(pool)
        finally:
            await pool.aclose()

    try:
        asyncio.run(asyncio.wait_for(go(), config.timeout.total_seconds() + 1))
    except Exception:
        return
