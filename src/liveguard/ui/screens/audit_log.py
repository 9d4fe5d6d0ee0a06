"""The audit log: every Plan B transition and attempt, who did it and what came of it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from liveguard.core.timekeeping import format_clock
from liveguard.service.planb import describe_entry

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from liveguard.i18n import Catalog
    from liveguard.service.room import ControlRoom

SHOWN = 200


class AuditLogScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "dismiss(None)", show=False)]

    def __init__(self, room: ControlRoom, t: Catalog) -> None:
        super().__init__(id="audit-log")
        self.room = room
        self.t = t
        self.entries = room.planb.log(SHOWN)

    def compose(self) -> ComposeResult:
        t = self.t
        with Vertical(id="audit-box", classes="planb-dialog") as box:
            box.border_title = t("planb.log.title")
            box.border_subtitle = t("planb.log.hint")
            if not self.entries:
                yield Static(t("planb.log.empty"))
            else:
                yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        t = self.t
        for table in self.query(DataTable):
            table.add_columns(
                t("planb.log.col_time"), t("planb.log.col_actor"), t("planb.log.col_what")
            )
            for entry in self.entries:
                at = datetime.fromisoformat(entry["at"])
                table.add_row(
                    format_clock(at, self.room.zone, seconds=True),
                    entry.get("actor", ""),
                    describe_entry(entry, t),
                )
            table.move_cursor(row=len(self.entries) - 1)
            table.focus()
