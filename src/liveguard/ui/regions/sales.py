"""Today's sales region: a row per channel, the shop total, and an hourly sparkline each."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from liveguard.core.ledger import Change, ChangeKind, ChannelDay, DaySummary
from liveguard.core.money import format_compact
from liveguard.core.timekeeping import format_clock

from ..content import cell, plain
from .base import Region

_BARS = " ▁▂▃▄▅▆▇█"
# Below this many columns of content the sparkline shows two hours per character.
_FULL_SPARK_MIN_WIDTH = 74
REFRESH_EVERY_S = 60.0  # "vs yesterday up to the same time" moves with the clock


def sparkline(values: tuple[int, ...], per_char: int = 1, upto: int = 24) -> str:
    """One block character per hour (or per ``per_char`` hours), scaled to the day's peak.

    Hours after ``upto`` (later than now) are left as spaces, not as zero sales.
    """
    buckets = [sum(values[i : i + per_char]) for i in range(0, len(values), per_char)]
    last = (upto + per_char - 1) // per_char
    peak = max(buckets) or 1
    chars = []
    for i, value in enumerate(buckets):
        if i >= last:
            chars.append(" ")
        elif value == 0:
            chars.append("·")
        else:
            chars.append(_BARS[max(1, round(value / peak * (len(_BARS) - 1)))])
    return "".join(chars)


class SalesRegion(Region):
    AREA = "sales"
    TITLE_KEY = "region.sales"
    _shown: object = None  # what the body shows now

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="sales-body")

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(REFRESH_EVERY_S, self.refresh_view)

    def on_resize(self) -> None:
        self._shown = None
        self.refresh_view()

    def refresh_view(self) -> None:
        found = self.query("#sales-body")
        if not found:  # being torn down while a background poll lands: nothing to draw on
            return
        body = found.first(Static)
        sales = self.room.sales
        if not self.room.channels:
            body.update(plain(self.t("sales.no_channels", path=self.room.config.path)))
            return
        summary = sales.today()
        feeds = sales.feeds()
        # Drawn again only when something shown changed (a feed poll notifies every time).
        clock = format_clock(summary.as_of, sales.zone)
        shown = (summary.day, clock, summary.channels, summary.total, feeds, self.size.width)
        if shown == self._shown:
            return
        self._shown = shown
        parts: list[RenderableType] = [self._table(summary), self._footnote(summary)]
        for feed in feeds:
            if feed.state == "stale":
                when = (
                    format_clock(feed.last_ok, sales.zone)
                    if feed.last_ok
                    else self.t("sales.feed_never")
                )
                name = self.room.config.channel(feed.channel)
                label = name.name if name else feed.channel
                parts.append(
                    Text(
                        self.t("sales.feed_stale", channel=label, reason=feed.reason, when=when),
                        style="bold",
                    )
                )
        parts += self._shopee_lines()
        body.update(Group(*parts))

    def _shopee_lines(self) -> list[RenderableType]:
        """When each Shopee source last synced and when its access and authorization end;
        a warning (authorization ending soon, catching up) while it is still fresh."""
        sales = self.room.sales
        zone = sales.zone
        lines: list[RenderableType] = []
        for view in sales.shopee_views():
            if view.state == "fresh" and view.reason:
                warning = self.t("shopee.room_warning", channel=view.channel, reason=view.reason)
                lines.append(Text(warning, style="bold"))
            if view.auth_ends is None or view.access_expires is None:
                continue
            line = self.t(
                "shopee.room_line",
                channel=view.channel,
                when=format_clock(view.as_of, zone) if view.as_of else self.t("shopee.never"),
                access=format_clock(view.access_expires, zone),
                ends=view.auth_ends.astimezone(zone).date().isoformat(),
            )
            lines.append(Text(line, style="dim"))
        return lines

    def _table(self, summary: DaySummary) -> Table:
        t = self.t
        lang = t.lang
        width = self.content_size.width or 76
        per_char = 1 if width >= _FULL_SPARK_MIN_WIDTH else 2
        now_local = summary.as_of.astimezone(self.room.sales.zone)
        upto = now_local.hour + 1 if now_local.date() == summary.day else 24
        table = Table(box=None, padding=(0, 1), expand=False, show_edge=False, pad_edge=False)
        table.add_column(t("sales.channel"), no_wrap=True, max_width=16, overflow="ellipsis")
        table.add_column(t("sales.orders"), justify="right", no_wrap=True)
        table.add_column(t("sales.revenue"), justify="right", no_wrap=True)
        table.add_column(t("sales.vs_yesterday"), justify="right", no_wrap=True)
        table.add_column(t("sales.share"), justify="right", no_wrap=True)
        table.add_column(t("sales.hours"), no_wrap=True)

        def row(day: ChannelDay, name: str, style: str = "") -> None:
            share = f"{round(day.share * 100)}%" if day.share is not None else t("sales.dash")
            table.add_row(
                cell(name),
                str(day.orders),
                format_compact(day.revenue, lang),
                self._change(day.vs_yesterday),
                share,
                sparkline(day.hourly_orders, per_char, upto),
                style=style,
            )

        stale = {f.channel for f in self.room.sales.feeds() if f.state == "stale"}
        for day in summary.channels:
            # a channel whose orders may be behind says so in its own row (the reason below)
            row(day, f"{day.name} ⚠" if day.id in stale else day.name)
        row(summary.total, t("sales.total"), "bold")
        return table

    def _change(self, change: Change) -> Text:
        if change.kind is ChangeKind.NEW:
            return Text(self.t("sales.new"), style="bold")
        if change.kind is ChangeKind.NONE or change.ratio is None:
            return Text(self.t("sales.dash"), style="dim")
        return Text(change.percent(), style="bold" if change.ratio < 0 else "")

    def _footnote(self, summary: DaySummary) -> Text:
        t = self.t
        zone = self.room.sales.zone
        if summary.as_of.astimezone(zone).date() == summary.day:
            text = t("sales.as_of", time=format_clock(summary.as_of, zone))
        else:
            text = t("sales.as_of_past", day=summary.day.isoformat())
        if summary.total.cancelled:
            text += " · " + t("sales.cancelled", count=summary.total.cancelled)
        return Text(text, style="dim")
