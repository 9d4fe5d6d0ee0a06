"""Plan B region: the armed promotion, its state and countdown, each action's live status,
the message, links, checklist and the impact on sales. Every state is spelled out in words.
"""

from __future__ import annotations

from rich.markup import escape
from textual.widgets import Static

from liveguard.core.money import format_rupiah
from liveguard.core.timekeeping import format_clock
from liveguard.service.planb import ActionView, PlanBView, TransitionError

from .base import Region

REFRESH_S = 0.5  # the countdown and "retrying in N s" move with the clock
_STATUS_STYLE = {
    "delivered": "$success",
    "done": "$success",
    "failed": "$error",
    "retrying": "$warning",
    "sending": "$accent",
    "cancelled": "$text-muted",
}
_STATE_STYLE = {
    "armed": "$primary",
    "pending": "$warning",
    "activating": "$warning",
    "active": "$success",
    "deactivating": "$warning",
}


def first_key(keys: dict[str, str], action: str, default: str) -> str:
    return keys.get(action, default).split(",")[0].strip()


class PlanBRegion(Region):
    AREA = "planb"
    TITLE_KEY = "region.planb"
    _shown: PlanBView | None = None  # what the body shows now

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="planb-body")

    def on_mount(self) -> None:
        self._copied: set[str] = set(self._done_messages(self.room.planb.view()))
        super().on_mount()
        self.set_interval(REFRESH_S, self.refresh_view)

    # -- keys (called by the app's actions from the table) ---------------------------------
    def press(self) -> None:
        self._guard(lambda: self.room.planb.press())

    def cancel_countdown(self) -> bool:
        """Esc: cancel a countdown if there is one; False when there was nothing to cancel."""
        if self.room.planb.view().countdown_s is None:
            return False
        self._guard(lambda: self.room.planb.cancel())
        return True

    def copy_message(self) -> None:
        view = self.room.planb.view()
        if not view.messages:
            self.app.notify(self.t("planb.nothing_to_copy"), severity="warning")
            return
        self._copy(view, "\n\n".join(view.messages))

    def _guard(self, act) -> None:  # type: ignore[no-untyped-def]
        try:
            act()
        except TransitionError as exc:
            self.app.notify(self.t(exc.key, **exc.params), severity="warning")
        self.refresh_view()

    def _copy(self, view: PlanBView, text: str) -> None:
        self.app.copy_to_clipboard(text)  # OSC 52: many terminals, not all; hence the toast
        path = next((a.detail for a in view.actions if a.kind == "message"), "")
        self.app.notify(self.t("planb.copied", path=path), title=self.t("planb.copied_title"))

    @staticmethod
    def _done_messages(view: PlanBView) -> list[str]:
        return [
            f"{view.activation_id}:{a.index}:{a.step}"
            for a in view.actions
            if a.kind == "message" and a.status == "done"
        ]

    # -- drawing ---------------------------------------------------------------------------
    def refresh_view(self) -> None:
        bodies = self.query("#planb-body")
        if not bodies:
            return  # not composed yet (a room change can arrive first)
        view = self.room.planb.view()
        fresh = [k for k in self._done_messages(view) if k not in self._copied]
        if fresh:
            self._copied.update(fresh)
            self._copy(view, "\n\n".join(view.messages))
        if view == self._shown:
            return  # nothing shown changed (the timer calls every 0.5 s)
        self._shown = view
        bodies.first(Static).update(self.render_text(view))
        self.set_class(view.state in ("pending", "activating", "deactivating"), "-busy")
        self.set_class(view.state == "active", "-active")

    def render_text(self, view: PlanBView) -> str:
        t = self.t
        keys: dict[str, str] = getattr(self.app, "keys", {})
        key = first_key(keys, "planb", "b")
        arm = first_key(keys, "planb_arm", "a")
        lines: list[str] = []
        if view.promotion_count == 0:
            return t("planb.no_promotions", path=escape(self.room.config.path or "liveguard.toml"))
        if not view.promotion_name:
            return "\n".join([*lines, t("planb.none_armed", arm=arm)])
        state_key = "pending_off" if view.phase == "pending_off" else view.state
        state = t(f"planb.state_{state_key}")
        style = _STATE_STYLE.get(view.state, "$text")
        lines.append(
            t(
                "planb.headline",
                state=f"[b {style}]{state}[/]",
                name=f"[b]{escape(view.promotion_name)}[/b]",
            )
        )
        if view.countdown_s is not None:
            which = "planb.countdown_off" if view.phase == "pending_off" else "planb.countdown"
            lines.append(f"[b $warning]{t(which, seconds=view.countdown_s, button=key)}[/]")
        elif view.state == "armed":
            grace = self.room.planb.promotion()
            seconds = int(grace.grace.total_seconds()) if grace else 0
            lines.append(f"[dim]{t('planb.hint_armed', button=key, grace=seconds, arm=arm)}[/dim]")
        elif view.state in ("active", "activating"):
            lines.append(f"[dim]{t('planb.hint_active', button=key)}[/dim]")
        if view.activated_at is not None and view.state != "armed":
            lines.append(
                t("planb.active_since", clock=format_clock(view.activated_at, self.room.zone))
            )
        if view.reason and view.state != "armed":
            lines.append(t("planb.reason", reason=escape(view.reason)))
        lines += ["", f"[b]{t('planb.actions_title')}[/b]"]
        lines += [self._action_line(a) for a in view.actions]
        if view.messages:
            lines += ["", f"[b]{t('planb.message_title')}[/b]"]
            lines += [escape(m) for m in view.messages]
        if view.links:
            lines += ["", f"[b]{t('planb.links_title')}[/b]"]
            lines += [f"[u]{escape(link)}[/u]" for link in view.links]
        if view.checklist:
            tick_key = first_key(keys, "planb_checklist", "k")
            lines += ["", f"[b]{t('planb.checklist_title', button=tick_key)}[/b]"]
            lines += [
                f"{escape('[x]' if done else '[ ]')} {escape(s)}" for s, done in view.checklist
            ]
        if view.activated_at is not None:
            if view.state == "armed" and view.deactivated_at is not None:
                zone = self.room.zone
                start = format_clock(view.activated_at, zone)
                end = format_clock(view.deactivated_at, zone)
                lines += ["", f"[b]{t('planb.impact_last_title', start=start, end=end)}[/b]"]
            else:
                lines += ["", f"[b]{t('planb.impact_title')}[/b]"]
            if view.impact is None:
                lines.append(t("planb.impact_none"))
            else:
                lines += [
                    t(
                        "planb.impact_row",
                        channel=escape(self._channel_name(r.channel)),
                        now=format_rupiah(r.since_activation),
                        before=format_rupiah(r.same_window_yesterday),
                    )
                    for r in view.impact
                ]
        return "\n".join(lines)

    def _channel_name(self, channel_id: str) -> str:
        channel = self.room.config.channel(channel_id)
        return channel.name if channel else channel_id

    def _action_line(self, a: ActionView) -> str:
        t = self.t
        if a.name or a.kind in ("webhook", "link"):
            label = escape(a.name or a.label)
        else:
            label = t("planb.message_title" if a.kind == "message" else "planb.checklist.title")
        if a.step == "undo":
            label = f"{t('planb.undo')}: {label}"
        if a.status == "retrying":
            status = t("planb.status_retrying", seconds=a.retry_in_s or 0, reason=escape(a.error))
        elif a.status == "failed":
            status = t("planb.status_failed", reason=escape(a.error))
        else:
            status = t(f"planb.status_{a.status}")
        style = _STATUS_STYLE.get(a.status, "$text-muted")
        line = f"{a.index + 1}. {label} · [{style}]{status}[/]"
        if a.kind in ("message", "link") and a.error and a.status == "done":
            line += f" [dim]({escape(a.error)})[/dim]"
        return line
