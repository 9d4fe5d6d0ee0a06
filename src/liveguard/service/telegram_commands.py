"""Commands from the seller's phone: a Telegram target with ``commands = true``.

One long-polling ``getUpdates`` loop per bot token (the config allows one command target per
token, and the notify lease makes it one process per home). Only the target's own chats are
answered; another chat is recorded once and gets no answer. The offset is stored *before* a
command runs, so a restart never runs a command again; a command older than
``STALE_AFTER`` is refused. Commands go through the same service calls as the keyboard and
are audited with the Telegram user as the actor.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from liveguard.adapters.audit_log import AuditLog
from liveguard.adapters.notify_store import NotifyState, token_id
from liveguard.core.config import NotifyTarget, resolve_env
from liveguard.core.money import format_rupiah
from liveguard.core.text import NAME_MAX, clean_line
from liveguard.core.timekeeping import format_clock
from liveguard.i18n import Catalog

from .events import Notice, supervise
from .planb import TransitionError, describe_entry
from .telegram import BotError, Conflict, TelegramApi, Update

if TYPE_CHECKING:
    from .room import ControlRoom

__all__ = ["CommandPoller", "Exchange"]

POLL_WAIT_S = 25  # getUpdates long-poll timeout (Telegram allows up to 50)
STALE_AFTER = timedelta(minutes=5)
CONFIRM_WITHIN = timedelta(seconds=60)
KEEP_EXCHANGES = 30
MARKS = {
    "mati": "down",
    "down": "down",
    "normal": "up",
    "up": "up",
    "aktif": "up",
    "clear": "clear",
    "hapus": "clear",
}


@dataclass(frozen=True)
class Exchange:
    """One line of the conversation with the phone, for the room's phone screen."""

    at: datetime
    target: str
    chat: str
    incoming: bool
    text: str


@dataclass(frozen=True)
class _Pending:
    nonce: str
    until: datetime


class CommandPoller:
    def __init__(self, room: ControlRoom, target: NotifyTarget, api: TelegramApi) -> None:
        self.room = room
        self.target = target
        self.api = api
        self.t = Catalog(target.language or room.lang)
        self.key = token_id(resolve_env(target.token, api.environ))
        self._pending: dict[str, _Pending] = {}
        self.handled = 0  # commands answered (for tests and the demo)
        self.replies: deque[Exchange] = deque(maxlen=KEEP_EXCHANGES)

    async def run(self) -> None:
        async def body() -> None:
            await self.poll_once()

        await supervise(f"telegram {self.target.id}", body, self.room.events, every=0)

    async def poll_once(self) -> None:
        store = self.room.notifier.store
        state = await asyncio.to_thread(store.load)
        offset = state.offsets.get(self.key, 0)
        try:
            updates = await self.api.updates(offset, POLL_WAIT_S)
        except Conflict:
            text = self.t("notify.cli.setup_busy")
            self.room.events.publish(Notice(text, "warning", key=f"telegram:{self.target.id}"))
            await asyncio.sleep(POLL_WAIT_S)
            return
        for update in updates:
            # stored before acting: a crash now loses this command rather than repeating it
            await asyncio.to_thread(store.update, _offset_setter(self.key, update.update_id + 1))
            await self.handle(update)

    async def handle(self, update: Update) -> None:
        if not update.chat_id or not update.text:
            return
        if update.chat_id not in self.target.chats:
            await self._unknown_chat(update)
            return
        if update.callback_id:
            await self._quietly(self.api.answer_button(update.callback_id))
        now = self.room.clock.now()
        sent = datetime.fromtimestamp(update.date, UTC) if update.date else now
        if now - sent > STALE_AFTER:
            minutes = int((now - sent).total_seconds() // 60)
            await self._answer(update, "stale", self.t("notify.cmd.stale", minutes=minutes))
            return
        self.replies.append(Exchange(now, self.target.id, update.chat_id, True, update.text))
        seen = self.t("notify.cmd.seen", user=update.user, command=update.text)
        self.room.events.publish(Notice(seen, "information", key=f"telegram:{update.update_id}"))
        words = update.text.strip().split()
        command = words[0].split("@")[0].lower() if words else ""
        args = words[1:]
        try:
            reply, buttons, result = self._run(update, command, args, now)
        except (TransitionError, KeyError, ValueError, OSError) as exc:
            message = self._error_text(exc)
            reply, buttons, result = self.t("notify.cmd.failed", error=message), None, message
        await self._answer(update, result, reply, buttons, command=command)

    def _run(
        self, update: Update, command: str, args: list[str], now: datetime
    ) -> tuple[str, list[tuple[str, str]] | None, str]:
        t = self.t
        if command in ("/status", "/start"):
            return self._status(), None, "ok"
        if command == "/today":
            return self._today(), None, "ok"
        if command == "/planb":
            return self._planb_ask(update, now)
        if command in ("/ya", "/yes") or command.startswith("planb:yes:"):
            return self._planb_fire(update, command, now)
        if command == "/stop":
            return self._stop(update)
        if command == "/mark":
            return self._mark(update, args)
        if command == "/log":
            return self._log(), None, "ok"
        return t("notify.cmd.help"), None, "help"

    # -- the commands ------------------------------------------------------------------------
    def _status(self) -> str:
        st = Catalog(self.t.lang)
        lines = []
        for s in self.room.status.statuses():
            since = format_clock(s.since, self.room.zone) if s.since else "-"
            state = st(f"status.state_{s.state.value}").upper()
            name = clean_line(s.name, NAME_MAX)
            lines.append(self.t("notify.cmd.status_line", channel=name, state=state, since=since))
        return "\n".join(lines) or "-"

    def _today(self) -> str:
        summary = self.room.sales.today()
        lines = [self.t("notify.cmd.today_head", date=summary.day.isoformat())]
        for c in summary.channels:
            revenue = format_rupiah(c.revenue)
            name = clean_line(c.name, NAME_MAX)
            lines.append(
                self.t("notify.cmd.today_line", channel=name, orders=c.orders, revenue=revenue)
            )
        total = summary.total
        lines.append(
            self.t(
                "notify.cmd.today_total", orders=total.orders, revenue=format_rupiah(total.revenue)
            )
        )
        return "\n".join(lines)

    def _planb_ask(
        self, update: Update, now: datetime
    ) -> tuple[str, list[tuple[str, str]] | None, str]:
        planb = self.room.planb
        sw = planb.switch()
        promo = planb.promotion(sw)
        if promo is None:
            return self.t("notify.cmd.planb_none"), None, "none armed"
        if sw.phase != "idle":
            state = Catalog(self.t.lang)(f"planb.state_{sw.phase}")
            return self.t("notify.cmd.planb_busy", state=state), None, "busy"
        nonce = secrets.token_hex(4)
        self._pending[update.chat_id] = _Pending(nonce, now + CONFIRM_WITHIN)
        actions = ", ".join(clean_line(a.label, NAME_MAX) for a in promo.actions) or "-"
        name = clean_line(promo.name, NAME_MAX)
        text = self.t("notify.cmd.planb_confirm", name=name, actions=actions)
        return text, [(self.t("notify.cmd.button_yes"), f"planb:yes:{nonce}")], "asked"

    def _planb_fire(
        self, update: Update, command: str, now: datetime
    ) -> tuple[str, list[tuple[str, str]] | None, str]:
        pending = self._pending.get(update.chat_id)
        nonce = command.rsplit(":", 1)[-1] if command.startswith("planb:yes:") else None
        if pending is None or (nonce and nonce != pending.nonce):  # a button of an old question
            return self.t("notify.cmd.ya_none"), None, "nothing to confirm"
        del self._pending[update.chat_id]
        if now > pending.until:
            return self.t("notify.cmd.ya_none"), None, "confirmed too late"
        planb = self.room.planb
        with _acting_as(planb, self._actor(update)):
            sw = planb.activate(reason=f"Telegram: {update.user}")
        promo = planb.promotion(sw)
        name = clean_line(promo.name if promo else sw.promotion, NAME_MAX)
        return self.t("notify.cmd.planb_started", name=name), None, "planb started"

    def _stop(self, update: Update) -> tuple[str, list[tuple[str, str]] | None, str]:
        planb = self.room.planb
        sw = planb.switch()
        promo = planb.promotion(sw)
        name = clean_line(promo.name if promo else sw.promotion, NAME_MAX)
        with _acting_as(planb, self._actor(update)):
            if sw.phase == "pending":
                planb.cancel()
            elif sw.phase in ("activating", "active"):
                planb.deactivate()
            else:
                return self.t("notify.cmd.stop_none"), None, "not running"
        return self.t("notify.cmd.stop_done", name=name), None, "stopped"

    def _mark(
        self, update: Update, args: list[str]
    ) -> tuple[str, list[tuple[str, str]] | None, str]:
        ids = [c.id for c in self.room.config.channels]
        found = self.room.config.find_channel(args[0]) if args else None
        if len(args) < 2 or args[1].casefold() not in MARKS or found is None:
            usage = self.t("notify.cmd.mark_usage", channels=", ".join(ids))
            return usage, None, "usage"
        channel, mark = found.id, MARKS[args[1].casefold()]
        reason = clean_line(" ".join(args[2:]))
        status = self.room.status.declare(channel, mark, reason, who=self._actor(update))  # type: ignore[arg-type]
        name = clean_line(status.name, NAME_MAX)
        if mark == "clear":
            return self.t("notify.cmd.mark_cleared", channel=name), None, "cleared"
        state = Catalog(self.t.lang)(f"status.state_{mark}").upper()
        return self.t("notify.cmd.mark_done", channel=name, state=state), None, f"marked {mark}"

    def _log(self) -> str:
        entries = self.room.planb.log(6)
        if not entries:
            return self.t("notify.cmd.log_empty")
        lines = [self.t("notify.cmd.log_head")]
        for e in entries:
            at = datetime.fromisoformat(e["at"])
            line = f"{format_clock(at, self.room.zone)} {e.get('actor', '')}: "
            lines.append(clean_line(line + describe_entry(e, Catalog(self.t.lang))))
        return "\n".join(lines)

    # -- replies and the record ------------------------------------------------------------
    def _actor(self, update: Update) -> str:
        return f"telegram:{update.user_id} {update.user}"

    async def _answer(
        self,
        update: Update,
        result: str,
        text: str,
        buttons: list[tuple[str, str]] | None = None,
        *,
        command: str = "",
    ) -> None:
        detail = {"chat": update.chat_id, "command": command or update.text[:40], "result": result}
        audit = AuditLog(self.room.home, actor=self._actor(update))
        await asyncio.to_thread(audit.record, "notify.command", detail)
        self.handled += 1
        now = self.room.clock.now()
        self.replies.append(Exchange(now, self.target.id, update.chat_id, False, text))
        await self._quietly(self.api.reply(update.chat_id, text, buttons))

    async def _unknown_chat(self, update: Update) -> None:
        store = self.room.notifier.store
        state = await asyncio.to_thread(store.load)
        if update.chat_id in state.unknown_chats:
            return
        await asyncio.to_thread(
            store.update,
            lambda s: replace(s, unknown_chats=(*s.unknown_chats, update.chat_id)),
        )
        detail = {"chat": update.chat_id, "command": update.text[:40], "result": "unknown chat"}
        audit = AuditLog(self.room.home, actor=self._actor(update))
        await asyncio.to_thread(audit.record, "notify.command", detail)

    async def _quietly(self, call: Any) -> None:
        try:
            await call
        except BotError as exc:
            text = self.t("notify.target_failing", target=self.target.id, error=str(exc))
            self.room.events.publish(Notice(text, "warning", key=f"telegram:{self.target.id}"))

    def _error_text(self, exc: Exception) -> str:
        if isinstance(exc, TransitionError):
            return Catalog(self.t.lang)(exc.key, **exc.params)
        return clean_line(str(exc))


def _offset_setter(key: str, offset: int) -> Callable[[NotifyState], NotifyState]:
    return lambda s: replace(s, offsets={**s.offsets, key: offset})


class _acting_as:
    """The Plan B service records its actor; a phone command acts as the Telegram user."""

    def __init__(self, planb: Any, actor: str) -> None:
        self.planb, self.actor = planb, actor

    def __enter__(self) -> None:
        self.saved = self.planb.actor
        self.planb.actor = self.actor

    def __exit__(self, *exc: object) -> None:
        self.planb.actor = self.saved
