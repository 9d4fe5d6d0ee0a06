"""One shared httpx.AsyncClient for every probe, feed and webhook.

Two measured httpx 0.28 pitfalls shape this (see the field notes):
- cancelling a request that waits for a pool slot can poison the pool for good, so callers
  wait on our semaphore (sized to the pool) and never inside httpx;
- httpx timeouts are per phase, so a server dripping a byte every 0.5 s never trips them;
  every call here runs under one total deadline (``asyncio.timeout``).

And the network policy (docs/network-policy.md):
- the environment (``HTTP(S)_PROXY``, ``ALL_PROXY``, ``SSL_CERT_FILE``…) is ignored unless the
  config opts in with ``[network] use_env_proxy = true``, and even then never for loopback;
- plain ``http://`` goes only to loopback: a literal loopback address, or a name that resolves
  to loopback addresses only, checked when the request is made;
- a body is capped *after* decompression, while it streams: liveguard inflates the raw bytes
  itself, never more than the cap, so a few KB of gzip cannot become hundreds of MB.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from .config_reader import is_loopback

__all__ = [
    "DeadlineExceeded",
    "HttpPool",
    "HttpReply",
    "NotLoopback",
    "PoolBusy",
]

DEFAULT_MAX_CONNECTIONS = 16
MAX_BODY_BYTES = 2_000_000
ACCEPT_ENCODING = "gzip, deflate"

Resolver = Callable[[str, int], Awaitable[list[str]]]


class PoolBusy(Exception):
    """liveguard itself could not start the request in time (all slots busy)."""


class DeadlineExceeded(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds = seconds


class NotLoopback(httpx.RequestError):
    """A plain-http target that is not loopback once resolved: refused before connecting."""


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


def _literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class HttpPool:
    def __init__(
        self,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        *,
        verify: bool | str = True,
        transport: httpx.AsyncBaseTransport | None = None,
        use_env_proxy: bool = False,
        resolve: Resolver = system_resolve,
    ) -> None:
        self.max_connections = max_connections
        self._resolve = resolve
        self.client = self._client(max_connections, verify, transport, trust_env=False)
        # The opted-in client takes proxies from the environment; loopback never uses it.
        self._outside = (
            self._client(max_connections, verify, None, trust_env=True) if use_env_proxy else None
        )
        self._slots = asyncio.Semaphore(max_connections)
        self.in_flight = 0

    @staticmethod
    def _client(
        size: int,
        verify: bool | str,
        transport: httpx.AsyncBaseTransport | None,
        *,
        trust_env: bool,
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
            verify=verify,
            transport=transport,
            trust_env=trust_env,
            follow_redirects=False,
            timeout=httpx.Timeout(None),
            headers={"User-Agent": "liveguard", "Accept-Encoding": ACCEPT_ENCODING},
        )

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

        Raises DeadlineExceeded, PoolBusy, or httpx.HTTPError (connection refused, TLS,
        NotLoopback…).
        """
        started = time.perf_counter()
        waiting_for_slot = False
        try:
            async with asyncio.timeout(deadline):
                client = await self._route(url)
                waiting_for_slot = True
                await self._slots.acquire()
                waiting_for_slot = False
                try:
                    self.in_flight += 1
                    return await self._send(
                        client, method, url, headers, content, max_body, started
                    )
                finally:
                    self.in_flight -= 1
                    self._slots.release()
        except TimeoutError:
            if waiting_for_slot:
                raise PoolBusy(f"all {self.max_connections} connections busy") from None
            raise DeadlineExceeded(deadline) from None

    async def _route(self, url: str) -> httpx.AsyncClient:
        """The client for ``url``; refuses plain http to anything that is not loopback."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname or "", parts.port
        except ValueError as exc:
            raise httpx.InvalidURL(str(exc)) from None
        plain = parts.scheme == "http"
        if not plain and (self._outside is None or is_loopback(host)):
            return self.client  # a loopback name never goes through a proxy
        loopback = await self._resolves_to_loopback(host, port or (80 if plain else 443), plain)
        if plain and not loopback:
            raise NotLoopback(
                "plain http:// is allowed only to loopback, and this name resolves elsewhere"
            )
        return self.client if loopback or self._outside is None else self._outside

    async def _resolves_to_loopback(self, host: str, port: int, must_resolve: bool) -> bool:
        literal = _literal_ip(host)
        if literal is not None:
            return literal.is_loopback
        try:
            addresses = await self._resolve(host, port)
        except OSError as exc:
            if not must_resolve:
                return False  # an outside name this machine cannot resolve: the proxy will
            raise httpx.ConnectError(f"cannot resolve the host ({exc})") from exc
        return bool(addresses) and all(
            (ip := _literal_ip(a.split("%", 1)[0])) is not None and ip.is_loopback
            for a in addresses
        )

    async def _send(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        content: bytes | None,
        max_body: int,
        started: float,
    ) -> HttpReply:
        request = client.build_request(method, url, headers=headers, content=content)
        response = await client.send(request, stream=True)
        try:
            body, truncated = await _read_capped(response, max_body)
        finally:
            await response.aclose()
        elapsed = int((time.perf_counter() - started) * 1000)
        return HttpReply(response.status_code, response.headers, body, elapsed, truncated)

    async def aclose(self) -> None:
        await self.client.aclose()
        if self._outside is not None:
            await self._outside.aclose()


async def _read_capped(response: httpx.Response, max_body: int) -> tuple[bytes, bool]:
    """At most ``max_body`` bytes of the decoded body, and whether there was more.

    The raw bytes are read (``aiter_raw``) and inflated here with an output limit: httpx's
    own decoder inflates a whole network chunk at once (64 KB of gzip: 64 MB out).
    """
    inflate = _Inflater.for_encoding(response.headers.get("Content-Encoding", ""))
    body = bytearray()
    raw_seen = 0
    async for chunk in response.aiter_raw():
        raw_seen += len(chunk)
        body += inflate.feed(chunk, max_body + 1 - len(body))
        if len(body) > max_body or raw_seen > max_body:
            return bytes(body[:max_body]), True
    return bytes(body), False


class _Inflater:
    """Incremental gzip/deflate (or identity) decoding that never yields more than asked."""

    def __init__(self, wbits: int | None) -> None:
        self._wbits = wbits
        self._z = zlib.decompressobj(wbits) if wbits is not None else None
        self._first = True

    @classmethod
    def for_encoding(cls, header: str) -> _Inflater:
        codings = [c.strip().lower() for c in header.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if not codings:
            return cls(None)
        if len(codings) == 1 and codings[0] in ("gzip", "x-gzip"):
            return cls(zlib.MAX_WBITS | 16)
        if len(codings) == 1 and codings[0] == "deflate":
            return cls(zlib.MAX_WBITS)
        raise httpx.DecodingError(f"unsupported content encoding {header[:40]!r}")

    def feed(self, data: bytes, room: int) -> bytes:
        if self._z is None:
            return data[: max(room, 0)]
        if room <= 0:
            return b""
        try:
            out = self._z.decompress(data, room)
        except zlib.error:
            if not (self._first and self._wbits == zlib.MAX_WBITS):
                raise httpx.DecodingError("the reply could not be decompressed") from None
            # "deflate" sent raw, without the zlib header (as some servers do)
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            self._wbits = -zlib.MAX_WBITS
            return self.feed(data, room)
        self._first = False
        return out
