"""Telegram Bot API calls beyond sending alerts: ``getMe``, ``getUpdates`` long polling,
replies with buttons. Used by ``notify setup telegram`` and the command poller.

The token is resolved from the environment at the moment of each call and never kept in
an error: every error text is scrubbed of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from liveguard.adapters.http_pool import DeadlineExceeded, HttpPool, PoolBusy
from liveguard.adapters.notify_senders import scrub, secret_values, telegram_url
from liveguard.core.config import NotifyTarget
from liveguard.core.text import NAME_MAX, clean_line

__all__ = ["BotError", "Conflict", "TelegramApi", "Update"]


class BotError(Exception):
    """A Bot API call failed; the message is safe to show (no token)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Conflict(BotError):
    """409: another program polls this bot token."""


@dataclass(frozen=True)
class Update:
    update_id: int
    chat_id: str
    user: str  # "first name (@username)", cleaned
    user_id: str
    text: str  # the message text, or a button's callback data
    date: int  # Unix seconds (0 for a button press: it carries no date of its own)
    callback_id: str = ""

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Update | None:
        update_id = raw.get("update_id")
        if not isinstance(update_id, int):
            return None
        if isinstance(raw.get("callback_query"), dict):
            query = raw["callback_query"]
            message = query.get("message") or {}
            chat = (message.get("chat") or {}).get("id")
            sender = query.get("from") or {}
            return cls(
                update_id,
                str(chat),
                _who(sender),
                str(sender.get("id", "")),
                clean_line(query.get("data", ""), 64),
                int(message.get("date", 0) or 0),
                str(query.get("id", "")),
            )
        message = raw.get("message") or raw.get("edited_message")
        if not isinstance(message, dict):
            return cls(update_id, "", "", "", "", 0)  # something we do not handle: skip it
        chat = (message.get("chat") or {}).get("id")
        sender = message.get("from") or {}
        return cls(
            update_id,
            str(chat) if chat is not None else "",
            _who(sender),
            str(sender.get("id", "")),
            clean_line(message.get("text", ""), 300),
            int(message.get("date", 0) or 0),
        )


def _who(sender: Mapping[str, Any]) -> str:
    name = clean_line(sender.get("first_name", ""), NAME_MAX)
    username = clean_line(sender.get("username", ""), NAME_MAX)
    return f"{name} (@{username})" if username else name or "?"


class TelegramApi:
    def __init__(self, pool: HttpPool, target: NotifyTarget, environ: Mapping[str, str]) -> None:
        self.pool = pool
        self.target = target
        self.environ = environ
        self._secrets = secret_values(target, environ)

    async def call(self, method: str, params: Mapping[str, Any], deadline: float) -> Any:
        """One Bot API call; returns ``result`` or raises BotError / Conflict."""
        url = telegram_url(self.target, method, self.environ)
        body = json.dumps(dict(params), ensure_ascii=False).encode()
        try:
            reply = await self.pool.request(
                "POST",
                url,
                deadline=deadline,
                headers={"Content-Type": "application/json"},
                content=body,
                max_body=1_000_000,
            )
        except (DeadlineExceeded, PoolBusy, httpx.HTTPError) as exc:
            raise BotError(scrub(f"{type(exc).__name__}: {exc}", self._secrets)) from None
        try:
            data = json.loads(reply.body)
        except ValueError:
            data = {}
        if reply.status == 200 and isinstance(data, dict) and data.get("ok") is True:
            return data.get("result")
        description = data.get("description", "") if isinstance(data, dict) else ""
        text = scrub(f"HTTP {reply.status}: {description}".rstrip(": "), self._secrets)
        if reply.status == 409:
            raise Conflict(text, 409)
        raise BotError(text, reply.status)

    async def get_me(self) -> dict[str, Any]:
        result = await self.call("getMe", {}, self.target.timeout.total_seconds())
        return result if isinstance(result, dict) else {}

    async def updates(self, offset: int, wait_s: int) -> list[Update]:
        """Long poll: waits up to ``wait_s`` for updates from ``offset`` (which confirms the
        earlier ones: Telegram will not send them again)."""
        params: dict[str, Any] = {
            "timeout": wait_s,
            "allowed_updates": ["message", "callback_query"],
        }
        if offset:
            params["offset"] = offset
        result = await self.call("getUpdates", params, wait_s + self.target.timeout.total_seconds())
        out = []
        for raw in result if isinstance(result, list) else []:
            if isinstance(raw, dict) and (update := Update.parse(raw)) is not None:
                out.append(update)
        return out

    async def reply(
        self, chat_id: str, text: str, buttons: list[tuple[str, str]] | None = None
    ) -> None:
        params: dict[str, Any] = {
            "chat_id": chat_id,
            "text": text,
            "disable_web_page_preview": True,
        }
        if buttons:
            params["reply_markup"] = {
                "inline_keyboard": [
                    [{"text": label, "callback_data": data} for label, data in buttons]
                ]
            }
        await self.call("sendMessage", params, self.target.timeout.total_seconds())

    async def answer_button(self, callback_id: str) -> None:
        await self.call(
            "answerCallbackQuery",
            {"callback_query_id": callback_id},
            self.target.timeout.total_seconds(),
        )
