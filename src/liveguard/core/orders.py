"""Orders: the unit of the sales ledger. Keyed by (channel, order id); money is int Rupiah."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from .bounds import ORDER_ID_MAX, ORDER_STATUS_MAX
from .text import clean_line

__all__ = ["Order", "OrderStatus"]


class OrderStatus(StrEnum):
    PAID = "paid"
    CANCELLED = "cancelled"
    RETURNED = "returned"
    UNPAID = "unpaid"


@dataclass(frozen=True)
class Order:
    channel: str
    order_id: str
    created: datetime  # aware, UTC
    amount: int  # whole Rupiah
    status: OrderStatus = OrderStatus.PAID
    raw_status: str = ""
    source: str = "manual"

    def __post_init__(self) -> None:
        # ids and status words come from files and feeds: clean where every order is made
        # (an id longer than ORDER_ID_MAX is refused before it gets here, so none is cut)
        object.__setattr__(self, "order_id", clean_line(self.order_id, ORDER_ID_MAX))
        object.__setattr__(self, "raw_status", clean_line(self.raw_status, ORDER_STATUS_MAX))
        if self.created.tzinfo is None:
            raise ValueError("Order.created must be timezone-aware")
        if self.amount < 0:
            raise ValueError("Order.amount must not be negative")

    @property
    def key(self) -> tuple[str, str]:
        return (self.channel, self.order_id)

    @property
    def counts_as_sale(self) -> bool:
        return self.status is OrderStatus.PAID

    def to_doc(self) -> dict[str, Any]:
        created = self.created
        if created.tzinfo is not UTC:  # importers and feeds hand over UTC already
            created = created.astimezone(UTC)
        return {
            "channel": self.channel,
            "id": self.order_id,
            "created": created.isoformat(),
            "amount": self.amount,
            "status": self.status.value,
            "raw_status": self.raw_status,
            "source": self.source,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Order:
        return cls(
            channel=doc["channel"],
            order_id=doc["id"],
            created=datetime.fromisoformat(doc["created"]),
            amount=int(doc["amount"]),
            status=OrderStatus(doc["status"]),
            raw_status=doc.get("raw_status", ""),
            source=doc.get("source", "manual"),
        )
