"""Outage history: today's uptime per live channel, then every outage of recent days."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Static

from liveguard.core.timekeeping import format_clock, format_duration, local_day

from ..content import cell
from .dialog import Dialog

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from liveguard.i18n import Catalog
    from liveguard.service.room import ControlRoom

DAYS = 8


class OutagesScreen(Dialog[None]):
    BINDINGS = [Binding("q", "close", show=False)]

    def __init__(self, room: ControlRoom, t: Catalog) -> None:
        super().__init__(id="outages")
        self.room = room
        self.t = t

    def compose(self) -> ComposeResult:
        t = self.t
        with Vertical(id="outages-box", classes="dialog") as box:
            box.border_title = t("status.outages_title")
            box.border_subtitle = t("status.outages_hint", days=DAYS)
            yield Static(self._uptime_line(), id="outages-uptime")
            outages = self.room.status.outages(DAYS)
            if not outages:
                yield Static(t("status.outages_none", days=DAYS), id="outages-none")
            else:
                yield DataTable(id="outages-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        tables = self.query(DataTable)
        if tables:
            self._fill(tables.first())
            tables.first().focus()

    def _uptime_line(self) -> Content:
        t = self.t
        parts = []
        for view in self.room.status.snapshot():
            if view.status.live and view.uptime_today is not None:
                parts.append(f"{view.status.name} {view.uptime_today * 100:.1f}%")
        return Content.assemble(
            (t("status.outages_uptime"), "bold"), ": " + (" · ".join(parts) or "-")
        )

    def _fill(self, table: DataTable[str | Text]) -> None:
        t = self.t
        zone = self.room.zone
        now = self.room.now()
        today = local_day(now, zone)
        names = {c.id: c.name for c in self.room.channels}
        table.add_columns(
            t("status.outages_start"),
            t("status.outages_channel"),
            t("status.outages_duration"),
            t("status.outages_end"),
            t("status.outages_source"),
            t("status.outages_reason"),
        )
        for outage in self.room.status.outages(DAYS):
            day = local_day(outage.start, zone)
            label = t("status.outages_today") if day == today else day.strftime("%d/%m")
            end = format_clock(outage.end, zone) if outage.end else t("status.outages_ongoing")
            table.add_row(
                f"{label} {format_clock(outage.start, zone)}",
                cell(names.get(outage.channel, outage.channel)),
                format_duration(outage.duration(now), t.lang),
                end,
                t(f"status.source_{outage.source.value}"),
                cell(outage.reason),
            )
