"""The export formats liveguard knows, and telling them apart by their headers.

Headers are compared without case or spaces, so ``Status Pembatalan/ Pengembalian`` and
``Status Pembatalan/Pengembalian`` are the same column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["FORMATS", "ColumnPlan", "ExportFormat", "detect_format", "generic_format", "normalise"]


def normalise(header: str) -> str:
    return "".join(header.split()).lower()


@dataclass(frozen=True)
class ExportFormat:
    name: str  # shopee | tiktok | lazada | csv
    order_id: tuple[str, ...]  # candidate headers, first present wins
    created: tuple[str, ...]
    amount: tuple[str, ...]
    status: tuple[str, ...] = ()
    side_status: tuple[str, ...] = ()  # a separate cancellation/return column
    # True: the amount is per line and an order is the sum of its lines (Lazada paidPrice).
    # False: the amount is the order's, repeated on each of its lines (Shopee, TikTok).
    line_amounts: bool = False
    description_row: bool = False  # TikTok: row 2 describes the columns
    channels: tuple[str, ...] = ()  # default channel ids, first configured one wins


SHOPEE = ExportFormat(
    name="shopee",
    order_id=("No. Pesanan", "Order ID"),
    created=("Waktu Pesanan Dibuat", "Order Creation Date"),
    amount=("Total Pembayaran", "Total Amount", "Grand Total"),
    status=("Status Pesanan", "Order Status"),
    side_status=(
        "Status Pembatalan/ Pengembalian",
        "Cancellation/Return Status",
        "Return / Refund Status",
    ),
    channels=("shopee",),
)
TIKTOK = ExportFormat(
    name="tiktok",
    order_id=("Order ID",),
    created=("Created Time",),
    amount=("Order Amount",),
    status=("Order Status",),
    side_status=("Cancelation/Return Type", "Cancellation/Return Type"),
    description_row=True,
    channels=("tiktok", "tokopedia"),
)
LAZADA = ExportFormat(
    name="lazada",
    order_id=("orderNumber",),
    created=("createTime",),
    amount=("paidPrice", "unitPrice"),
    status=("status",),
    line_amounts=True,
    channels=("lazada",),
)
FORMATS: Mapping[str, ExportFormat] = {f.name: f for f in (SHOPEE, TIKTOK, LAZADA)}

# Column names a generic CSV is read with when no mapping is given.
GENERIC_DEFAULTS: Mapping[str, tuple[str, ...]] = {
    "id": (
        "id",
        "order_id",
        "order id",
        "order",
        "no. pesanan",
        "no pesanan",
        "pesanan",
        "invoice",
    ),
    "created": ("created", "created_at", "time", "date", "tanggal", "waktu"),
    "amount": ("amount", "total", "jumlah", "nominal", "harga", "revenue"),
    "status": ("status",),
}


@dataclass(frozen=True)
class ColumnPlan:
    """Where each field is in one file's header (column indexes), or why it cannot be read."""

    order_id: int
    created: int
    amount: int
    status: int | None
    side_status: int | None

    @classmethod
    def locate(cls, fmt: ExportFormat, header: Sequence[str]) -> ColumnPlan | str:
        index = {normalise(h): i for i, h in reversed(list(enumerate(header)))}

        def find(candidates: tuple[str, ...]) -> int | None:
            return next((index[normalise(c)] for c in candidates if normalise(c) in index), None)

        found = {
            "order_id": find(fmt.order_id),
            "created": find(fmt.created),
            "amount": find(fmt.amount),
        }
        missing = [getattr(fmt, k)[0] for k, v in found.items() if v is None]
        if missing:
            return f"missing column {', '.join(repr(m) for m in missing)}"
        return cls(
            order_id=found["order_id"] or 0,
            created=found["created"] or 0,
            amount=found["amount"] or 0,
            status=find(fmt.status),
            side_status=find(fmt.side_status),
        )


def detect_format(header: Sequence[str]) -> ExportFormat | None:
    """The known format whose id, time and amount columns are all in the header."""
    present = {normalise(h) for h in header}
    # TikTok before Shopee: both have "Order ID"/"Order Status", only TikTok has "Created Time".
    for fmt in (TIKTOK, LAZADA, SHOPEE):
        needed = (fmt.order_id, fmt.created, fmt.amount)
        if all(any(normalise(c) in present for c in group) for group in needed):
            return fmt
    return None


def generic_format(header: Sequence[str], mapping: Mapping[str, str]) -> ExportFormat:
    """A format for a plain CSV: ``mapping`` (field -> column) first, then common names."""

    def names(key: str) -> tuple[str, ...]:
        return (mapping[key],) if key in mapping else GENERIC_DEFAULTS[key]

    return ExportFormat(
        name="csv",
        order_id=names("id"),
        created=names("created"),
        amount=names("amount"),
        status=names("status"),
        line_amounts=True,
    )
