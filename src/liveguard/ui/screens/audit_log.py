"""The audit log: every Plan B transition and attempt, who did it and what came of it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Static

from liveguard.core.timekeeping import format_clock
from liveguard.service.planb import describe_entry

from ..content import cell
from .dialog import Dialog

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from liveguard.i18n import Catalog
    from liveguard.service.room import ControlRoom

SHOWN = 200


class AuditLogScreen(Dialog[None]):
    BINDINGS = [
        Binding("q", "close", show=False),
        Binding("slash", "filter", show=False),
    ]

    def __init__(self, room: ControlRoom, t: Catalog, entries: list[dict[str, Any]]) -> None:
        """``entries``: ``room.planb.log(SHOWN)``, read by the caller off the screen's loop."""
        super().__init__(id="audit-log")
        self.room = room
        self.t = t
        self.entries = entries

    def compose(self) -> ComposeResult:
        t = self.t
        with Vertical(id="audit-box", classes="dialog") as box:
            box.border_title = t("planb.log.title")
            box.border_subtitle = t("planb.log.hint")
            if not self.entries:
                yield Static(t("planb.log.empty"))
            else:
                yield Input(placeholder=t("planb.log.filter"), id="audit-filter")
                yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        t = self.t
        self.rows = [
            (
                format_clock(datetime.fromisoformat(entry["at"]), self.room.zone, seconds=True),
                entry.get("actor", ""),
                describe_entry(entry, t),
                entry.get("kind", ""),
            )
            for entry in self.entries
        ]
        for table in self.query(DataTable):
            table.add_columns(
                t("planb.log.col_time"), t("planb.log.col_actor"), t("planb.log.col_what")
            )
            self._fill(table, "")
            table.focus()

    def _fill(self, table: DataTable[str | Text], text: str) -> None:
        words = text.casefold().split()
        table.clear()
        shown = 0
        for time_text, actor, what, kind in self.rows:
            haystack = f"{time_text} {actor} {what} {kind}".casefold()
            if all(word in haystack for word in words):
                table.add_row(time_text, cell(actor), cell(what))
                shown += 1
        count = self.t("planb.log.shown", shown=shown, total=len(self.rows))
        self.query_one("#audit-box").border_subtitle = f"{count} · {self.t('planb.log.hint')}"
        if shown:
            table.move_cursor(row=shown - 1)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(self.query_one(DataTable), event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(DataTable).focus()

    def action_filter(self) -> None:
        for box in self.query("#audit-filter"):
            box.focus()
