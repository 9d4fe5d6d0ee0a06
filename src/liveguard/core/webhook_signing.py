"""Standard Webhooks signatures: HMAC-SHA256 over ``id.timestamp.body``, base64, ``v1,`` prefix.

A secret written as ``whsec_<base64>`` (the Standard Webhooks form) is decoded to its key
bytes; any other secret is used as UTF-8 bytes. Receivers should reject timestamps more than
:data:`TOLERANCE_S` away from their clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

__all__ = ["TOLERANCE_S", "secret_key", "sign", "verify"]

TOLERANCE_S = 300
_PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    if secret.startswith(_PREFIX):
        try:
            return base64.b64decode(secret[len(_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            pass  # not really base64: fall back to the text itself
    return secret.encode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one message."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, msg_id: str, timestamp: int, body: bytes, header: str, *, now: int) -> bool:
    """True when one of the space-separated ``v1,`` signatures matches and the time is close."""
    if abs(now - timestamp) > TOLERANCE_S:
        return False
    expected = sign(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, part) for part in header.split())
