"""Late orders for days already compacted into history count, and importing the same orders
again, in any split or order, any number of times, never changes a day's totals."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.importers import ParsedExport
from liveguard.adapters.paths import Paths
from liveguard.adapters.state_home import StateHome
from liveguard.core.orders import Order, OrderStatus
from liveguard.core.timekeeping import FixedClock
from liveguard.service.sales import SalesService
from tests.conftest import EVENING
from tests.fixtures_sales import Sample, shop_config, write_shopee_xlsx

OLD_DAY = date(2026, 10, 1)  # far past the 35 days kept as order files on 28 November
RECENT_DAY = date(2026, 11, 27)
WIB = timedelta(hours=7)


def make(home: StateHome, clock: FixedClock) -> SalesService:
    return SalesService(parse_config(shop_config(), "liveguard.toml", environ={}), home, clock)


def totals(sales: SalesService, day: date) -> tuple[int, int, int]:
    row = sales.today(day).channel("shopee")
    assert row is not None
    return row.orders, row.revenue, row.cancelled


def test_two_exports_of_an_old_day_with_different_orders_count_four(
    home: StateHome, clock: FixedClock, tmp_path: Path
) -> None:
    sales = make(home, clock)
    first = write_shopee_xlsx(
        tmp_path / "a.xlsx",
        [
            Sample("OLD1", "01/10/2026 10.00", "50.000", "Selesai"),
            Sample("OLD2", "01/10/2026 11.00", "70.000", "Selesai", lines=2),
            Sample("NEXT1", "02/10/2026 10.30", "40.000", "Selesai"),
        ],
    )
    assert sales.import_file(first).results["added"] == 3
    assert sales.maintain() == [OLD_DAY, date(2026, 10, 2)]
    assert sales.orders.days() == []
    assert totals(sales, OLD_DAY) == (2, 120_000, 0)
    # A later export of the same old day holds two more orders (and one of the first two).
    second = write_shopee_xlsx(
        tmp_path / "b.xlsx",
        [
            Sample("OLD2", "01/10/2026 11.00", "70.000", "Selesai"),
            Sample("OLD3", "01/10/2026 12.00", "30.000", "Selesai"),
            Sample("OLD4", "01/10/2026 20.00", "25.000", "Selesai"),
            Sample("OLD5", "01/10/2026 21.00", "10.000", "Dibatalkan"),
        ],
    )
    outcome = sales.import_file(second)
    assert outcome.results == {"added": 3, "updated": 0, "unchanged": 1}
    assert sales.orders.days() == []  # merged into history, no order file comes back
    assert totals(sales, OLD_DAY) == (4, 175_000, 1)
    # The next day's "vs yesterday" now compares with the four orders.
    next_day = sales.today(date(2026, 10, 2)).channel("shopee")
    assert next_day is not None and next_day.vs_yesterday.ratio == (40_000 - 175_000) / 175_000
    # Re-importing either export changes nothing.
    for path in (first, second):
        again = sales.import_file(path)
        assert again.results["added"] == again.results["updated"] == 0
    assert totals(sales, OLD_DAY) == (4, 175_000, 1)
    # A status that changed later (OLD4 returned) updates the compacted day.
    returned = write_shopee_xlsx(
        tmp_path / "c.xlsx",
        [Sample("OLD4", "01/10/2026 20.00", "25.000", "Selesai", side="Permintaan Disetujui")],
    )
    assert sales.import_file(returned).results["updated"] == 1
    assert totals(sales, OLD_DAY) == (3, 150_000, 2)


def test_a_dry_run_for_an_old_day_says_what_would_change_and_writes_nothing(
    home: StateHome, clock: FixedClock, tmp_path: Path
) -> None:
    sales = make(home, clock)
    path = write_shopee_xlsx(
        tmp_path / "a.xlsx", [Sample("OLD1", "01/10/2026 10.00", "50.000", "Selesai")]
    )
    sales.import_file(path)
    sales.maintain()
    month = home.dir / "history" / "2026-10.json"
    before = month.read_bytes()
    late = write_shopee_xlsx(
        tmp_path / "b.xlsx", [Sample("OLD9", "01/10/2026 10.00", "50.000", "Selesai")]
    )
    assert sales.import_file(late, dry_run=True).results["added"] == 1
    assert month.read_bytes() == before


def test_a_crash_between_history_and_deleting_the_order_file_repeats_harmlessly(
    home: StateHome, clock: FixedClock
) -> None:
    sales = make(home, clock)
    for n in range(3):
        sales.add_sale("shopee", "10.000", order_id=f"o{n}", at=f"2026-10-01T1{n}:00")
    with home.writing():  # what compaction does, cut short before the order file goes
        sales.history.merge(OLD_DAY, sales.orders.day_orders(OLD_DAY), sales.zone)
    assert sales.maintain() == [OLD_DAY]
    assert totals(sales, OLD_DAY) == (3, 30_000, 0)


# -- any split, any order, any number of times ------------------------------------------
STATUSES = [OrderStatus.PAID] * 3 + [
    OrderStatus.CANCELLED,
    OrderStatus.RETURNED,
    OrderStatus.UNPAID,
]


@st.composite
def orders_and_imports(draw: st.DrawFn) -> tuple[list[Order], list[list[int] | None]]:
    """Orders on a recent and a compacted day, and a plan: batches of them (indexes, with
    repeats, in any order) and ``None`` where the day rollover compacts old days."""
    count = draw(st.integers(1, 14))
    orders = []
    for n in range(count):
        day = draw(st.sampled_from([OLD_DAY, RECENT_DAY]))
        minute = draw(st.integers(0, 24 * 60 - 1))
        local = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=minute)
        status = draw(st.sampled_from(STATUSES))
        amount = draw(st.integers(0, 500)) * 1000
        orders.append(Order("shopee", f"ID{n}", local - WIB, amount, status, source="import"))
    batches = draw(
        st.lists(
            st.one_of(st.none(), st.lists(st.integers(0, count - 1), min_size=1, max_size=20)),
            min_size=1,
            max_size=6,
        )
    )
    batches.append(list(range(count)))  # every order at least once
    draw(st.randoms()).shuffle(batches)
    return orders, batches


def expected(orders: list[Order], day: date) -> tuple[int, int, int]:
    mine = [o for o in orders if (o.created + WIB).date() == day]
    paid = [o for o in mine if o.status is OrderStatus.PAID]
    gone = [o for o in mine if o.status in (OrderStatus.CANCELLED, OrderStatus.RETURNED)]
    return len(paid), sum(o.amount for o in paid), len(gone)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(orders_and_imports())
def test_any_split_order_and_repeat_of_imports_ends_with_the_same_totals(
    plan: tuple[list[Order], list[list[int] | None]],
) -> None:
    orders, batches = plan
    with tempfile.TemporaryDirectory() as tmp:
        clock = FixedClock(EVENING)
        home = StateHome(Paths.resolve(home=tmp), clock).open()
        try:
            sales = make(home, clock)
            for batch in batches:
                if batch is None:
                    sales.maintain()
                    continue
                chunk = [orders[i] for i in batch]
                parsed = ParsedExport("shopee", "shopee", chunk, len(chunk), [])
                sales.apply_export(Path("export.xlsx"), parsed)
            sales.maintain()
            for day in (OLD_DAY, RECENT_DAY):
                assert totals(sales, day) == expected(orders, day), day
            again = ParsedExport("shopee", "shopee", orders, len(orders), [])
            outcome = sales.apply_export(Path("export.xlsx"), again)
            assert outcome.results["unchanged"] == len(orders)
        finally:
            home.close()
