"""Can a host be reached, without sending it anything? For Plan B's readiness check.

Resolves the host and opens a connection; for https it completes the TLS handshake with
certificate checks, so an expired certificate or a dead host is found before the outage,
not during it. Nothing is written to the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from urllib.parse import urlsplit

import certifi

__all__ = ["reach"]


def _context(verify: bool | str) -> ssl.SSLContext:
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    context = ssl.create_default_context(cafile=certifi.where())
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def reach(url: str, timeout_s: float, *, verify: bool | str = True) -> str | None:
    """None when ``url``'s host answers (and, for https, shows a valid certificate); otherwise
    a short reason in words (``host not found (DNS)``, ``TLS: certificate has expired``…)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return "not a valid address"
    secure = parts.scheme == "https"
    port = port or (443 if secure else 80)
    try:
        async with asyncio.timeout(timeout_s):
            _, writer = await asyncio.open_connection(
                host,
                port,
                ssl=_context(verify) if secure else None,
                server_hostname=host if secure else None,
            )
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):  # closing is not the check
                await writer.wait_closed()
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except socket.gaierror:
        return "host not found (DNS)"
    except ssl.SSLCertVerificationError as exc:
        return f"TLS: {exc.verify_message or 'certificate not trusted'}"
    except ssl.SSLError:
        return "TLS handshake failed"
    except ConnectionRefusedError:
        return "connection refused"
    except OSError as exc:
        return f"cannot connect ({exc.strerror or type(exc).__name__})"
    return None
