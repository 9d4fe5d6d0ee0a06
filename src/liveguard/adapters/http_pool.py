"""One shared httpx.AsyncClient for every probe, feed and webhook.

Two measured httpx 0.28 pitfalls shape this (see the field notes):
- cancelling a request that waits for a pool slot can poison the pool for good, so callers
  wait on our semaphore (sized to the pool) and never inside httpx;
- httpx timeouts are per phase, so a server dripping a byte every 0.5 s never trips them;
  every call here runs under one total deadline (``asyncio.timeout``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

__all__ = ["DeadlineExceeded", "HttpPool", "HttpReply", "PoolBusy"]

DEFAULT_MAX_CONNECTIONS = 16
MAX_BODY_BYTES = 2_000_000


class PoolBusy(Exception):
    """liveguard itself could not start the request in time (all slots busy)."""


class DeadlineExceeded(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds = seconds


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: httpx.Headers
    body: bytes
    elapsed_ms: int
    truncated: bool = False

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class HttpPool:
    def __init__(
        self,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        *,
        verify: bool | str = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.max_connections = max_connections
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self.client = httpx.AsyncClient(
            limits=limits,
            verify=verify,
            transport=transport,
            follow_redirects=False,
            timeout=httpx.Timeout(None),
            headers={"User-Agent": "liveguard"},
        )
        self._slots = asyncio.Semaphore(max_connections)
        self.in_flight = 0

    async def request(
        self,
        method: str,
        url: str,
        *,
        deadline: float,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        max_body: int = MAX_BODY_BYTES,
    ) -> HttpReply:
        """Send one request and read its body, all within ``deadline`` seconds.

        Raises DeadlineExceeded, PoolBusy, or httpx.HTTPError (connection refused, TLS, …).
        """
        started = time.perf_counter()
        acquired = False
        try:
            async with asyncio.timeout(deadline):
                await self._slots.acquire()
                acquired = True
                try:
                    self.in_flight += 1
                    return await self._send(method, url, headers, content, max_body, started)
                finally:
                    self.in_flight -= 1
                    self._slots.release()
        except TimeoutError:
            if not acquired:
                raise PoolBusy(f"all {self.max_connections} connections busy") from None
            raise DeadlineExceeded(deadline) from None

    async def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        content: bytes | None,
        max_body: int,
        started: float,
    ) -> HttpReply:
        request = self.client.build_request(method, url, headers=headers, content=content)
        response = await self.client.send(request, stream=True)
        try:
            body = bytearray()
            truncated = False
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > max_body:
                    truncated = True
                    break
        finally:
            await response.aclose()
        elapsed = int((time.perf_counter() - started) * 1000)
        return HttpReply(
            response.status_code, response.headers, bytes(body[:max_body]), elapsed, truncated
        )

    async def aclose(self) -> None:
        await self.client.aclose()
