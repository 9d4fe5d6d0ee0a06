"""The control room: header, three regions (Live status, Today's sales, Plan B), footer."""

from __future__ import annotations

import gc
from collections.abc import Iterable
from pathlib import Path

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingsMap
from textual.containers import Container
from textual.notifications import SeverityLevel
from textual.screen import Screen

from liveguard.core.actions import ACTIONS
from liveguard.core.text import terminal_safe
from liveguard.i18n import Catalog
from liveguard.service.room import ControlRoom

from .footer import LeanFooter
from .header import ShopHeader
from .regions.base import Region
from .regions.planb import PlanBRegion
from .regions.sales import SalesRegion
from .regions.status import DownBanner, StatusRegion
from .screens.help import HelpScreen

# Below this width the regions stack in one column instead of sitting side by side.
WIDE_MIN_COLUMNS = 110
THEME = "textual-dark"


class PlainToastApp(App[None]):
    """An app whose toasts are plain text."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every toast, whoever raises it: the text is never read as markup (it carries
        reasons, replies and names from outside), so nothing in it can style or act."""
        super().notify(
            terminal_safe(message),
            title=terminal_safe(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )


class LiveguardApp(PlainToastApp):
    CSS_PATH = [
        Path(__file__).with_name("app.tcss"),
        Path(__file__).with_name("status.tcss"),
        Path(__file__).with_name("sales.tcss"),
        Path(__file__).with_name("planb.tcss"),
    ]
    TITLE = "liveguard"
    ENABLE_COMMAND_PALETTE = True
    # Textual sets these classes on every screen, the ones under a dialog included.
    HORIZONTAL_BREAKPOINTS = [
        (0, "-narrow"),
        (WIDE_MIN_COLUMNS, "-wide"),
    ]

    def __init__(self, room: ControlRoom, *, animations: bool = True) -> None:
        super().__init__()
        self.room = room
        self.t = Catalog(room.lang)
        self.theme = THEME
        if not animations:
            self.animation_level = "none"
        self._bindings = self._bindings_from_table()
        self.keys = {spec.name: room.config.keys.get(spec.name, spec.keys) for spec in ACTIONS}
        if room.config.keys:
            self.set_keymap(dict(room.config.keys))

    def _bindings_from_table(self) -> BindingsMap:
        bindings = self._bindings.copy()
        for spec in ACTIONS:
            for key in spec.keys.split(","):
                bindings.key_to_bindings.setdefault(key.strip(), []).append(
                    Binding(
                        key.strip(),
                        f"{spec.name}({key.strip()!r})" if spec.per_key else spec.name,
                        self.t(spec.label),
                        show=spec.footer and key.strip() == spec.keys.split(",")[0].strip(),
                        priority=spec.priority,
                        id=spec.name,
                        tooltip=self.t(spec.help),
                    )
                )
        return bindings

    def compose(self) -> ComposeResult:
        yield ShopHeader(self.room)
        yield DownBanner(self.room, self.t)
        # Wide: a grid, status over sales on the left and Plan B down the right. Narrow: one
        # column in this order, so an engaged Plan B sits right under the live status.
        with Container(id="regions"):
            yield StatusRegion(self.room, self.t, id="status")
            yield PlanBRegion(self.room, self.t, id="planb")
            yield SalesRegion(self.room, self.t, id="sales")
        yield LeanFooter()

    def on_mount(self) -> None:
        self.room.subscribe(self._on_room_change)
        for notice in self.room.notices():
            self.notify(notice, title=self.t("shell.notice"), severity="warning", timeout=15)
        self.run_worker(self.room.start(), name="room", group="room", exit_on_error=False)
        # What exists after the first frame lives as long as the app; keep it out of the
        # cyclic collector's full passes, each a screen stall (measured: 95 -> 53 ms worst).
        self.call_after_refresh(gc.freeze)

    async def on_unmount(self) -> None:
        gc.unfreeze()
        # Background work may still finish a poll while Textual removes the widgets: stop
        # listening first, so no region redraws after it is gone.
        self.room.unsubscribe(self._on_room_change)
        await self.room.stop()

    def _on_room_change(self, area: str) -> None:
        for region in self.query(Region):
            if area in (region.AREA, "all"):
                region.refresh_view()

    # -- actions from the table ----------------------------------------------------------
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.t, self.keys))

    def action_sale_entry(self) -> None:
        from .screens.sale_entry import SaleEntryScreen

        if not isinstance(self.screen, SaleEntryScreen):
            self.push_screen(SaleEntryScreen(self.room, self.t), self._sales_done)

    def action_import_file(self) -> None:
        from .screens.import_file import ImportScreen

        if not isinstance(self.screen, ImportScreen):
            self.push_screen(ImportScreen(self.room, self.t), self._sales_done)

    def _sales_done(self, message: str | None) -> None:
        if message:
            self.notify(message, timeout=6)

    def action_declare(self) -> None:
        self.query_one(StatusRegion).open_declare()

    def action_select_channel(self, key: str = "") -> None:
        region = self.query_one(StatusRegion)
        if key.isdigit():
            region.select(int(key) - 1)
        region.focus()

    def action_outages(self) -> None:
        from .screens.outages import OutagesScreen

        if not isinstance(self.screen, OutagesScreen):
            self.push_screen(OutagesScreen(self.room, self.t))

    # -- Plan B (the region does the work; the table names the keys) ---------------------
    def action_planb(self) -> None:
        self.query_one(PlanBRegion).press()

    def action_planb_cancel(self) -> None:
        self.query_one(PlanBRegion).cancel_countdown()

    def action_planb_check(self) -> None:
        self.run_worker(self.room.check_readiness(), group="readiness", exclusive=True)

    def action_planb_copy(self) -> None:
        self.query_one(PlanBRegion).copy_message()

    def action_planb_arm(self) -> None:
        from .screens.promotion_picker import PromotionPicker

        if not isinstance(self.screen, PromotionPicker):
            self.push_screen(PromotionPicker(self.room, self.t), self._planb_done)

    def action_planb_checklist(self) -> None:
        from .screens.planb_checklist import ChecklistScreen

        if not isinstance(self.screen, ChecklistScreen):
            self.push_screen(ChecklistScreen(self.room, self.t))

    def action_audit_log(self) -> None:
        from .screens.audit_log import AuditLogScreen

        if not isinstance(self.screen, AuditLogScreen):
            self.push_screen(AuditLogScreen(self.room, self.t))

    def action_phone(self) -> None:
        from .screens.phone import PhoneScreen

        if not isinstance(self.screen, PhoneScreen):
            self.push_screen(PhoneScreen(self.room, self.t))

    def _planb_done(self, message: str | None) -> None:
        if message:
            self.notify(message, timeout=6)
        self.query_one(PlanBRegion).refresh_view()

    async def action_quit(self) -> None:
        self.exit()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for spec in ACTIONS:
            if spec.name == "command_palette":
                continue  # the palette is already open
            yield SystemCommand(
                self.t(spec.label), self.t(spec.help), self._palette_runner(spec.name)
            )

    def _palette_runner(self, name: str):  # type: ignore[no-untyped-def]
        async def run() -> None:
            await self.run_action(name)

        return run
