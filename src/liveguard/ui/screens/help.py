"""The help screen: every action from the one action table, grouped, with its keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from liveguard.core.actions import ACTIONS

from .dialog import Dialog

if TYPE_CHECKING:
    from liveguard.i18n import Catalog


class HelpScreen(Dialog[None]):
    BINDINGS = [Binding("question_mark,f1,q", "close", show=False)]

    def __init__(self, t: Catalog, keys: dict[str, str]) -> None:
        super().__init__(id="help")
        self.t = t
        self.keys = keys

    def compose(self) -> ComposeResult:
        t = self.t
        with VerticalScroll(id="help-box", classes="dialog") as box:
            box.border_title = t("help.title")
            box.border_subtitle = t("help.close")
            yield Static(self._table(), id="help-text")

    def _table(self) -> Table:
        t = self.t
        table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
        table.add_column(t("help.key"), style="bold", min_width=8, max_width=14)
        table.add_column(t("help.action"), ratio=1)
        groups: dict[str, list[tuple[str, str]]] = {}
        for spec in ACTIONS:
            keys = ", ".join(
                self.app.get_key_display(Binding(k.strip(), ""))
                for k in self.keys[spec.name].split(",")
            )
            groups.setdefault(spec.group, []).append((keys, t(spec.help)))
        for n, (group, rows) in enumerate(groups.items()):
            if n:
                table.add_row("", "")
            table.add_row(Text(t(group), style="bold underline"), "")
            for keys, description in rows:
                table.add_row(keys, description)
        return table
