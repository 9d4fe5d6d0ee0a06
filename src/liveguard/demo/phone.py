"""A Telegram Bot API server on 127.0.0.1: the demo's phone, and the tests' Telegram.

It answers the methods liveguard uses the way the Bot API documents them:

- ``getMe``: the bot, or ``401 Unauthorized`` for a wrong token;
- ``sendMessage``: stores the message for its chat (``400 chat not found`` for a chat that
  never talked to the bot, when ``known_chats`` is set); ``rate_limit(n, retry_after)``
  makes the next ``n`` calls answer ``429`` with ``parameters.retry_after``;
- ``getUpdates``: long polling with ``offset`` (confirms every update below it) and
  ``timeout``; a second poller on the same token ends the waiting one with ``409 Conflict``;
- ``answerCallbackQuery``: ok.

``say(chat, text)`` and ``press(chat, data)`` play the seller typing into the chat or
pressing an inline button. Requests are JSON or form bodies, or a query string.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["BotApi", "PhoneMessage"]

MAX_BODY = 64_000


@dataclass(frozen=True)
class PhoneMessage:
    chat_id: str
    text: str
    at: float
    reply_markup: Any = None


@dataclass
class _Poll:
    future: asyncio.Future[Any]


@dataclass
class BotApi:
    token: str = "123456:TEST-token"
    username: str = "liveguard_demo_bot"
    known_chats: set[str] | None = None
    sent: list[PhoneMessage] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.port = 0
        self._updates: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._limited = 0
        self._retry_after = 1
        self._arrived: asyncio.Event | None = None
        self._poll: _Poll | None = None
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self.conflicts = 0
        self._handlers: set[asyncio.Task[Any]] = set()
        self.received_at: list[float] = []  # perf_counter of each sendMessage that was stored

    # -- the seller's side ---------------------------------------------------------------
    def say(self, chat_id: str | int, text: str, *, user: str = "Sari", age_s: float = 0) -> int:
        """The seller writes ``text`` in the chat; returns the update id."""
        message = {
            "message_id": next(self._message_ids),
            "from": {
                "id": int(chat_id),
                "is_bot": False,
                "first_name": user,
                "username": user.lower(),
            },
            "chat": {"id": int(chat_id), "type": "private", "first_name": user},
            "date": int(time.time() - age_s),
            "text": text,
        }
        return self._add({"message": message})

    def press(self, chat_id: str | int, data: str, *, user: str = "Sari") -> int:
        """The seller presses an inline button whose callback data is ``data``."""
        query = {
            "id": str(next(self._message_ids)),
            "from": {"id": int(chat_id), "is_bot": False, "first_name": user},
            "message": {
                "message_id": 1,
                "chat": {"id": int(chat_id), "type": "private"},
                "date": int(time.time()),
            },
            "data": data,
        }
        return self._add({"callback_query": query})

    def rate_limit(self, calls: int, retry_after: int = 1) -> None:
        with self._lock:
            self._limited, self._retry_after = calls, retry_after

    def texts(self, chat_id: str | int | None = None) -> list[str]:
        with self._lock:
            return [m.text for m in self.sent if chat_id is None or m.chat_id == str(chat_id)]

    def pending_updates(self) -> int:
        with self._lock:
            return len(self._updates)

    def _add(self, update: dict[str, Any]) -> int:
        with self._lock:
            update_id = next(self._ids) + 1000
            self._updates.append({"update_id": update_id, **update})
        if self._loop is not None and self._arrived is not None:
            self._loop.call_soon_threadsafe(self._arrived.set)
        return update_id

    # -- serving -------------------------------------------------------------------------
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._arrived = asyncio.Event()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._poll is not None and not self._poll.future.done():
            self._poll.future.set_result(None)
        if self._handlers:  # a long poll still waiting answers (empty) at once
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        me = asyncio.current_task()
        if me is not None:
            self._handlers.add(me)
            me.add_done_callback(self._handlers.discard)
        try:
            async with asyncio.timeout(10):
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                _, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                length = min(int(headers.get("content-length", "0") or 0), MAX_BODY)
                body = await reader.readexactly(length) if length else b""
            path, _, query = target.partition("?")
            params = _params(query, body, headers.get("content-type", ""))
            status, reply = await self._answer(path, params)
            payload = json.dumps(reply).encode()
            writer.write(
                (
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
                ).encode()
                + payload
            )
            await writer.drain()
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    async def _answer(self, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        prefix = f"/bot{self.token}/"
        if not path.startswith("/bot"):
            return 404, _error(404, "Not Found")
        if not path.startswith(prefix):
            return 401, _error(401, "Unauthorized")
        method = path[len(prefix) :]
        with self._lock:
            self.calls.append((method, dict(params)))
        if method == "getMe":
            bot = {
                "id": 123456,
                "is_bot": True,
                "first_name": "liveguard demo",
                "username": self.username,
            }
            return 200, {"ok": True, "result": bot}
        if method == "sendMessage":
            return self._send(params)
        if method == "getUpdates":
            return await self._get_updates(params)
        if method == "answerCallbackQuery":
            return 200, {"ok": True, "result": True}
        return 404, _error(404, "Not Found: method not found")

    def _send(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if self._limited > 0:
                self._limited -= 1
                after = self._retry_after
                error = _error(429, f"Too Many Requests: retry after {after}")
                return 429, {**error, "parameters": {"retry_after": after}}
            chat = str(params.get("chat_id", ""))
            text = str(params.get("text", ""))
            if not chat or not text:
                return 400, _error(400, "Bad Request: message text is empty")
            if self.known_chats is not None and chat not in self.known_chats:
                return 400, _error(400, "Bad Request: chat not found")
            markup = params.get("reply_markup")
            self.sent.append(PhoneMessage(chat, text, time.time(), markup))
            self.received_at.append(time.perf_counter())
            message_id = next(self._message_ids)
        result = {
            "message_id": message_id,
            "chat": {"id": int(chat)},
            "date": int(time.time()),
            "text": text,
        }
        return 200, {"ok": True, "result": result}

    async def _get_updates(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        assert self._arrived is not None
        offset = int(params.get("offset", 0) or 0)
        timeout = min(float(params.get("timeout", 0) or 0), 50.0)
        if self._poll is not None and not self._poll.future.done():
            # the waiting request is ended, as Telegram does with two pollers on one token
            self.conflicts += 1
            self._poll.future.set_exception(_Conflict())
        mine = _Poll(asyncio.get_running_loop().create_future())
        self._poll = mine
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            with self._lock:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = list(self._updates)
            if ready or asyncio.get_running_loop().time() >= deadline:
                if self._poll is mine:
                    self._poll = None
                return 200, {"ok": True, "result": ready[:100]}
            self._arrived.clear()
            waiter: asyncio.Future[Any] = asyncio.ensure_future(self._arrived.wait())
            left = deadline - asyncio.get_running_loop().time()
            try:
                done, _ = await asyncio.wait(
                    {waiter, mine.future},
                    timeout=max(0.0, left),
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter
            if mine.future in done:
                if mine.future.exception() is not None:
                    return 409, _error(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                return 200, {"ok": True, "result": []}


class _Conflict(Exception):
    pass


def _error(code: int, description: str) -> dict[str, Any]:
    return {"ok": False, "error_code": code, "description": description}


def _params(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    params: dict[str, Any] = dict(parse_qsl(query))
    if body and "json" in content_type:
        data = json.loads(body)
        if isinstance(data, dict):
            params.update(data)
    elif body:
        params.update(parse_qsl(body.decode("utf-8", "replace")))
    return params
