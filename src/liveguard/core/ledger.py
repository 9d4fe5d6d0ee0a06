"""The day's sales per channel: hourly tallies, comparisons, shares. Pure functions only.

A :class:`ChannelTally` is one channel's local day cut into 24 hours. Tallies come either from
orders (recent days) or from the monthly history (older days), so every comparison works on
the same shape. Revenue counts paid orders only; cancelled and returned are counted apart;
unpaid orders are not sales.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from itertools import islice
from operator import itemgetter

from .orders import Order, OrderStatus

__all__ = [
    "HOURS",
    "Change",
    "ChangeKind",
    "ChannelDay",
    "ChannelInfo",
    "ChannelTally",
    "DayOrders",
    "DaySummary",
    "OrderRow",
    "summarise_day",
    "tally_entries",
    "tally_orders",
]

HOURS = 24
_ZEROS = (0,) * HOURS


@dataclass(frozen=True)
class ChannelTally:
    """One channel's local day by hour: paid orders, paid revenue, cancelled+returned."""

    orders: tuple[int, ...] = _ZEROS
    revenue: tuple[int, ...] = _ZEROS
    cancelled: tuple[int, ...] = _ZEROS

    @property
    def total_orders(self) -> int:
        return sum(self.orders)

    @property
    def total_revenue(self) -> int:
        return sum(self.revenue)

    @property
    def total_cancelled(self) -> int:
        return sum(self.cancelled)

    def before_hour(self, hour: int) -> ChannelTally:
        """Only the hours before ``hour``: the closest a compacted day gets to a clock cut."""

        def cut(values: tuple[int, ...]) -> tuple[int, ...]:
            return values[:hour] + (0,) * (HOURS - hour)

        return ChannelTally(cut(self.orders), cut(self.revenue), cut(self.cancelled))

    def plus(self, other: ChannelTally) -> ChannelTally:
        return ChannelTally(
            _add(self.orders, other.orders),
            _add(self.revenue, other.revenue),
            _add(self.cancelled, other.cancelled),
        )


def _add(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(x + y for x, y in zip(a, b, strict=True))


def tally_orders(
    orders: Iterable[Order], zone: tzinfo, *, before: time | None = None
) -> dict[str, ChannelTally]:
    """Tally orders per channel by local hour.

    ``before`` keeps only orders placed before that local clock time, which is how
    "yesterday up to the same clock time" is cut.
    """

    def entries() -> Iterator[tuple[int, str, OrderStatus, int]]:
        for order in orders:
            local = order.created.astimezone(zone)
            if before is None or local.time() < before:
                yield local.hour, order.channel, order.status, order.amount

    return _tally(entries())


def tally_entries(
    entries: Iterable[tuple[int, str, OrderStatus, int]],
) -> dict[str, ChannelTally]:
    """(local hour, channel, status, amount) entries into hourly tallies per channel."""
    return _tally(entries)


def _tally(entries: Iterable[tuple[int, str, OrderStatus, int]]) -> dict[str, ChannelTally]:
    """(local hour, channel, status, amount) entries into hourly tallies per channel."""
    counts: dict[str, tuple[list[int], list[int], list[int]]] = {}
    for hour, channel, status, amount in entries:
        paid, revenue, cancelled = counts.get(channel) or counts.setdefault(
            channel, ([0] * HOURS, [0] * HOURS, [0] * HOURS)
        )
        if status is OrderStatus.PAID:
            paid[hour] += 1
            revenue[hour] += amount
        elif status is OrderStatus.CANCELLED or status is OrderStatus.RETURNED:
            cancelled[hour] += 1
    return {
        channel: ChannelTally(tuple(p), tuple(r), tuple(c)) for channel, (p, r, c) in counts.items()
    }


OrderRow = tuple[datetime, str, OrderStatus, int]  # (created UTC, channel, status, amount)


class DayOrders:
    """One local day's orders as small rows sorted by time: all that the day's tallies and
    the inferred live warning read. Built once per version of a day file (no Order objects),
    so each refresh is a cut of a sorted list rather than a re-read of the day."""

    def __init__(self, rows: Iterable[OrderRow], zone: tzinfo) -> None:
        self._rows = sorted(rows, key=itemgetter(0))
        self._zone = zone
        self.times = [row[0] for row in self._rows]
        self._channels = [row[1] for row in self._rows]
        self._entries: list[tuple[int, str, OrderStatus, int]] | None = None  # on first tally
        # per channel: paid orders' times and running revenue, on the first revenue_between
        self._paid: dict[str, tuple[list[datetime], list[int]]] | None = None
        self._tallies: dict[int, dict[str, ChannelTally]] = {}  # by how many rows they count

    @classmethod
    def of(cls, orders: Iterable[Order], zone: tzinfo) -> DayOrders:
        return cls(((o.created, o.channel, o.status, o.amount) for o in orders), zone)

    def __len__(self) -> int:
        return len(self.times)

    def tally(self, before: datetime | None = None) -> dict[str, ChannelTally]:
        """Hourly tallies per channel of the orders created before ``before`` (all: None)."""
        if self._entries is None:  # the drop rule reads most days without their hours
            hours = self._hours()
            self._entries = [
                (hour, channel, status, amount)
                for hour, (_, channel, status, amount) in zip(hours, self._rows, strict=True)
            ]
        end = len(self.times) if before is None else bisect_left(self.times, before)
        tallies = self._tallies.get(end)
        if tallies is None:  # a cut moves with the clock, but only past an order does it change
            if len(self._tallies) >= 4:
                self._tallies.clear()
            tallies = self._tallies[end] = _tally(islice(self._entries, end))
        return dict(tallies)

    def _hours(self) -> list[int]:
        """Each row's local hour. Within one day of a constant offset (no clock change, as
        in every Indonesian zone) the rows, sorted by time, are cut at the 24 hour marks:
        24 bisections instead of a time zone conversion per row."""
        if not self.times:
            return []
        zone = self._zone
        first = self.times[0].astimezone(zone)
        start = first.replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + timedelta(days=1)
        offset = first.utcoffset()
        if (
            offset is not None
            and (end - timedelta(microseconds=1)).astimezone(zone).utcoffset() == offset
            and start.utcoffset() == offset
            and self.times[-1] < end
        ):
            cuts = [bisect_left(self.times, start + timedelta(hours=h)) for h in range(25)]
            cuts[24] = len(self.times)
            hours: list[int] = []
            for hour in range(24):
                hours += [hour] * (cuts[hour + 1] - cuts[hour])
            return hours
        return [created.astimezone(zone).hour for created in self.times]

    def revenue_between(self, start: datetime, end: datetime) -> dict[str, int]:
        """Paid revenue per channel of the orders created in [start, end): two bisections
        per channel, however long the window."""
        if self._paid is None:
            self._paid = {}
            for created, channel, status, amount in self._rows:
                if status is OrderStatus.PAID:
                    times, totals = self._paid.setdefault(channel, ([], [0]))
                    times.append(created)
                    totals.append(totals[-1] + amount)
        out = {}
        for channel, (times, totals) in self._paid.items():
            first = bisect_left(times, start)
            value = totals[max(first, bisect_left(times, end))] - totals[first]
            if value:
                out[channel] = value
        return out

    def count(self, channel: str, after: datetime, upto: datetime, *, upto_included: bool) -> int:
        """Orders of ``channel`` (any status) created after ``after`` and up to ``upto``."""
        start = bisect_right(self.times, after)
        end = (bisect_right if upto_included else bisect_left)(self.times, upto)
        return self._channels[start:end].count(channel)


class ChangeKind(StrEnum):
    RATIO = "ratio"  # a percentage change against a non-zero earlier value
    NEW = "new"  # the earlier value was zero: shown as "New", never as an infinite percentage
    NONE = "none"  # nothing on either side: shown as a dash


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    ratio: float | None = None  # 0.25 = +25 %; only for RATIO

    @classmethod
    def between(cls, current: int, earlier: int) -> Change:
        if earlier == 0:
            return cls(ChangeKind.NEW) if current else cls(ChangeKind.NONE)
        return cls(ChangeKind.RATIO, (current - earlier) / earlier)

    def as_json(self) -> float | None:
        """``vs_yesterday`` in ``today --json``: a ratio, or null when there is none."""
        return None if self.ratio is None else round(self.ratio, 4)

    def percent(self) -> str:
        """``+25%``, ``-10%``, ``0%``; only meaningful for RATIO."""
        if self.ratio is None:
            return ""
        value = round(self.ratio * 100)
        return f"+{value}%" if value > 0 else f"{value}%"


@dataclass(frozen=True)
class ChannelInfo:
    id: str
    name: str
    live: bool = False


@dataclass(frozen=True)
class ChannelDay:
    """One row of the day: a channel, or the shop total (``id`` == "")."""

    id: str
    name: str
    live: bool
    orders: int
    revenue: int
    cancelled: int
    average: int  # revenue per paid order, whole Rupiah (0 when none)
    share: float | None  # of the shop's revenue today; None when the shop sold nothing
    vs_yesterday: Change
    vs_last_week: Change
    hourly_orders: tuple[int, ...]
    hourly_revenue: tuple[int, ...]


@dataclass(frozen=True)
class DaySummary:
    day: date
    as_of: datetime
    channels: tuple[ChannelDay, ...]
    total: ChannelDay

    def channel(self, channel_id: str) -> ChannelDay | None:
        return next((c for c in self.channels if c.id == channel_id), None)


def summarise_day(
    day: date,
    as_of: datetime,
    channels: Sequence[ChannelInfo],
    today: Mapping[str, ChannelTally],
    yesterday: Mapping[str, ChannelTally],
    last_week: Mapping[str, ChannelTally],
) -> DaySummary:
    """Rows for every configured channel (zeros when it sold nothing), then any channel that
    has orders but is no longer configured, and the shop total.

    ``yesterday`` and ``last_week`` must already be cut to the same clock time as ``today``.
    """
    infos = list(channels)
    known = {c.id for c in infos}
    infos += [ChannelInfo(cid, cid) for cid in sorted(today) if cid not in known]
    empty = ChannelTally()
    shop_revenue = sum(t.total_revenue for t in today.values())

    def row(
        info: ChannelInfo, now: ChannelTally, before: ChannelTally, week: ChannelTally
    ) -> ChannelDay:
        orders, revenue = now.total_orders, now.total_revenue
        return ChannelDay(
            id=info.id,
            name=info.name,
            live=info.live,
            orders=orders,
            revenue=revenue,
            cancelled=now.total_cancelled,
            average=revenue // orders if orders else 0,
            share=revenue / shop_revenue if shop_revenue else None,
            vs_yesterday=Change.between(revenue, before.total_revenue),
            vs_last_week=Change.between(revenue, week.total_revenue),
            hourly_orders=now.orders,
            hourly_revenue=now.revenue,
        )

    rows = tuple(
        row(i, today.get(i.id, empty), yesterday.get(i.id, empty), last_week.get(i.id, empty))
        for i in infos
    )
    total = row(
        ChannelInfo("", ""),
        _sum(today.values()),
        _sum(yesterday.values()),
        _sum(last_week.values()),
    )
    return DaySummary(day, as_of, rows, total)


def _sum(tallies: Iterable[ChannelTally]) -> ChannelTally:
    total = ChannelTally()
    for t in tallies:
        total = total.plus(t)
    return total
