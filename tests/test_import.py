"""Marketplace exports in, through real files and a real state home."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.importers import ExportFileError
from liveguard.adapters.state_home import StateHome
from liveguard.core.config import Config
from liveguard.core.timekeeping import FixedClock
from liveguard.service.sales import SalesService
from tests.fixtures_sales import (
    LAZADA_HEADERS,
    TIKTOK_HEADERS,
    Sample,
    shop_config,
    write_csv,
    write_lazada_xlsx,
    write_shopee_xlsx,
    write_tiktok_csv,
    write_tiktok_xlsx,
)

CONFIG = shop_config(channels=("tiktok", "shopee", "lazada", "wa"))


def config(text: str = CONFIG) -> Config:
    return parse_config(text, "liveguard.toml", environ={})


@pytest.fixture
def sales(home: StateHome, clock: FixedClock) -> SalesService:
    return SalesService(config(), home, clock)


SHOPEE = [
    Sample("2611280A", "28/11/2026 19.30", "1.250.000", "Selesai", lines=3),
    Sample("2611280B", "2026-11-28 18:00:00", "Rp50.000", "Dibatalkan"),
    Sample("2611280C", "28/11/2026 20.05", "75.000", "Selesai", side="Pengembalian Dana Disetujui"),
    Sample("2611280D", "28/11/2026 20.10", "", "Belum Bayar"),
    Sample("2611280E", "28/11/2026 20.15", "1.250.000,00", "Perlu Dikirim", lines=2),
    Sample("2611280F", "28/11/2026 20.20", "100rb", "Dikirim"),
]


def orders_by_id(sales: SalesService, day: str = "2026-11-28") -> dict[str, tuple[int, str]]:
    return {
        o.order_id: (o.amount, o.status.value)
        for o in sales.orders.day_orders(datetime.fromisoformat(day).date())
    }


def test_shopee_xlsx_groups_lines_and_reads_indonesian_forms(
    sales: SalesService, tmp_path: Path
) -> None:
    path = write_shopee_xlsx(tmp_path / "Order.all.20261128.xlsx", SHOPEE)
    outcome = sales.import_file(path)
    assert outcome.format == "shopee" and outcome.channel == "shopee"
    assert outcome.rows_read == 9
    assert outcome.results == {"added": 6, "updated": 0, "unchanged": 0}
    assert orders_by_id(sales) == {
        "2611280A": (1_250_000, "paid"),
        "2611280B": (50_000, "cancelled"),
        "2611280C": (75_000, "returned"),
        "2611280D": (0, "unpaid"),
        "2611280E": (1_250_000, "paid"),
        "2611280F": (100_000, "paid"),
    }
    summary = sales.today()
    shopee = summary.channel("shopee")
    assert shopee is not None
    assert (shopee.orders, shopee.revenue, shopee.cancelled) == (3, 2_600_000, 2)


def test_reimport_changes_nothing_and_a_changed_status_updates(
    sales: SalesService, tmp_path: Path
) -> None:
    path = write_shopee_xlsx(tmp_path / "a.xlsx", SHOPEE)
    sales.import_file(path)
    before = (sales.home.dir / "orders" / "2026-11-28.json").read_bytes()
    again = sales.import_file(path)
    assert again.results == {"added": 0, "updated": 0, "unchanged": 6}
    assert (sales.home.dir / "orders" / "2026-11-28.json").read_bytes() == before
    changed = [*SHOPEE[:5], Sample("2611280F", "28/11/2026 20.20", "100rb", "Dibatalkan")]
    third = sales.import_file(write_shopee_xlsx(tmp_path / "b.xlsx", changed))
    assert third.results == {"added": 0, "updated": 1, "unchanged": 5}
    assert orders_by_id(sales)["2611280F"] == (100_000, "cancelled")


def test_english_shopee_is_detected(sales: SalesService, tmp_path: Path) -> None:
    path = write_shopee_xlsx(
        tmp_path / "en.xlsx",
        [Sample("X1", "2026-11-28 10:00", "Rp 125.000", "Completed", lines=2)],
        english=True,
    )
    outcome = sales.import_file(path)
    assert (outcome.format, outcome.results["added"]) == ("shopee", 1)
    assert orders_by_id(sales) == {"X1": (125_000, "paid")}


TIKTOK = [
    Sample("577001", "28/11/2026 20:41:07", "250000", "Completed", lines=2),
    Sample("577002", "28/11/2026 20:45:00", "IDR 99.000", "Cancelled"),
    Sample("577003", "28/11/2026 20:46:00", "99000", "Completed", side="Return/Refund"),
    Sample("577004", "28/11/2026 20:47:00", "50000", "Unpaid"),
]


@pytest.mark.parametrize(
    ("bom", "delimiter"), [(True, ","), (False, ";"), (True, ";"), (False, "\t")]
)
def test_tiktok_csv_with_bom_semicolons_and_description_row(
    sales: SalesService, tmp_path: Path, bom: bool, delimiter: str
) -> None:
    path = write_tiktok_csv(tmp_path / "tiktok.csv", TIKTOK, bom=bom, delimiter=delimiter)
    outcome = sales.import_file(path)
    assert outcome.format == "tiktok" and outcome.channel == "tiktok"
    assert outcome.rows_read == 5 and not outcome.rejected
    assert orders_by_id(sales) == {
        "577001": (250_000, "paid"),
        "577002": (99_000, "cancelled"),
        "577003": (99_000, "returned"),
        "577004": (50_000, "unpaid"),
    }


def test_tiktok_xlsx_with_description_row(sales: SalesService, tmp_path: Path) -> None:
    outcome = sales.import_file(write_tiktok_xlsx(tmp_path / "tiktok.xlsx", TIKTOK))
    assert (outcome.format, outcome.results["added"], outcome.rows_read) == ("tiktok", 4, 5)


def test_tiktok_without_description_row(sales: SalesService, tmp_path: Path) -> None:
    path = write_tiktok_csv(tmp_path / "t.csv", TIKTOK, description=None)
    assert sales.import_file(path).results["added"] == 4


def test_lazada_sums_item_lines_and_reads_excel_serial_dates(
    sales: SalesService, tmp_path: Path
) -> None:
    samples = [
        Sample("L100", 46354.8125, 45000, "delivered", lines=3),  # 2026-11-28 19.30
        Sample("L101", 46354.9, "60.000", "canceled"),
    ]
    outcome = sales.import_file(write_lazada_xlsx(tmp_path / "lazada.xlsx", samples))
    assert (outcome.format, outcome.channel) == ("lazada", "lazada")
    assert orders_by_id(sales) == {"L100": (135_000, "paid"), "L101": (60_000, "cancelled")}
    (order,) = [
        o for o in sales.orders.day_orders(datetime(2026, 11, 28).date()) if o.order_id == "L100"
    ]
    assert order.created == datetime(2026, 11, 28, 12, 30, tzinfo=UTC)


def test_bad_rows_are_all_listed_and_nothing_is_written(
    sales: SalesService, tmp_path: Path
) -> None:
    samples = [
        *SHOPEE,
        Sample("BAD1", "28/11/2026 20.30", "abc", "Selesai"),
        Sample("BAD2", "kemarin", "10.000", "Selesai"),
        Sample("BAD3", "28/11/2026 20.30", "-5.000", "Selesai"),
    ]
    path = write_shopee_xlsx(tmp_path / "bad.xlsx", samples)
    outcome = sales.import_file(path)
    assert outcome.refused and not outcome.written
    assert [(e.row, e.text()) for e in outcome.rejected] == [
        (11, "Total Pembayaran: not a number: 'abc'"),
        (12, "Waktu Pesanan Dibuat: not a date: 'kemarin'"),
        (13, "Total Pembayaran: negative amount: '-5.000'"),
    ]
    assert outcome.rejected[0].value == "abc"
    assert outcome.as_json()["orders_added"] == 0
    assert not (sales.home.dir / "orders" / "2026-11-28.json").exists()

    skipped = sales.import_file(path, skip_bad_rows=True)
    assert skipped.written and skipped.results["added"] == 6 and len(skipped.rejected) == 3
    assert set(orders_by_id(sales)) == {s.order_id for s in SHOPEE}


def test_a_bad_line_rejects_its_whole_order_and_conflicting_totals_are_caught(
    sales: SalesService, tmp_path: Path
) -> None:
    rows = [
        [
            "577010",
            "Completed",
            "",
            "",
            "1",
            "A",
            1,
            "1",
            "100000",
            "28/11/2026 10:00:00",
            "",
            "",
            "b",
            "",
        ],
        [
            "577010",
            "Completed",
            "",
            "",
            "2",
            "B",
            1,
            "1",
            "999000",
            "28/11/2026 10:00:00",
            "",
            "",
            "b",
            "",
        ],
        ["577011", "", "", "", "1", "A", 1, "1", "5000", "28/11/2026 10:00:00", "", "", "b", ""],
        ["", "Completed", "", "", "1", "A", 1, "1", "5000", "28/11/2026 10:00:00", "", "", "b", ""],
    ]
    path = write_csv(tmp_path / "t.csv", TIKTOK_HEADERS, rows)
    outcome = sales.import_file(path, skip_bad_rows=True)
    assert [(e.row, e.column) for e in outcome.rejected] == [
        (3, "Order Amount"),
        (4, "Order Status"),
        (5, "Order ID"),
    ]
    assert "differs from row 2" in outcome.rejected[0].message
    assert outcome.results["added"] == 0


def test_dry_run_shows_what_would_change_and_writes_nothing(
    sales: SalesService, tmp_path: Path
) -> None:
    path = write_shopee_xlsx(tmp_path / "a.xlsx", SHOPEE)
    preview = sales.import_file(path, dry_run=True)
    assert preview.dry_run and preview.results["added"] == 6
    assert not (sales.home.dir / "orders").exists() or not any(
        (sales.home.dir / "orders").iterdir()
    )
    sales.import_file(path)
    assert sales.import_file(path, dry_run=True).results == {
        "added": 0,
        "updated": 0,
        "unchanged": 6,
    }


def test_generic_csv_with_a_column_mapping(sales: SalesService, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "wa.csv",
        ["Nota", "Tanggal", "Nominal", "Keterangan"],
        [
            ["WA-1", "28/11/2026 09.00", "Rp125.000", "lunas"],
            ["WA-2", "28/11/2026 09.30", "1,2jt", "lunas"],
        ],
        delimiter=";",
        bom=True,
    )
    outcome = sales.import_file(
        path,
        format_name="csv",
        channel="wa",
        mapping={"id": "Nota", "created": "Tanggal", "amount": "Nominal", "status": "Keterangan"},
    )
    assert (outcome.format, outcome.channel) == ("csv", "wa")
    assert orders_by_id(sales) == {"WA-1": (125_000, "paid"), "WA-2": (1_200_000, "paid")}


def test_generic_csv_with_default_names_needs_a_channel(
    sales: SalesService, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "x.csv", ["order_id", "created", "amount"], [["1", "2026-11-28 10:00", "5000"]]
    )
    with pytest.raises(ExportFileError, match="which channel"):
        sales.import_file(path, format_name="csv")
    assert sales.import_file(path, format_name="csv", channel="wa").results["added"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xd0\xcf\x11\xe0old excel", "old .xls"),
        (b"PK\x03\x04broken zip", "not a readable xlsx"),
        (b"", "empty file"),
        (b"foo,bar\n1,2\n", "cannot tell the export format"),
    ],
)
def test_unusable_files_say_why_in_one_line(
    sales: SalesService, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(ExportFileError, match=message) as info:
        sales.import_file(path)
    assert "\n" not in str(info.value)


def test_forced_format_missing_column_and_unknown_channel(
    sales: SalesService, tmp_path: Path
) -> None:
    path = write_tiktok_csv(tmp_path / "t.csv", TIKTOK)
    with pytest.raises(ExportFileError, match="not a lazada export: missing column 'orderNumber'"):
        sales.import_file(path, format_name="lazada")
    with pytest.raises(ExportFileError, match="unknown channel 'nope'"):
        sales.import_file(path, channel="nope")
    assert sales.import_file(path, channel="shopee").channel == "shopee"


def test_file_missing(sales: SalesService, tmp_path: Path) -> None:
    with pytest.raises(ExportFileError, match="cannot read"):
        sales.import_file(tmp_path / "nope.xlsx")


def test_lazada_headers_are_case_and_space_insensitive(sales: SalesService, tmp_path: Path) -> None:
    header = [h.upper() for h in LAZADA_HEADERS]
    rows = [["1", "L9", "2026-11-28 10:00", "5000", "5000", "delivered", "x"]]
    assert sales.import_file(write_csv(tmp_path / "l.csv", header, rows)).results["added"] == 1


def test_reimporting_an_archived_day_changes_nothing(sales: SalesService, tmp_path: Path) -> None:
    path = write_shopee_xlsx(
        tmp_path / "old.xlsx", [Sample("OLD1", "01/10/2026 10.00", "50.000", "Selesai")]
    )
    assert sales.import_file(path).results["added"] == 1
    assert sales.maintain() == [datetime(2026, 10, 1).date()]
    again = sales.import_file(path)
    assert again.results == {"added": 0, "updated": 0, "unchanged": 1}
    assert sales.orders.days() == []
    row = sales.today(datetime(2026, 10, 1).date()).channel("shopee")
    assert row is not None and row.revenue == 50_000
