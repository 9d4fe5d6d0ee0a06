"""The day's sales per channel: hourly tallies, comparisons, shares. Pure functions only.

A :class:`ChannelTally` is one channel's local day cut into 24 hours. Tallies come either from
orders (recent days) or from the monthly history (older days), so every comparison works on
the same shape. Revenue counts paid orders only; cancelled and returned are counted apart;
unpaid orders are not sales.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from enum import StrEnum

from .orders import Order, OrderStatus

__all__ = [
    "HOURS",
    "Change",
    "ChangeKind",
    "ChannelDay",
    "ChannelInfo",
    "ChannelTally",
    "DaySummary",
    "summarise_day",
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

    @property
    def is_empty(self) -> bool:
        return not (any(self.orders) or any(self.cancelled))

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
    counts: dict[str, tuple[list[int], list[int], list[int]]] = {}
    for order in orders:
        local = order.created.astimezone(zone)
        if before is not None and local.time() >= before:
            continue
        paid, revenue, cancelled = counts.setdefault(
            order.channel, ([0] * HOURS, [0] * HOURS, [0] * HOURS)
        )
        if order.status is OrderStatus.PAID:
            paid[local.hour] += 1
            revenue[local.hour] += order.amount
        elif order.status in (OrderStatus.CANCELLED, OrderStatus.RETURNED):
            cancelled[local.hour] += 1
    return {
        channel: ChannelTally(tuple(p), tuple(r), tuple(c)) for channel, (p, r, c) in counts.items()
    }


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
        """The interface.md ``vs_yesterday`` value: a ratio, or null when there is none."""
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
