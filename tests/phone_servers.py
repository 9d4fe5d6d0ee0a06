"""The phone's outside world for tests: the Bot API server (``liveguard.demo.phone``) on a
thread of its own, and a real SMTP server (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from liveguard.demo.phone import BotApi

from .servers import closed_port

__all__ = ["Mailbox", "running_bot", "smtp_server", "wait_for"]


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``condition`` until it is truthy; fail the test with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@contextmanager
def running_bot(**kwargs: Any) -> Iterator[BotApi]:
    bot = BotApi(**kwargs)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="bot-api", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(bot.start(), loop).result(10)
    try:
        yield bot
    finally:
        asyncio.run_coroutine_threadsafe(bot.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@contextmanager
def smtp_server(
    *, tls_context: Any = None, user: str = "", password: str = "", implicit_tls: Any = None
) -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on 127.0.0.1; with ``tls_context`` it offers STARTTLS and requires
    it before AUTH; with ``user`` it requires that login."""
    box = Mailbox()

    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == (
            user,
            password,
        )
        if ok:
            box.logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=ok, handled=False)

    options: dict[str, Any] = {}
    if tls_context is not None:
        options.update(tls_context=tls_context, require_starttls=True)
    if user:
        options.update(
            authenticator=authenticate, auth_required=True, auth_require_tls=tls_context is not None
        )
    port = closed_port()
    if implicit_tls is not None:  # SMTPS (port 465 style): TLS from the first byte
        options.update(ssl_context=implicit_tls)
    controller = Controller(box, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()
