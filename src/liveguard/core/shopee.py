"""Shopee Open Platform (API v2) rules that need no I/O: signing, statuses, token lifetimes,
and the polling window.

Signing (documented): ``sign`` = lowercase hex HMAC-SHA256 with the partner key over
``partner_id + api_path + timestamp`` for public calls, and over
``partner_id + api_path + timestamp + access_token + shop_id`` for shop calls.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .orders import OrderStatus

__all__ = [
    "AUTH_WARN_BEFORE",
    "DETAIL_BATCH",
    "LIST_PAGE_SIZE",
    "MAX_WINDOW",
    "STATUSES",
    "Tokens",
    "base_string",
    "classify",
    "sign",
    "windows",
]

LIST_PAGE_SIZE = 100  # get_order_list's page_size limit
DETAIL_BATCH = 50  # get_order_detail's order_sn_list limit
MAX_WINDOW = timedelta(days=15)  # get_order_list's time_from..time_to limit
AUTH_WARN_BEFORE = timedelta(days=14)  # an authorization ending this soon is a reason
REFRESH_BEFORE = timedelta(minutes=30)  # refresh an access token this long before it expires

# Every documented order status, as the ledger counts it. IN_CANCEL is a cancellation the
# buyer asked for and the seller has not accepted yet: still a sale until it is CANCELLED.
STATUSES: dict[str, OrderStatus] = {
    "UNPAID": OrderStatus.UNPAID,
    "READY_TO_SHIP": OrderStatus.PAID,
    "PROCESSED": OrderStatus.PAID,
    "RETRY_SHIP": OrderStatus.PAID,
    "SHIPPED": OrderStatus.PAID,
    "TO_CONFIRM_RECEIVE": OrderStatus.PAID,
    "IN_CANCEL": OrderStatus.PAID,
    "CANCELLED": OrderStatus.CANCELLED,
    "TO_RETURN": OrderStatus.RETURNED,
    "COMPLETED": OrderStatus.PAID,
}


def classify(status: str) -> OrderStatus | None:
    """The ledger status of a Shopee order status; None for one Shopee has not documented."""
    return STATUSES.get(status.strip().upper())


def base_string(
    partner_id: int | str, path: str, timestamp: int, access_token: str = "", shop_id: str = ""
) -> str:
    return f"{partner_id}{path}{timestamp}{access_token}{shop_id}"


def sign(
    partner_key: str,
    partner_id: int | str,
    path: str,
    timestamp: int,
    access_token: str = "",
    shop_id: int | str = "",
) -> str:
    base = base_string(partner_id, path, timestamp, access_token, str(shop_id))
    return hmac.new(partner_key.encode(), base.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Tokens:
    """What ``connect shopee`` obtained. ``access_token``/``refresh_token`` are secrets: never
    shown, logged or put in a message; only the expiry times are."""

    shop_id: str
    access_token: str
    refresh_token: str
    access_expires: datetime
    refresh_expires: datetime
    auth_expires: datetime | None = None  # the authorization itself (≤ 365 days)
    shop_name: str = ""

    def __repr__(self) -> str:  # keeps the secrets out of tracebacks and logs
        return f"Tokens(shop_id={self.shop_id!r}, access_expires={self.access_expires})"

    def needs_refresh(self, now: datetime) -> bool:
        return now >= self.access_expires - REFRESH_BEFORE

    def auth_ending(self, now: datetime) -> bool:
        """The authorization (or the refresh token) ends within AUTH_WARN_BEFORE."""
        ends = self.ends()
        return ends - now <= AUTH_WARN_BEFORE

    def ends(self) -> datetime:
        """When liveguard can no longer sync without the seller connecting again."""
        if self.auth_expires is None:
            return self.refresh_expires
        return min(self.auth_expires, self.refresh_expires)

    def to_doc(self) -> dict[str, Any]:
        return {
            "shop_id": self.shop_id,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "access_expires": self.access_expires.astimezone(UTC).isoformat(),
            "refresh_expires": self.refresh_expires.astimezone(UTC).isoformat(),
            "auth_expires": self.auth_expires.astimezone(UTC).isoformat()
            if self.auth_expires
            else None,
            "shop_name": self.shop_name,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Tokens:
        auth = doc.get("auth_expires")
        return cls(
            shop_id=str(doc["shop_id"]),
            access_token=str(doc["access_token"]),
            refresh_token=str(doc["refresh_token"]),
            access_expires=datetime.fromisoformat(doc["access_expires"]),
            refresh_expires=datetime.fromisoformat(doc["refresh_expires"]),
            auth_expires=datetime.fromisoformat(auth) if auth else None,
            shop_name=str(doc.get("shop_name", "")),
        )


def windows(start: datetime, end: datetime) -> list[tuple[int, int]]:
    """[start, end] as consecutive Unix-second windows of at most MAX_WINDOW each."""
    out = []
    lo = int(start.timestamp())
    hi = int(end.timestamp())
    step = int(MAX_WINDOW.total_seconds())
    while lo < hi:
        out.append((lo, min(hi, lo + step)))
        lo += step
    return out or [(hi, hi)]
