"""The help screen: every action from the one action table, grouped, with its keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from liveguard.core.actions import ACTIONS

if TYPE_CHECKING:
    from liveguard.i18n import Catalog


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,f1,q", "dismiss", show=False)]

    def __init__(self, t: Catalog, keys: dict[str, str]) -> None:
        super().__init__(id="help")
        self.t = t
        self.keys = keys

    def compose(self) -> ComposeResult:
        t = self.t
        with VerticalScroll(id="help-box") as box:
            box.border_title = t("help.title")
            box.border_subtitle = t("help.close")
            groups: dict[str, list[str]] = {}
            for spec in ACTIONS:
                keys = ", ".join(
                    self.app.get_key_display(Binding(k.strip(), ""))
                    for k in self.keys[spec.name].split(",")
                )
                groups.setdefault(spec.group, []).append(f"  [b]{keys:<18}[/b] {t(spec.help)}")
            lines = []
            for group, rows in groups.items():
                lines.append(f"[b u]{t(group)}[/b u]")
                lines.extend(rows)
                lines.append("")
            yield Static("\n".join(lines).rstrip(), id="help-text")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
