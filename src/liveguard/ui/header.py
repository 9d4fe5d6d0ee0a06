"""The top line: shop name, today's date and the local time with its zone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

if TYPE_CHECKING:
    from liveguard.service.room import ControlRoom


class ShopHeader(Static):
    def __init__(self, room: ControlRoom) -> None:
        super().__init__(id="shop-header")
        self.room = room

    def on_mount(self) -> None:
        self.refresh_view()
        self.set_interval(1.0, self.refresh_view)

    def refresh_view(self) -> None:
        view = self.room.header()
        self.update(
            Content.assemble(
                ("liveguard", "bold"), f" · {view.shop}   {view.day}   ", (view.clock, "bold")
            )
        )
