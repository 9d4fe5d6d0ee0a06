"""Sends one rendered webhook through the shared HttpPool and reports what happened.

Never raises: every outcome, whatever the far side or the config holds (a header value
HTTP cannot carry, an odd character in the URL…), becomes a :class:`SendResult` that the
outbox turns into delivered / retrying / failed (see ``core.promotion.decide``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from liveguard.core.promotion import RenderedRequest
from liveguard.core.text import REASON_MAX, clean_line

from .http_pool import DeadlineExceeded, HttpPool, NotLoopback, PoolBusy

__all__ = ["SendResult", "WebhookSender"]

EXCERPT_CHARS = REASON_MAX
REPLY_MAX_BYTES = 64_000


@dataclass(frozen=True)
class SendResult:
    http_status: int | None
    error: str = ""
    retry_after: str | None = None
    duration_ms: int = 0
    excerpt: str = ""  # the start of the reply body, shown when a 4xx fails the action
    permanent: bool = False  # sending again cannot help (a bad header or URL): fail at once


class WebhookSender:
    def __init__(self, pool: HttpPool) -> None:
        self.pool = pool

    async def send(self, request: RenderedRequest, timeout_s: float) -> SendResult:
        started = time.perf_counter()

        def took() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            reply = await self.pool.request(
                request.method,
                request.url,
                deadline=timeout_s,
                headers=request.headers,
                content=request.body if request.body or request.method != "GET" else None,
                max_body=REPLY_MAX_BYTES,
            )
        except DeadlineExceeded as exc:
            return SendResult(None, str(exc), duration_ms=took())
        except PoolBusy as exc:
            return SendResult(None, f"liveguard busy: {exc}", duration_ms=took())
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, NotLoopback) as exc:
            return SendResult(None, _refused(exc), duration_ms=took(), permanent=True)
        except (UnicodeError, ValueError, TypeError, httpx.LocalProtocolError) as exc:
            # httpx and h11 check headers and URLs while building the request; the message
            # could quote the value (a token), so only the kind of problem is said
            return SendResult(None, _unsendable(exc), duration_ms=took(), permanent=True)
        except httpx.HTTPError as exc:
            return SendResult(None, clean_line(_describe(exc)), duration_ms=took())
        except Exception as exc:  # anything else: a readable failure, never a stuck action
            reason = f"could not send ({type(exc).__name__})"
            return SendResult(None, reason, duration_ms=took())
        # the reply is the far side's text: one clean line, shown and stored as data
        excerpt = clean_line(reply.text[: EXCERPT_CHARS * 8], EXCERPT_CHARS)
        return SendResult(
            reply.status,
            ""
            if 200 <= reply.status < 300
            else f"HTTP {reply.status}" + (f": {excerpt}" if excerpt else ""),
            clean_line(reply.headers.get("Retry-After"), 40) or None,
            reply.elapsed_ms,
            excerpt,
        )


def _refused(exc: Exception) -> str:
    if isinstance(exc, NotLoopback):
        return str(exc)
    return "the URL is not valid once its {…} and ${…} are filled in"


def _unsendable(exc: Exception) -> str:
    if isinstance(exc, UnicodeError):
        return "a header holds characters HTTP cannot send (use plain ASCII)"
    if isinstance(exc, httpx.LocalProtocolError):
        return "the request could not be built (a header name or value HTTP forbids)"
    return f"the request could not be built ({type(exc).__name__})"


def _describe(exc: httpx.HTTPError) -> str:
    kinds = {
        httpx.ConnectError: "could not connect",
        httpx.RemoteProtocolError: "connection closed by the server",
        httpx.ReadError: "connection broken while reading",
        httpx.WriteError: "connection broken while sending",
        httpx.TimeoutException: "timed out",
        httpx.DecodingError: "the reply could not be decoded",
    }
    for kind, text in kinds.items():
        if isinstance(exc, kind):
            detail = str(exc).strip()
            return f"{text} ({detail})" if detail and detail != text else text
    return f"{type(exc).__name__}: {exc}".strip()
