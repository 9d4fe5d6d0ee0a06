"""The one dialog: a box (class ``dialog``, styled once in app.tcss) over the control room.

Esc closes every dialog the same way, with no result (``close``); a dialog that also
closes on other keys binds them to ``close`` too. Textual merges the bindings of the
classes, so a subclass lists only its own.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.screen import ModalScreen

ResultT = TypeVar("ResultT")


class Dialog(ModalScreen[ResultT]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", show=False)]

    def action_close(self) -> None:
        """Back to the control room, nothing done."""
        self.dismiss(None)
