"""Live is back: stop Plan B now? Asked once per activation when a promotion says
``when_live_returns = "ask"`` and the channel it stood in for has been up long enough."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from .dialog import Dialog

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from liveguard.i18n import Catalog


class LiveBackPrompt(Dialog[bool]):
    """Dismisses True to stop Plan B (its undo actions run), False to keep it running."""

    BINDINGS = [
        Binding("b,enter", "dismiss(True)", show=False),
        Binding("k", "close", show=False),
    ]

    def __init__(self, t: Catalog, question: str) -> None:
        super().__init__(id="live-back")
        self.t = t
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="live-back-box", classes="dialog") as box:
            box.border_title = self.t("planb.live_back.title")
            box.border_subtitle = self.t("planb.live_back.hint")
            yield Static(self.question, markup=False)

    def action_close(self) -> None:
        """Esc (or k): nothing changes, so Plan B keeps running."""
        self.dismiss(False)
