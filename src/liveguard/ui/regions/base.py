"""A titled, focusable region of the dashboard that redraws from the service on demand."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import VerticalScroll

if TYPE_CHECKING:
    from liveguard.i18n import Catalog
    from liveguard.service.room import ControlRoom


class Region(VerticalScroll):
    """Subclasses set ``AREA`` and ``TITLE_KEY`` and implement ``refresh_view``."""

    AREA = ""
    TITLE_KEY = ""
    can_focus = True

    def __init__(self, room: ControlRoom, t: Catalog, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="region")
        self.room = room
        self.t = t

    def on_mount(self) -> None:
        self.border_title = self.t(self.TITLE_KEY)
        self.refresh_view()

    def refresh_view(self) -> None:
        raise NotImplementedError
