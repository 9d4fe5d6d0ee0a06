"""Plan B for the control room and the command line: the switch, its outbox, its record.

Every change is written (``PromotionStore.update``) before the side effect it announces,
then the action runs, then its result is written and audited. ``drain`` runs the switch to
rest for the CLI and tests; ``run`` is the control room's background loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from liveguard.adapters.audit_journal import copy_journal
from liveguard.adapters.audit_log import AuditLog
from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.promotion_store import (
    KEEP_JOURNAL,
    PROMOTIONS_FILE,
    OutboxLease,
    PlanBState,
    PromotionStore,
)
from liveguard.adapters.state_home import StateError, StateHome, current_actor
from liveguard.adapters.webhook_sender import SendResult, WebhookSender
from liveguard.core.config import Action, Config, Promotion
from liveguard.core.ending import Verdict, planned_end, verdict
from liveguard.core.promotion import (
    OutboxEntry,
    Switch,
    TemplateValues,
    TransitionError,
    action_for,
    arm,
    cancel,
    entries_for,
    expire,
    press,
    public_state,
    settle,
)
from liveguard.core.text import clean_line
from liveguard.core.timekeeping import Clock, SystemClock, format_clock, load_zone

from .events import PlanBChanged, Publisher, supervise
from .planb_actions import ActionRunner, Opener, open_in_browser
from .planb_view import (
    ActionView,
    ImpactRow,
    PlanBView,
    build_view,
    describe_entry,
    orders_impact,
    preview,
)

__all__ = [
    "ActionView",
    "ImpactRow",
    "PlanBService",
    "PlanBView",
    "TransitionError",
    "describe_entry",
    "open_in_browser",
    "orders_impact",
]

log = logging.getLogger("liveguard")

AUDIT_SOURCE = "planb"  # this journal's name in the audit log's copy marks
LOOP_IDLE_S = 0.5  # how often the control room loop looks at the switch when nothing is due
# Pauses after a failed round (a full disk, a lock held too long); a key press cuts one short.
LOOP_BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)

Sleep = Callable[[float], Awaitable[Any]]


class PlanBService:
    def __init__(
        self,
        config: Config,
        home: StateHome,
        *,
        clock: Clock | None = None,
        sender: WebhookSender | None = None,
        environ: Mapping[str, str] | None = None,
        sleep: Sleep | None = None,
        jitter: Callable[[], float] = random.random,
        token: Callable[[], str] = lambda: secrets.token_hex(3),
        opener: Opener | None = open_in_browser,
        impact: Callable[[datetime, datetime], Sequence[ImpactRow] | None] | None = None,
        actor: str | None = None,
        events: Publisher | None = None,
    ) -> None:
        self.config = config
        self.events = events or Publisher()
        self.home = home
        self.clock = clock or home.clock or SystemClock()
        self.store = PromotionStore(home)
        self.audit = AuditLog(home, actor=actor)
        self.actor = actor or current_actor()
        self.environ = environ if environ is not None else os.environ
        self.sleep: Sleep = sleep or asyncio.sleep
        self.jitter = jitter
        self.token = token
        self.opener = opener
        self.impact_source = impact
        self.zone: tzinfo = _zone(config.timezone)
        self.lease = OutboxLease(home)
        self.runner = ActionRunner(self.clock, self.environ, sender, opener, jitter)
        self.runner.use_env_proxy = config.network.use_env_proxy
        self._inflight: set[str] = set()
        # True until the journal has been copied to the audit log by this process: at start
        # (a crash may have left records) and after every change.
        self._journal_dirty = True
        self.down: tuple[tuple[str, str, datetime], ...] = ()  # live channels DOWN, for the banner
        self.wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop ``run`` waits on
        self._loop_thread = 0
        self.kept: set[str] = set()  # activations the seller chose to keep after live returned

    # -- reading ---------------------------------------------------------------------------
    def state(self) -> PlanBState:
        return self.store.load()

    def switch(self, state: PlanBState | None = None) -> Switch:
        stored = (state or self.state()).switch
        if stored is not None and self.config.promotion(stored.promotion) is not None:
            return stored
        if stored is not None and stored.phase != "idle":
            return stored  # engaged promotion left the config: still finish what it started
        armed = self.config.armed_promotion
        return Switch(promotion=armed.id if armed else "")

    def promotion(self, switch: Switch | None = None) -> Promotion | None:
        return self.config.promotion((switch or self.switch()).promotion)

    def listing(self) -> list[dict[str, Any]]:
        sw = self.switch()
        return [
            {
                "id": p.id,
                "name": p.name,
                "armed": sw.promotion == p.id,
                "state": public_state(sw, p.id),
                "actions": len(p.actions),
            }
            for p in self.config.promotions
        ]

    def values(self, switch: Switch) -> TemplateValues:
        at = switch.activated_at or switch.since or self.clock.now()
        return TemplateValues(
            promotion=switch.promotion,
            reason=switch.reason,
            channel=switch.channel,
            activated_at=at.astimezone(self.zone).isoformat(timespec="seconds"),
            activation_id=switch.activation_id,
        )

    def message_path(self, promotion: Promotion, index: int, action: Action) -> Path:
        name = action.file or f"planb-{promotion.id}-message-{index + 1}.txt"
        path = Path(name).expanduser()
        return path if path.is_absolute() else self.home.paths.logs / path

    # -- the key ---------------------------------------------------------------------------
    def press(
        self, *, reason: str = "", channel: str = "", skip_grace: bool = False, by: str = "key"
    ) -> Switch:
        """The Plan B key. Raises TransitionError (with a catalogue key) when it cannot act.
        A press during a countdown cancels it; the audit log says so ("cancelled by key")."""
        now = self.clock.now()
        token = self.token()
        if self.switch().phase in ("pending", "pending_off"):
            return self.cancel(by=by)

        def change(sw: Switch) -> Switch:
            promo = self.promotion(sw)
            if promo is None:
                raise TransitionError("planb.error.none_armed")
            return press(
                sw,
                promo,
                now,
                token=token,
                actor=self.actor,
                reason=clean_line(reason),
                channel=channel,
                skip_grace=skip_grace,
            )

        return self._transition(change, "press")

    def activate(
        self,
        promotion_id: str | None = None,
        *,
        reason: str = "",
        channel: str = "",
        skip_grace: bool = False,
    ) -> Switch:
        """Start a promotion (the armed one by default) from rest; never a toggle."""
        sw = self.switch()
        if sw.phase != "idle":
            raise TransitionError("planb.error.busy", state=public_state(sw, sw.promotion))
        if promotion_id and promotion_id != sw.promotion:
            self.arm(promotion_id)
        return self.press(reason=reason, channel=channel, skip_grace=skip_grace)

    def cancel(self, *, by: str = "Esc") -> Switch:
        """Cancel a countdown; ``by`` (key, Esc, Ctrl-C, timeout…) goes into the audit log."""
        now = self.clock.now()
        return self._transition(lambda sw: cancel(sw, now), f"cancelled by {by}")

    def deactivate(self, *, skip_grace: bool = False) -> Switch:
        sw = self.switch()
        if sw.phase not in ("activating", "active"):
            raise TransitionError("planb.error.not_active")
        return self.press(skip_grace=skip_grace)

    def arm(self, promotion_id: str) -> Switch:
        if self.config.promotion(promotion_id) is None:
            raise TransitionError("planb.error.unknown", promotion=promotion_id)
        now = self.clock.now()
        return self._transition(lambda sw: arm(sw, promotion_id, now, self.actor), "arm")

    def toggle_tick(self, step: int) -> bool:
        """Tick or untick a checklist step of the current activation; returns the new tick."""
        sw = self.switch()
        key = sw.activation_id or "-"
        ticked = False

        def change(state: PlanBState) -> PlanBState:
            nonlocal ticked
            steps = set(state.ticks.get(key, ()))
            ticked = step not in steps
            steps.symmetric_difference_update({step})
            detail = {
                "promotion": sw.promotion,
                "activation_id": sw.activation_id,
                "step": step,
                "ticked": ticked,
            }
            changed = replace(state, ticks={**state.ticks, key: tuple(sorted(steps))})
            return changed.noting(self._record("planb.tick", detail))

        self._commit(change)
        return ticked

    def _record(self, kind: str, detail: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        return {
            "id": f"{now.strftime('%Y%m%dT%H%M%S.%fZ')}-{secrets.token_hex(4)}",
            "at": now.isoformat(),
            "actor": self.actor,
            "kind": kind,
            "detail": detail,
        }

    def _commit(self, change: Callable[[PlanBState], PlanBState]) -> PlanBState:
        """Write a change and its audit records in ONE atomic write: that is the moment it is
        durably recorded. Copying the records to the audit log happens off the key press
        path, in the next ``step`` (or ``log``), or at once when many are waiting."""

        wrote = False
        noted: list[dict[str, Any]] = []

        def apply(state: PlanBState) -> PlanBState:
            nonlocal wrote
            changed = change(state)
            wrote = changed != state
            noted[:] = [r for r in changed.journal if r not in state.journal] if wrote else []
            return changed

        state = self.store.update(apply)
        if not wrote:
            return state
        self._journal_dirty = True
        if len(state.journal) > KEEP_JOURNAL:
            self._copy_journal_soon()
        self._wake_loop()
        self._publish(noted)
        return state

    def _publish(self, records: Sequence[dict[str, Any]]) -> None:
        """One ``PlanBChanged`` per audit record a commit carried (or one plain one)."""
        for record in records:
            detail = record.get("detail")
            self.events.publish(
                PlanBChanged(str(record["kind"]), dict(detail) if isinstance(detail, dict) else {})
            )
        if not records:
            self.events.publish(PlanBChanged())

    def _wake_loop(self) -> None:
        """Wake ``run`` now: something changed (from any thread; asyncio.Event is not safe)."""
        loop = self._loop
        if loop is not None and loop.is_running() and self._loop_thread != threading.get_ident():
            loop.call_soon_threadsafe(self.wake.set)
        else:
            self.wake.set()

    def _copy_journal_soon(self) -> None:
        """Copy a long journal now; when that fails (full disk) the records stay where they
        are and the next ``step`` tries again, so nothing is lost either way."""
        try:
            self.flush_journal()
        except StateError:
            log.warning("plan b: audit copy failed; the journal keeps the records", exc_info=True)

    def flush_journal(self) -> None:
        """Copy the journal's records into the audit log, exactly once each, and trim it."""
        if not self._journal_dirty:
            return
        self._journal_dirty = False  # a change made meanwhile sets it again
        try:
            copy_journal(self.home, PROMOTIONS_FILE, "promotions", AUDIT_SOURCE, self.audit)
        except BaseException:
            self._journal_dirty = True
            raise

    def _transition(self, change: Callable[[Switch], Switch], why: str) -> Switch:
        now = self.clock.now()
        moved: tuple[Switch, Switch] | None = None

        def apply(state: PlanBState) -> PlanBState:
            nonlocal moved
            before = self.switch(state)
            after = change(before)
            if after == before:
                return state
            moved = (before, after)
            changed = replace(
                state, switch=after, entries=self._entries_after(state, before, after, now)
            )
            return changed.noting(self._transition_record(before, after, why))

        state = self._commit(apply)
        if moved is not None:
            self._wake_loop()
        return self.switch(state)

    def _entries_after(
        self, state: PlanBState, before: Switch, after: Switch, now: datetime
    ) -> tuple[OutboxEntry, ...]:
        entries = state.entries
        promo = self.promotion(after)
        if promo is None:
            return entries
        known = {e.key for e in entries}
        if after.phase == "activating" and before.phase in ("idle", "pending"):
            entries += tuple(
                e for e in entries_for(promo, after.activation_id, "do") if e.key not in known
            )
        if after.phase == "deactivating" and before.phase != "deactivating":
            entries = tuple(
                replace(e, status="cancelled", error="deactivated before it was sent")
                if e.activation_id == after.activation_id
                and e.step == "do"
                and e.status in ("waiting", "retrying")
                else e
                for e in entries
            )
            entries += tuple(
                e for e in entries_for(promo, after.activation_id, "undo") if e.key not in known
            )
        return entries

    def _transition_record(self, before: Switch, after: Switch, why: str) -> dict[str, Any]:
        return self._record(
            "planb.transition",
            {
                "promotion": after.promotion,
                "activation_id": after.activation_id,
                "from": public_state(before, before.promotion) if before.promotion else "none",
                "previous": before.promotion,
                "from_phase": before.phase,
                "to": public_state(after, after.promotion),
                "phase": after.phase,
                "by": why,
                "reason": after.reason,
                "channel": after.channel,
            },
        )

    # -- time passing and the outbox -------------------------------------------------------
    def advance(self) -> Switch:
        """End a grace countdown that is over; settle activating/deactivating when done."""
        now = self.clock.now()
        self._transition(lambda sw: expire(sw, now), "grace over")
        state = self.state()
        return self._transition(lambda sw: settle(sw, state.entries, now), "settled")

    def due_entries(self) -> list[OutboxEntry]:
        now = self.clock.now()
        return [e for e in self.state().entries if e.due(now) and e.key not in self._inflight]

    def next_wakeup(self) -> float | None:
        """Seconds until something is due (0 when now), None when the switch is at rest."""
        now = self.clock.now()
        sw = self.switch()
        times: list[float] = []
        if sw.due is not None and sw.phase in ("pending", "pending_off"):
            times.append((sw.due - now).total_seconds())
        for e in self.state().entries:
            if e.status in ("waiting", "sending"):
                times.append(0.0)
            elif e.status == "retrying":
                times.append(((e.next_at or now) - now).total_seconds())
        if sw.phase in ("activating", "deactivating"):
            times.append(0.0 if not times else min(times))
        return max(0.0, min(times)) if times else None

    async def step(self) -> int:
        """One pass: advance the switch and send what is due. Returns how many actions ran.

        Every write and read of the state file runs in a worker thread, never on the loop
        (the lease stays on the loop's thread: a file lock belongs to the thread holding it)."""
        await asyncio.to_thread(self.advance)
        if not self.lease.try_acquire():
            await asyncio.to_thread(self.flush_journal)
            return 0  # another liveguard on this home sends; it will see our changes
        due = await asyncio.to_thread(self.due_entries)
        if due:
            claimed = await asyncio.to_thread(self._claim, due)
            await asyncio.gather(*(self._perform(e) for e in claimed))
            await asyncio.to_thread(self.advance)
        # the audit copy waits until the actions are on their way
        await asyncio.to_thread(self.flush_journal)
        return len(due)

    async def drain(
        self, *, on_step: Callable[[], None] | None = None, max_wait_s: float | None = None
    ) -> Switch:
        """Run until the switch rests (armed or active with every action settled)."""
        waited = 0.0
        while True:
            await self.step()
            if on_step is not None:
                on_step()
            if not self.lease.held:
                return self.switch()
            wait = self.next_wakeup()
            if wait is None:
                return self.switch()
            if max_wait_s is not None and waited + wait > max_wait_s:
                return self.switch()
            if wait > 0:
                await self.sleep(wait)
                waited += wait

    async def run(
        self,
        stop: asyncio.Event,
        outages: Callable[[], Sequence[tuple[str, str, datetime]]] | None = None,
        live_up: Callable[[str], datetime | None] | None = None,
    ) -> None:
        """The control room's loop: wakes on a key press or when something falls due, until
        ``stop`` is set. ``outages`` gives the live channels that are DOWN (status service);
        ``live_up`` when a channel came back up (None while it is not up).
        A round that fails (a full disk, a lock held too long) is reported once and tried
        again after a pause, so Plan B goes on by itself once the write can succeed."""
        self._loop, self._loop_thread = asyncio.get_running_loop(), threading.get_ident()
        self.runner.sender()  # build the HTTP client now, not when the first webhook is due

        async def one_round() -> None:
            await self._round(outages, live_up)

        async def pause(seconds: float) -> None:  # after a failed round
            if not stop.is_set():
                self.wake.clear()  # a change the failed round made itself must not cut it short
            await self._nap(seconds)

        await supervise(
            "Plan B",
            one_round,
            self.events,
            every=0,
            backoff=LOOP_BACKOFF_S,
            sleep=pause,
            stop=stop,
        )

    async def _round(
        self,
        outages: Callable[[], Sequence[tuple[str, str, datetime]]] | None,
        live_up: Callable[[str], datetime | None] | None,
    ) -> None:
        self.wake.clear()
        if outages is not None:
            down = tuple(outages())
            if down != self.down:
                self.down = down
                self.events.publish(PlanBChanged())  # the banner in the region moved
            await asyncio.to_thread(self.consider_outage, down)
        if live_up is not None:
            # read on the loop (the status book lives there), decided and written off it
            up_since = {c.id: live_up(c.id) for c in self.config.channels}
            await asyncio.to_thread(self.consider_ending, up_since.get)
        await self.step()
        wait = await asyncio.to_thread(self.next_wakeup)
        if wait is None:
            wait = LOOP_IDLE_S
        elif wait > 0:  # a countdown or a retry: wake right when it falls due
            wait = min(wait + 0.001, LOOP_IDLE_S)
        else:  # due now but not ours to send (another process holds the outbox)
            wait = 0.05
        await self._nap(wait)

    async def _nap(self, seconds: float) -> None:
        """Sleep ``seconds`` or until woken (a key press, a change, stopping)."""
        try:
            async with asyncio.timeout(seconds):
                await self.wake.wait()
        except TimeoutError:
            pass

    def _claim(self, due: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        """Mark every due action as being sent (attempt n + 1) in ONE durable write, before
        any of them is sent; an action found already "sending" was cut off by a crash."""
        now = self.clock.now()
        claimed: list[OutboxEntry] = []

        def change(state: PlanBState) -> PlanBState:
            claimed.clear()
            for entry in due:
                current = state.entry(entry.key)
                if current is None or not current.due(now) or current.key in self._inflight:
                    continue
                promo = self.config.promotion(current.promotion)
                action = action_for(promo, current) if promo else None
                if current.status == "sending":
                    cut = SendResult(None, "interrupted (liveguard stopped during the attempt)")
                    state = state.noting(self._attempt_record(current, action, cut, "interrupted"))
                if promo is None or action is None:
                    # removed from the config (or its target changed) since it was queued:
                    # never sent anywhere else; said in the audit log and the room
                    gone = "removed from the config before it was sent"
                    dropped = replace(current, status="cancelled", error=gone)
                    record = self._attempt_record(
                        dropped, None, SendResult(None, gone), "cancelled"
                    )
                    state = state.with_entry(dropped).noting(record)
                    continue
                mine = replace(current, status="sending", attempts=current.attempts + 1)
                state = state.with_entry(mine)
                claimed.append(mine)
            return state

        self._commit(change)
        self._inflight.update(e.key for e in claimed)
        return list(claimed)

    async def _perform(self, claimed: OutboxEntry) -> OutboxEntry:
        """Run one claimed action, then write its result (and its audit record)."""
        try:
            state = await asyncio.to_thread(self.state)
            sw = self.switch(state)
            promo = self.config.promotion(claimed.promotion)
            action = action_for(promo, claimed) if promo else None
            assert promo is not None and action is not None  # checked by _claim
            values = self.values(sw)
            path = self.message_path(promo, claimed.index, action)
            result, final = await self.runner.run(claimed, action, values, path)
            record = self._attempt_record(final, action, result, final.status)
            await asyncio.to_thread(self._commit, lambda s: s.with_entry(final).noting(record))
            return final
        finally:
            self._inflight.discard(claimed.key)

    def _attempt_record(
        self, entry: OutboxEntry, action: Action | None, result: SendResult, outcome: str
    ) -> dict[str, Any]:
        return self._record(
            "planb.attempt",
            {
                "promotion": entry.promotion,
                "activation_id": entry.activation_id,
                "action": entry.index + 1,
                "kind": entry.kind,
                "label": action.label if action else "",
                "step": entry.step,
                "attempt": entry.attempts,
                "key": entry.key,
                "result": outcome,
                "status": result.http_status,
                "error": result.error,
                "duration_ms": result.duration_ms,
                "retry_at": entry.next_at.isoformat() if entry.next_at else None,
            },
        )

    def use_pool(self, pool: HttpPool) -> None:
        """Send webhooks through the room's one shared pool (not closed by ``aclose``)."""
        self.runner.use_pool(pool)

    async def aclose(self) -> None:
        try:
            await asyncio.to_thread(self.flush_journal)  # a full disk: copied on the next start
        finally:
            self.lease.release()
            await self.runner.aclose()

    def log(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The audit log, newest last (with any record still waiting in the journal)."""
        self.flush_journal()
        return self.audit.entries(limit)

    # -- outages ---------------------------------------------------------------------------
    def consider_outage(self, down: Sequence[tuple[str, str, datetime]]) -> Switch | None:
        """Given live channels that are DOWN (id, name, since), activate the armed promotion
        when ``alerts.auto_activate_after`` is set and one has been down that long. Each
        outage fires at most once, so deactivating during it is respected: once the switch has
        moved after an outage began (fired, cancelled, stopped), that outage is settled. The
        switch's time is on disk, so this holds across restarts too."""
        after = self.config.alerts.auto_activate_after
        if after is None or not down:
            return None
        sw = self.switch()
        if sw.phase != "idle" or self.promotion(sw) is None:
            return None
        now = self.clock.now()
        for channel_id, name, since in down:
            settled = sw.since is not None and sw.since >= since
            if settled or now - since < after:
                continue
            reason = f"auto: {name} down since {format_clock(since, self.zone)}"
            return self.press(reason=reason, channel=channel_id)
        return None

    def consider_ending(self, live_up: Callable[[str], datetime | None]) -> Verdict:
        """End an active promotion when it is planned to (``ends_after``/``ends_at``) or when
        the live channel it stood in for has been back long enough and the promotion says
        ``stop``; returns the verdict (``ask``/``remind`` are for the room to show)."""
        found = self.ending_verdict(live_up)
        if found in ("ends_after", "ends_at", "live_returned"):
            self.stop(by=found)
        return found

    def ending_verdict(self, live_up: Callable[[str], datetime | None]) -> Verdict:
        """What :func:`core.ending.verdict` says now (nothing is changed)."""
        sw = self.switch()
        promo = self.promotion(sw)
        if promo is None or sw.phase != "active":
            return None
        up_since = live_up(sw.channel) if sw.channel else None
        found = verdict(sw, promo, self.clock.now(), self.zone, up_since)
        return None if found == "ask" and sw.activation_id in self.kept else found

    def stop(self, *, by: str) -> Switch:
        """Deactivate now (undo actions included), saying why in the audit log."""
        now = self.clock.now()

        def change(sw: Switch) -> Switch:
            if sw.phase not in ("activating", "active"):
                raise TransitionError("planb.error.not_active")
            return replace(sw, phase="deactivating", since=now, due=None, deactivated_at=now)

        return self._transition(change, by)

    def keep(self) -> None:
        """The seller answered the "live is back" question with keep: not asked again for
        this activation (said in the audit log)."""
        sw = self.switch()
        if sw.activation_id and sw.activation_id not in self.kept:
            self.kept.add(sw.activation_id)
            self.audit.record(
                "planb.kept",
                {"promotion": sw.promotion, "activation_id": sw.activation_id},
                at=self.clock.now(),
            )

    def planned_end(self) -> datetime | None:
        sw = self.switch()
        promo = self.promotion(sw)
        return planned_end(sw, promo, self.zone) if promo and sw.activated_at else None

    # -- what it looks like ----------------------------------------------------------------
    def preview(self, promotion_id: str, reason: str = "test") -> list[tuple[str, str, Any]]:
        """What each action of a promotion would do, secrets masked; nothing is sent."""
        return preview(self, promotion_id, reason)

    # -- the view --------------------------------------------------------------------------
    def view(self) -> PlanBView:
        return build_view(self)


def _zone(name: str) -> tzinfo:
    try:
        return load_zone(name)
    except ValueError:
        return load_zone("Asia/Jakarta")
