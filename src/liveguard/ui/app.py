"""The control room: header, three regions (Live status, Today's sales, Plan B), footer."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingsMap
from textual.containers import Container
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen

from liveguard.core.actions import ACTIONS
from liveguard.core.text import terminal_safe
from liveguard.i18n import Catalog
from liveguard.service.events import (
    Event,
    Notice,
    PlanBChanged,
    SalesChanged,
    SourceChanged,
    StatusChanged,
)
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
NOTICE_TIMEOUT_S = 15.0  # a notice with the same key is not shown again while one is up

log = logging.getLogger("liveguard")


class RoomEvent(Message):
    """An event from ``room.events``, carried onto the app's message queue."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


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
        self._stale: set[str] = set()  # areas whose region is to be redrawn
        self._shown: dict[str, float] = {}  # notice key -> when it was shown
        self._unsubscribe: Callable[[], None] = lambda: None

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
        # post_message is thread-safe and drops messages once the app is closing, so
        # background work never reaches a widget that is gone.
        self._unsubscribe = self.room.events.subscribe(self._carry)
        self.run_worker(self.room.start(), name="room", group="room", exit_on_error=False)
        # What exists after the first frame lives as long as the app; keep it out of the
        # cyclic collector's full passes, each a screen stall (measured: 95 -> 53 ms worst).
        self.call_after_refresh(gc.freeze)

    async def on_unmount(self) -> None:
        gc.unfreeze()
        self._unsubscribe()
        await self.room.stop()

    # -- background events: shown as they happen, each region redrawn once per burst -----
    def _carry(self, event: Event) -> None:
        self.post_message(RoomEvent(event))

    def on_room_event(self, message: RoomEvent) -> None:
        if not self.is_running or not self.screen_stack:
            return  # quitting: nothing left to show it on
        try:
            self._take(message.event)
        except Exception:  # a bug in showing it: say so once, keep the room running
            log.exception("showing %r failed", message.event)
            self._show_notice(Notice(self.t("events.redraw_failed"), "error", "redraw"))

    def _take(self, event: Event) -> None:
        if isinstance(event, Notice):
            self._show_notice(event)
        elif isinstance(event, StatusChanged):
            self._redraw_soon("status")
            for region in self._main_screen().query(StatusRegion):
                region.incident(event.change)
        elif isinstance(event, SalesChanged):
            self._redraw_soon("sales")
        elif isinstance(event, SourceChanged):
            self._redraw_soon("sales")
            if event.state == "stale":
                self._feed_went_stale(event)
        elif isinstance(event, PlanBChanged):
            self._redraw_soon("planb")
            if event.kind == "planb.attempt" and event.detail.get("result") == "failed":
                self._action_failed(event.detail)

    def _redraw_soon(self, area: str) -> None:
        """Mark an area; the redraw runs once after the events already queued."""
        if not self._stale:
            self.call_later(self._redraw)
        self._stale.add(area)

    def _main_screen(self) -> Screen[object]:
        """The control room's own screen, also while a dialog is open over it."""
        return self.screen_stack[0] if self.screen_stack else self.screen

    def _redraw(self) -> None:
        areas, self._stale = self._stale, set()
        if not self.is_running:
            return
        main = self._main_screen()
        widgets: list[Region | DownBanner] = [r for r in main.query(Region) if r.AREA in areas]
        if "status" in areas:
            widgets += list(main.query(DownBanner))
        for widget in widgets:
            try:
                widget.refresh_view()
            except Exception:  # a redraw's bug: say so once, keep the room running
                log.exception("redrawing %s failed", widget.id)
                self._show_notice(Notice(self.t("events.redraw_failed"), "error", "redraw"))

    def _show_notice(self, notice: Notice) -> None:
        now = time.monotonic()
        key = notice.key or notice.text
        if now - self._shown.get(key, -NOTICE_TIMEOUT_S) < NOTICE_TIMEOUT_S:
            return
        self._shown[key] = now
        title = self.t("shell.notice")
        self.notify(
            notice.text,
            title=title,
            severity=notice.severity,
            timeout=NOTICE_TIMEOUT_S,
            markup=False,
        )

    def _feed_went_stale(self, event: SourceChanged) -> None:
        channel = self.room.config.channel(event.channel)
        name = channel.name if channel else event.channel
        text = self.t("events.feed_stale", channel=name, reason=event.reason)
        self.notify(text, title=self.t("events.feed_stale_title"), severity="warning", markup=False)

    def _action_failed(self, detail: dict[str, object]) -> None:
        text = self.t(
            "events.action_failed",
            number=detail.get("action", "?"),
            label=detail.get("label") or detail.get("kind", ""),
            reason=detail.get("error") or "-",
        )
        self.notify(
            text, title=self.t("events.action_failed_title"), severity="error", markup=False
        )

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
    async def action_planb(self) -> None:
        await self.query_one(PlanBRegion).press()

    async def action_planb_cancel(self) -> None:
        await self.query_one(PlanBRegion).cancel_countdown()

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

    async def action_audit_log(self) -> None:
        from .screens.audit_log import SHOWN, AuditLogScreen

        if not isinstance(self.screen, AuditLogScreen):
            # the journal copy (a write) and the log's files: read in a worker thread
            try:
                entries = await asyncio.to_thread(self.room.planb.log, SHOWN)
            except Exception as exc:  # a full disk while copying the journal: say so
                self.notify(str(exc), severity="error", markup=False)
                return
            self.push_screen(AuditLogScreen(self.room, self.t, entries))

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
