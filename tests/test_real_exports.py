"""Golden exports: files laid out as each marketplace documents its export (both languages),
imported end to end, with every total below counted by hand from the file.

``tests/golden/*.csv`` hold returns, unpaid orders, a cancelled order without a date (and
without an amount), multi-line orders, orders on both sides of midnight and, in one file,
order ids an Excel re-save turned into numbers.
"""

from __future__ import annotations

import csv
import json
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.state_home import StateHome
from liveguard.core.timekeeping import FixedClock
from liveguard.service.sales import SalesService
from tests.cli_runner import run_liveguard
from tests.fixtures_sales import shop_config, write_xlsx

GOLDEN = Path(__file__).parent / "golden"
SATURDAY, SUNDAY = date(2026, 11, 28), date(2026, 11, 29)
CHANNELS = ("tiktok", "shopee", "lazada")


@dataclass(frozen=True)
class Totals:
    """Counted by hand from the golden file (see the comments at each case)."""

    channel: str
    saturday: tuple[int, int, int]  # paid orders, paid revenue, cancelled + returned
    sunday: tuple[int, int, int]
    skipped_rows: tuple[int, ...]
    statuses: dict[str, str]  # some order ids and what they must be stored as
    rows: int


# Shopee: 2611280AAA01 3 lines, paid 1.250.000 (the order's total repeats on each line);
# BBB02 Selesai + approved request = returned; CCC03 Selesai + request only = still paid
# 75.000; DDD04 unpaid; EEE05 cancelled with no date and no amount = skipped (row 8);
# FFF06 2 lines, paid 150.000 at 23.59; GGG07 80.000 at 00.00 Sunday; HHH08 cancelled.
# Saturday: AAA01 + CCC03 + FFF06 = 3 orders, 1.475.000; cancelled BBB02 + HHH08 = 2.
SHOPEE = Totals(
    "shopee",
    (3, 1_475_000, 2),
    (1, 80_000, 0),
    (8,),
    {"2611280BBB02": "returned", "2611280CCC03": "paid", "2611280DDD04": "unpaid",
     "2611280HHH08": "cancelled", "2611280AAA01": "paid"},
    11,
)  # fmt: skip
# TikTok (row 2 describes the columns): ...301 2 lines 250.000; 302 unpaid; 303 cancelled
# without time or amount = skipped (row 6); 304 refunded = returned; 305 198.000 at
# 23:59:59; 306 50.000 at 00:00:00 Sunday. Saturday: 301 + 305 = 2 orders, 448.000;
# cancelled 304 = 1.
TIKTOK = Totals(
    "tiktok",
    (2, 448_000, 1),
    (1, 50_000, 0),
    (6,),
    {"577123456789012302": "unpaid", "577123456789012304": "returned",
     "577123456789012301": "paid"},
    7,
)  # fmt: skip
# Lazada (one row per unit, paidPrice per unit): 300100200 two units delivered and one
# returned = paid 100.000; 201 returned; 202 cancelled without a date = skipped (row 6);
# 203 unpaid; 204 two units 180.000 at 23:59; 205 90.000 at 00:00 Sunday.
# Saturday: 200 + 204 = 2 orders, 280.000; cancelled 201 = 1.
LAZADA = Totals(
    "lazada",
    (2, 280_000, 1),
    (1, 90_000, 0),
    (6,),
    {"300100200": "paid", "300100201": "returned", "300100203": "unpaid"},
    9,
)  # fmt: skip
CASES = {
    "shopee_id.csv": SHOPEE,
    "shopee_en.csv": SHOPEE,
    "tiktok_id.csv": TIKTOK,
    "tiktok_en.csv": TIKTOK,
    "lazada_en.csv": LAZADA,
    "lazada_id.csv": LAZADA,
}


@pytest.fixture
def sales(home: StateHome, clock: FixedClock) -> SalesService:
    config = parse_config(shop_config(channels=CHANNELS), "liveguard.toml", environ={})
    return SalesService(config, home, clock)


def day_totals(sales: SalesService, day: date, channel: str) -> tuple[int, int, int]:
    row = sales.today(day).channel(channel)
    assert row is not None
    return row.orders, row.revenue, row.cancelled


def check(sales: SalesService, path: Path, expected: Totals) -> None:
    outcome = sales.import_file(path)
    assert outcome.rejected == [], [e.text() for e in outcome.rejected]
    assert outcome.channel == expected.channel and outcome.rows_read == expected.rows
    assert tuple(s.row for s in outcome.skipped) == expected.skipped_rows
    assert all("empty date" in s.text() for s in outcome.skipped)
    assert day_totals(sales, SATURDAY, expected.channel) == expected.saturday
    assert day_totals(sales, SUNDAY, expected.channel) == expected.sunday
    stored = {o.order_id: o.status.value for o in sales.orders.day_orders(SATURDAY)}
    assert {k: stored.get(k) for k in expected.statuses} == expected.statuses
    again = sales.import_file(path)
    assert again.results["added"] == again.results["updated"] == 0


@pytest.mark.parametrize("name", CASES)
def test_golden_export(sales: SalesService, name: str) -> None:
    check(sales, GOLDEN / name, CASES[name])


def as_xlsx(source: Path, target: Path) -> Path:
    """The golden rows as Shopee ships them: an xlsx whose empty cells are really empty."""
    with source.open(encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    cells = [[c if c != "" else None for c in row] for row in rows]
    return write_xlsx(target, header, cells)


@pytest.mark.parametrize("name", ["shopee_id.csv", "shopee_en.csv"])
def test_golden_shopee_as_xlsx_with_a_blank_date_cell(
    sales: SalesService, tmp_path: Path, name: str
) -> None:
    check(sales, as_xlsx(GOLDEN / name, tmp_path / "Order.all.20261128.xlsx"), SHOPEE)


def test_a_paid_row_with_a_bad_date_names_file_row_column_and_cell(tmp_path: Path) -> None:
    with (GOLDEN / "shopee_id.csv").open(encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    rows[4][5] = ""  # CCC03 (row 6), paid: no date
    rows[5][5] = "31/02/2026 19.30"  # DDD04 (row 7) is unpaid: skipped, not an error
    rows[7][5] = "kemarin sore"  # FFF06 (rows 9 and 10), paid
    rows[8][5] = "kemarin sore"
    path = write_xlsx(tmp_path / "Order.all.xlsx", header, [[c or None for c in r] for r in rows])
    home = tmp_path / "home"
    home.mkdir()
    (home / "liveguard.toml").write_text(shop_config(channels=CHANNELS), encoding="utf-8")
    result = run_liveguard("--lang", "en", "import", str(path), env={"LIVEGUARD_HOME": str(home)})
    assert result.returncode == 1 and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if ": row " in line]
    assert errors == [
        "Order.all.xlsx: row 6: Waktu Pesanan Dibuat: empty date",
        "Order.all.xlsx: row 9: Waktu Pesanan Dibuat: not a date: 'kemarin sore'",
    ]
    assert "None" not in result.stderr
    skipped = run_liveguard(
        "--lang", "en", "import", str(path), "--json", "--skip-bad-rows",
        env={"LIVEGUARD_HOME": str(home)},
    )  # fmt: skip
    data = json.loads(skipped.stdout)
    assert data["rows_skipped"] == [
        {"row": 7, "reason": "Waktu Pesanan Dibuat: not a date: '31/02/2026 19.30' "
         "(day is out of range for month)"},
        {"row": 8, "reason": "Waktu Pesanan Dibuat: empty date"},
    ]  # fmt: skip
    # Added: AAA01, BBB02, GGG07 (Sunday), HHH08; CCC03 and FFF06 refused, DDD04/EEE05 skipped
    assert (data["orders_added"], len(data["rows_rejected"])) == (4, 2)


def test_excel_mangled_ids_are_named_and_never_merged(sales: SalesService) -> None:
    path = GOLDEN / "tiktok_excel_resaved.csv"
    refused = sales.import_file(path)
    assert [(e.row, e.column, e.value) for e in refused.rejected] == [
        (3, "Order ID", "5.77123E+17")
    ]
    [error] = refused.rejected
    assert error.message.startswith(
        "order ids changed into numbers by Excel (rows 3, 4, 5, e.g. '5.77123E+17'): "
        "different orders may now share one id, so these rows are not imported; "
        "export the file again"
    )
    assert sales.orders.days() == []
    kept = sales.import_file(path, skip_bad_rows=True)
    assert kept.results["added"] == 1  # only TT-2026-0001: the three mangled rows stay out
    assert day_totals(sales, SATURDAY, "tiktok") == (1, 75_000, 0)


def test_excel_mangled_ids_in_a_workbook(sales: SalesService, tmp_path: Path) -> None:
    """Ids typed into Excel as numbers: 18 digits no longer fit, so they are refused."""
    with (GOLDEN / "tiktok_en.csv").open(encoding="utf-8", newline="") as fh:
        header, description, *rows = list(csv.reader(fh))
    numeric = [[float(r[0]), *r[1:]] for r in rows]
    path = write_xlsx(tmp_path / "tiktok.xlsx", header, numeric, description=description)
    outcome = sales.import_file(path, skip_bad_rows=True)
    [error] = outcome.rejected
    assert (error.row, error.column) == (3, "Order ID")
    assert "changed into numbers by Excel (rows 3, 4, 5 and 4 more" in error.message
    assert outcome.results["added"] == 0 and sales.orders.days() == []


def test_an_exact_integer_id_in_a_workbook_is_an_id(sales: SalesService, tmp_path: Path) -> None:
    """A workbook written by a program may hold ids as whole numbers with every digit (the
    sheet XML says ``<v>577123456789012301</v>``): those are ids, not Excel damage."""
    with (GOLDEN / "tiktok_en.csv").open(encoding="utf-8", newline="") as fh:
        header, description, *rows = list(csv.reader(fh))
    marked = [[1_000_000 + n, *r[1:]] for n, r in enumerate(rows)]  # small: written exactly
    built = write_xlsx(tmp_path / "built.xlsx", header, marked, description=description)
    path = tmp_path / "tiktok.xlsx"
    with zipfile.ZipFile(built) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith("xl/worksheets/"):
                for n, r in enumerate(rows):
                    data = data.replace(
                        f"<v>{1_000_000 + n}</v>".encode(), f"<v>{r[0]}</v>".encode()
                    )
            dst.writestr(item, data)
    outcome = sales.import_file(path)
    assert outcome.rejected == [] and outcome.results["added"] == 5
    assert day_totals(sales, SATURDAY, "tiktok") == TIKTOK.saturday
    assert "577123456789012304" in {o.order_id for o in sales.orders.day_orders(SATURDAY)}
