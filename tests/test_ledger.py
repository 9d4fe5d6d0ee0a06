"""The ledger's arithmetic, the inferred live warning, and the date/status parsers."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveguard.core.inference import DropRule, infer_drop, window_counts, window_counts_of
from liveguard.core.ledger import (
    Change,
    ChangeKind,
    ChannelInfo,
    DayOrders,
    summarise_day,
    tally_orders,
)
from liveguard.core.money import parse_amount
from liveguard.core.orders import Order, OrderStatus
from liveguard.core.parsing import DateError, DateReader, classify_status, parse_datetime

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")


def order(
    oid: str, local: str, amount: int, status: str = "paid", channel: str = "shopee", zone=WIB
) -> Order:
    created = datetime.fromisoformat(local).replace(tzinfo=zone).astimezone(UTC)
    return Order(channel, oid, created, amount, OrderStatus(status))


def test_tally_counts_paid_revenue_and_cancelled_apart_by_local_hour() -> None:
    orders = [
        order("1", "2026-11-28 09:15", 100_000),
        order("2", "2026-11-28 09:59", 50_000),
        order("3", "2026-11-28 21:00", 70_000, "cancelled"),
        order("4", "2026-11-28 21:30", 80_000, "returned"),
        order("5", "2026-11-28 22:00", 90_000, "unpaid"),
    ]
    t = tally_orders(orders, WIB)["shopee"]
    assert t.orders[9] == 2 and t.revenue[9] == 150_000
    assert t.total_orders == 2 and t.total_revenue == 150_000
    assert t.cancelled[21] == 2 and t.total_cancelled == 2
    assert sum(t.orders[10:]) == 0  # unpaid is not a sale


def test_tally_cut_at_clock_time_keeps_only_earlier_orders() -> None:
    orders = [order("1", "2026-11-27 20:59", 10_000), order("2", "2026-11-27 21:00", 20_000)]
    t = tally_orders(orders, WIB, before=time(21, 0))["shopee"]
    assert t.total_revenue == 10_000


def test_same_instant_is_a_different_hour_in_wib_and_wita() -> None:
    o = Order("shopee", "1", datetime(2026, 11, 28, 16, 30, tzinfo=UTC), 1000)
    assert tally_orders([o], WIB)["shopee"].orders[23] == 1
    # 00.30 WITA the next day: hour 0 of a different local day.
    assert tally_orders([o], WITA)["shopee"].orders[0] == 1


@pytest.mark.parametrize(
    ("now", "before", "kind", "ratio"),
    [
        (125, 100, ChangeKind.RATIO, 0.25),
        (50, 100, ChangeKind.RATIO, -0.5),
        (10, 0, ChangeKind.NEW, None),
        (0, 0, ChangeKind.NONE, None),
    ],
)
def test_change_is_new_or_dash_instead_of_infinite(
    now: int, before: int, kind: ChangeKind, ratio: float | None
) -> None:
    change = Change.between(now, before)
    assert change.kind is kind
    assert change.ratio == ratio
    assert change.as_json() == ratio


def test_change_percent_text() -> None:
    assert Change.between(125, 100).percent() == "+25%"
    assert Change.between(90, 100).percent() == "-10%"
    assert Change.between(100, 100).percent() == "0%"


def test_summary_rows_shares_averages_and_totals() -> None:
    today = tally_orders(
        [
            order("1", "2026-11-28 10:00", 300_000, channel="shopee"),
            order("2", "2026-11-28 11:00", 100_000, channel="shopee"),
            order("3", "2026-11-28 12:00", 100_000, channel="tiktok"),
            order("4", "2026-11-28 12:00", 5_000, channel="old-shop"),
        ],
        WIB,
    )
    yesterday = tally_orders([order("9", "2026-11-27 10:00", 320_000, channel="shopee")], WIB)
    channels = [
        ChannelInfo("tiktok", "TikTok Shop", True),
        ChannelInfo("shopee", "Shopee"),
        ChannelInfo("lazada", "Lazada"),
    ]
    s = summarise_day(
        datetime(2026, 11, 28).date(),
        datetime(2026, 11, 28, 14, tzinfo=UTC),
        channels,
        today,
        yesterday,
        {},
    )
    assert [c.id for c in s.channels] == ["tiktok", "shopee", "lazada", "old-shop"]
    shopee = s.channel("shopee")
    assert shopee is not None
    assert (shopee.orders, shopee.revenue, shopee.average) == (2, 400_000, 200_000)
    assert shopee.vs_yesterday.ratio == pytest.approx(0.25)
    assert shopee.vs_last_week.kind is ChangeKind.NEW
    lazada = s.channel("lazada")
    assert lazada is not None and lazada.orders == 0 and lazada.vs_yesterday.kind is ChangeKind.NONE
    assert s.total.revenue == 505_000 and s.total.orders == 4
    assert shopee.share == pytest.approx(400_000 / 505_000)
    assert sum(c.share or 0 for c in s.channels) == pytest.approx(1.0)


def test_summary_of_an_empty_shop_has_no_shares() -> None:
    s = summarise_day(
        datetime(2026, 11, 28).date(),
        datetime(2026, 11, 28, tzinfo=UTC),
        [ChannelInfo("a", "A")],
        {},
        {},
        {},
    )
    assert s.channels[0].share is None and s.total.revenue == 0


# -- inferred live warning ---------------------------------------------------------------------
NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)  # 21.00 WIB


def test_an_order_is_stored_as_a_plain_document_and_read_back_whole() -> None:
    wib = datetime(2026, 11, 28, 21, 5, tzinfo=WIB)
    order = Order("tiktok", "577001", wib, 250_000, OrderStatus.RETURNED, "Completed", "import")
    doc = order.to_doc()
    assert doc == {
        "channel": "tiktok", "id": "577001", "created": "2026-11-28T14:05:00+00:00",
        "amount": 250_000, "status": "returned", "raw_status": "Completed", "source": "import",
    }  # fmt: skip
    assert Order.from_doc(doc) == order and Order.from_doc(doc).key == ("tiktok", "577001")
    old = {k: v for k, v in doc.items() if k not in ("raw_status", "source")}
    assert (Order.from_doc(old).raw_status, Order.from_doc(old).source) == ("", "manual")
    assert Order("wa", "free", wib, 0).counts_as_sale  # a gift is still a paid order
    with pytest.raises(ValueError, match="timezone-aware"):
        Order("wa", "x", datetime(2026, 11, 28, 21, 5), 1)
    with pytest.raises(ValueError, match="must not be negative"):
        Order("wa", "x", wib, -1)


def _history(per_day: list[int], recent: int) -> list[Order]:
    orders = []
    for days_ago, count in enumerate([recent, *per_day]):
        for n in range(count):
            created = NOW - timedelta(days=days_ago, minutes=5 + n)
            orders.append(Order("tiktok", f"{days_ago}-{n}", created, 1000))
    return orders


def test_collapse_against_the_same_hour_is_inferred() -> None:
    recent, earlier = window_counts(
        _history([10, 12, 9, 11, 10, 8, 10], recent=1), "tiktok", NOW, DropRule()
    )
    assert (recent, earlier) == (1, [10, 12, 9, 11, 10, 8, 10])
    drop = infer_drop("tiktok", recent, earlier, NOW)
    assert drop is not None and drop.baseline == 10


def test_normal_hour_is_not_inferred() -> None:
    recent, earlier = window_counts(_history([10] * 7, recent=6), "tiktok", NOW, DropRule())
    assert infer_drop("tiktok", recent, earlier, NOW) is None


@pytest.mark.parametrize(("recent", "inferred"), [(0, True), (2, True), (3, False), (4, False)])
def test_collapse_means_a_quarter_of_the_usual_hour_or_less(recent: int, inferred: bool) -> None:
    """Usually 8 orders in this hour: 2 (a quarter) is a collapse, 3 or 4 is a slow hour."""
    drop = infer_drop("tiktok", recent, [8] * 7, NOW)
    assert (drop is not None) is inferred


def test_the_usual_hour_needs_at_least_four_orders() -> None:
    assert infer_drop("tiktok", 0, [4] * 7, NOW) is not None
    assert infer_drop("tiktok", 0, [3, 4, 3, 4, 3, 4, 3], NOW) is None


def test_quiet_shop_never_cries_wolf() -> None:
    recent, earlier = window_counts(
        _history([3, 2, 3, 3, 2, 3, 3], recent=0), "tiktok", NOW, DropRule()
    )
    assert infer_drop("tiktok", recent, earlier, NOW) is None


def test_orders_outside_the_window_do_not_count() -> None:
    late = [
        Order("tiktok", "x", NOW - timedelta(days=1, minutes=61), 1000),
        Order("tiktok", "y", NOW + timedelta(minutes=1), 1),
    ]
    assert window_counts(late, "tiktok", NOW, DropRule()) == (0, [0] * 7)


# -- parsing -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected_local"),
    [
        ("2026-10-03 18:00:00", "2026-10-03 18:00:00"),
        ("03/10/2026 19.30", "2026-10-03 19:30:00"),
        ("27/11/2026 20:41:07", "2026-11-27 20:41:07"),
        ("2026-11-27T20:41", "2026-11-27 20:41:00"),
        ("03 Okt 2026 18:00", "2026-10-03 18:00:00"),
        ("3 Oct 2026 18.00", "2026-10-03 18:00:00"),
        ("46298.75", "2026-10-03 18:00:00"),
    ],
)
def test_export_date_forms(text: str, expected_local: str) -> None:
    got = parse_datetime(text, WIB).astimezone(WIB).replace(tzinfo=None)
    assert got == datetime.fromisoformat(expected_local)


def test_offset_wins_over_the_zone_and_serial_numbers_work() -> None:
    assert parse_datetime("2026-11-27T20:41:07+08:00", WIB) == datetime(
        2026, 11, 27, 12, 41, 7, tzinfo=UTC
    )
    assert parse_datetime(46298.75, WITA) == datetime(2026, 10, 3, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "bad", ["", "tomorrow", "32/01/2026 10.00", "2026-13-01", "12", True, None, 5.0]
)
def test_bad_dates_are_refused(bad: object) -> None:
    with pytest.raises(DateError):
        parse_datetime(bad, WIB)


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    )
)
def test_every_written_form_reads_back_the_same_instant(local: datetime) -> None:
    expected = local.replace(tzinfo=WIB).astimezone(UTC)
    for text in (
        local.strftime("%Y-%m-%d %H:%M:%S"),
        local.strftime("%d/%m/%Y %H:%M:%S"),
        local.strftime("%d/%m/%Y %H.%M.%S"),
        local.isoformat(),
    ):
        assert parse_datetime(text, WIB) == expected, text


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=99_999_999_999))
def test_every_rupiah_form_reads_back(amount: int) -> None:
    dotted = f"{amount:,}".replace(",", ".")
    for text in (str(amount), dotted, f"Rp{dotted}", f"Rp {dotted}", f"{dotted},00"):
        assert parse_amount(text) == amount, text


@pytest.mark.parametrize(
    ("main", "side", "expected"),
    [
        ("Selesai", "", "paid"),
        ("Dikirim", "", "paid"),
        ("Perlu Dikirim", "", "paid"),
        ("Dibatalkan", "", "cancelled"),
        ("Belum Bayar", "", "unpaid"),
        ("Selesai", "Pengembalian Dana Disetujui", "returned"),
        ("Perlu Dikirim", "Pembatalan Diajukan", "paid"),
        ("Completed", "Return/Refund", "returned"),
        ("Cancelled", "", "cancelled"),
        ("To ship", "", "paid"),
        ("Unpaid", "", "unpaid"),
        ("canceled", "", "cancelled"),
        ("delivered", "", "paid"),
    ],
)
def test_status_classification(main: str, side: str, expected: str) -> None:
    assert classify_status(main, side).value == expected


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.sampled_from(
        ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H.%M", "%Y-%m-%d %H:%M:%S", "%d-%m-%Y %H.%M.%S"]
    ),
    st.sampled_from([WIB, WITA, ZoneInfo("Europe/Amsterdam")]),
)
def test_the_export_date_reader_agrees_with_parse_datetime(
    local: datetime, form: str, zone: ZoneInfo
) -> None:
    text = local.strftime(form)
    reader = DateReader(zone)
    assert reader(text) == parse_datetime(text, zone)
    assert reader(text) == reader(text)  # cached day, same answer


@pytest.mark.parametrize(
    "text",
    ["28/11/2026 24:00", "28/11/2026 7:5", "31/02/2026 10:00", "28/11/2026 10:00 Z", "besok 10:00"],
)
def test_the_export_date_reader_falls_back_for_odd_cells(text: str) -> None:
    reader = DateReader(WIB)
    try:
        expected: object = parse_datetime(text, WIB)
    except DateError as exc:
        expected = type(exc)
    try:
        got: object = reader(text)
    except DateError as exc:
        got = type(exc)
    assert got == expected


# -- DayOrders: the compact rows the service tallies and judges from -------------------------
_MIDNIGHT_WIB = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)  # 28 Nov 00.00 WIB
_DAY_US = 86_400_000_000
_HOUR_US = 3_600_000_000


def _reference_window_counts(
    orders: list[Order], channel: str, now: datetime, rule: DropRule
) -> tuple[int, list[int]]:
    """The rule order by order, as first written: (now - window, now) for the last hour and
    (now - k days - window, now - k days] for k = 1..N."""
    recent, earlier = 0, [0] * rule.lookback_days
    for o in orders:
        if o.channel != channel or o.created >= now:
            continue
        days_ago, within = divmod(now - o.created, timedelta(days=1))
        if within >= rule.window:
            continue
        if days_ago == 0:
            recent += 1
        elif days_ago <= rule.lookback_days:
            earlier[days_ago - 1] += 1
    return recent, earlier


# (microseconds after local midnight, channel, status, amount): one day's orders
_DAY_ROWS = st.lists(
    st.tuples(
        st.integers(0, _DAY_US - 1),
        st.sampled_from(["a", "b"]),
        st.sampled_from(list(OrderStatus)),
        st.integers(0, 10**9),
    ),
    max_size=40,
)


@settings(max_examples=80, deadline=None)
@given(
    _DAY_ROWS,
    st.integers(0, _DAY_US - 1),
)
def test_day_orders_tally_like_tally_orders_with_any_clock_cut(
    rows: list[tuple[int, str, OrderStatus, int]], cut_us: int
) -> None:
    orders = [
        Order(channel, str(i), _MIDNIGHT_WIB + timedelta(microseconds=us), amount, status)
        for i, (us, channel, status, amount) in enumerate(rows)
    ]
    day = DayOrders.of(orders, WIB)
    cut = _MIDNIGHT_WIB + timedelta(microseconds=cut_us)
    assert day.tally() == tally_orders(orders, WIB)
    assert day.tally(cut) == tally_orders(orders, WIB, before=cut.astimezone(WIB).time())


@settings(max_examples=80, deadline=None)
@given(
    _DAY_ROWS,
    st.integers(-_HOUR_US, _DAY_US),
    st.integers(-_HOUR_US, _DAY_US),
)
def test_revenue_between_sums_the_paid_orders_of_the_window(
    rows: list[tuple[int, str, OrderStatus, int]], start_us: int, end_us: int
) -> None:
    orders = [
        Order(channel, str(i), _MIDNIGHT_WIB + timedelta(microseconds=us), amount, status)
        for i, (us, channel, status, amount) in enumerate(rows)
    ]
    start = _MIDNIGHT_WIB + timedelta(microseconds=start_us)
    end = _MIDNIGHT_WIB + timedelta(microseconds=end_us)
    expected: dict[str, int] = {}
    for o in orders:
        if start <= o.created < end and o.counts_as_sale and o.amount:
            expected[o.channel] = expected.get(o.channel, 0) + o.amount
    day = DayOrders.of(orders, WIB)
    assert day.revenue_between(start, end) == expected
    assert day.tally() == tally_orders(orders, WIB)  # tallies kept per cut stay right after it
    assert day.tally() == day.tally() and day.tally() is not day.tally()


_EDGES = st.sampled_from([0, 1, _HOUR_US - 1, _HOUR_US, _HOUR_US + 1, -1])


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 8),
            st.one_of(_EDGES, st.integers(-_HOUR_US, 2 * _HOUR_US)),
            st.sampled_from(["a", "b"]),
        ),
        max_size=60,
    ),
    st.integers(0, _DAY_US - 1),
)
def test_window_counts_over_day_files_match_the_order_by_order_rule(
    ages: list[tuple[int, int, str]], now_us: int
) -> None:
    now = _MIDNIGHT_WIB + timedelta(microseconds=now_us)
    orders = [
        Order(channel, str(i), now - timedelta(days=days, microseconds=us), 1000)
        for i, (days, us, channel) in enumerate(ages)
    ]
    by_day: dict[object, list[Order]] = {}
    for o in orders:
        by_day.setdefault(o.created.astimezone(WIB).date(), []).append(o)
    days = [DayOrders.of(day, WIB) for _, day in sorted(by_day.items())]  # type: ignore[type-var]
    rule = DropRule()
    for channel in ("a", "b"):
        expected = _reference_window_counts(orders, channel, now, rule)
        assert window_counts_of(days, channel, now, rule) == expected
        assert window_counts(orders, channel, now, rule) == expected


@pytest.mark.parametrize("zone", [WIB, ZoneInfo("Europe/Berlin")])
def test_day_orders_hours_across_midnight_and_clock_changes(zone: ZoneInfo) -> None:
    """Rows past one local day, or a day whose clock changes (Berlin, 2026-03-29), take the
    slow path per row and still land in their own local hour."""
    orders = [
        order("1", "2026-03-29 00:30", 1000, zone=zone),
        order("2", "2026-03-29 03:30", 2000, zone=zone),
        order("3", "2026-03-29 23:59", 3000, zone=zone),
        order("4", "2026-03-30 00:10", 4000, zone=zone),
    ]
    assert DayOrders.of(orders, zone).tally() == tally_orders(orders, zone)
    assert DayOrders.of(orders[:3], zone).tally() == tally_orders(orders[:3], zone)
