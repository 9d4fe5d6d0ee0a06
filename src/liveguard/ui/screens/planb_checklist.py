"""The Plan B checklist: the seller ticks steps off; each tick is saved at once."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual.containers import Vertical
from textual.widgets import SelectionList, Static

from ..content import plain
from .dialog import Dialog

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from liveguard.i18n import Catalog
    from liveguard.service.room import ControlRoom


class ChecklistScreen(Dialog[None]):
    def __init__(self, room: ControlRoom, t: Catalog) -> None:
        super().__init__(id="planb-checklist")
        self.room = room
        self.t = t

    def compose(self) -> ComposeResult:
        t = self.t
        steps = self.room.planb.view().checklist
        with Vertical(id="checklist-box", classes="dialog") as box:
            box.border_title = t("planb.checklist.title")
            box.border_subtitle = t("planb.checklist.hint")
            if not steps:
                yield Static(t("planb.checklist.empty"))
            else:
                yield SelectionList[int](
                    *((plain(step), n, done) for n, (step, done) in enumerate(steps)),
                    id="checklist",
                )

    def on_mount(self) -> None:
        for widget in self.query(SelectionList):
            widget.focus()

    async def on_selection_list_selection_toggled(
        self, event: SelectionList.SelectionToggled[int]
    ) -> None:
        # one durable write, off the screen's loop; the region redraws on its PlanBChanged
        try:
            await asyncio.to_thread(self.room.planb.toggle_tick, event.selection.value)
        except Exception as exc:  # a full disk: the tick did not stick, say so
            self.app.notify(str(exc), severity="error", markup=False)
