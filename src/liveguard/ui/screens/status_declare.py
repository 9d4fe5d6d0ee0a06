"""The declare dialog: down / up / clear for one channel, with an optional reason.

Focus stays in the reason field; ↑/↓ pick the choice, Enter confirms, Esc cancels. The
default choice is the useful one: "down" for a channel that is not declared, "clear" for
one that is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from liveguard.core.status import ChannelStatus
from liveguard.service.status import Mark

from ..content import plain
from .dialog import Dialog

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from liveguard.i18n import Catalog

MARKS: tuple[Mark, ...] = ("down", "up", "clear")


class DeclareScreen(Dialog[tuple[Mark, str] | None]):
    # Dialog-local keys, like the help screen's Esc: not control-room actions.
    BINDINGS = [
        Binding("up", "move(-1)", show=False, priority=True),
        Binding("down", "move(1)", show=False, priority=True),
    ]

    def __init__(self, status: ChannelStatus, t: Catalog) -> None:
        super().__init__(id="declare")
        self.status = status
        self.t = t

    def compose(self) -> ComposeResult:
        t = self.t
        s = self.status
        with Vertical(id="declare-box", classes="dialog") as box:
            box.border_title = plain(t("status.declare_title", name=s.name))
            box.border_subtitle = t("status.declare_hint")
            state = t(f"status.state_{s.state.value}").upper()
            source = t(f"status.source_{s.source.value}")
            yield Static(
                t("status.declare_current", state=state, source=source), id="declare-current"
            )
            yield OptionList(
                *(Option(t(f"status.declare_{m}"), id=m) for m in MARKS), id="declare-choice"
            )
            yield Static(t("status.declare_reason"), id="declare-reason-label")
            yield Input(placeholder=t("status.declare_reason_placeholder"), id="declare-reason")

    def on_mount(self) -> None:
        choice = self.query_one(OptionList)
        choice.can_focus = False
        choice.highlighted = MARKS.index("clear" if self.status.declaration else "down")
        self.query_one(Input).focus()

    def action_move(self, step: int) -> None:
        choice = self.query_one(OptionList)
        current = choice.highlighted if choice.highlighted is not None else 0
        choice.highlighted = (current + step) % len(MARKS)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._confirm(event.option_index)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        highlighted = self.query_one(OptionList).highlighted
        self._confirm(highlighted if highlighted is not None else 0)

    def _confirm(self, index: int) -> None:
        self.dismiss((MARKS[index], self.query_one(Input).value.strip()))
