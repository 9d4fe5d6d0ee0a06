"""SalesService end to end on a real state home: manual sales, day boundaries, history."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest

from liveguard.adapters.config_file import parse_config
from liveguard.adapters.state_home import StateHome
from liveguard.core.ledger import ChangeKind
from liveguard.core.timekeeping import FixedClock
from liveguard.service.sales import SaleInputError, SalesService
from tests.fixtures_sales import PLAN_B_SHOP, shop_config


def make(home: StateHome, clock: FixedClock, zone: str = "Asia/Jakarta") -> SalesService:
    text = shop_config(zone)
    return SalesService(parse_config(text, "liveguard.toml", environ={}), home, clock)


def test_manual_sale_defaults_to_now_and_paid(home: StateHome, clock: FixedClock) -> None:
    sales = make(home, clock)
    order, result = sales.add_sale("shopee", "Rp 125.000")
    assert result == "added" and order.created == clock.now() and order.status.value == "paid"
    assert order.order_id.startswith("manual-")
    again, result2 = sales.add_sale("shopee", "125rb", order_id=" WA-7 ", at="2026-11-28T20:00")
    assert (again.order_id, result2, again.amount) == ("WA-7", "added", 125_000)
    assert again.created == datetime(2026, 11, 28, 13, 0, tzinfo=UTC)  # read in WIB
    _, same = sales.add_sale("shopee", "125.000", order_id="WA-7", at="2026-11-28T20:00")
    assert same == "unchanged"
    row = sales.today().channel("shopee")
    assert row is not None and (row.orders, row.revenue) == (2, 250_000)


@pytest.mark.parametrize(
    ("channel", "amount", "kw", "message"),
    [
        ("nope", "1000", {}, "unknown channel 'nope'"),
        ("shopee", "banyak", {}, "amount: not a number"),
        ("shopee", "-5", {}, "amount: negative"),
        ("shopee", "1000", {"at": "besok"}, "time: not a date"),
        ("shopee", "1000", {"at": "2026-12-01T10:00"}, "in the future"),
        ("shopee", "1000", {"status": "lunas"}, "status: 'lunas'"),
    ],
)
def test_bad_manual_sales_write_nothing(
    home: StateHome, clock: FixedClock, channel: str, amount: str, kw: dict[str, str], message: str
) -> None:
    sales = make(home, clock)
    with pytest.raises(SaleInputError, match=message):
        sales.add_sale(channel, amount, **kw)
    assert sales.orders.days() == []


@pytest.mark.parametrize(
    ("zone", "local_midnight_utc"), [("Asia/Jakarta", 17), ("Asia/Makassar", 16)]
)
def test_day_boundaries_follow_the_sellers_zone(
    home: StateHome, zone: str, local_midnight_utc: int
) -> None:
    just_before = datetime(2026, 11, 28, local_midnight_utc - 1, 59, 59, tzinfo=UTC)
    clock = FixedClock(just_before)
    sales = make(home, clock, zone)
    sales.add_sale("shopee", "1000", order_id="late", at=just_before.isoformat())
    clock.current = datetime(2026, 11, 28, local_midnight_utc, 0, 1, tzinfo=UTC)
    sales.add_sale("shopee", "2000", order_id="early")
    today = sales.today()
    assert today.day == date(2026, 11, 29)
    row = today.channel("shopee")
    assert row is not None and row.revenue == 2000 and row.hourly_revenue[0] == 2000
    yesterday = sales.today(date(2026, 11, 28)).channel("shopee")
    assert (
        yesterday is not None and yesterday.revenue == 1000 and yesterday.hourly_revenue[23] == 1000
    )


def test_rollover_while_running_starts_a_fresh_day(home: StateHome, clock: FixedClock) -> None:
    sales = make(home, clock)
    sales.add_sale("tiktok", "50.000")
    clock.current = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)  # 00.00 WIB, 29 November
    summary = sales.today()
    assert summary.day == date(2026, 11, 29) and summary.total.revenue == 0
    row = summary.channel("tiktok")
    assert row is not None and row.vs_yesterday.kind is ChangeKind.NONE  # nothing yet at 00.00


def test_vs_yesterday_counts_only_up_to_the_same_clock_time(
    home: StateHome, clock: FixedClock
) -> None:
    sales = make(home, clock)  # now: 21.00 WIB on the 28th
    sales.add_sale("shopee", "100.000", order_id="y1", at="2026-11-27T20:00")
    sales.add_sale("shopee", "900.000", order_id="y2", at="2026-11-27T22:00")  # later than now
    sales.add_sale("shopee", "150.000", order_id="w1", at="2026-11-21T10:00")  # last Saturday
    sales.add_sale("shopee", "125.000", order_id="t1", at="2026-11-28T09:00")
    row = sales.today().channel("shopee")
    assert row is not None
    assert row.vs_yesterday.ratio == pytest.approx(0.25)
    assert row.vs_last_week.ratio == pytest.approx(-1 / 6)
    full_day = sales.today(date(2026, 11, 27)).channel("shopee")
    assert full_day is not None and full_day.revenue == 1_000_000


def test_old_days_are_compacted_into_monthly_history(home: StateHome, clock: FixedClock) -> None:
    sales = make(home, clock)
    sales.add_sale("shopee", "100.000", order_id="old1", at="2026-10-01T10:30")
    sales.add_sale("shopee", "50.000", order_id="old2", at="2026-10-01T23:10", status="cancelled")
    sales.add_sale("tiktok", "70.000", order_id="recent", at="2026-11-20T10:00")
    before = sales.today(date(2026, 10, 1))
    moved = sales.maintain()
    assert moved == [date(2026, 10, 1)]
    assert sales.orders.days() == [date(2026, 11, 20)]
    raw = json.loads((home.dir / "history" / "2026-10.json").read_text())
    assert raw["_meta"]["1"] == {"kind": "history-month", "schema": 1}
    after = sales.today(date(2026, 10, 1))
    assert after.channel("shopee") == before.channel("shopee")
    assert sales.maintain() == []
    # The same order again changes nothing; a late one counts (history keeps the ledger).
    assert sales.add_sale("shopee", "100.000", order_id="old1", at="2026-10-01T10:30")[1] == (
        "unchanged"
    )
    assert sales.add_sale("shopee", "30.000", order_id="late", at="2026-10-01T11:00")[1] == "added"
    assert sales.orders.days() == [date(2026, 11, 20)]
    late = sales.today(date(2026, 10, 1)).channel("shopee")
    assert late is not None and (late.orders, late.revenue) == (2, 130_000)
    # A day compacted by an older liveguard (tallies, no ledger) stays read-only.
    with home.writing():
        sales.history.put_day(date(2026, 10, 2), {})
    with pytest.raises(SaleInputError, match="archived"):
        sales.add_sale("shopee", "100.000", order_id="x", at="2026-10-02T10:30")


def test_compacted_day_is_compared_by_whole_hours(home: StateHome, clock: FixedClock) -> None:
    clock.current = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
    sales = make(home, clock)
    for n, hour in enumerate((10, 20, 22)):
        sales.add_sale("shopee", "10.000", order_id=f"o{n}", at=f"2026-10-17T{hour}:00")
    sales.maintain()
    clock.current = datetime(2026, 10, 18, 14, 0, tzinfo=UTC)  # pretend: the 17th is history
    row = sales.today().channel("shopee")
    assert row is not None and row.vs_yesterday.kind is ChangeKind.RATIO
    assert row.vs_yesterday.ratio == pytest.approx(-1.0)  # 2 orders before 21.00 yesterday


def test_live_drop_is_inferred_for_live_channels_only(home: StateHome, clock: FixedClock) -> None:
    sales = make(home, clock)
    orders = []
    from liveguard.core.orders import Order

    for days_ago in range(1, 8):
        for n in range(8):
            at = clock.now() - timedelta(days=days_ago, minutes=5 + n)
            orders += [
                Order("tiktok", f"t{days_ago}-{n}", at, 1000),
                Order("shopee", f"s{days_ago}-{n}", at, 1000),
            ]
    sales.orders.upsert_many(orders)
    drops = sales.live_drops()
    assert [d.channel for d in drops] == ["tiktok"]
    assert drops[0].recent == 0 and drops[0].baseline == 8
    for n in range(5):
        sales.add_sale(
            "tiktok",
            "1000",
            order_id=f"now{n}",
            at=(clock.now() - timedelta(minutes=n + 1)).isoformat(),
        )
    assert sales.live_drops() == []


def test_today_matches_the_order_by_order_tally_of_each_day(
    home: StateHome, clock: FixedClock
) -> None:
    """The compact day rows give exactly the numbers of tallying every order (to the
    microsecond of the clock cut), for today, yesterday and the same weekday last week."""
    import random

    from liveguard.core.ledger import ChannelTally, summarise_day, tally_orders
    from liveguard.core.orders import Order, OrderStatus

    rng = random.Random(7)
    sales = make(home, clock)
    now = clock.now()
    cut = now.astimezone(sales.zone).time()
    orders = [
        Order(
            rng.choice(["shopee", "tiktok", "gone"]),
            f"o{n}",
            now
            - timedelta(days=rng.choice([0, 1, 7]), microseconds=rng.randint(-(10**10), 10**11)),
            rng.randrange(0, 500_000),
            rng.choice(list(OrderStatus)),
        )
        for n in range(600)
    ]
    orders += [Order("shopee", "edge", now - timedelta(days=1), 77_000)]  # exactly at the cut
    sales.orders.upsert_many([o for o in orders if o.created <= now])
    day = now.astimezone(sales.zone).date()

    def tallied(back: int, before: time | None) -> dict[str, ChannelTally]:
        day_orders = sales.orders.day_orders(day - timedelta(days=back))
        return tally_orders(day_orders, sales.zone, before=before)

    expected = summarise_day(
        day, now, sales.channel_infos(), tallied(0, None), tallied(1, cut), tallied(7, cut)
    )
    assert sales.today() == expected
    assert sales.today() == expected  # from the cached rows


def test_plan_b_impact_counts_paid_sales_since_activation_against_yesterday(
    home: StateHome, clock: FixedClock
) -> None:
    from liveguard.core.orders import Order, OrderStatus
    from tests.conftest import make_room

    room = make_room(home, clock, "en", parse_config(PLAN_B_SHOP, "liveguard.toml", environ={}))
    room.planb.press(reason="test")
    room.planb.advance()
    start = clock.now()
    at = [start - timedelta(minutes=1), start, start + timedelta(minutes=30)]
    orders = [
        Order("tiktok", "before", at[0], 1_000),
        Order("tiktok", "t1", at[1], 20_000),
        Order("shopee", "s1", at[2], 30_000),
        Order("shopee", "gone", at[2], 99_000, OrderStatus.CANCELLED),
        Order("tiktok", "y1", at[1] - timedelta(days=1, seconds=-1), 5_000),
        Order("tiktok", "late", at[2] + timedelta(hours=2) - timedelta(days=1), 7_000),
    ]
    room.sales.orders.upsert_many(orders)
    clock.advance(timedelta(hours=1))
    impact = room.planb.view().impact
    assert impact is not None
    assert [(r.channel, r.since_activation, r.same_window_yesterday) for r in impact] == [
        ("tiktok", 20_000, 5_000),
        ("shopee", 30_000, 0),
    ]
    room.sales.add_sale("tiktok", "3000", at=clock.now() - timedelta(minutes=1))  # rows follow
    impact = room.planb.view().impact
    assert impact is not None and impact[0].since_activation == 23_000
