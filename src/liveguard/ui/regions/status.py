"""Live status region: per channel its state (badge colour and word), source, since, reason
and a heartbeat bar; plus the DOWN banner that runs across the top of the control room.

Arrow keys (while the region has focus) and digits select a channel; the declare key opens
the declare dialog for the selected one. A live channel going DOWN rings the terminal bell
once per incident and raises a notification with the Plan B key.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from liveguard.core.actions import ACTIONS
from liveguard.core.status import Beat, Change, ChannelStatus, Declaration, Source, State
from liveguard.core.timekeeping import format_clock, format_duration
from liveguard.service.status import ChannelView, Mark

from ..content import plain, styled
from .base import Region

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from liveguard.i18n import Catalog
    from liveguard.service.room import ControlRoom

BEATS_SHOWN = 20
# Bar heights say the state without colour: full up, half degraded, floor down, dot unknown.
_BEAT_GLYPH = {State.UP: "█", State.DEGRADED: "▄", State.DOWN: "▁", State.UNKNOWN: "·"}
_BEAT_COLOUR = {
    State.UP: "$success",
    State.DEGRADED: "$warning",
    State.DOWN: "$error",
    State.UNKNOWN: "$text-muted",
}
REFRESH_S = 15.0  # "12 min" ages even when nothing changes


def plan_b_key(keys: dict[str, str]) -> str:
    """The first key of the Plan B action, whatever the Plan B work named it."""
    for spec in ACTIONS:
        if spec.name in ("planb", "plan_b", "press_plan_b", "promo_press", "activate"):
            return keys.get(spec.name, spec.keys).split(",")[0].strip()
    return "b"


def since_text(status: ChannelStatus, now: datetime, room: ControlRoom, t: Catalog) -> str:
    if status.since is None:
        return ""
    ago = format_duration(now - status.since, t.lang)
    return t("status.since", clock=format_clock(status.since, room.zone), ago=ago)


def heartbeat(beats: list[Beat]) -> Content:
    shown = beats[-BEATS_SHOWN:]
    return Content.assemble(
        ("·" * (BEATS_SHOWN - len(shown)), "dim"),
        *((_BEAT_GLYPH[b.state], _BEAT_COLOUR[b.state]) for b in shown),
    )


class ChannelRow(Vertical):
    """Two lines: number, name, badge, source and since; then heartbeat, reason, uptime."""

    def __init__(self, index: int) -> None:
        super().__init__(classes="status-row")
        self.index = index
        self._shown: dict[str, str] = {}  # each part's text now on screen

    def _put(self, part: str, text: str | Content) -> Static:
        """Update one part only when its text changed: every update is a layout pass, and
        the region redraws on each probe result. (A ``str`` here is ours; outside text comes
        as ``Content``, compared with its styles.)"""
        static = self._parts[part]
        key = text.markup if isinstance(text, Content) else text
        if self._shown.get(part) != key:
            self._shown[part] = key
            static.update(text)
        return static

    def compose(self) -> ComposeResult:
        # Kept by name: a DOM query per part and redraw cost more than the redraw itself.
        self._parts = {
            f".status-{name}": Static(classes=f"status-{name}")
            for name in ("num", "name", "badge", "meta", "detail")
        }
        with Horizontal(classes="status-head"):
            yield self._parts[".status-num"]
            yield self._parts[".status-name"]
            yield self._parts[".status-badge"]
            yield self._parts[".status-meta"]
        yield self._parts[".status-detail"]

    def show(
        self, view: ChannelView, selected: bool, now: datetime, room: ControlRoom, t: Catalog
    ) -> None:
        s = view.status
        self.set_class(selected, "-selected")
        number = f"{self.index + 1}" if self.index < 9 else " "
        self._put(".status-num", ("›" if selected else " ") + number)
        live = Content.assemble(" ", (t("status.live"), "bold")) if s.live else ""
        self._put(".status-name", Content.assemble(s.name, live))
        badge = self._put(".status-badge", f" {t(f'status.state_{s.state.value}').upper()} ")
        for state in State:
            badge.set_class(s.state is state, f"-{state.value}")
        meta = [t(f"status.source_{s.source.value}")]
        if s.declaration is not None:
            meta[0] = f"{meta[0]} ({s.declaration.who})"
        if s.since is not None:
            meta.append(since_text(s, now, room, t))
        if view.uptime_today is not None and view.checks:
            meta.append(t("status.uptime", percent=_percent(view.uptime_today)))
        self._put(".status-meta", plain(" · ".join(meta)))
        detail: list[Content] = []
        if view.checks:
            detail.append(heartbeat(view.beats))
        reason = s.reason
        if not reason and s.source is Source.NONE:
            # the hint once, on the selected channel, not repeated down the list
            hint = t("status.waiting") if view.checks else t("status.no_checks_hint")
            reason = hint if view.checks or selected else ""
        if reason:
            detail.append(plain(reason))
        if s.suggestion:
            detail.append(styled(t("status.suggestion", reason=s.suggestion), "italic"))
        line = self._put(".status-detail", Content("  ").join(detail))
        line.display = bool(detail)


def _percent(share: float) -> str:
    value = share * 100
    return f"{value:.0f}" if value in (0, 100) or value >= 99.95 or value < 0.05 else f"{value:.1f}"


class StatusRegion(Region):
    AREA = "status"
    TITLE_KEY = "region.status"

    def __init__(self, room: ControlRoom, t: Catalog, *, id: str | None = None) -> None:
        super().__init__(room, t, id=id)
        self.selected = 0
        self._own: dict[str, Declaration | None] = {}  # channel -> the seller's declaration here
        self._rows: list[ChannelRow] = []

    def compose(self) -> ComposeResult:
        if not self.room.channels:
            yield Static(
                plain(self.t("status.no_channels", path=self.room.config.path)), id="status-empty"
            )
            return
        for n, _ in enumerate(self.room.channels):
            yield ChannelRow(n)

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(REFRESH_S, self.refresh_view)
        self.call_after_refresh(self.refresh_view)  # the rows' own parts exist by then

    def refresh_view(self) -> None:
        rows = self._rows or list(self.query(ChannelRow))
        if not self.room.channels or not all(r.is_mounted for r in rows):
            return
        self._rows = rows  # the rows never change while the room runs: no query per redraw
        now = self.room.now()
        views = self.room.status.snapshot()
        for row, view in zip(rows, views, strict=False):
            row.show(view, row.index == self.selected, now, self.room, self.t)

    # -- selection ------------------------------------------------------------------------
    def select(self, index: int) -> None:
        if 0 <= index < len(self.room.channels):
            self.selected = index
            self.refresh_view()
            rows = list(self.query(ChannelRow))
            if rows:
                self.scroll_to_widget(rows[index], animate=False)

    def action_scroll_up(self) -> None:  # the arrow keys of a focused region move the selection
        self.select(self.selected - 1)

    def action_scroll_down(self) -> None:
        self.select(self.selected + 1)

    @property
    def selected_channel(self) -> str | None:
        channels = self.room.channels
        return channels[self.selected].id if 0 <= self.selected < len(channels) else None

    # -- declaring ------------------------------------------------------------------------
    def open_declare(self) -> None:
        from liveguard.ui.screens.status_declare import DeclareScreen

        channel = self.selected_channel
        if channel is None:
            self.app.notify(self.t("status.no_channel_selected"), severity="warning")
            return
        status = self.room.status.book.status(channel)

        async def done(result: tuple[Mark, str] | None) -> None:
            if result is not None:
                await self.declare(channel, *result)

        self.app.push_screen(DeclareScreen(status, self.t), done)

    async def declare(self, channel: str, mark: Mark, reason: str) -> None:
        try:  # the write runs in a worker thread
            status = await self.room.status.declare_soon(channel, mark, reason)
        except Exception as exc:  # a lock held too long, a full disk: say so, change nothing
            self.app.notify(self.t("status.declare_failed", error=str(exc)), severity="error")
            return
        # its StatusChanged is still on the way: the seller needs no bell for their own news
        self._own[channel] = status.declaration
        state = self.t(f"status.state_{status.state.value}").upper()
        self.app.notify(self.t("status.declared_notice", name=status.name, state=state))

    # -- incidents ------------------------------------------------------------------------
    def incident(self, change: Change) -> None:
        """A status change as it happens: a live channel going DOWN rings the bell once and
        says which key starts Plan B; coming back up says how long it was down."""
        after = change.after
        own = (
            after.source is Source.DECLARED
            and after.declaration is not None
            and after.declaration == self._own.get(after.channel)
        )
        if change.opened is not None and after.live and not own:
            self.app.bell()
            self.app.notify(
                self.t("status.bell_message", name=after.name, reason=after.reason or "-")
                + "\n"
                + self.t("status.banner_hint", plan_key=plan_b_key(getattr(self.app, "keys", {}))),
                title=self.t("status.bell_title"),
                severity="error",
                timeout=30,
            )
        elif change.closed is not None and after.live:
            duration = format_duration(change.closed.duration(self.room.now()), self.t.lang)
            self.app.notify(
                self.t("status.back_up_message", name=after.name, duration=duration),
                title=self.t("status.back_up_title"),
            )


class DownBanner(Static):
    """Across the top while a live channel is DOWN; hidden otherwise."""

    AREA = "status"

    def __init__(self, room: ControlRoom, t: Catalog) -> None:
        super().__init__(id="down-banner")
        self.room = room
        self.t = t
        self._shown = ""

    def on_mount(self) -> None:
        self.refresh_view()
        self.set_interval(REFRESH_S, self.refresh_view)

    def refresh_view(self) -> None:
        t = self.t
        down = [s for s in self.room.status.statuses() if s.live and s.state is State.DOWN]
        self.display = bool(down)
        if not down:
            return
        first = min(down, key=lambda s: s.since or self.room.now())
        now = self.room.now()
        since = first.since or now
        text = t(
            "status.banner",
            name=first.name,
            clock=format_clock(since, self.room.zone),
            ago=format_duration(now - since, t.lang),
            reason=first.reason or t(f"status.source_{first.source.value}"),
        )
        if len(down) > 1:
            text += " " + t("status.banner_more", count=len(down) - 1)
        shown = Content.assemble((f"⚠ {text}", "bold"), f"  ·  {self._plan_b_hint()}")
        if shown.markup != self._shown:  # a layout pass only when the words changed
            self._shown = shown.markup
            self.update(shown)

    def _plan_b_hint(self) -> str:
        """What the Plan B key does now, so the banner never invites a press that stops it."""
        key = plan_b_key(getattr(self.app, "keys", {}))
        sw = self.room.planb.switch()
        if sw.phase in ("pending", "pending_off"):
            return self.t(f"status.banner_hint_{sw.phase}", plan_key=key)
        if sw.phase in ("activating", "active", "deactivating"):
            since = format_clock(sw.activated_at or self.room.now(), self.room.zone)
            return self.t(f"status.banner_hint_{sw.phase}", plan_key=key, clock=since)
        return self.t("status.banner_hint", plan_key=key)
