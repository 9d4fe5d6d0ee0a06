"""Plan B region: the armed promotion, its state and countdown, each action's live status,
the message, links, checklist and the impact on sales. Every state is spelled out in words.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.content import Content
from textual.widgets import Static

from liveguard.core.money import format_rupiah
from liveguard.core.promotion import Switch
from liveguard.core.readiness import Readiness
from liveguard.core.timekeeping import format_clock, format_duration
from liveguard.service.planb import ActionView, PlanBView, TransitionError
from liveguard.service.readiness import describe

from ..content import fill, plain, styled
from ..screens.live_back import LiveBackPrompt
from .base import Region

EMPTY = Content("")
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


# A countdown that ends without running is said, never only seen in the audit log.
_SAID_ON_CANCEL = {
    ("pending", "idle"): "planb.cancelled",
    ("pending_off", "activating"): "planb.kept",
}


class PlanBRegion(Region):
    AREA = "planb"
    TITLE_KEY = "region.planb"
    _shown: PlanBView | None = None  # what the body shows now

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="planb-body")

    def on_mount(self) -> None:
        self._copied: set[str] = set(self._done_messages(self.room.planb.view()))
        self._asked: set[str] = set()  # activations asked "live is back: stop?" already
        self._reminded: set[str] = set()
        super().on_mount()
        self.set_interval(REFRESH_S, self.refresh_view)

    # -- keys (called by the app's actions from the table) ---------------------------------
    # Each key is one durable write, made in a worker thread: the screen never waits on the
    # disk. The change comes back as a PlanBChanged event, which redraws the region.
    async def press(self) -> None:
        await self._guard(lambda: self.room.planb.press(by="key"))

    async def cancel_countdown(self) -> bool:
        """Esc: cancel a countdown if there is one; False when there was nothing to cancel."""
        if self.room.planb.view().countdown_s is None:
            return False
        await self._guard(lambda: self.room.planb.cancel(by="Esc"))
        return True

    def copy_message(self) -> None:
        view = self.room.planb.view()
        if not view.messages:
            self.app.notify(self.t("planb.nothing_to_copy"), severity="warning")
            return
        self._copy(view, "\n\n".join(view.messages))

    async def _guard(self, act: Callable[[], Switch]) -> None:
        before = self.room.planb.switch().phase
        try:
            after = (await asyncio.to_thread(act)).phase
        except TransitionError as exc:
            self.app.notify(self.t(exc.key, **exc.params), severity="warning")
        except Exception as exc:  # a full disk, a lock held too long: nothing changed
            self.app.notify(str(exc), severity="error", markup=False)
        else:
            said = {
                ("pending", "idle"): "planb.cancelled",
                ("pending_off", "activating"): "planb.kept",
            }
            if (before, after) in said:
                name = self.room.planb.view().promotion_name
                self.app.notify(self.t(said[(before, after)], name=name), severity="warning")

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
        if view != self._shown:  # drawn again only when it changed (the timer calls each 0.5 s)
            self._shown = view
            bodies.first(Static).update(self.render_text(view))
            self.set_class(view.state in ("pending", "activating", "deactivating"), "-busy")
            self.set_class(view.state == "active", "-active")
        self._consider_ending(view)  # live back and planned ends move with the clock

    def _consider_ending(self, view: PlanBView) -> None:
        """Ask once per activation when live is back; remind once before a planned end."""
        verdict = self.room.planb_ending()
        aid = view.activation_id
        if verdict == "ask" and aid not in self._asked:
            self._asked.add(aid)
            self.app.push_screen(
                LiveBackPrompt(self.t, self._live_back_question(view)), self._answer
            )
        elif verdict == "remind" and aid not in self._reminded:
            self._reminded.add(aid)
            end = self.room.planb.planned_end()
            if end is not None:
                left = format_duration(end - self.room.now(), self.t.lang)
                clock = format_clock(end, self.room.zone)
                self.app.notify(self.t("planb.remind", clock=clock, left=left), timeout=15)

    def _live_back_question(self, view: PlanBView) -> str:
        sw = self.room.planb.switch()
        channel = self.room.config.channel(sw.channel)
        since = self.room.live_up_since(sw.channel) or self.room.now()
        return self.t(
            "planb.live_back.question",
            channel=channel.name if channel else sw.channel,
            clock=format_clock(since, self.room.zone),
            name=view.promotion_name,
        )

    async def _answer(self, stop: bool | None) -> None:
        sw = self.room.planb.switch()
        channel = self.room.config.channel(sw.channel)
        name = channel.name if channel else sw.channel
        if stop:
            await self._guard(lambda: self.room.planb.stop(by="live returned (asked)"))
            self.app.notify(self.t("planb.live_back.stopped", channel=name))
        else:
            await asyncio.to_thread(self.room.planb.keep)  # an audit write
            self.app.notify(self.t("planb.live_back.kept"))
        self.refresh_view()

    def _readiness_line(self, ready: Readiness) -> Content:
        t = self.t
        if ready.ready:
            ago = format_duration(self.room.now() - ready.checked_at, t.lang)
            return fill(
                t.messages.get("readiness.line_ready", "{state} {checked}"),
                state=styled(t("readiness.ready"), "bold $success"),
                checked=t("readiness.checked", ago=ago),
            )
        first = describe(ready.problems[0], t)
        more = len(ready.problems) - 1
        problem = first + (" " + t("readiness.more", count=more) if more else "")
        return fill(
            t.messages.get("readiness.line_not_ready", "{state}: {problem}"),
            state=styled(t("readiness.not_ready"), "bold $error"),
            problem=problem,
        )

    def render_text(self, view: PlanBView) -> Content:
        t = self.t
        keys: dict[str, str] = getattr(self.app, "keys", {})
        key = first_key(keys, "planb", "b")
        arm = first_key(keys, "planb_arm", "a")
        lines: list[Content] = []
        if view.promotion_count == 0:
            return plain(t("planb.no_promotions", path=self.room.config.path or "liveguard.toml"))
        if not view.promotion_name:
            return plain(t("planb.none_armed", arm=arm))
        state_key = "pending_off" if view.phase == "pending_off" else view.state
        state = t(f"planb.state_{state_key}")
        style = _STATE_STYLE.get(view.state, "$text")
        lines.append(
            fill(
                t.messages.get("planb.headline", "{state} · {name}"),
                state=styled(state, f"bold {style}"),
                name=styled(view.promotion_name, "bold"),
            )
        )
        if view.countdown_s is not None:
            which = "planb.countdown_off" if view.phase == "pending_off" else "planb.countdown"
            lines.append(styled(t(which, seconds=view.countdown_s, button=key), "bold $warning"))
        elif view.state == "armed":
            grace = self.room.planb.promotion()
            seconds = int(grace.grace.total_seconds()) if grace else 0
            lines.append(styled(t("planb.hint_armed", button=key, grace=seconds, arm=arm), "dim"))
        elif view.state in ("active", "activating"):
            lines.append(styled(t("planb.hint_active", button=key), "dim"))
        ready = self.room.readiness.last
        if ready is not None and ready.promotion == view.promotion_id:
            lines.append(self._readiness_line(ready))
        if view.activated_at is not None and view.state != "armed":
            lines.append(
                plain(
                    t("planb.active_since", clock=format_clock(view.activated_at, self.room.zone))
                )
            )
            ends = self.room.planb.planned_end() if view.state == "active" else None
            if ends is not None:
                lines.append(plain(t("planb.ends_line", clock=format_clock(ends, self.room.zone))))
        if view.reason and view.state != "armed":
            lines.append(plain(t("planb.reason", reason=view.reason)))
        lines += [EMPTY, styled(t("planb.actions_title"), "bold")]
        lines += [self._action_line(a) for a in view.actions]
        if view.messages:
            lines += [EMPTY, styled(t("planb.message_title"), "bold")]
            lines += [plain(m) for m in view.messages]
        if view.links:
            lines += [EMPTY, styled(t("planb.links_title"), "bold")]
            lines += [styled(link, "underline") for link in view.links]
        if view.checklist:
            tick_key = first_key(keys, "planb_checklist", "k")
            lines += [EMPTY, styled(t("planb.checklist_title", button=tick_key), "bold")]
            lines += [plain(f"{'[x]' if done else '[ ]'} {s}") for s, done in view.checklist]
        if view.activated_at is not None:
            if view.state == "armed" and view.deactivated_at is not None:
                zone = self.room.zone
                start = format_clock(view.activated_at, zone)
                end = format_clock(view.deactivated_at, zone)
                lines += [EMPTY, styled(t("planb.impact_last_title", start=start, end=end), "bold")]
            else:
                lines += [EMPTY, styled(t("planb.impact_title"), "bold")]
            if view.impact is None:
                lines.append(plain(t("planb.impact_none")))
            else:
                lines += [
                    plain(
                        t(
                            "planb.impact_row",
                            channel=self._channel_name(r.channel),
                            now=format_rupiah(r.since_activation),
                            before=format_rupiah(r.same_window_yesterday),
                        )
                    )
                    for r in view.impact
                ]
        return Content("\n").join(lines)

    def _channel_name(self, channel_id: str) -> str:
        channel = self.room.config.channel(channel_id)
        return channel.name if channel else channel_id

    def _action_line(self, a: ActionView) -> Content:
        t = self.t
        if a.name or a.kind in ("webhook", "link"):
            label = a.name or a.label
        else:
            label = t("planb.message_title" if a.kind == "message" else "planb.checklist.title")
        if a.step == "undo":
            label = f"{t('planb.undo')}: {label}"
        if a.status == "retrying":
            status = t("planb.status_retrying", seconds=a.retry_in_s or 0, reason=a.error)
        elif a.status == "failed":
            status = t("planb.status_failed", reason=a.error)
        else:
            status = t(f"planb.status_{a.status}")
        style = _STATUS_STYLE.get(a.status, "$text-muted")
        line = Content.assemble(f"{a.index + 1}. {label} · ", (status, style))
        if a.kind in ("message", "link") and a.error and a.status == "done":
            line = Content.assemble(line, " ", (f"({a.error})", "dim"))
        return line
