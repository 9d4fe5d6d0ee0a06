"""Phone alerts: each target's last delivery, the newest messages (what the phone received,
and the replies to its commands), and a key to send a test message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from liveguard.core.text import clean_line
from liveguard.core.timekeeping import format_clock

from .dialog import Dialog

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from liveguard.i18n import Catalog
    from liveguard.service.room import ControlRoom

SHOWN = 50
REFRESH_S = 1.0


class PhoneScreen(Dialog[None]):
    DEFAULT_CSS = """
    #phone-box { width: 110; }
    #phone-targets { height: auto; max-height: 8; margin-bottom: 1; }
    #phone-log { height: auto; max-height: 24; }
    """
    BINDINGS = [
        Binding("q", "close", show=False),
        Binding("t", "send_test", show=False),
    ]

    def __init__(self, room: ControlRoom, t: Catalog) -> None:
        super().__init__(id="phone")
        self.room = room
        self.t = t
        self._shown: tuple[object, ...] = ()

    def compose(self) -> ComposeResult:
        t = self.t
        with Vertical(id="phone-box", classes="dialog") as box:
            box.border_title = t("notify.room.title")
            box.border_subtitle = t("notify.room.hint")
            if not self.room.config.notify:
                yield Static(t("notify.cli.none", path=self.room.config.path), markup=False)
                return
            yield DataTable(id="phone-targets", cursor_type="none", zebra_stripes=True)
            yield DataTable(id="phone-log", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        t = self.t
        for table in self.query("#phone-targets").results(DataTable):
            table.add_columns(
                t("notify.room.targets"),
                t("notify.room.col_kind"),
                t("notify.room.col_where"),
                t("notify.room.col_last"),
            )
        for table in self.query("#phone-log").results(DataTable):
            table.add_columns(
                t("notify.room.col_time"),
                t("notify.room.col_to"),
                t("notify.room.col_status"),
                t("notify.room.col_text"),
            )
            table.focus()
        self.refresh_tables()
        self.set_interval(REFRESH_S, self.refresh_tables)

    def refresh_tables(self) -> None:
        if not self.room.config.notify:
            return
        notifier = self.room.notifier
        state = notifier.store.load()
        targets = notifier.targets(state)
        recent = notifier.recent(SHOWN, state)
        replies = [r for p in self.room.pollers for r in p.replies]
        shown = (tuple(targets), tuple(recent), tuple(replies))
        if shown == self._shown:
            return
        self._shown = shown
        t, zone = self.t, self.room.zone
        table = self.query_one("#phone-targets", DataTable)
        table.clear()
        for v in targets:
            if v.last is None:
                last = t("notify.room.last_none")
            else:
                when = format_clock(v.last.sent_at or v.last.created_at, zone)
                last = f"{t(f'notify.room.status_{v.last.status}')} {when}"
                if v.last.error:
                    last += f": {v.last.error}"
            table.add_row(v.id, v.kind, v.where, clean_line(last))
        rows = [(d.sent_at or d.created_at, d.target + (f" #{d.to}" if d.to else ""),
                 t(f"notify.room.status_{d.status}"), d.text) for d in recent]  # fmt: skip
        rows += [
            (r.at, f"{r.target} #{r.chat}", "/" if r.incoming else "→", r.text) for r in replies
        ]
        rows.sort(key=lambda r: r[0], reverse=True)
        log = self.query_one("#phone-log", DataTable)
        log.clear()
        if not rows:
            log.add_row("", "", "", t("notify.room.empty"))
        for at, where, status, text in rows[:SHOWN]:
            log.add_row(format_clock(at, zone), where, status, clean_line(text, 120))

    def action_send_test(self) -> None:
        queued = self.room.notifier.test()
        count = len({d.target for d in queued})
        self.app.notify(self.t("notify.room.test_queued", count=count), timeout=6)
