"""The sale-entry dialog: channel, amount (any Rupiah form), optional order id and time."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from liveguard.core.money import format_rupiah
from liveguard.service.sales import SaleInputError

from .dialog import Dialog

if TYPE_CHECKING:
    from liveguard.i18n import Catalog
    from liveguard.service.room import ControlRoom

STATUSES = ("paid", "cancelled", "returned", "unpaid")


class SaleEntryScreen(Dialog[str | None]):
    """Dismisses with the confirmation text, or None when cancelled."""

    def __init__(self, room: ControlRoom, t: Catalog) -> None:
        super().__init__(id="sale-entry")
        self.room = room
        self.t = t

    def compose(self) -> ComposeResult:
        t = self.t
        channels = [(c.name, c.id) for c in self.room.channels]
        with Vertical(id="sale-box", classes="dialog sales-dialog") as box:
            box.border_title = t("sales.entry.title")
            yield Label(t("sales.entry.channel"))
            ids = [cid for _, cid in channels]
            last = self.room.sales.last_channel
            yield Select(
                channels,
                value=last if last in ids else (ids[0] if ids else Select.NULL),
                allow_blank=not channels,
                id="sale-channel",
                compact=True,
            )
            yield Label(t("sales.entry.amount"))
            yield Input(id="sale-amount", compact=True)
            yield Label(t("sales.entry.order"))
            yield Input(id="sale-order", compact=True)
            yield Label(t("sales.entry.time"))
            yield Input(id="sale-time", compact=True)
            yield Label(t("sales.entry.status"))
            yield Select(
                [(t(f"sales.entry.{s}"), s) for s in STATUSES],
                value="paid",
                allow_blank=False,
                id="sale-status",
                compact=True,
            )
            yield Static("", id="sale-error", classes="sales-error", markup=False)
            with Horizontal(classes="sales-buttons"):
                yield Button(t("sales.entry.save"), variant="primary", id="sale-save")
                yield Button(t("sales.entry.cancel"), id="sale-cancel")

    def on_mount(self) -> None:
        self.query_one("#sale-amount", Input).focus()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        await self.save()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "sale-save":
            await self.save()
        else:  # the Cancel button: what Esc does
            self.action_close()

    async def save(self) -> None:
        channel = self.query_one("#sale-channel", Select).value
        status = self.query_one("#sale-status", Select).value
        error = self.query_one("#sale-error", Static)
        try:  # a durable write: in a worker thread, never on the screen's loop
            order, result = await asyncio.to_thread(
                self.room.sales.add_sale,
                str(channel) if channel is not Select.NULL else "",
                self.query_one("#sale-amount", Input).value,
                order_id=self.query_one("#sale-order", Input).value or None,
                at=self.query_one("#sale-time", Input).value.strip() or None,
                status=str(status),
            )
        except SaleInputError as exc:
            error.update(str(exc))
            return
        name = next((c.name for c in self.room.channels if c.id == order.channel), order.channel)
        if result == "unchanged":
            self.dismiss(self.t("sales.entry.unchanged", channel=name, order=order.order_id))
        else:
            self.dismiss(
                self.t("sales.entry.recorded", amount=format_rupiah(order.amount), channel=name)
            )
