"""Marketplace export files built from the header lists in the field notes.

Written as real files (csv via the csv module, xlsx via openpyxl) so the importers read
exactly what a seller would download. Also used by benchmarks/import_speed.py.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

SHOPEE_HEADERS = [
    "No. Pesanan", "Status Pesanan", "Status Pembatalan/ Pengembalian", "No. Resi",
    "Opsi Pengiriman", "Waktu Pesanan Dibuat", "Waktu Pembayaran Dilakukan", "SKU Induk",
    "Nama Produk", "Harga Awal", "Harga Setelah Diskon", "Jumlah", "Total Harga Produk",
    "Total Pembayaran", "Username (Pembeli)", "Waktu Pesanan Selesai",
]  # fmt: skip
SHOPEE_EN_HEADERS = [
    "Order ID", "Order Status", "Tracking Number", "Order Creation Date", "Product Name",
    "Quantity", "Total Amount", "Username (Buyer)",
]  # fmt: skip
TIKTOK_HEADERS = [
    "Order ID", "Order Status", "Order Substatus", "Cancelation/Return Type", "SKU ID",
    "Product Name", "Quantity", "SKU Subtotal After Discount", "Order Amount", "Created Time",
    "Paid Time", "Cancelled Time", "Buyer Username", "Tokopedia Invoice Number",
]  # fmt: skip
LAZADA_HEADERS = [
    "orderItemId", "orderNumber", "createTime", "unitPrice", "paidPrice", "status", "itemName",
]  # fmt: skip


CHANNEL_NAMES = {"tiktok": "TikTok Shop", "shopee": "Shopee", "lazada": "Lazada", "wa": "WhatsApp"}


def shop_config(zone: str = "Asia/Jakarta", channels: Sequence[str] = ("tiktok", "shopee")) -> str:
    """Config text for a test shop; TikTok is the live channel."""
    parts = [f'timezone = "{zone}"']
    for cid in channels:
        live = "true" if cid == "tiktok" else "false"
        parts.append(f'[[channels]]\nid = "{cid}"\nname = "{CHANNEL_NAMES[cid]}"\nlive = {live}')
    return "\n".join(parts) + "\n"


@dataclass(frozen=True)
class Sample:
    """One order of a fixture export; ``lines`` product rows share its order-level cells."""

    order_id: str
    created: Any  # what goes into the time cell, as the marketplace writes it
    total: Any  # the order amount cell (Lazada: each line's paidPrice)
    status: str
    lines: int = 1
    side: str = ""  # cancellation/return column


def shopee_rows(samples: Sequence[Sample], *, english: bool = False) -> Iterator[list[Any]]:
    for s in samples:
        for line in range(s.lines):
            if english:
                yield [
                    s.order_id,
                    s.status,
                    "SPX1",
                    s.created,
                    f"Produk {line}",
                    1,
                    s.total,
                    "budi",
                ]
            else:
                yield [
                    s.order_id, s.status, s.side, "SPXID01", "SPX Standard", s.created, s.created,
                    f"SKU{line}", f"Kaos polos {line}", "Rp60.000", "Rp50.000", 1, "Rp50.000",
                    s.total, "budi_s", "",
                ]  # fmt: skip


def tiktok_rows(samples: Sequence[Sample]) -> Iterator[list[Any]]:
    for s in samples:
        for line in range(s.lines):
            yield [
                s.order_id, s.status, "", s.side, f"17{line:04d}", f"Hijab segi empat {line}", 1,
                "50000", s.total, s.created, s.created, "", "siti_a", "",
            ]  # fmt: skip


def lazada_rows(samples: Sequence[Sample]) -> Iterator[list[Any]]:
    for s in samples:
        for line in range(s.lines):
            yield [
                f"{s.order_id}{line}",
                s.order_id,
                s.created,
                s.total,
                s.total,
                s.status,
                f"Item {line}",
            ]


TIKTOK_DESCRIPTION = [
    "Platform unique order ID.", "Status of the order.", "Substatus.", "Cancel or return.",
    "SKU ID.", "Product name.", "Quantity.", "Subtotal.", "Order amount.", "Time created.",
    "Time paid.", "Time cancelled.", "Buyer.", "Invoice.",
]  # fmt: skip


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Iterator[list[Any]] | Sequence[list[Any]],
    *,
    bom: bool = False,
    delimiter: str = ",",
    description: Sequence[str] | None = None,
) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(header)
        if description is not None:
            writer.writerow(description)
        writer.writerows(rows)
    return path


def write_xlsx(
    path: Path,
    header: Sequence[str],
    rows: Iterator[list[Any]] | Sequence[list[Any]],
    *,
    sheet: str = "orders",
    description: Sequence[str] | None = None,
) -> Path:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.append(list(header))
    if description is not None:
        ws.append(list(description))
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def write_shopee_xlsx(path: Path, samples: Sequence[Sample], *, english: bool = False) -> Path:
    header = SHOPEE_EN_HEADERS if english else SHOPEE_HEADERS
    return write_xlsx(path, header, shopee_rows(samples, english=english))


def write_tiktok_csv(path: Path, samples: Sequence[Sample], **kw: Any) -> Path:
    kw.setdefault("description", TIKTOK_DESCRIPTION)
    return write_csv(path, TIKTOK_HEADERS, tiktok_rows(samples), **kw)


def write_tiktok_xlsx(path: Path, samples: Sequence[Sample]) -> Path:
    return write_xlsx(
        path,
        TIKTOK_HEADERS,
        tiktok_rows(samples),
        sheet="OrderSKUList",
        description=TIKTOK_DESCRIPTION,
    )


def write_lazada_xlsx(path: Path, samples: Sequence[Sample]) -> Path:
    return write_xlsx(path, LAZADA_HEADERS, lazada_rows(samples), sheet="Sheet1")


# -- big files for the benchmark -----------------------------------------------------------
_TIKTOK_STATUSES = ["Completed"] * 6 + ["Shipped", "To ship", "Cancelled", "Unpaid"]
_SHOPEE_STATUSES = ["Selesai"] * 6 + ["Dikirim", "Perlu Dikirim", "Dibatalkan", "Belum Bayar"]


def big_samples(rows: int, statuses: list[str], *, date_style: str, seed: int = 7) -> list[Sample]:
    """About ``rows`` product lines over 30 days, 1-3 lines per order."""
    rng = random.Random(seed)
    start = datetime(2026, 10, 1, 8, 0)
    samples: list[Sample] = []
    made = 0
    n = 0
    while made < rows:
        lines = min(rng.choice((1, 1, 1, 2, 3)), rows - made)
        created = start + timedelta(seconds=n * 2_592_000 // max(rows, 1) * 2 % 2_592_000)
        when = created.strftime("%d/%m/%Y %H:%M:%S" if date_style == "tiktok" else "%d/%m/%Y %H.%M")
        amount = rng.randrange(20, 2000) * 1000
        total = str(amount) if date_style == "tiktok" else f"{amount:,}".replace(",", ".")
        samples.append(Sample(f"{5770000000000000 + n}", when, total, rng.choice(statuses), lines))
        made += lines
        n += 1
    return samples


def big_tiktok_csv(path: Path, rows: int) -> Path:
    return write_tiktok_csv(
        path, big_samples(rows, _TIKTOK_STATUSES, date_style="tiktok"), bom=True
    )


def big_shopee_xlsx(path: Path, rows: int) -> Path:
    return write_shopee_xlsx(path, big_samples(rows, _SHOPEE_STATUSES, date_style="shopee"))


# A shop with Plan B armed (no webhooks: nothing to send), for the Plan B impact.
PLAN_B_SHOP = """
[[channels]]
id = "tiktok"
name = "TikTok Shop"
live = true
[[channels]]
id = "shopee"
name = "Shopee"

[[promotions]]
id = "plan-b"
name = "Plan B"
armed = true
channel = "tiktok"
grace = "0s"

  [[promotions.actions]]
  kind = "message"
  text = "Flash sale now: {promotion}"

  [[promotions.actions]]
  kind = "checklist"
  steps = ["Pin the product", "Post the story"]
"""
