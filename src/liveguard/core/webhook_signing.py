"""Standard Webhooks signatures: HMAC-SHA256 over ``id.timestamp.body``, base64, ``v1,`` prefix.

The signing secret is the specification's ``whsec_`` followed by the standard base64 of the
key (24 to 64 random bytes); trailing ``=`` padding may be left out, as the official
libraries accept. Nothing else is a secret: URL-safe base64 or plain text would be read
differently by the receiver's library (it skips characters outside the base64 alphabet), so
they are refused when the config loads (:func:`secret_problem`), not signed with silently.
Receivers should reject timestamps more than :data:`TOLERANCE_S` away from their clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

__all__ = [
    "SECRET_FORM",
    "TOLERANCE_S",
    "SecretFormError",
    "secret_key",
    "secret_problem",
    "sign",
    "verify",
]

TOLERANCE_S = 300
_PREFIX = "whsec_"
_KEY_BYTES = (24, 64)
_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
SECRET_FORM = "whsec_ followed by the standard base64 of 24 to 64 random bytes"


class SecretFormError(ValueError):
    """The secret is not a Standard Webhooks secret; the message never quotes it."""


def secret_problem(secret: str) -> str | None:
    """Why ``secret`` is not a Standard Webhooks secret (never quoting it), or None."""
    try:
        secret_key(secret)
    except SecretFormError as exc:
        return str(exc)
    return None


def secret_key(secret: str) -> bytes:
    """The key bytes of a ``whsec_`` secret; raises SecretFormError for any other form."""
    if not secret.startswith(_PREFIX):
        raise SecretFormError(f"not a Standard Webhooks secret (expected {SECRET_FORM})")
    text = secret[len(_PREFIX) :]
    bare = text.rstrip("=")
    if not _BASE64.match(text) or len(bare) % 4 == 1:
        raise SecretFormError(
            f"the part after whsec_ is not standard base64 (expected {SECRET_FORM}; "
            "URL-safe '-' and '_' are not part of it)"
        )
    try:
        key = base64.b64decode(bare + "=" * (-len(bare) % 4), validate=True)
    except (binascii.Error, ValueError):
        message = f"the part after whsec_ is not valid base64 (expected {SECRET_FORM})"
        raise SecretFormError(message) from None
    low, high = _KEY_BYTES
    if not low <= len(key) <= high:
        raise SecretFormError(f"the key is {len(key)} bytes (expected {SECRET_FORM})")
    return key


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
