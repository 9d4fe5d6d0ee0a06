"""The notifier: turns the room's events into phone messages and delivers them durably.

It subscribes to the room's :class:`~liveguard.service.events.Publisher`. The subscriber
only words the message and queues it (cheap, on the loop); the background round, run under
``supervise()``, writes each delivery to ``state/notify.json`` *before* sending it, claims
it (one write), sends it on its own task (a target that hangs or rate-limits holds up only
its own deliveries), writes the result with its audit record, and copies the records into
the audit log. Every durable write runs on a worker thread, never on the UI loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from liveguard.adapters.audit_journal import copy_journal
from liveguard.adapters.audit_log import AuditLog
from liveguard.adapters.http_pool import HttpPool
from liveguard.adapters.notify_senders import NotifySender
from liveguard.adapters.notify_store import NOTIFY_FILE, NotifyState, NotifyStore
from liveguard.adapters.promotion_store import OutboxLease
from liveguard.adapters.state_home import StateHome
from liveguard.adapters.webhook_sender import SendResult, WebhookSender
from liveguard.core.config import Config, NotifyTarget
from liveguard.core.notify import Delivery, Message, after_attempt, schedule
from liveguard.core.status import ChannelStatus, Outage, State
from liveguard.core.text import NAME_MAX, clean_line
from liveguard.core.timekeeping import Clock, format_clock, format_duration, load_zone
from liveguard.i18n import Catalog

from .events import (
    Event,
    Notice,
    PlanBChanged,
    Publisher,
    SourceChanged,
    StatusChanged,
    supervise,
)

__all__ = ["NotifyService", "TargetView"]

ROUND_S = 0.5  # how often the round looks for due deliveries when nothing wakes it
ALIVE_EVERY_S = 60.0  # how often "liveguard is running" is written (to tell how long it was off)
OFF_AFTER = timedelta(minutes=3)  # a gap longer than this since alive_at = liveguard was off
ACTOR = "liveguard"
log = logging.getLogger("liveguard")
AUDIT_SOURCE = "notify"  # this journal's name in the audit log's copy marks


@dataclass(frozen=True)
class TargetView:
    id: str
    kind: str
    where: str  # secrets masked
    events: tuple[str, ...]
    last: Delivery | None


class NotifyService:
    def __init__(
        self,
        config: Config,
        home: StateHome,
        clock: Clock,
        events: Publisher,
        *,
        lang: str = "en",
        environ: Mapping[str, str] | None = None,
        sender: NotifySender | None = None,
        jitter: Callable[[], float] = random.random,
        statuses: Callable[[], Sequence[ChannelStatus]] | None = None,
        outages: Callable[[], Sequence[Outage]] | None = None,
        planb_running: Callable[[], bool] | None = None,
    ) -> None:
        self.config = config
        self.home = home
        self.clock = clock
        self.events = events
        self.lang = lang
        self.environ = os.environ if environ is None else environ
        self.zone = load_zone(config.timezone)
        self.store = NotifyStore(home)
        self.audit = AuditLog(home, actor=ACTOR)
        self.lease = OutboxLease(home, "notify.lock")
        self.jitter = jitter
        self.statuses = statuses or (lambda: ())
        self._knows_status = statuses is not None
        self.outages = outages or (lambda: ())
        self.planb_running = planb_running or (lambda: False)
        self._sender = sender
        self._own_pool: HttpPool | None = None
        self._queue: list[Delivery] = []
        self._known: set[str] = set()  # keys already in the outbox (or queued) this run
        self._inflight: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._io = asyncio.Lock()  # one outbox write at a time from this process
        self._alive_written = 0.0
        self._failing: set[str] = set()  # targets whose failure was already shown
        self._ended: dict[str, Outage] = {}  # outages ended, not yet told as "back"
        self.wake = asyncio.Event()
        self.on_change: Callable[[], None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._started = False

    # -- wiring ----------------------------------------------------------------------------
    def attach(self) -> None:
        """Subscribe to the room's events (idempotent)."""
        if self._unsubscribe is None:
            self._unsubscribe = self.events.subscribe(self.on_event)

    def use_pool(self, pool: HttpPool) -> None:
        if self._sender is None:
            self._sender = NotifySender(WebhookSender(pool), self.environ)

    def sender(self) -> NotifySender:
        if self._sender is None:
            self._own_pool = HttpPool()
            self._sender = NotifySender(WebhookSender(self._own_pool), self.environ)
        return self._sender

    def catalog(self, target: NotifyTarget) -> Catalog:
        return Catalog(target.language or self.lang)

    # -- events -> messages ----------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        """The subscriber: word and queue; never any I/O here (it runs on the UI loop)."""
        if not self.config.notify:
            return
        for target in self.config.notify:
            for message in self.messages_for(event, target):
                self.enqueue(target, message)
        if isinstance(event, StatusChanged) and event.change.after.state in (
            State.UP,
            State.DEGRADED,
        ):
            self._ended.pop(event.change.after.channel, None)  # told (or nobody asked)

    def messages_for(self, event: Event, target: NotifyTarget) -> list[Message]:
        t = self.catalog(target)
        if isinstance(event, StatusChanged):
            return self._status_messages(event, target, t)
        if isinstance(event, PlanBChanged):
            return self._planb_messages(event, target, t)
        if isinstance(event, SourceChanged) and event.state == "stale":
            if not target.wants("watchdog"):
                return []
            channel = self._channel_name(event.channel)
            text = t("notify.source_stale", channel=channel, reason=clean_line(event.reason))
            hour = self.clock.now().strftime("%Y%m%d%H")
            return [Message("watchdog", f"stale:{event.source}:{hour}", text, text)]
        return []

    def _status_messages(
        self, event: StatusChanged, target: NotifyTarget, t: Catalog
    ) -> list[Message]:
        before, after = event.change.before, event.change.after
        name = clean_line(after.name, NAME_MAX)
        reason = clean_line(after.reason) or t("notify.reason_none")
        out: list[Message] = []
        since = after.since or self.clock.now()
        if after.state is State.DOWN and before.state is not State.DOWN and target.wants("down"):
            start = event.change.opened.start if event.change.opened else since
            key = "down_planb_active" if self.planb_running() else "down"
            text = t(f"notify.{key}", channel=name, clock=self._clock(start), reason=reason)
            out.append(
                Message(
                    "down",
                    f"down:{after.channel}:{_stamp(start)}",
                    t("notify.down_title", channel=name),
                    text,
                    urgent=after.live,
                    priority=5 if after.live else 4,
                    condition=f"down:{after.channel}",
                )
            )
        elif (
            after.state is State.PENDING
            and before.state not in (State.PENDING, State.DOWN)
            and target.wants("pending")
        ):
            text = t("notify.pending", channel=name, clock=self._clock(since), reason=reason)
            out.append(
                Message(
                    "pending",
                    f"pending:{after.channel}:{_stamp(since)}",
                    t("notify.pending_title", channel=name),
                    text,
                    priority=4,
                    condition=f"pending:{after.channel}",
                )
            )
        closed = self._closed_outage(event)
        if closed is not None and target.wants("up"):
            end = closed.end or self.clock.now()
            key = "up_planb" if self.planb_running() else "up"
            text = t(
                f"notify.{key}",
                channel=name,
                clock=self._clock(end),
                duration=format_duration(end - closed.start, t.lang),
            )
            out.append(
                Message(
                    "up",
                    f"up:{after.channel}:{_stamp(closed.start)}",
                    t("notify.up_title", channel=name),
                    text,
                )
            )
        if after.suggestion and not before.suggestion and target.wants("sales"):
            text = t("notify.sales", channel=name, reason=clean_line(after.suggestion))
            hour = self.clock.now().astimezone(self.zone).strftime("%Y%m%d%H")
            out.append(
                Message(
                    "sales",
                    f"sales:{after.channel}:{hour}",
                    t("notify.sales_title", channel=name),
                    text,
                    priority=4,
                    condition=f"suggest:{after.channel}",
                )
            )
        return out

    def _closed_outage(self, event: StatusChanged) -> Outage | None:
        """The outage that ended, once the channel works again: an outage that ended in
        UNKNOWN or PENDING (nothing known yet) is told when the channel is UP or DEGRADED."""
        change = event.change
        channel = change.after.channel
        if change.closed is not None:
            self._ended[channel] = change.closed
        if change.after.state in (State.UP, State.DEGRADED):
            return self._ended.get(channel)
        return None

    def _planb_messages(
        self, event: PlanBChanged, target: NotifyTarget, t: Catalog
    ) -> list[Message]:
        d = event.detail
        promotion = self.config.promotion(str(d.get("promotion", "")))
        name = clean_line(promotion.name if promotion else d.get("promotion", "Plan B"), NAME_MAX)
        activation = str(d.get("activation_id", ""))
        title = t("notify.planb_title")
        if event.kind == "planb.attempt" and d.get("result") == "failed" and target.wants("planb"):
            text = t(
                "notify.planb_failed",
                label=clean_line(d.get("label") or f"#{d.get('action', '?')}", NAME_MAX),
                error=clean_line(d.get("error") or f"HTTP {d.get('status')}"),
            )
            return [
                Message(
                    "planb",
                    f"planb-failed:{d.get('key', activation)}",
                    t("notify.planb_failed_title"),
                    text,
                    urgent=True,
                    priority=5,
                )
            ]
        if event.kind == "planb.transition" and target.wants("planb"):
            phase, was = d.get("phase"), d.get("from_phase")
            now = self.clock.now()
            if phase == "pending":
                seconds = int(promotion.grace.total_seconds()) if promotion else 0
                text = t("notify.planb_pending", name=name, seconds=seconds)
            elif phase == "activating":
                reason = clean_line(d.get("reason")) or t("notify.reason_none")
                text = t("notify.planb_activating", name=name, reason=reason)
            elif phase == "active" and was == "activating":
                text = t("notify.planb_active", name=name, clock=self._clock(now))
            elif phase == "idle" and was == "deactivating":
                text = t("notify.planb_stopped", name=name, clock=self._clock(now))
            else:
                return []
            return [Message("planb", f"planb:{activation}:{phase}", title, text, priority=4)]
        if "readiness" in event.kind and d.get("ready") is False and target.wants("readiness"):
            problems = "; ".join(clean_line(p) for p in d.get("problems", []) if p) or "?"
            text = t("notify.readiness", name=name, problems=problems)
            day = self.clock.now().astimezone(self.zone).strftime("%Y%m%d")
            return [
                Message(
                    "readiness",
                    f"readiness:{d.get('promotion', '')}:{day}:{abs(hash(problems)) % 10**8}",
                    t("notify.readiness_title"),
                    text,
                    priority=4,
                )
            ]
        return []

    def test_message(self, target: NotifyTarget) -> Message:
        t = self.catalog(target)
        now = self.clock.now()
        text = t("notify.test", shop=clean_line(self.config.shop, NAME_MAX), target=target.id)
        return Message(
            "test",
            f"test:{_stamp(now)}:{secrets.token_hex(2)}",
            t("notify.test_title"),
            text,
            urgent=True,
        )

    def enqueue(self, target: NotifyTarget, message: Message) -> list[Delivery]:
        """Queue ``message`` for ``target`` (written by the next round, before it is sent)."""
        if message.event != "test" and not target.wants(message.event):
            return []
        added = []
        for delivery in schedule(target, message, self.clock.now(), self.zone):
            if delivery.key in self._known:
                continue
            self._known.add(delivery.key)
            self._queue.append(delivery)
            added.append(delivery)
        if added:
            self.wake.set()
        return added

    def test(self, target_ids: Sequence[str] | None = None) -> list[Delivery]:
        targets = [t for t in self.config.notify if not target_ids or t.id in target_ids]
        return [d for t in targets for d in self.enqueue(t, self.test_message(t))]

    # -- the background round --------------------------------------------------------------
    async def start(self) -> None:
        """At start: say how long liveguard was off (and what happened meanwhile)."""
        if not self.config.notify:
            return
        state = await asyncio.to_thread(self.store.load)
        self._known.update(d.key for d in state.deliveries)
        now = self.clock.now()
        if state.alive_at is not None and now - state.alive_at > OFF_AFTER:
            for target in self.config.notify:
                if target.wants("watchdog"):
                    self.enqueue(target, self._off_message(target, state.alive_at, now))
        self._started = True

    def _off_message(self, target: NotifyTarget, since: datetime, now: datetime) -> Message:
        t = self.catalog(target)
        lines = [t("notify.watchdog_off", start=self._clock(since), end=self._clock(now))]
        for outage in sorted(self.outages(), key=lambda o: o.start):
            if outage.start < since:
                continue
            name = self._channel_name(outage.channel)
            if outage.end is None:
                lines.append(
                    t("notify.watchdog_outage_open", channel=name, clock=self._clock(outage.start))
                )
            else:
                lines.append(
                    t("notify.watchdog_outage", channel=name, clock=self._clock(outage.start))
                )
        return Message(
            "watchdog",
            f"off:{_stamp(since)}",
            t("notify.watchdog_title"),
            " ".join(lines),
            priority=4,
        )

    async def run(self) -> None:
        """The control room's loop, supervised: a failing round is reported once and retried."""
        self.attach()
        if not self.config.notify:
            return
        if not self._started:
            await self.start()
        self.sender()

        async def body() -> None:
            await self.round()
            try:
                async with asyncio.timeout(ROUND_S):
                    await self.wake.wait()
            except TimeoutError:
                pass
            self.wake.clear()

        await supervise("notify", body, self.events, every=0)

    async def round(self) -> None:
        """Write what was queued, queue reminders, and start sending what is due."""
        self._queue_reminders()
        await self._write_queue()
        await self._keep_alive()
        # on the loop's thread: the lease is a thread-local file lock (and never blocks)
        if not self.lease.try_acquire():
            return  # another liveguard on this home sends; our deliveries are in its outbox
        for delivery in await self._claim_due():
            task = asyncio.create_task(self._perform(delivery), name=f"notify {delivery.key}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout_s: float = 30.0) -> NotifyState:
        """Send until nothing is due now (CLI and tests); retries later than that stay queued."""
        async with asyncio.timeout(timeout_s):
            while True:
                await self.round()
                if self._tasks:
                    await asyncio.gather(*list(self._tasks), return_exceptions=True)
                    continue
                state = await asyncio.to_thread(self.store.load)
                now = self.clock.now()
                if not self._queue and not any(d.due(now) for d in state.deliveries):
                    await self._flush_journal()
                    return state
                if not self.lease.held:
                    return state

    def _queue_reminders(self) -> None:
        every = self.config.alerts.remind_every
        if every is None:
            return
        now = self.clock.now()
        running: bool | None = None  # asked only when a reminder is due (it reads a file)
        for status in self.statuses():
            if not status.live or status.state is not State.DOWN or status.since is None:
                continue
            n = int((now - status.since) / every)
            if n < 1:
                continue
            if running is None:
                running = self.planb_running()
            for target in self.config.notify:
                if not target.wants("reminder"):
                    continue
                t = self.catalog(target)
                name = clean_line(status.name, NAME_MAX)
                text = t(
                    "notify.reminder_planb" if running else "notify.reminder",
                    channel=name,
                    duration=format_duration(now - status.since, t.lang),
                    clock=self._clock(status.since),
                )
                key = f"reminder:{status.channel}:{_stamp(status.since)}:{n}"
                message = Message(
                    "reminder",
                    key,
                    t("notify.reminder_title", channel=name),
                    text,
                    priority=4,
                    condition=f"down:{status.channel}",
                )
                self.enqueue(target, message)

    async def _write_queue(self) -> None:
        if not self._queue:
            return
        queued, self._queue = self._queue, []

        def change(state: NotifyState) -> NotifyState:
            for delivery in queued:
                if state.delivery(delivery.key) is None:  # once per key, across restarts
                    state = state.with_delivery(delivery)
            return state

        try:
            async with self._io:
                await asyncio.to_thread(self.store.update, change)
        except BaseException:
            self._queue[:0] = queued  # not written: keep them for the next round
            raise
        self._changed()

    async def _keep_alive(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() - self._alive_written < ALIVE_EVERY_S:
            return
        self._alive_written = loop.time()
        now = self.clock.now()
        async with self._io:
            await asyncio.to_thread(self.store.update, lambda s: replace(s, alive_at=now))

    async def _claim_due(self) -> list[Delivery]:
        """Mark every due delivery as being sent (attempt n + 1) in ONE write before sending;
        one whose escalation wait is over but whose problem has passed is dropped."""
        now = self.clock.now()
        claimed: list[Delivery] = []
        holds = self._conditions()

        def change(state: NotifyState) -> NotifyState:
            claimed.clear()
            # one attempt in flight per target: a target that hangs holds one connection of
            # the shared pool at most, never the probes' or another target's
            busy = {key.split(":", 1)[0].split("#", 1)[0] for key in self._inflight}
            for d in state.deliveries:
                if not d.due(now) or d.key in self._inflight or d.target in busy:
                    continue
                target = self.config.target(d.target)
                if target is None:
                    gone = replace(d, status="dropped", error="target no longer in the config")
                    state = state.with_delivery(gone)
                    continue
                waited = d.attempts == 0 and d.next_at is not None  # escalation or quiet hours
                if waited and d.condition and holds is not None and d.condition not in holds:
                    state = state.with_delivery(
                        replace(d, status="dropped", error="no longer true")
                    )
                    continue
                if d.status == "sending":
                    cut = SendResult(None, "interrupted (liveguard stopped during the attempt)")
                    state = state.noting(self._record(d, cut, "interrupted"))
                mine = replace(d, status="sending", attempts=d.attempts + 1)
                state = state.with_delivery(mine)
                claimed.append(mine)
                busy.add(d.target)
            return state

        async with self._io:
            await asyncio.to_thread(self.store.update, change)
        self._inflight.update(d.key for d in claimed)
        return list(claimed)

    def _conditions(self) -> set[str] | None:
        """What is still true now (None when no status is known here, e.g. the CLI)."""
        if not self._knows_status:
            return None
        holds: set[str] = set()
        for s in self.statuses():
            if s.state is State.DOWN:
                holds.add(f"down:{s.channel}")
            if s.state in (State.PENDING, State.DOWN):
                holds.add(f"pending:{s.channel}")
            if s.suggestion:
                holds.add(f"suggest:{s.channel}")
        return holds

    async def _perform(self, claimed: Delivery) -> None:
        try:
            target = self.config.target(claimed.target)
            assert target is not None  # checked by _claim_due
            result, retry_after = await self.sender().send(target, claimed)
            final = after_attempt(
                claimed,
                self.clock.now(),
                http_status=result.http_status,
                error=result.error,
                retry_after_s=retry_after,
                jitter=self.jitter(),
            )
            record = self._record(final, result, final.status)
            async with self._io:
                state = await asyncio.to_thread(
                    self.store.update, lambda s: s.with_delivery(final).noting(record)
                )
            await self._flush_journal()
            self._after_result(final, state)
        except Exception as exc:  # e.g. a full disk: the entry stays "sending", tried again
            log.exception("notify: delivery %s", claimed.key)
            self.events.publish(Notice(clean_line(str(exc)), "error", key="notify:write"))
        finally:
            self._inflight.discard(claimed.key)
            self.wake.set()

    def _after_result(self, final: Delivery, state: NotifyState) -> None:
        if final.status == "delivered":
            self._failing.discard(final.target)
        elif final.status in ("failed", "retrying") and final.target not in self._failing:
            self._failing.add(final.target)
            t = Catalog(self.lang)
            text = t("notify.target_failing", target=final.target, error=final.error)
            self.events.publish(Notice(text, "warning", key=f"notify:{final.target}"))
        if final.status == "failed":
            same = [d for d in state.deliveries if d.message_key == final.message_key]
            if same and all(d.status == "failed" for d in same):
                t = Catalog(self.lang)
                text = t("notify.all_failed", error=final.error)
                self.events.publish(Notice(text, "error", key="notify:all"))
        self._changed()

    def _record(self, d: Delivery, result: SendResult, outcome: str) -> dict[str, Any]:
        now = self.clock.now()
        return {
            "id": f"{now.strftime('%Y%m%dT%H%M%S.%fZ')}-{secrets.token_hex(4)}",
            "at": now.isoformat(),
            "actor": ACTOR,
            "kind": "notify.attempt",
            "detail": {
                "target": d.target,
                "to": d.to,
                "event": d.event,
                "key": d.key,
                "attempt": d.attempts,
                "result": outcome,
                "status": result.http_status,
                "error": result.error,
                "duration_ms": result.duration_ms,
                "retry_at": d.next_at.isoformat() if d.next_at else None,
            },
        }

    async def _flush_journal(self) -> None:
        async with self._io:
            await asyncio.to_thread(self._flush_journal_now)

    def _flush_journal_now(self) -> None:
        copy_journal(self.home, NOTIFY_FILE, "notify", AUDIT_SOURCE, self.audit)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    # -- views -----------------------------------------------------------------------------
    def targets(self, state: NotifyState | None = None) -> list[TargetView]:
        state = state if state is not None else self.store.load()
        return [
            TargetView(t.id, t.kind, where_of(t), t.events, state.last_for(t.id))
            for t in self.config.notify
        ]

    def recent(self, limit: int = 50, state: NotifyState | None = None) -> list[Delivery]:
        state = state if state is not None else self.store.load()
        return sorted(state.deliveries, key=lambda d: d.created_at, reverse=True)[:limit]

    # -- helpers ---------------------------------------------------------------------------
    def _clock(self, at: datetime) -> str:
        return format_clock(at, self.zone)

    def _channel_name(self, channel_id: str) -> str:
        channel = self.config.channel(channel_id)
        return clean_line(channel.name if channel else channel_id, NAME_MAX)

    async def aclose(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._flush_journal()
        self.lease.release()
        if self._own_pool is not None:
            await self._own_pool.aclose()
            self._own_pool = None
            self._sender = None


def where_of(target: NotifyTarget) -> str:
    """Where a target sends, with nothing secret in it."""
    if target.kind == "telegram":
        return "telegram " + ", ".join(target.chats)
    if target.kind == "email":
        return f"{target.host}:{target.port} -> " + ", ".join(target.to)
    host = urlsplit(target.url).hostname or "?"
    return f"{host}/•••" if target.kind == "ntfy" else f"{target.method} {host}"


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
